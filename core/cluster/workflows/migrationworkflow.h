#pragma once

#include "cluster/config/clusterconfig.h"
#include "cluster/monitor/monitoroptions.h"
#include "cluster/workflows/clusterworkflow.h"

#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonObject>
#include <QList>
#include <QTimer>

#include <functional>
#include <memory>
#include <vector>

namespace mm::remote {
class AgentCall;
} // namespace mm::remote

namespace mm::cluster {

class ClusterSession;

// The one-click migration (`migrate`) and its undo (`revert`), across every node at once:
//
//   connect → probe → preflight → plan  [a dry run stops here: nothing paused, held or written]
//   → freeze → convert → keywords → switch → verify → resume → settle
//
// Every node is converted while replication is paused everywhere, so no node ever receives a
// half-converted tree: conversion is deterministic, and the converted trees are identical on
// every node before Syncthing sees them. The cur/-only setting is switched on between convert
// and resume (docs/maildir-dovecot-syncthing.md, "Pitfall 4"); revert runs the same way with the
// setting switched off. `keywords` settles the state beside the messages
// (docs/mailbox-state.md): on the way in, one keyword table per folder for every node and
// keyword letters of its own for each node; on the way back, every node's keyword and
// subscription files folded into the single files stock Dovecot reads. A failure stops the
// workflow with the nodes still frozen and the journals kept; running it again continues where
// it stopped.
class MigrationWorkflow : public ClusterWorkflow
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

private:
    void probeNodes();
    void preflight();
    void plan();
    void freeze();
    void convert();
    void settleKeywords();
    void applySettlements(std::shared_ptr<const QJsonArray> settlements, std::shared_ptr<QStringList> notes);
    void foldSharedState();
    void switchDovecot();
    void verify();
    void resume();
    void settle();
    void waitForReplicas();

    QString resumeOrRevertAdvice() const;
    bool migrating() const { return m_direction == Direction::Migrate; }

    Direction m_direction;
    Options m_options;
    bool m_continuingFrozenRun = false;
};

} // namespace mm::cluster
