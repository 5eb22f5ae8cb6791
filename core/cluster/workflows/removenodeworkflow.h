#pragma once

#include "cluster/workflows/clusterworkflow.h"
#include "cluster/session/meshview.h"

#include <optional>
#include <vector>

namespace mm::cluster {

// `remove-node ID`: takes a node out of the mesh and the cluster file, and leaves its mail
// where it is:
//
//   validate → connect (the other nodes) → reach (the node, if it answers) → inspect → plan
//   [a dry run stops here] → detach (on the node: folder paused, peers removed) → unshare
//   (on every other node: folder unshared from it, its device removed)
//
// A dead node cannot be reached: then only the other nodes change, and the report says so
// (details.nodeReachable false). The node's Syncthing keeps its own configuration then; a node
// that comes back finds no peer that accepts it. cluster() is the cluster without the node, to
// be saved once the workflow succeeded. Every step is idempotent.
class RemoveNodeWorkflow : public ClusterWorkflow
{
    Q_OBJECT

public:
    struct Options
    {
        bool dryRun = false;
        int reachTimeoutMs = 30'000; // how long the node gets to answer before it counts as dead
    };

    RemoveNodeWorkflow(ClusterConfig cluster, QString nodeId, Options options, MonitorOptions monitorOptions,
                       QObject *parent = nullptr);
    ~RemoveNodeWorkflow() override;

protected:
    void cancelRunningWork() override;
    void cleanUp() override;

private:
    void validate();
    void reachNode();
    void inspect();
    void plan();
    void detach();
    void unshare();

    QStringList removedDeviceIds() const;

    QString m_nodeId;
    Options m_options;
    std::optional<NodeConfig> m_removed;
    ClusterSession *m_removedSession = nullptr;
    QTimer m_reachTimer;
    bool m_reachable = false;
    MeshView m_removedView;
    std::vector<MeshView> m_peerViews;
};

} // namespace mm::cluster
