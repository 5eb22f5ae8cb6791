#pragma once

#include "cluster/workflows/clusterworkflow.h"

namespace mm::cluster {

// `pair`: every node's Syncthing knows every other node (full mesh, explicit addresses, so
// discovery and relays may stay off), the mail root is shared as one folder with Mailmesh's
// options and ignores, and the workflow waits until every device is connected, every folder
// idle and every completion 100%:
//
//   validate → connect (every node's Syncthing) → identify (device ids) → share (peers added
//   paused, the folder shared paused, its ignores, resumed) → resume (the peers) → wait
//
// Every step is idempotent: adding a device or folder that is already there replaces it with
// the same content, so a rerun continues where one stopped. cluster() carries every node's
// device id; the report asks for it to be saved once the run succeeded.
class PairWorkflow : public ClusterWorkflow
{
    Q_OBJECT

public:
    PairWorkflow(ClusterConfig cluster, MonitorOptions options, QObject *parent = nullptr);
    ~PairWorkflow() override;

private:
    void validate();
    void identify();
    void share();
    void shareOn(int index, std::function<void(const Status &)> done);
    void resume();
    void wait();
};

} // namespace mm::cluster
