#pragma once

#include "command.h"
#include "commandline.h"
#include "commandtable.h"

#include <QStringList>
#include <QTextStream>

class QObject;

namespace mm::ctl {

// Runs mailmeshctl's command line (the words after the program's name) through the table: the
// global options, the command's name, its words, `--help`, the cluster file, the command, and
// the cluster file written when the command's outcome asks for it. Returns the exit code
// (docs/architecture.md, "Exit codes").
int runCommandLine(const CommandTable &table, QStringList arguments, QTextStream &out,
                   QTextStream &err);

// Prints "mailmeshctl COMMAND: MESSAGE" and the command's usage; returns the bad-usage exit code.
int usageError(const CommandContext &context, const QString &message);
// For a WorkflowFactory: a value the command's spec could not check.
tl::unexpected<Error> badUsage(const QString &message);

QString clusterPath(const GlobalOptions &options);
// What every command gives its workflows: the agent to deploy and a network manager owned by owner.
cluster::MonitorOptions monitorOptions(QObject *owner);

} // namespace mm::ctl
