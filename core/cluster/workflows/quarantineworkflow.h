#pragma once

#include "cluster/workflows/clusterworkflow.h"

#include <QStringList>

namespace mm::cluster {

// `quarantine list|restore|purge` across the cluster. Each node keeps its own quarantine (a
// dedupe settles a group on one node, so its removed files are there): list shows every node's;
// restore puts files back on the node that holds them, and Syncthing carries them to the
// others; purge deletes entries older than N days on every node (the one command that deletes
// mail, journaled by the agent).
class QuarantineWorkflow : public ClusterWorkflow
{
    Q_OBJECT

public:
    enum class Action
    {
        List,
        Restore,
        Purge
    };

    struct Options
    {
        Action action = Action::List;
        QString node;     // Restore: the node holding the files
        QStringList ids;  // Restore: these entries; empty with `all`
        bool all = false; // Restore: everything, newest first
        int olderThanDays = -1; // Purge: required
        bool dryRun = false;
    };

    QuarantineWorkflow(ClusterConfig cluster, Options options, MonitorOptions monitorOptions, QObject *parent = nullptr);
    ~QuarantineWorkflow() override;

private:
    void run();

    Options m_options;
};

} // namespace mm::cluster
