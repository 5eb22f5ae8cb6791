#pragma once

#include "cluster/clusterconfig.h"
#include "cluster/clustersession.h"
#include "cluster/monitoroptions.h"
#include "cluster/workflow.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QList>
#include <QTimer>

#include <functional>
#include <vector>

namespace mm::remote {
class AgentCall;
} // namespace mm::remote

namespace mm::cluster {

// A workflow that works on every node of a cluster at once: the session to every node, agent
// calls that cancel() reaches, per-node fan-out, waiting for Syncthing to settle, and the
// per-node part of the report (details.nodes, in cluster order).
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

    // A step body: opens the session with the given parts; on failure the step fails with
    // `nextAction`.
    void connectNodes(ClusterSession::Parts parts, const QString &nextAction);

    // Runs `perNode(index, done)` on every node at once; the step fails with the first error
    // (naming its node), or allDone() runs once every node called done({}).
    using NodeTask = std::function<void(int index, std::function<void(const Status &)> done)>;
    void forEachNode(const NodeTask &perNode, std::function<void()> allDone, const QString &nextAction);

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

    QList<remote::AgentCall *> m_runningCalls;
    QTimer m_pollTimer;
    QElapsedTimer m_waiting;
    std::vector<QJsonObject> m_nodeDetails;
};

} // namespace mm::cluster
