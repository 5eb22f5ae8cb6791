#include "cluster/monitor/nodemonitor.h"

#include "cluster/dovecot/dovecotcontrol.h"
#include "cluster/session/nodeconnection.h"
#include "cluster/session/remotecalls.h"
#include "maildir/canarydir.h"
#include "remote/agentcall.h"
#include "remote/agentclient.h"
#include "remote/sshsession.h"
#include "remote/syncthingclient.h"
#include "remote/syncthingeventstream.h"

#include <QJsonArray>

namespace mm::cluster {

namespace {

QMap<QString, QString> peerDevices(const ClusterConfig &cluster, const QString &self)
{
    QMap<QString, QString> devices;
    for (const NodeConfig &node : cluster.nodes)
        if (node.id != self && !node.syncthing.deviceId.isEmpty())
            devices.insert(node.syncthing.deviceId, node.id);
    return devices;
}

QString describe(const Error &error)
{
    return QString::fromStdString(error.describe());
}

} // namespace

NodeMonitor::NodeMonitor(const ClusterConfig &cluster, NodeConfig node, const MonitorOptions &options,
                         QObject *parent)
    : QObject(parent)
    , m_folderId(cluster.folderId)
    , m_nodeIdByDevice(peerDevices(cluster, node.id))
    , m_node(std::move(node))
    , m_options(options)
{
    m_state.id = m_node.id;
    m_folder.nodeId = m_node.id;
    for (const QString &peerId : m_nodeIdByDevice)
        m_peers << PeerSync{m_node.id, peerId, false, 0, 0, 0};

    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &NodeMonitor::connectSession);
    m_syncTimer.setInterval(m_options.syncPollMs);
    connect(&m_syncTimer, &QTimer::timeout, this, &NodeMonitor::pollSyncthing);
    m_eventPoll.setSingleShot(true);
    m_eventPoll.setInterval(200);
    connect(&m_eventPoll, &QTimer::timeout, this, &NodeMonitor::pollSyncthing);
    m_inventoryTimer.setInterval(m_options.inventoryPollMs);
    connect(&m_inventoryTimer, &QTimer::timeout, this, &NodeMonitor::takeInventory);
}

NodeMonitor::~NodeMonitor()
{
    stop();
    // The agent runs over the connection's session: it must go first.
    delete m_agent;
    delete m_connection;
}

void NodeMonitor::start()
{
    if (m_running)
        return;
    m_running = true;
    connectSession();
}

void NodeMonitor::stop()
{
    m_running = false;
    m_reconnectTimer.stop();
    m_syncTimer.stop();
    m_inventoryTimer.stop();
    stopEvents();
    // The agent goes before the connection it runs over, and for good: stop() may be called
    // again (by the destructor) after the session is gone.
    if (m_agent) {
        m_agent->stop();
        delete m_agent;
        m_agent = nullptr;
    }
    if (m_connection)
        m_connection->close();
}

void NodeMonitor::connectSession()
{
    if (!m_running)
        return;
    // A fresh connection per attempt: a dead master leaves nothing worth reusing.
    stopEvents();
    delete m_agent;
    m_agent = nullptr;
    if (m_connection)
        m_connection->deleteLater();
    m_tunnelOpen = false;
    m_connection = new NodeConnection(m_node, m_options, this);
    connect(m_connection, &NodeConnection::sshConnected, this, &NodeMonitor::onConnected);
    connect(m_connection, &NodeConnection::failed, this, &NodeMonitor::onConnectFailed);
    connect(m_connection, &NodeConnection::disconnected, this, &NodeMonitor::onDisconnected);
    connect(m_connection, &NodeConnection::syncthingReady, this, &NodeMonitor::onSyncthingReady);
    connect(m_connection, &NodeConnection::syncthingFailed, this, [this](const Error &error) {
        setProblem(QStringLiteral("syncthing"), tr("Syncthing: %1").arg(describe(error)));
        publish();
    });
    m_connection->open();
}

