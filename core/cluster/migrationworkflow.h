#pragma once

#include "cluster/clusterconfig.h"
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

class ClusterSession;

// The one-click migration (`migrate`) and its undo (`revert`), across every node at once:
//
//   connect → probe → preflight → plan  [a dry run stops here: nothing paused, held or written]
//   → freeze → convert → switch → verify → resume → settle
//
// Every node is converted while replication is paused everywhere, so no node ever receives a
// half-converted tree: conversion is deterministic, and the converted trees are identical on
// every node before Syncthing sees them. The cur/-only setting is switched on between convert
// and resume (FIELD-NOTES.md, cut-over order); revert runs the same way with the setting
// switched off before the Maildirs turn classic again. A failure stops the workflow with the
// nodes still frozen and the journals kept; running it again continues where it stopped.
class MigrationWorkflow : public Workflow
{
    Q_OBJECT

public:
    enum class Direction
    {
        Migrate,
        Revert
    };

    struct Options
    {
        bool dryRun = false;
        // A stock Dovecot over a cur/-only Maildir brings the duplicate races back: refused
        // unless the admin says that node's Dovecot will be replaced before clients use it.
        bool allowStockDovecot = false;
        int preflightTimeoutMs = 60'000;
        int settleTimeoutMs = 180'000;
        int pollMs = 1000;
    };

    MigrationWorkflow(ClusterConfig cluster, Direction direction, Options options, MonitorOptions monitorOptions,
                      QObject *parent = nullptr);
    ~MigrationWorkflow() override;

    // The cluster with what this run learnt (Dovecot facts, the cur/-only setting).
    const ClusterConfig &cluster() const { return m_cluster; }

protected:
    void cancelRunningWork() override;
    void cleanUp() override;

private:
    void connectNodes();
    void probeNodes();
    void preflight();
    void plan();
    void freeze();
    void convert();
    void switchDovecot();
    void verify();
    void resume();
    void settle();

    // Runs `perNode(index, done)` on every node at once; the step's outcome is the first error,
    // or success once every node called done({}).
    using NodeTask = std::function<void(int index, std::function<void(const Status &)> done)>;
    void forEachNode(const NodeTask &perNode, std::function<void()> allDone, const QString &nextAction);
    remote::AgentCall *callAgent(int index, const QString &command, const QJsonObject &params);
    QJsonObject mailParams(int index, bool dryRun) const;
    void waitUntilInSync(int timeoutMs, std::function<void()> inSync, std::function<void(const QStringList &)> timedOut);
    QJsonObject &nodeDetails(int index) { return m_nodeDetails[std::size_t(index)]; }
    void publishDetails();
    QString resumeOrRevertAdvice() const;
    bool migrating() const { return m_direction == Direction::Migrate; }

    ClusterConfig m_cluster;
    Direction m_direction;
    Options m_options;
    MonitorOptions m_monitorOptions;
    ClusterSession *m_session = nullptr;
    QList<remote::AgentCall *> m_runningCalls;
    QTimer m_pollTimer;
    QElapsedTimer m_waiting;
    std::vector<QJsonObject> m_nodeDetails; // per node, in cluster order: report.details.nodes
    bool m_continuingFrozenRun = false;
};

} // namespace mm::cluster
