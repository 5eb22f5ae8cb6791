#pragma once

#include "cluster/config/clusterconfig.h"
#include "cluster/monitor/clusterstate.h"
#include "cluster/monitor/monitoroptions.h"
#include "common/result.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QMap>
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <functional>

namespace mm::remote {
class AgentClient;
class SyncthingEventStream;
} // namespace mm::remote

namespace mm::cluster {

class NodeConnection;

// Watches one node: keeps an SSH session (reconnecting with backoff), the agent for probe and
// the incremental inventory (folder counts and duplicates), and Syncthing's REST API through a tunnel for sync state. Everything is
// asynchronous; changed() says the node's part of the cluster picture moved.
class NodeMonitor : public QObject
{
    Q_OBJECT

public:
    NodeMonitor(const ClusterConfig &cluster, NodeConfig node, const MonitorOptions &options,
                QObject *parent = nullptr);
    ~NodeMonitor() override;

    void start();
    void stop();

    const QString &nodeId() const { return m_node.id; }
    const NodeState &state() const { return m_state; }
    const QList<PeerSync> &peers() const { return m_peers; }
    const FolderState &folder() const { return m_folder; }
    const QMap<QString, qint64> &mailboxCounts() const { return m_mailboxCounts; }
    int duplicateGroups() const { return m_duplicateGroups; }
    const QStringList &classicFolders() const { return m_classicFolders; }

    bool agentReady() const;
    // The agent's `manifest` of the mail root (params added to root and state dir), its folder
    // items collected; fails at once when the agent is not ready.
    void fetchManifest(const QJsonObject &params, QObject *context,
                       std::function<void(const Result<QList<QJsonObject>> &)> done);
    // One call of the agent on the node's mail root (params get `root`); fails at once when the
    // agent is not ready. For the canary's probe commands.
    void callAgentOnRoot(const QString &command, const QJsonObject &params, QObject *context,
                         std::function<void(const Result<QJsonObject> &)> done);

Q_SIGNALS:
    void changed();
    // Syncthing on this node finished writing (present) or deleting a replication canary probe
    // (core/maildir/canarydir.h): the canary hears of an arrival without waiting for its poll.
    void canaryProbeChanged(const QString &probeName, bool present);

private:
    void connectSession();
    void onConnected();
    void onConnectFailed(const Error &error);
    void onSyncthingReady();
    void onDisconnected(const Error &reason);
    void scheduleReconnect();
    void startAgent();
    void takeInventory();
    void measureQuarantine();
    void noteChangeWatcher(const QJsonArray &changeWatchers);
    void pollSyncthing();
    void startEvents();
    void stopEvents();
    void noteItemFinished(const QJsonObject &event);
    void setProblem(const QString &source, const QString &text);
    void clearProblem(const QString &source);
    void publish();

    const QString m_folderId;
    const QMap<QString, QString> m_nodeIdByDevice; // peers' Syncthing device ids -> node ids
    NodeConfig m_node;
    MonitorOptions m_options;

    NodeConnection *m_connection = nullptr;
    remote::AgentClient *m_agent = nullptr;
    QTimer m_reconnectTimer;
    QTimer m_syncTimer;
    // Syncthing's events, by long-poll through the tunnel: a change is polled at once instead
    // of at the next syncPollMs (which stays as the fallback). Coalesced: bursts make one poll.
    remote::SyncthingEventStream *m_events = nullptr;
    QTimer m_eventPoll;
    QTimer m_inventoryTimer;
    int m_reconnectDelayMs = 1000;
    bool m_running = false;
    bool m_tunnelOpen = false;
    // Since connecting: the node counts as inventoried (NodeState::inventoryTaken) once both did.
    bool m_probeAnswered = false;
    bool m_inventoryAnswered = false;
    QElapsedTimer m_sinceQuarantineMeasured; // invalid: not measured since connecting

    NodeState m_state;
    QMap<QString, QString> m_problems; // source -> text, so each source replaces its own
    QList<PeerSync> m_peers;
    FolderState m_folder;
    QMap<QString, qint64> m_mailboxCounts;
    int m_duplicateGroups = 0;
    QStringList m_classicFolders;
};

} // namespace mm::cluster
