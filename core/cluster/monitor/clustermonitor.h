#pragma once

#include "cluster/monitor/canaryhistory.h"
#include "cluster/monitor/canaryreport.h"
#include "cluster/config/clusterconfig.h"
#include "cluster/monitor/clusterstate.h"
#include "cluster/monitor/monitoroptions.h"

#include <QObject>
#include <QTimer>

#include <vector>

namespace mm::cluster {

class CanaryRun;
class CrossNodeCheck;
class NodeMonitor;

// Keeps a live picture of the whole cluster: one NodeMonitor per node, merged into an
// immutable ClusterState whenever one of them changed (coalesced, so a burst of replies makes
// one snapshot). Never blocks; nodes may come and go.
class ClusterMonitor : public QObject
{
    Q_OBJECT

public:
    ClusterMonitor(ClusterConfig cluster, MonitorOptions options, QObject *parent = nullptr);
    ~ClusterMonitor() override;

    void start();
    void stop();

    ClusterSnapshot snapshot() const { return m_snapshot; }
    const ClusterConfig &cluster() const { return m_cluster; }
    // How it reaches the nodes; workflows started from the same window reach them the same way.
    const MonitorOptions &options() const { return m_options; }

    // Starts a replication canary run now (the schedule is MonitorOptions::canaryIntervalMs);
    // false while one runs. canaryFinished() follows, and a snapshot that carries it.
    bool runCanary();
    bool canaryRunning() const;

Q_SIGNALS:
    void snapshotChanged(const mm::cluster::ClusterSnapshot &snapshot);
    void canaryFinished(const mm::cluster::CanaryReport &report);

private:
    void rebuildSnapshot();
    void startCrossNodeCheck();

    ClusterConfig m_cluster;
    MonitorOptions m_options;
    std::vector<NodeMonitor *> m_nodes;
    QTimer m_coalesce;
    ClusterSnapshot m_snapshot;
    CrossNodeCheck *m_crossNodeCheck;
    QTimer m_crossNodeTimer;
    QStringList m_uidConflicts;
    QStringList m_keywordClashes;
    bool m_crossNodeChecked = false;
    CanaryRun *m_canaryRun = nullptr;
    QTimer m_canaryTimer;
    CanaryHistory m_canaryHistory;
    CanaryReport m_lastCanary;
    quint64 m_canarySequence = 0;
};

} // namespace mm::cluster
