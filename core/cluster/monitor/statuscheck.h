#pragma once

#include "cluster/monitor/clusterstate.h"

#include <QJsonObject>
#include <QString>

namespace mm::cluster {

// Limits for `mailmeshctl status --check`; a negative limit is off.
struct StatusThresholds
{
    qint64 warnLagItems = 100;   // items a node still needs from a peer
    qint64 critLagItems = 1000;
    int warnConflicts = 1;       // Syncthing conflict copies in the mail folder
    int critConflicts = 10;
    int warnDuplicates = 1;      // duplicate groups
    int critDuplicates = -1;
    int warnUnreachable = -1;    // nodes that cannot be reached
    int critUnreachable = 1;
    // The replication canary's latest latency on any pair, in seconds. A probe that did not
    // arrive within the run's timeout is critical whatever these say.
    double warnCanarySeconds = 10;
    double critCanarySeconds = 60;
};

// The Nagios convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
struct StatusVerdict
{
    int code = 3;
    QString line; // "MAILMESH OK - ... | perfdata"
};

// Whether every node has answered everything once (or is known to be down): a one-shot
// status waits for this before judging.
bool isSettled(const ClusterState &state);

// One line for cron and monitoring systems. UID conflicts and changed host keys are always
// critical; a cluster that has not settled is UNKNOWN.
StatusVerdict checkStatus(const ClusterState &state, const StatusThresholds &thresholds, bool settled);

// The snapshot as `status --json` prints it.
QJsonObject stateToJson(const ClusterState &state);

} // namespace mm::cluster
