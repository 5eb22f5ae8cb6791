#pragma once

#include "cluster/monitor/clusterstate.h"

namespace mm::cluster {

struct ClusterChange
{
    Health severity = Health::Ok;
    QString nodeId; // empty: the cluster as a whole
    QString message;

    friend bool operator==(const ClusterChange &, const ClusterChange &) = default;
};

// What an admin should hear about between two snapshots: nodes going down or coming back, a
// changed host key, duplicates or UID conflicts appearing, new classic folders. The event log
// and notifications both read this, so they always agree. previous may be null (first snapshot).
QList<ClusterChange> changesBetween(const ClusterState *previous, const ClusterState &current);

} // namespace mm::cluster
