#pragma once

// One mailmeshctl command as the command table holds it: its name, a summary, the words and
// options it takes, and its handler. The usage, `COMMAND --help` and the parser are all made
// from this spec (commandtable.h, commandline.h); commandsupport.h runs it.

#include "cluster/config/clusterconfig.h"
#include "cluster/monitor/monitoroptions.h"
#include "common/result.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <QTextStream>

#include <functional>
#include <optional>

class QObject;

namespace mm::cluster {
class Workflow;
struct WorkflowReport;
} // namespace mm::cluster

namespace mm::ctl {

class CommandLine;
struct Command;

// The options every command takes, before or after its name.
struct GlobalOptions
{
    QString clusterFile; // --cluster; empty: ClusterConfig::defaultPath()
    bool json = false;   // --json
};

// Every member of the spec structs has a default (even `{}`): a table entry names only what it
// sets with designated initializers, and g++ warns about a member left out that has none.

// A positional word, e.g. ID of `join ID`.
struct CommandArgument
{
    QString name{};        // as the usage shows it: "ID"
    bool optional = false; // only trailing arguments may be optional
    bool repeated = false; // the last argument may collect the rest
};

// An option, e.g. `--state-dir DIR`.
struct CommandOption
{
    QString name{};        // without the dashes: "state-dir"
    QString valueName{};   // "DIR"; empty for a flag, which takes no value
    QString help{};        // one line for `COMMAND --help`
    bool repeated = false; // may come again; CommandLine::values() collects every value
    bool required = false;
    // Options that share a group are alternatives: exactly one of them must be given.
    QString alternatives{};
};

// How a command uses the cluster file.
enum class ClusterFile
{
    Loaded, // read before the handler runs; a file that cannot be read ends the command
    Named,  // the handler reads or writes the file at --cluster itself (init, status)
    Unused  // sandbox, lab
};

// A workflow a command created, and how to read the cluster it leaves behind.
struct StartedWorkflow
{
    cluster::Workflow *workflow = nullptr;
    std::function<cluster::ClusterConfig()> cluster; // empty: it has no cluster of its own
};

// Wraps a new workflow; its cluster() is read when the report asks for the file to be saved.
template <typename W> StartedWorkflow startedWorkflow(W *workflow)
{
    if constexpr (requires { workflow->cluster(); })
        return {workflow, [workflow] { return workflow->cluster(); }};
    else
        return {workflow, {}};
}

// How a command ended: its exit code and, when the cluster file must change, the new cluster.
struct CommandOutcome
{
    // Most commands end with an exit code alone: `return protocol::kExitFailed;`.
    CommandOutcome(int code = 0)
        : exitCode(code)
    {
    }

    int exitCode;
    std::optional<cluster::ClusterConfig> clusterToSave;
    std::function<void()>
        afterSave; // what to print once the file is written; skipped when saving failed
};

// What a handler gets.
struct CommandContext
{
    const Command &command;
    const CommandLine &line;
    const GlobalOptions &options;
    const cluster::ClusterConfig *cluster; // the loaded file with ClusterFile::Loaded, else null
    QTextStream &out;
    QTextStream &err;
};

// Creates the command's workflow over the loaded cluster, as a child of owner. An error is a
// value the spec could not check (a port out of range): bad usage, exit 2.
using WorkflowFactory = std::function<Result<StartedWorkflow>(
    const CommandLine &line, const cluster::ClusterConfig &cluster,
    const cluster::MonitorOptions &monitor, QObject *owner)>;
// Prints what the report's details hold for people, after the report; never with --json.
using ReportPrinter =
    std::function<void(const cluster::WorkflowReport &report, const CommandLine &line,
                       QTextStream &out, QTextStream &err)>;
// A command that runs no workflow (status, sandbox, lab) or runs one its own way (pair).
using CommandRunner = std::function<CommandOutcome(const CommandContext &context)>;

struct Command
{
    QString name{}; // "remove-node"; a subcommand's name has its group first: "quarantine restore"
    QString summary{}; // one line for the usage
    QList<CommandArgument> arguments{};
    QList<CommandOption> options{};
    ClusterFile clusterFile = ClusterFile::Loaded;
    // The handler: a workflow (and what to print after its report), or a runner of its own.
    WorkflowFactory workflow{};
    ReportPrinter printReport{};
    CommandRunner run{};
    // Optional: the exit code of bad usage when it is not 2. `status --check` answers by the
    // Nagios convention, where 3 is UNKNOWN.
    std::function<int(const QStringList &words)> badUsageExitCode{};
};

} // namespace mm::ctl
