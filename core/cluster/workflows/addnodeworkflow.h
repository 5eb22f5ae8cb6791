#pragma once

#include "cluster/config/clusterconfig.h"
#include "cluster/monitor/monitoroptions.h"
#include "cluster/workflows/clusterworkflow.h"

namespace mm::cluster {

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
//
// Its one node is the node being added: validate puts it into cluster() (replacing an entry of
// that id) and selects it; connect judges the session itself, since the key ssh used decides
// what gets pinned.
class AddNodeWorkflow : public ClusterWorkflow
{
    Q_OBJECT

public:
    AddNodeWorkflow(ClusterConfig cluster, NodeConfig node, QString acceptHostKey, MonitorOptions options,
                    QObject *parent = nullptr);
    ~AddNodeWorkflow() override;

    // cluster(): the cluster with the node added (or replaced, when its id was there already).
    const NodeConfig &node() const { return m_node; }

private:
    void validate();
    void connectNode();
    std::optional<QString> pinHostKey();
    void refuseConnect(const Error &error);
    void probe();
    void check();

    NodeConfig m_node;
    QString m_acceptHostKey;
    QJsonObject m_probe;
};

} // namespace mm::cluster
