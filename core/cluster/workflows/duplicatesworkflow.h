#pragma once

#include "cluster/workflows/clusterworkflow.h"

#include <QJsonArray>
#include <QMap>
#include <QStringList>

namespace mm::cluster {

// Duplicates across the cluster: `dupes` reports every node's duplicate groups side by side,
// with the cross-node diff of their manifests (missing messages, flag disagreements, keyword
// clashes, UID conflicts); `dedupe` settles groups.
//
// A resolution is applied on ONE node and replicated by Syncthing, not on every node at once.
// Applied everywhere at once, the same rename and the same removal would race with their own
// replicas arriving from the other nodes (a file renamed here while the peer's rename of it is
// being pulled), which is how Syncthing conflict copies, and so new duplicates, are made. On one
// node there is one journal and one quarantine holding the removed bytes, so one `restore` puts
// everything back and that replicates too. Only groups found identically on every node (same
// id: same member paths) are settled, and only when the cluster is in sync: a group present on
// some nodes only is still replicating, and settling it would fight the replication.
class DuplicatesWorkflow : public ClusterWorkflow
{
    Q_OBJECT

public:
    enum class Mode
    {
        Report,
        Resolve
    };

    struct Options
    {
        Mode mode = Mode::Report;
        QStringList groups; // Resolve: these ids only; empty: every settleable group
        bool dryRun = false;
        int syncTimeoutMs = 180'000;
        int pollMs = 1000;
    };

    DuplicatesWorkflow(ClusterConfig cluster, Options options, MonitorOptions monitorOptions,
                       QObject *parent = nullptr);
    ~DuplicatesWorkflow() override;

private:
    struct Group
    {
        QJsonObject group; // as the agent reported it on the first node that has it
        QStringList presentOn;
    };

    void preflight();
    void findDuplicates();
    void compareManifests();
    void chooseGroups();
    void resolve();
    void settle();
    void waitForReplicas();
    void verify();
    QJsonArray groupsJson() const;

    Options m_options;
    QMap<QString, Group> m_groups; // by id
    QStringList m_chosen;
};

} // namespace mm::cluster
