#include "cluster/workflows/pairworkflow.h"

#include "cluster/config/mailfolderpolicy.h"
#include "remote/syncthingclient.h"

#include <QJsonArray>

#include <memory>

namespace mm::cluster {

namespace {

constexpr int kSyncDeadlineMs = 180'000;
constexpr int kSyncPollMs = 1000; // pairing is watched; a second is soon enough

} // namespace

PairWorkflow::PairWorkflow(ClusterConfig cluster, MonitorOptions options, QObject *parent)
    : ClusterWorkflow(QStringLiteral("pair"), false, std::move(cluster), std::move(options), parent)
{
    keepClusterChanges(ClusterChanges::KeptOnSuccess); // the device ids
    const QString again = tr("Pairing continues where it stopped: run pair again once that is fixed.");
    addStep(QStringLiteral("validate"), tr("Check the cluster file"), [this] { validate(); });
    addStep(QStringLiteral("connect"), tr("Connect to every node's Syncthing"), [this, again] {
        connectNodes(ClusterSession::Syncthing,
                     tr("Check that Syncthing runs on every node (`mailmeshctl prepare ID`). %1").arg(again));
    });
    addStep(QStringLiteral("identify"), tr("Learn every node's device id"), [this] { identify(); });
    addStep(QStringLiteral("share"), tr("Add the peers and share the mail root on every node"), [this] { share(); });
    addStep(QStringLiteral("resume"), tr("Let every node dial its peers"), [this] { resume(); });
    addStep(QStringLiteral("wait"), tr("Wait until every node is connected and in sync"), [this] { wait(); });
}

PairWorkflow::~PairWorkflow() = default;

void PairWorkflow::validate()
{
    if (m_cluster.nodes.size() < 2) {
        failStep(Error{ErrorCode::BadRequest, "pairing needs at least two nodes", {}},
                 tr("Add another node with `mailmeshctl add-node`, then pair."));
        return;
    }
    for (const NodeConfig &node : std::as_const(m_cluster.nodes))
        if (node.syncthing.syncAddress.isEmpty() || node.syncthing.home.isEmpty()) {
            failStep(Error{ErrorCode::BadRequest,
                           QStringLiteral("node %1: syncthing.home and syncthing.syncAddress must be set before pairing")
                               .arg(node.id)
                               .toStdString(),
                           {}},
                     tr("Run `mailmeshctl prepare %1` (or add-node with --syncthing-home and --sync-address) first.")
                         .arg(node.id));
            return;
        }
    completeStep(tr("%n node(s) to pair", nullptr, int(m_cluster.nodes.size())));
}

void PairWorkflow::identify()
{
    forEachNode(
        [this](int index, std::function<void(const Status &)> done) {
            m_session->syncthing(index)->systemStatus(this, [this, index, done](const Result<QJsonObject> &status) {
                if (!status) {
                    done(fail(status.error()));
                    return;
                }
                NodeConfig &node = m_cluster.nodes[index];
                node.syncthing.deviceId = status->value(QStringLiteral("myID")).toString();
                nodeDetails(index).insert(QStringLiteral("deviceId"), node.syncthing.deviceId);
                reportProgress({{}, node.id, 1, 1, -1, tr("device id %1").arg(node.syncthing.deviceId.left(7))});
                done({});
            });
        },
        [this] { completeStep(); }, tr("Check that node's Syncthing, then run pair again."));
}

void PairWorkflow::share()
{
    forEachNode([this](int index, std::function<void(const Status &)> done) { shareOn(index, std::move(done)); },
                [this] { completeStep(); }, tr("Check that node's Syncthing, then run pair again: it continues where it stopped."));
}

void PairWorkflow::shareOn(int index, std::function<void(const Status &)> done)
{
    const NodeConfig &node = m_cluster.nodes[index];
    remote::SyncthingClient *syncthing = m_session->syncthing(index);
    QStringList deviceIds;
    for (const NodeConfig &peer : std::as_const(m_cluster.nodes))
        deviceIds << peer.syncthing.deviceId;

    // Devices first (Syncthing drops unknown devices from a folder), then the folder shared
    // paused, its ignores, and only then resumed: Syncthing must never scan the mail root
    // without the ignores in place.
    const auto shareFolder = [this, index, syncthing, done, folder = mailFolderObject(m_cluster, node, deviceIds),
                              ignores = mailFolderIgnores(m_cluster.uidPolicy, node)] {
        QJsonObject paused = folder;
        paused.insert(QStringLiteral("paused"), true);
        syncthing->shareFolder(paused, this, [this, index, syncthing, done, ignores](const Result<void> &shared) {
            if (!shared) {
                done(shared);
                return;
            }
            syncthing->setIgnores(m_cluster.folderId, ignores, this, [this, index, syncthing, done](const Result<void> &ignored) {
                if (!ignored) {
                    done(ignored);
                    return;
                }
                syncthing->setFolderPaused(m_cluster.folderId, false, this, [this, index, done](const Result<void> &resumed) {
                    if (resumed)
                        reportProgress({{}, m_cluster.nodes[index].id, 1, 1, -1, tr("mail root shared")});
                    done(resumed);
                });
            });
        });
    };
    auto devicesLeft = std::make_shared<int>(int(m_cluster.nodes.size()) - 1);
    auto failed = std::make_shared<bool>(false);
    for (const NodeConfig &peer : std::as_const(m_cluster.nodes)) {
        if (peer.id == node.id)
            continue;
        // Paused until every node knows every other (resume): a dial to a node that does not
        // know the dialler yet is rejected and retried by Syncthing 1.19 only 20-60 s later.
        syncthing->addDevice(
            peer.syncthing.deviceId, peer.id, {peer.syncthing.syncAddress}, this,
            [shareFolder, devicesLeft, failed, done](const Result<void> &added) {
                if (*failed)
                    return;
                if (!added) {
                    *failed = true;
                    done(added);
                    return;
                }
                if (--*devicesLeft == 0)
                    shareFolder();
            },
            true);
    }
}

void PairWorkflow::resume()
{
    forEachNode(
        [this](int index, std::function<void(const Status &)> done) {
            auto left = std::make_shared<int>(int(m_cluster.nodes.size()) - 1);
            auto failed = std::make_shared<bool>(false);
            for (const NodeConfig &peer : std::as_const(m_cluster.nodes)) {
                if (peer.id == m_cluster.nodes[index].id)
                    continue;
                m_session->syncthing(index)->setDevicePaused(
                    peer.syncthing.deviceId, false, this, [left, failed, done](const Result<void> &resumed) {
                        if (*failed)
                            return;
                        if (!resumed) {
                            *failed = true;
                            done(resumed);
                            return;
                        }
                        if (--*left == 0)
                            done({});
                    });
            }
        },
        [this] { completeStep(); }, tr("Check that node's Syncthing, then run pair again."));
}

void PairWorkflow::wait()
{
    waitUntilInSync(
        kSyncDeadlineMs, kSyncPollMs,
        [this] { completeStep(tr("every node is connected and in sync")); },
        [this](const QStringList &lagging) {
            failStep(Error{ErrorCode::Timeout,
                           QStringLiteral("the nodes did not reach full sync within 3 minutes (%1)")
                               .arg(lagging.join(QStringLiteral(", ")))
                               .toStdString(),
                           {}},
                     tr("Check each node's Syncthing log and that every sync address is reachable from the other "
                        "nodes, then run pair again: it continues where it stopped."));
        });
}

} // namespace mm::cluster
