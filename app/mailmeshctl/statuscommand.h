#pragma once

#include "clustercommands.h"

namespace mm::ctl {

// `mailmeshctl status [--json] [--watch] [--check] [--timeout S] [thresholds]`: the cluster as
// the monitor sees it. One-shot waits until every node answered (or --timeout); --watch prints
// every change until interrupted; --check prints one line and exits by the Nagios convention.
int statusCommand(const QStringList &arguments, const GlobalOptions &options, QTextStream &out, QTextStream &err);

} // namespace mm::ctl
