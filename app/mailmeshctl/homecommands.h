#pragma once

#include "cluster/monitor/clusterstate.h"

#include <QString>
#include <QTextStream>

namespace mm::ctl {

// `status --check --auto-failover SECONDS`, after the verdict: remembers since when each node is
// unreachable (FailoverClock, beside the cluster file) and fails over every node down for at
// least `seconds`, saying so on its own line. Never returns a node. Returns the exit code to use:
// `verdictCode`, or CRITICAL (2) when a failover was due and failed.
int autoFailover(const cluster::ClusterState &state, const QString &clusterFile, qint64 seconds,
                 int verdictCode, QTextStream &out);

} // namespace mm::ctl
