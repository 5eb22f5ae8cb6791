#pragma once

#include <QStringList>
#include <QTextStream>

namespace mm::ctl {

struct GlobalOptions
{
    QString clusterFile; // --cluster; empty: ClusterConfig::defaultPath()
    bool json = false;   // --json
};

// The cluster commands of mailmeshctl: init, add-node, prepare, pair, join, remove-node, migrate,
// revert, deploy-dovecot.
// Returns the exit code; -1 when `command` is none of them.
int runClusterCommand(const QString &command, const QStringList &arguments, const GlobalOptions &options,
                      QTextStream &out, QTextStream &err);

} // namespace mm::ctl
