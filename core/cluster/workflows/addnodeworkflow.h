#pragma once

#include "cluster/config/clusterconfig.h"
#include "cluster/monitor/monitoroptions.h"
#include "cluster/workflows/workflow.h"

namespace mm::cluster {

class ClusterSession;

// `add-node`: settles the node's host key, deploys the agent and probes the node (OS, disk,
// inotify limits, Dovecot build and setting, Syncthing, the mail-root inventory and who owns
// the mail files), fills in what the admin left out, and refuses a node Mailmesh cannot
// replicate faithfully. The caller saves cluster() once it succeeded.
//
// Host keys: what is pinned is the key the node offered on this connect (the key ssh used).
// A key ssh already trusts (the admin's known_hosts) is pinned as it is; an unknown key is pinned
// only when the admin passed its fingerprint (acceptHostKey), after comparing it out of band; an
// acceptHostKey that is not the offered key is refused (both fingerprints), even when a
// known_hosts file trusts the node; a changed key is refused.
class AddNodeWorkflow : public Workflow
{
    Q_OBJECT

public:
    AddNodeWorkflow(ClusterConfig cluster, NodeConfig node, QString acceptHostKey, MonitorOptions options,
                    QObject *parent = nullptr);
    ~AddNodeWorkflow() override;

    // The cluster with the node added (or replaced, when its id was there already).
    const ClusterConfig &cluster() const { return m_cluster; }
    const NodeConfig &node() const { return m_node; }

protected:
    void cleanUp() override;

private:
    void validate();
    void connectNode();
    void probe();
    void check();

    ClusterConfig m_cluster;
    NodeConfig m_node;
    QString m_acceptHostKey;
    MonitorOptions m_options;
    ClusterSession *m_session = nullptr;
    QJsonObject m_probe;
};

} // namespace mm::cluster