void NodeMonitor::onConnected()
{
    m_reconnectDelayMs = 1000;
    m_state.reachability = Reachability::Reachable;
    m_state.hostKey = HostKeyState::Pinned;
    clearProblem(QStringLiteral("ssh"));
    publish();
    startAgent();
}

void NodeMonitor::onSyncthingReady()
{
    m_tunnelOpen = true;
    clearProblem(QStringLiteral("syncthing"));
    pollSyncthing();
    m_syncTimer.start();
    startEvents();
}

void NodeMonitor::startEvents()
{
    stopEvents();
    // What changes the folder's state, its completion per peer and the connections.
    m_events = new remote::SyncthingEventStream(
        m_connection->syncthing(),
        {QStringLiteral("StateChanged"), QStringLiteral("FolderSummary"), QStringLiteral("FolderCompletion"),
         QStringLiteral("DeviceConnected"), QStringLiteral("DeviceDisconnected"), QStringLiteral("FolderErrors"),
         QStringLiteral("FolderPaused"), QStringLiteral("FolderResumed"),
         // Only for the replication canary: a probe written or deleted here by Syncthing.
         QStringLiteral("ItemFinished")},
        remote::SyncthingEventStream::Source::Events, this);
    m_events->setPollTimeoutSeconds(m_options.eventPollSeconds);
    const auto pollSoon = [this] {
        if (!m_eventPoll.isActive())
            m_eventPoll.start();
    };
    connect(m_events, &remote::SyncthingEventStream::eventReceived, this, [this, pollSoon](const QJsonObject &event) {
        // Every pulled file finishes an item: polling the folder's state for each would be noise.
        if (event.value(QStringLiteral("type")).toString() == QLatin1String("ItemFinished"))
            noteItemFinished(event);
        else
            pollSoon();
    });
    connect(m_events, &remote::SyncthingEventStream::ready, this, pollSoon);
    m_events->start();
}

void NodeMonitor::stopEvents()
{
    m_eventPoll.stop();
    // Before the Syncthing client it uses goes away with its connection.
    delete m_events;
    m_events = nullptr;
}

void NodeMonitor::noteItemFinished(const QJsonObject &event)
{
    const QJsonObject data = event.value(QStringLiteral("data")).toObject();
    if (data.value(QStringLiteral("folder")).toString() != m_folderId || !data.value(QStringLiteral("error")).isNull())
        return;
    const QString prefix = QLatin1String(maildir::CanaryDir::kDirName) + u'/';
    const QString item = data.value(QStringLiteral("item")).toString();
    if (!item.startsWith(prefix) || item.indexOf(u'/', prefix.size()) >= 0)
        return;
    const QString name = item.mid(prefix.size());
    if (!maildir::CanaryProbeName::parse(name.toStdString()))
        return;
    Q_EMIT canaryProbeChanged(name, data.value(QStringLiteral("action")).toString() != QLatin1String("delete"));
}

void NodeMonitor::onConnectFailed(const Error &error)
{
    if (error.code == ErrorCode::ChangedHostKey)
        m_state.hostKey = HostKeyState::Changed;
    else if (error.code == ErrorCode::UnknownHostKey)
        m_state.hostKey = HostKeyState::NotAccepted;
    m_state.reachability = Reachability::Unreachable;
    setProblem(QStringLiteral("ssh"), describe(error));
    publish();
    // A changed key is not retried: the admin must look at it first.
    if (error.code != ErrorCode::ChangedHostKey)
        scheduleReconnect();
}

void NodeMonitor::onDisconnected(const Error &reason)
{
    m_syncTimer.stop();
    stopEvents();
    m_inventoryTimer.stop();
    m_tunnelOpen = false;
    m_state.reachability = Reachability::Unreachable;
    m_state.agentVersion.clear();
    m_state.inventoryTaken = false;
    m_probeAnswered = false;
    m_inventoryAnswered = false;
    m_sinceQuarantineMeasured.invalidate();
    // Unknown until the next probe: an earlier answer says nothing about the node now.
    m_state.changeWatcherRunning.reset();
    clearProblem(QStringLiteral("changewatch"));
    m_state.syncthingVersion.clear();
    for (PeerSync &peer : m_peers)
        peer.connected = false;
    setProblem(QStringLiteral("ssh"), describe(reason));
    publish();
    scheduleReconnect();
}

