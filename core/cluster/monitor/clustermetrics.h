#pragma once

#include "cluster/monitor/clusterstate.h"

#include <QString>

namespace mm::cluster {

// `mailmeshctl status --prometheus`: the snapshot in Prometheus's text format, for
// node_exporter's textfile collector (docs/monitoring.md, "Prometheus metrics"). Every name
// starts with mailmesh_, durations are in seconds, ratios in 0..1; per-node series carry the
// label `node`, per-link series `node` and `peer` (for the canary: node = origin, peer =
// observer). A value the snapshot does not know (a quarantine never listed, a pair never
// measured) is left out rather than written as 0.
QString clusterMetrics(const ClusterState &state, bool settled);

} // namespace mm::cluster
