#pragma once

#include "clustercommands.h"

#include "cluster/clusterconfig.h"
#include "cluster/monitoroptions.h"

#include <QHash>
#include <QStringList>
#include <QTextStream>

#include <optional>

class QObject;

namespace mm::cluster {
class Workflow;
} // namespace mm::cluster

namespace mm::ctl {

// Options of one command: flags, options with a value, repeatable options, positionals.
class CommandLine
{
public:
    CommandLine(const QStringList &arguments, QStringList flags, QStringList valued, QStringList repeatable);

    const QString &error() const { return m_error; }
    bool isSet(const QString &name) const { return m_set.contains(name); }
    QString value(const QString &name) const { return m_set.value(name); }
    QStringList values(const QString &name) const { return m_lists.value(name); }
    const QStringList &positionals() const { return m_positionals; }

private:
    QStringList m_flags, m_valued, m_repeatable, m_positionals;
    QHash<QString, QString> m_set;
    QHash<QString, QStringList> m_lists;
    QString m_error;
};

// Prints "mailmeshctl: MESSAGE" and the usage; returns the bad-usage exit code.
int usageError(QTextStream &err, const QString &message, const QString &usage);
QString clusterPath(const GlobalOptions &options);
// The cluster file, or nothing with the error printed and exitCode set.
std::optional<cluster::ClusterConfig> loadCluster(const GlobalOptions &options, QTextStream &err, int &exitCode);
int saveCluster(const cluster::ClusterConfig &config, const GlobalOptions &options, QTextStream &err);
// What every command gives its workflows: the agent to deploy and a network manager owned by owner.
cluster::MonitorOptions monitorOptions(QObject *owner);
// Runs a workflow to its end in this thread's event loop, printing it; Ctrl-C cancels it.
// Returns the exit code of its report.
int runWorkflow(cluster::Workflow *workflow, const GlobalOptions &options, QTextStream &out, QTextStream &err);

} // namespace mm::ctl