void NodeMonitor::scheduleReconnect()
{
    if (!m_running)
        return;
    m_reconnectTimer.start(m_reconnectDelayMs);
    m_reconnectDelayMs = std::min(m_reconnectDelayMs * 2, m_options.maxReconnectDelayMs);
}

void NodeMonitor::startAgent()
{
    remote::AgentClient::Options options;
    options.agentBinary = m_options.agentBinary;
    options.runAs = m_connection->runAs();
    options.forbiddenRoots = {m_node.mailRoot};
    m_agent = new remote::AgentClient(m_connection->session(), options, this);
    connect(m_agent, &remote::AgentClient::ready, this, [this] {
        m_state.agentVersion = m_agent->hello().value(QStringLiteral("version")).toString();
        clearProblem(QStringLiteral("agent"));
        publish();
        takeInventory();
        m_inventoryTimer.start();
    });
    connect(m_agent, &remote::AgentClient::failed, this, [this](const Error &error) {
        setProblem(QStringLiteral("agent"), tr("Agent: %1").arg(describe(error)));
        publish();
    });
    m_agent->start();
}

bool NodeMonitor::agentReady() const
{
    return m_agent && m_agent->state() == remote::AgentClient::State::Ready;
}

namespace {

// A call made while the node's agent is not running fails, on the next turn of the event loop
// like a real answer: callers never see their callback run before the call returned.
template <typename Done>
void answerAgentNotRunning(QObject *context, const QString &nodeId, Done done)
{
    QTimer::singleShot(0, context, [done = std::move(done), nodeId] {
        done(fail(ErrorCode::Unreachable, QStringLiteral("%1: agent not running").arg(nodeId).toStdString()));
    });
}

} // namespace

void NodeMonitor::fetchManifest(const QJsonObject &params, QObject *context,
                                std::function<void(const Result<QList<QJsonObject>> &)> done)
{
    if (!agentReady()) {
        answerAgentNotRunning(context, m_node.id, std::move(done));
        return;
    }
    QJsonObject request = params;
    request.insert(QStringLiteral("root"), m_node.mailRoot);
    if (!m_node.stateDir.isEmpty())
        request.insert(QStringLiteral("stateDir"), m_node.stateDir);
    auto items = std::make_shared<QList<QJsonObject>>();
    remote::AgentCall *call = m_agent->call(QStringLiteral("manifest"), request);
    connect(call, &remote::AgentCall::item, context, [items](const QJsonObject &item) { items->append(item); });
    whenAgentFinished(call, context, [items, done = std::move(done)](const Result<QJsonObject> &summary) {
        if (!summary)
            done(fail(summary.error()));
        else
            done(*items);
    });
}

void NodeMonitor::callAgentOnRoot(const QString &command, const QJsonObject &params, QObject *context,
                                  std::function<void(const Result<QJsonObject> &)> done)
{
    if (!agentReady()) {
        answerAgentNotRunning(context, m_node.id, std::move(done));
        return;
    }
    QJsonObject request = params;
    request.insert(QStringLiteral("root"), m_node.mailRoot);
    whenAgentFinished(m_agent->call(command, request), context, std::move(done));
}

