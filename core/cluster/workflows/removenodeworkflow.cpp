#include "cluster/workflows/removenodeworkflow.h"

#include "cluster/session/clustersession.h"
#include "cluster/session/remotecalls.h"
#include "remote/syncthingclient.h"

#include <QJsonArray>

#include <memory>
#include <utility>

namespace mm::cluster {

namespace {

ClusterConfig withoutNode(ClusterConfig cluster, const QString &nodeId)
{
    cluster.nodes.removeIf([&nodeId](const NodeConfig &node) { return node.id == nodeId; });
    return cluster;
}

std::optional<NodeConfig> findNode(const ClusterConfig &cluster, const QString &nodeId)
{
    if (const NodeConfig *node = cluster.node(nodeId))
        return *node;
    return std::nullopt;
}

} // namespace

RemoveNodeWorkflow::RemoveNodeWorkflow(ClusterConfig cluster, QString nodeId, Options options,
                                       MonitorOptions monitorOptions, QObject *parent)
    : ClusterWorkflow(QStringLiteral("remove-node"), options.dryRun, withoutNode(cluster, nodeId),
                      std::move(monitorOptions), parent)
    , m_nodeId(std::move(nodeId))
    , m_options(options)
    , m_removed(findNode(cluster, m_nodeId))
{
    m_reachTimer.setSingleShot(true);
    keepClusterChanges(ClusterChanges::KeptOnSuccess); // the node leaves the file once every peer forgot it
    m_report.details.insert(QStringLiteral("node"), m_nodeId);
    addStep(QStringLiteral("validate"), tr("Check the cluster file"), [this] { validate(); });
    addStep(QStringLiteral("connect"), tr("Connect to the other nodes"), [this] {
        connectNodes(ClusterSession::Syncthing,
                     tr("Nothing was changed. Every other node must be reachable to forget %1: bring it up, then run "
                        "`mailmeshctl remove-node %1` again.")
                         .arg(m_nodeId));
    });
    addStep(QStringLiteral("reach"), tr("Reach the node itself, if it answers"), [this] { reachNode(); });
    addStep(QStringLiteral("inspect"), tr("Read every node's Syncthing"), [this] { inspect(); });
    addStep(QStringLiteral("plan"), tr("Plan the removal"), [this] { plan(); });
    if (m_options.dryRun)
        return;
    addStep(QStringLiteral("detach"), tr("Pause the mail folder on the node and forget its peers there"), [this] { detach(); });
    addStep(QStringLiteral("unshare"), tr("Unshare the mail folder from the node and forget it everywhere"),
            [this] { unshare(); });
}

RemoveNodeWorkflow::~RemoveNodeWorkflow()
{
    RemoveNodeWorkflow::cleanUp();
}

void RemoveNodeWorkflow::cancelRunningWork()
{
    if (m_reachTimer.isActive()) {
        m_reachTimer.stop();
        failStep(Error{ErrorCode::Cancelled, "cancelled while reaching the node", {}},
                 tr("Nothing was changed. Run `mailmeshctl remove-node %1` again.").arg(m_nodeId));
        return;
    }
    ClusterWorkflow::cancelRunningWork();
}

void RemoveNodeWorkflow::cleanUp()
{
    m_reachTimer.stop();
    if (m_removedSession) {
        m_removedSession->close();
        m_removedSession->deleteLater();
        m_removedSession = nullptr;
    }
    ClusterWorkflow::cleanUp();
}

QStringList RemoveNodeWorkflow::removedDeviceIds() const
{
    // The cluster file's id, and the live one when they differ (a node re-created under the same
    // id that never finished joining).
    QStringList ids;
    if (!m_removed->syncthing.deviceId.isEmpty())
        ids << m_removed->syncthing.deviceId;
    if (!m_removedView.myId.isEmpty() && !ids.contains(m_removedView.myId))
        ids << m_removedView.myId;
    return ids;
}

void RemoveNodeWorkflow::validate()
{
    if (!m_removed) {
        failStep(Error{ErrorCode::NotFound, tr("no node \"%1\" in the cluster file").arg(m_nodeId).toStdString(), {}},
                 tr("Nothing was changed. `mailmeshctl status` lists the cluster's nodes."));
        return;
    }
    if (m_cluster.nodes.isEmpty()) {
        failStep(Error{ErrorCode::BadRequest, tr("%1 is the cluster's only node").arg(m_nodeId).toStdString(), {}},
                 tr("Nothing was changed. A cluster without nodes is no cluster: start a new cluster file with "
                    "`mailmeshctl init --force` instead."));
        return;
    }
    completeStep(tr("%1 leaves; %n node(s) stay", nullptr, int(m_cluster.nodes.size())).arg(m_nodeId));
}

void RemoveNodeWorkflow::reachNode()
{
    m_removedSession = new ClusterSession({*m_removed}, m_monitorOptions, ClusterSession::Syncthing, this);
    // Whichever comes first settles it: the session's answer or the deadline.
    auto settled = std::make_shared<bool>(false);
    const auto unreachable = [this, settled](const QString &reason) {
        if (std::exchange(*settled, true))
            return;
        m_reachTimer.stop();
        m_reachable = false;
        m_report.details.insert(QStringLiteral("nodeReachable"), false);
        m_report.details.insert(QStringLiteral("unreachableReason"), reason);
        skipStep(tr("%1 is not reachable (%2): only the other nodes will change; its own Syncthing keeps its "
                    "configuration, and no peer will accept it any more")
                     .arg(m_nodeId, reason));
    };
    connect(m_removedSession, &ClusterSession::ready, this, [this, settled] {
        if (std::exchange(*settled, true))
            return;
        m_reachTimer.stop();
        m_reachable = true;
        m_report.details.insert(QStringLiteral("nodeReachable"), true);
        completeStep(tr("%1 answers: its own Syncthing will be detached too").arg(m_nodeId));
    });
    connect(m_removedSession, &ClusterSession::failed, this,
            [unreachable](const QString &, const Error &error) { unreachable(QString::fromStdString(error.describe())); });
    m_reachTimer.disconnect();
    connect(&m_reachTimer, &QTimer::timeout, this, [this, unreachable] {
        unreachable(tr("no answer within %1 s").arg(m_options.reachTimeoutMs / 1000));
    });
    m_reachTimer.start(m_options.reachTimeoutMs);
    m_removedSession->open();
}

void RemoveNodeWorkflow::inspect()
{
    m_peerViews.assign(std::size_t(m_cluster.nodes.size()), MeshView{});
    const auto inspectPeers = [this] {
        forEachNode(
            [this](int index, std::function<void(const Status &)> done) {
                readMeshView(m_session->syncthing(index), m_cluster.folderId, this,
                             [this, index, done](const Result<MeshView> &view) {
                                 if (view)
                                     m_peerViews[std::size_t(index)] = *view;
                                 done(view ? Status{} : Status{fail(view.error())});
                             });
            },
            [this] {
                QStringList knowing;
                const QStringList removed = removedDeviceIds();
                for (int i = 0; i < m_cluster.nodes.size(); ++i) {
                    const MeshView &view = m_peerViews[std::size_t(i)];
                    for (const QString &id : removed)
                        if (view.devices.contains(id) || view.folderDeviceIds().contains(id)) {
                            knowing << m_cluster.nodes[i].id;
                            break;
                        }
                }
                m_report.details.insert(QStringLiteral("deviceIds"), QJsonArray::fromStringList(removed));
                completeStep(knowing.isEmpty() ? tr("no other node knows %1 any more").arg(m_nodeId)
                                               : tr("known to %1").arg(knowing.join(QStringLiteral(", "))));
            },
            tr("Nothing was changed. Run `mailmeshctl remove-node %1` again.").arg(m_nodeId));
    };
    if (!m_reachable) {
        inspectPeers();
        return;
    }
    readMeshView(m_removedSession->syncthing(0), m_cluster.folderId, this,
                 [this, inspectPeers](const Result<MeshView> &view) {
                     if (!checkOrFail(view ? Status{} : Status{fail(view.error())}, m_nodeId,
                                      tr("Nothing was changed. Run `mailmeshctl remove-node %1` again.").arg(m_nodeId)))
                         return;
                     m_removedView = *view;
                     inspectPeers();
                 });
}

void RemoveNodeWorkflow::plan()
{
    QStringList actions;
    const QStringList removed = removedDeviceIds();
    if (m_reachable) {
        QStringList peers;
        for (const NodeConfig &node : std::as_const(m_cluster.nodes))
            if (m_removedView.devices.contains(node.syncthing.deviceId))
                peers << node.id;
        if (m_removedView.folderExists && !m_removedView.folderPaused)
            actions << tr("%1: pause the mail folder (its files stay)").arg(m_nodeId);
        if (m_removedView.folderExists && m_removedView.folderDeviceIds().size() > 1)
            actions << tr("%1: unshare the mail folder from the other nodes").arg(m_nodeId);
        if (!peers.isEmpty())
            actions << tr("%1: forget %2").arg(m_nodeId, peers.join(QStringLiteral(", ")));
    } else {
        actions << tr("%1: unreachable, left as it is").arg(m_nodeId);
    }
    for (int i = 0; i < m_cluster.nodes.size(); ++i) {
        const MeshView &view = m_peerViews[std::size_t(i)];
        for (const QString &id : removed) {
            if (view.folderDeviceIds().contains(id))
                actions << tr("%1: unshare the mail folder from %2 (%3)").arg(m_cluster.nodes[i].id, m_nodeId, id.left(7));
            if (view.devices.contains(id))
                actions << tr("%1: remove device %2 (%3)").arg(m_cluster.nodes[i].id, m_nodeId, id.left(7));
        }
    }
    actions << tr("drop %1 from the cluster file; its mail root %2 is not touched").arg(m_nodeId, m_removed->mailRoot);
    m_report.details.insert(QStringLiteral("plan"), QJsonArray::fromStringList(actions));
    completeStep(actions.join(QStringLiteral("; ")));
}

void RemoveNodeWorkflow::detach()
{
    if (!m_reachable) {
        skipStep(tr("%1 is not reachable: its own Syncthing is left as it is").arg(m_nodeId));
        return;
    }
    remote::SyncthingClient *syncthing = m_removedSession->syncthing(0);
    QStringList peerIds;
    for (const NodeConfig &node : std::as_const(m_cluster.nodes))
        if (!node.syncthing.deviceId.isEmpty())
            peerIds << node.syncthing.deviceId;
    QList<AsyncStep> steps;
    if (m_removedView.folderExists) {
        // Paused first, so the node stops exchanging changes before anything else moves; the
        // folder stays configured and its files stay on disk.
        steps << [this, syncthing](std::function<void(const Status &)> next) {
            syncthing->setFolderPaused(m_cluster.folderId, true, this, [next](const Result<void> &paused) { next(paused); });
        };
        const QJsonArray devices = folderDevicesWith(m_removedView.folderDevices, {}, peerIds);
        if (devices != m_removedView.folderDevices)
            steps << [this, syncthing, devices](std::function<void(const Status &)> next) {
                setFolderDevices(syncthing, m_cluster.folderId, devices, this, next);
            };
    }
    for (const QString &peer : std::as_const(peerIds))
        if (m_removedView.devices.contains(peer))
            steps << [this, syncthing, peer](std::function<void(const Status &)> next) {
                forgetDevice(syncthing, peer, this, next);
            };
    runInOrder(steps, [this](const Status &detached) {
        if (!checkOrFail(detached, m_nodeId,
                         tr("Run `mailmeshctl remove-node %1` again to continue; nothing on the other nodes changed yet.")
                             .arg(m_nodeId)))
            return;
        completeStep(tr("%1: mail folder paused, the other nodes forgotten; its files are untouched").arg(m_nodeId));
    });
}

void RemoveNodeWorkflow::unshare()
{
    const QStringList removed = removedDeviceIds();
    auto changed = std::make_shared<QStringList>();
    forEachNode(
        [this, removed, changed](int index, std::function<void(const Status &)> done) {
            const MeshView &view = m_peerViews[std::size_t(index)];
            remote::SyncthingClient *syncthing = m_session->syncthing(index);
            QList<AsyncStep> steps;
            // Unshared before the device goes: a folder never names a device Syncthing forgot.
            const QJsonArray devices = folderDevicesWith(view.folderDevices, {}, removed);
            if (view.folderExists && devices != view.folderDevices)
                steps << [this, syncthing, devices](std::function<void(const Status &)> next) {
                    setFolderDevices(syncthing, m_cluster.folderId, devices, this, next);
                };
            for (const QString &id : removed)
                if (view.devices.contains(id))
                    steps << [this, syncthing, id](std::function<void(const Status &)> next) {
                        forgetDevice(syncthing, id, this, next);
                    };
            if (!steps.isEmpty())
                *changed << m_cluster.nodes[index].id;
            runInOrder(steps, done);
        },
        [this, changed] {
            changed->sort();
            completeStep(changed->isEmpty() ? tr("no other node knew %1").arg(m_nodeId)
                                            : tr("%1 forgotten by %2").arg(m_nodeId, changed->join(QStringLiteral(", "))));
        },
        tr("Run `mailmeshctl remove-node %1` again to continue where it stopped.").arg(m_nodeId));
}

} // namespace mm::cluster
