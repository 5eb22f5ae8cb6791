#pragma once

#include "cluster/clusterconfig.h"
#include "cluster/clusterstate.h"
#include "cluster/monitoroptions.h"

#include <QObject>
#include <QTimer>

#include <vector>

namespace mm::cluster {

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

Q_SIGNALS:
    void snapshotChanged(const mm::cluster::ClusterSnapshot &snapshot);

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
};

} // namespace mm::cluster