void NodeMonitor::takeInventory()
{
    if (!m_agent || m_agent->state() != remote::AgentClient::State::Ready)
        return;
    // The probe's own inventory walk is left out: `inventory`, which follows, does it for less.
    QJsonObject probeParams{{QStringLiteral("path"), m_node.mailRoot}, {QStringLiteral("skipInventory"), true}};
    if (const QString dovecot = dovecotcontrol::dovecotBinary(m_node.dovecot); !dovecot.isEmpty())
        probeParams.insert(QStringLiteral("dovecot"), dovecot);
    if (!m_node.dovecot.configFile.isEmpty())
        probeParams.insert(QStringLiteral("dovecotConfig"), m_node.dovecot.configFile);
    whenAgentFinished(m_agent->call(QStringLiteral("probe"), probeParams), this,
               [this](const Result<QJsonObject> &probe) {
                   if (!probe) {
                       setProblem(QStringLiteral("probe"), tr("Probe: %1").arg(describe(probe.error())));
                   } else {
                       const QJsonObject dovecot = probe->value(QStringLiteral("dovecot")).toObject();
                       m_state.dovecotVersion = dovecot.value(QStringLiteral("version")).toString();
                       m_state.dovecotCurOnlyBuild = dovecot.value(QStringLiteral("curOnlyBuild")).toBool();
                       m_state.dovecotCurOnlyEnabled = dovecot.value(QStringLiteral("curOnlyEnabled")).toBool();
                       clearProblem(QStringLiteral("probe"));
                       noteChangeWatcher(probe->value(QStringLiteral("changeWatchers")).toArray());
                   }
                   m_probeAnswered = true;
                   m_state.inventoryTaken = m_probeAnswered && m_inventoryAnswered;
                   publish();
               });

    if (!m_sinceQuarantineMeasured.isValid() || m_sinceQuarantineMeasured.hasExpired(m_options.quarantinePollMs))
        measureQuarantine();

    // One `inventory` gives the folder counts and the duplicate groups. The agent remembers what
    // it saw in the node's state dir, so a pass reads only the folders changed since the last
    // one (docs/monitoring.md). The agent is deployed from this very build (AgentClient, by
    // content hash), so every node knows the command and no scan + dupes fallback is kept.
    QJsonObject params{{QStringLiteral("root"), m_node.mailRoot}};
    if (!m_node.stateDir.isEmpty())
        params.insert(QStringLiteral("stateDir"), m_node.stateDir);
    whenAgentFinished(m_agent->call(QStringLiteral("inventory"), params), this, [this](const Result<QJsonObject> &report) {
        // Settled (isSettled()) once the probe has answered too: status --check must not judge a
        // node before it knows whether the node's change watcher runs.
        m_inventoryAnswered = true;
        m_state.inventoryTaken = m_probeAnswered && m_inventoryAnswered;
        if (!report) {
            setProblem(QStringLiteral("inventory"), tr("Inventory: %1").arg(describe(report.error())));
            publish();
            return;
        }
        clearProblem(QStringLiteral("inventory"));
        ScanInventory inventory = inventoryFromScan(m_node.id, report->value(QStringLiteral("folders")).toArray());
        m_mailboxCounts = std::move(inventory.mailboxCounts);
        m_classicFolders = std::move(inventory.classicFolders);
        m_duplicateGroups = static_cast<int>(report->value(QStringLiteral("groups")).toArray().size());
        publish();
    });
}

void NodeMonitor::measureQuarantine()
{
    m_sinceQuarantineMeasured.start();
    QJsonObject params{{QStringLiteral("root"), m_node.mailRoot}, {QStringLiteral("totalsOnly"), true}};
    if (!m_node.stateDir.isEmpty())
        params.insert(QStringLiteral("stateDir"), m_node.stateDir);
    whenAgentFinished(m_agent->call(QStringLiteral("quarantine-list"), params), this,
                      [this](const Result<QJsonObject> &listing) {
                          if (!listing) {
                              m_state.quarantinedFiles.reset();
                              m_state.quarantinedBytes.reset();
                          } else {
                              m_state.quarantinedFiles = listing->value(QStringLiteral("count")).toInteger();
                              m_state.quarantinedBytes = listing->value(QStringLiteral("totalBytes")).toInteger();
                          }
                          publish();
                      });
}

