#include "cluster/pairworkflow.h"

#include "cluster/mailfolderpolicy.h"
#include "cluster/nodeconnection.h"
#include "cluster/syncround.h"
#include "remote/syncthingclient.h"

#include <QJsonArray>
#include <memory>

namespace mm::cluster {

namespace {

constexpr int kSyncDeadlineMs = 180'000;

QString describe(const Error &error)
{
    return QString::fromStdString(error.describe());
}

} // namespace

PairWorkflow::PairWorkflow(ClusterConfig cluster, MonitorOptions options, QObject *parent)
    : QObject(parent)
    , m_cluster(std::move(cluster))
    , m_options(std::move(options))
{
    m_syncCheck.setInterval(1000);
    connect(&m_syncCheck, &QTimer::timeout, this, &PairWorkflow::checkInSync);
}

PairWorkflow::~PairWorkflow() = default;

void PairWorkflow::start()
{
    if (m_cluster.nodes.size() < 2) {
        QTimer::singleShot(0, this, [this] { finish(fail(ErrorCode::BadRequest, "pairing needs at least two nodes")); });
        return;
    }
    for (const NodeConfig &node : m_cluster.nodes) {
        if (node.syncthing.syncAddress.isEmpty() || node.syncthing.home.isEmpty()) {
            QTimer::singleShot(0, this, [this, id = node.id] {
                finish(fail(ErrorCode::BadRequest,
                            QStringLiteral("node %1: syncthing.home and syncthing.syncAddress must be set before "
                                           "pairing (run prepare or add-node first)")
                                .arg(id)
                                .toStdString()));
            });
            return;
        }
    }
    m_pending = static_cast<int>(m_cluster.nodes.size());
    Q_EMIT progress(tr("Connecting to every node's Syncthing"), 0, m_pending);
    for (std::size_t i = 0; i < static_cast<std::size_t>(m_cluster.nodes.size()); ++i) {
        auto *connection = new NodeConnection(m_cluster.nodes[static_cast<qsizetype>(i)], m_options, this);
        m_connections.push_back(connection);
        connect(connection, &NodeConnection::syncthingReady, this, [this, i] { onNodeReady(i); });
        const auto failed = [this, id = m_cluster.nodes[static_cast<qsizetype>(i)].id](const Error &error) {
            finish(fail(error.code, QStringLiteral("node %1: %2").arg(id, describe(error)).toStdString()));
        };
        connect(connection, &NodeConnection::failed, this, failed);
        connect(connection, &NodeConnection::syncthingFailed, this, failed);
        connection->open();
    }
}

void PairWorkflow::cancel()
{
    finish(fail(ErrorCode::Cancelled, "pairing cancelled"));
}

void PairWorkflow::onNodeReady(std::size_t index)
{
    NodeConfig &node = m_cluster.nodes[static_cast<qsizetype>(index)];
    m_connections[index]->syncthing()->systemStatus(this, [this, &node](const Result<QJsonObject> &status) {
        if (!status) {
            finish(fail(status.error().code, QStringLiteral("node %1: %2").arg(node.id, describe(status.error())).toStdString()));
            return;
        }
        node.syncthing.deviceId = status->value(QStringLiteral("myID")).toString();
        Q_EMIT progress(tr("Learnt %1's device id").arg(node.id),
                        static_cast<int>(m_cluster.nodes.size()) - m_pending + 1,
                        static_cast<int>(m_cluster.nodes.size()));
        if (--m_pending == 0) {
            for (std::size_t i = 0; i < m_connections.size(); ++i)
                configureNode(i);
        }
    });
}

void PairWorkflow::configureNode(std::size_t index)
{
    const NodeConfig &node = m_cluster.nodes[static_cast<qsizetype>(index)];
    remote::SyncthingClient *syncthing = m_connections[index]->syncthing();
    QStringList deviceIds;
    for (const NodeConfig &peer : m_cluster.nodes)
        deviceIds << peer.syncthing.deviceId;

    // Devices first (Syncthing drops unknown devices from a folder), then the folder shared
    // paused, its ignores, and only then resumed: Syncthing must never scan the mail root
    // without the ignores in place.
    const auto check = [this, id = node.id](const Result<void> &outcome) {
        if (!outcome) {
            finish(fail(outcome.error().code, QStringLiteral("node %1: %2").arg(id, describe(outcome.error())).toStdString()));
            return false;
        }
        return true;
    };
    const auto shareFolder = [this, syncthing, check, folder = mailFolderObject(m_cluster, node, deviceIds),
                              ignores = mailFolderIgnores(m_cluster.uidPolicy, node)] {
        QJsonObject paused = folder;
        paused.insert(QStringLiteral("paused"), true);
        syncthing->shareFolder(paused, this, [this, syncthing, check, ignores](const Result<void> &shared) {
            if (!check(shared))
                return;
            syncthing->setIgnores(m_cluster.folderId, ignores, this,
                                  [this, syncthing, check](const Result<void> &ignored) {
                                      if (!check(ignored))
                                          return;
                                      syncthing->setFolderPaused(m_cluster.folderId, false, this,
                                                                 [this, check](const Result<void> &resumed) {
                                                                     if (check(resumed))
                                                                         stepDone();
                                                                 });
                                  });
        });
    };
    auto devicesLeft = std::make_shared<int>(static_cast<int>(m_cluster.nodes.size()) - 1);
    for (const NodeConfig &peer : m_cluster.nodes) {
        if (peer.id == node.id)
            continue;
        // Paused until every node knows every other (resumeDevices): a dial to a node that does
        // not know the dialler yet is rejected and retried by Syncthing 1.19 only 20-60 s later.
        syncthing->addDevice(
            peer.syncthing.deviceId, peer.id, {peer.syncthing.syncAddress}, this,
            [check, shareFolder, devicesLeft](const Result<void> &added) {
                if (check(added) && --*devicesLeft == 0)
                    shareFolder();
            },
            true);
    }
}

void PairWorkflow::stepDone()
{
    ++m_configured;
    const auto total = static_cast<int>(m_cluster.nodes.size());
    Q_EMIT progress(tr("Shared the mail root on %1 of %2 nodes").arg(m_configured).arg(total), m_configured, total);
    if (m_configured == total)
        resumeDevices();
}

void PairWorkflow::resumeDevices()
{
    auto left = std::make_shared<int>(0);
    for (std::size_t i = 0; i < m_connections.size(); ++i)
        for (const NodeConfig &peer : m_cluster.nodes)
            if (peer.id != m_cluster.nodes[static_cast<qsizetype>(i)].id)
                ++*left;
    for (std::size_t i = 0; i < m_connections.size(); ++i) {
        const QString id = m_cluster.nodes[static_cast<qsizetype>(i)].id;
        for (const NodeConfig &peer : m_cluster.nodes) {
            if (peer.id == id)
                continue;
            m_connections[i]->syncthing()->setDevicePaused(
                peer.syncthing.deviceId, false, this, [this, id, left](const Result<void> &resumed) {
                    if (m_finished)
                        return;
                    if (!resumed) {
                        finish(fail(resumed.error().code,
                                    QStringLiteral("node %1: %2").arg(id, describe(resumed.error())).toStdString()));
                        return;
                    }
                    if (--*left == 0) {
                        m_waiting.start();
                        m_syncCheck.start();
                    }
                });
        }
    }
}

void PairWorkflow::checkInSync()
{
    if (m_waiting.elapsed() > kSyncDeadlineMs) {
        finish(fail(ErrorCode::Timeout,
                    "the nodes did not reach full sync within 3 minutes; check each node's Syncthing log and "
                    "that every syncAddress is reachable from the other nodes, then run pair again"));
        return;
    }
    std::vector<remote::SyncthingClient *> clients;
    for (NodeConnection *connection : m_connections)
        clients.push_back(connection->syncthing());
    m_syncCheck.stop(); // one round at a time; restarted below when it lags
    checkClusterInSync(m_cluster.nodes, clients, m_cluster.folderId, this, [this](const QStringList &lagging) {
        if (m_finished)
            return;
        if (lagging.isEmpty()) {
            Q_EMIT progress(tr("Every node is connected and in sync"), 1, 1);
            finish({});
            return;
        }
        Q_EMIT progress(tr("Waiting for sync: %1").arg(lagging.join(QStringLiteral(", "))), 0, 1);
        m_syncCheck.start();
    });
}

void PairWorkflow::finish(const Status &outcome)
{
    if (m_finished)
        return;
    m_finished = true;
    m_syncCheck.stop();
    for (NodeConnection *connection : m_connections)
        connection->close();
    if (outcome)
        Q_EMIT succeeded();
    else
        Q_EMIT failed(outcome.error());
}

} // namespace mm::cluster
