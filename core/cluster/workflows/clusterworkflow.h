#pragma once

#include "cluster/config/clusterconfig.h"
#include "cluster/session/clustersession.h"
#include "cluster/monitor/monitoroptions.h"
#include "cluster/workflows/workflow.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QList>
#include <QTimer>

#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace mm::remote {
class AgentCall;
class SshSession;
} // namespace mm::remote

namespace mm::cluster {

// A workflow that works on the nodes of a cluster at once: the session to every node, agent
// calls that cancel() reaches, per-node fan-out (all at once, or one node after the other),
// waiting for Syncthing to settle, and the per-node part of the report (details.nodes, in
// cluster order).
//
// A node `index` counts the nodes the workflow works on: every node of the cluster, or the
// ones selectNodes() chose (deploy-dovecot --node); node(index) is its entry in cluster().
class ClusterWorkflow : public Workflow
{
    Q_OBJECT

public:
    ~ClusterWorkflow() override;

    // The cluster with what this run learnt about its nodes.
    const ClusterConfig &cluster() const { return m_cluster; }

protected:
    ClusterWorkflow(QString name, bool dryRun, ClusterConfig cluster, MonitorOptions monitorOptions,
                    QObject *parent);

    void cancelRunningWork() override;
    void cleanUp() override;

    // Works on these nodes of the cluster only (indices into cluster().nodes, in cluster order);
    // call before connectNodes(). Without it: every node.
    void selectNodes(const QList<int> &clusterIndices);
    int nodeCount() const { return int(m_selected.size()); }
    NodeConfig &node(int index) { return m_cluster.nodes[m_selected[index]]; }
    const NodeConfig &node(int index) const { return m_cluster.nodes[m_selected[index]]; }

    // How connectNodes() ends its step when the workflow must judge the session itself (add-node
    // settles a host key on it): `ready` runs once every node answered and returns the step's
    // detail, or nullopt after it failed the step; `failed` fails the step for a node's error.
    struct ConnectJudge
    {
        std::function<std::optional<QString>()> ready;
        std::function<void(const Error &error)> failed;
    };
    // A step body: opens the session with the given parts; the step ends with "N nodes
    // reachable", or on failure with the error and `nextAction`, unless `judge` decides.
    void connectNodes(ClusterSession::Parts parts, const QString &nextAction, ConnectJudge judge = {});
    // Like connectNodes(), with a session of its own for each node, so that a node that does not
    // answer does not close the others: when mayLeaveOut(index, error) says so, the run goes on
    // without that node (isConnected(index) stays false); any other node's failure fails the
    // step with failAdvice(index).
    void connectEachNode(ClusterSession::Parts parts, std::function<bool(int index, const Error &error)> mayLeaveOut,
                         std::function<QString(int index)> failAdvice);
    bool isConnected(int index) const;
    // The node's ssh session, whichever way the nodes were connected.
    remote::SshSession *ssh(int index) const;

    // Runs `perNode(index, done)` on every node at once; the step fails with the first error
    // (naming its node), or allDone() runs once every node called done({}).
    using NodeTask = std::function<void(int index, std::function<void(const Status &)> done)>;
    void forEachNode(const NodeTask &perNode, std::function<void()> allDone, const QString &nextAction);
    // Runs `perNode` on the given nodes at once and waits until every one of them called done,
    // failed or not, so that no node's work is still under way when the step ends (a rollback
    // never races a write). Then `settled` runs with the first error (naming its node), or none;
    // queued, outside the signal of a call the session owns, since ending the step closes it.
    void forEachNodeSettled(const QList<int> &indices, const NodeTask &perNode,
                            std::function<void(const std::optional<Error> &firstError)> settled);
    // Runs `perNode` on the given nodes one after the other, in that order, each once the one
    // before succeeded: at most one node is in the middle of a change (a restart, an install).
    // The first failure stops the round and goes to `failed` (naming its node).
    void forEachNodeInTurn(const QList<int> &indices, const NodeTask &perNode, std::function<void()> allDone,
                           std::function<void(const Error &error)> failed);

    // An agent call that cancel() reaches.
    remote::AgentCall *callAgent(int index, const QString &command, const QJsonObject &params);
    // {root, stateDir, [dryRun]} for the node's mail root.
    QJsonObject mailParams(int index, bool dryRun) const;

    // Polls until every node is connected, idle and at 100%, or the timeout passes.
    void waitUntilInSync(int timeoutMs, int pollMs, std::function<void()> inSync,
                         std::function<void(const QStringList &lagging)> timedOut);

    QJsonObject &nodeDetails(int index) { return m_nodeDetails[std::size_t(index)]; }

    ClusterConfig m_cluster;
    MonitorOptions m_monitorOptions;
    ClusterSession *m_session = nullptr;

private:
    void publishDetails();
    // The session that holds node `index`, and the node's index in it.
    std::pair<ClusterSession *, int> sessionOf(int index) const;

    QList<int> m_selected; // cluster indices of the nodes worked on
    // connectEachNode(): one session per node (m_session stays null); null for a node left out.
    std::vector<ClusterSession *> m_nodeSessions;
    std::vector<ClusterSession *> m_leftOutSessions; // closed with the others when the run ends
    QList<remote::AgentCall *> m_runningCalls;
    QTimer m_pollTimer;
    QElapsedTimer m_waiting;
    std::vector<QJsonObject> m_nodeDetails;
};

} // namespace mm::cluster