void NodeMonitor::noteChangeWatcher(const QJsonArray &changeWatchers)
{
    // The probe lists every watch-changes process on the node; one must watch this node's
    // Syncthing home. prepare installs it as a systemd service (sandbox nodes start it
    // themselves), so missing means stopped, failing, or never installed.
    const bool running = changeWatcherRunsFor(changeWatchers, m_node.syncthing.home);
    m_state.changeWatcherRunning = running;
    if (running)
        clearProblem(QStringLiteral("changewatch"));
    else
        setProblem(QStringLiteral("changewatch"),
                   tr("mailmesh-agent watch-changes is not running: some changes wait up to an hour (Syncthing's "
                      "full rescan) to reach the other nodes; run `mailmeshctl prepare %1` again")
                       .arg(m_node.id));
}

void NodeMonitor::pollSyncthing()
{
    remote::SyncthingClient *syncthing = m_connection ? m_connection->syncthing() : nullptr;
    if (!syncthing || !m_tunnelOpen)
        return;
    syncthing->version(this, [this](const Result<QJsonObject> &version) {
        if (!version) {
            m_state.syncthingVersion.clear();
            setProblem(QStringLiteral("syncthing"), tr("Syncthing: %1").arg(describe(version.error())));
        } else {
            m_state.syncthingVersion = version->value(QStringLiteral("version")).toString();
            clearProblem(QStringLiteral("syncthing"));
        }
        publish();
    });
    syncthing->connections(this, [this](const Result<QJsonObject> &connections) {
        if (!connections)
            return;
        for (PeerSync &peer : m_peers) {
            const QString device = m_nodeIdByDevice.key(peer.peerId);
            peer.connected = connections->value(device).toObject().value(QStringLiteral("connected")).toBool();
        }
        publish();
    });
    syncthing->folderStatus(m_folderId, this, [this](const Result<QJsonObject> &status) {
        if (!status) {
            m_folder.state = tr("unknown");
            setProblem(QStringLiteral("folder"), tr("Mail folder: %1").arg(describe(status.error())));
        } else {
            m_folder.state = status->value(QStringLiteral("state")).toString();
            m_folder.needItems = status->value(QStringLiteral("needTotalItems")).toInteger();
            m_folder.pullErrors = status->value(QStringLiteral("pullErrors")).toInt();
            m_folder.watchError = status->value(QStringLiteral("watchError")).toString();
            clearProblem(QStringLiteral("folder"));
            if (m_folder.watchError.isEmpty())
                clearProblem(QStringLiteral("watcher"));
            else
                setProblem(QStringLiteral("watcher"),
                           tr("Syncthing does not see changes as they happen (%1): they replicate only at its "
                              "hourly rescan. Raise fs.inotify.max_user_watches and max_user_instances.")
                               .arg(m_folder.watchError));
        }
        publish();
    });
    for (const QString &device : m_nodeIdByDevice.keys()) {
        syncthing->completion(m_folderId, device, this,
                                [this, peerId = m_nodeIdByDevice.value(device)](
                                    const Result<std::optional<QJsonObject>> &completion) {
                                    for (PeerSync &peer : m_peers) {
                                        if (peer.peerId != peerId)
                                            continue;
                                        if (completion && *completion) {
                                            const QJsonObject &c = **completion;
                                            peer.completion = c.value(QStringLiteral("completion")).toDouble();
                                            peer.needItems = c.value(QStringLiteral("needItems")).toInteger();
                                            peer.needBytes = c.value(QStringLiteral("needBytes")).toInteger();
                                        }
                                    }
                                    publish();
                                });
    }
}

void NodeMonitor::setProblem(const QString &source, const QString &text)
{
    m_problems.insert(source, text);
}

void NodeMonitor::clearProblem(const QString &source)
{
    m_problems.remove(source);
}

void NodeMonitor::publish()
{
    m_state.problems = m_problems.values();
    if (m_state.reachability == Reachability::Reachable)
        m_state.lastSeen = QDateTime::currentDateTimeUtc();
    Q_EMIT changed();
}

} // namespace mm::cluster
