#pragma once

#include "clustercommands.h"

namespace mm::ctl {

// mailmeshctl dupes | dedupe [--group ID]... [--dry-run] | quarantine list|restore|purge
int dupesCommand(const QStringList &arguments, const GlobalOptions &options, QTextStream &out, QTextStream &err);
int dedupeCommand(const QStringList &arguments, const GlobalOptions &options, QTextStream &out, QTextStream &err);
int quarantineCommand(const QStringList &arguments, const GlobalOptions &options, QTextStream &out, QTextStream &err);

} // namespace mm::ctl
