#include "commandsupport.h"

#include "workflowprinter.h"

#include "cluster/session/agentlocator.h"
#include "protocol/exitcodes.h"

#include <QCoreApplication>
#include <QNetworkAccessManager>
#include <QTimer>

#include <atomic>
#include <csignal>
#include <optional>

namespace mm::ctl {

namespace {

std::atomic<bool> g_interrupted{false};

void onInterrupt(int)
{
    g_interrupted = true;
}

int printVersion(QTextStream &out)
{
    out << "mailmeshctl " << QCoreApplication::applicationVersion() << '\n';
    return protocol::kExitOk;
}

int usageError(const Command &command, const QStringList &words, const QString &message,
               QTextStream &err)
{
    err << "mailmeshctl " << command.name << ": " << message << '\n'
        << CommandTable::commandUsage(command);
    return command.badUsageExitCode ? command.badUsageExitCode(words) : protocol::kExitUsage;
}

// The cluster file, or nothing with the error printed and exitCode set.
std::optional<cluster::ClusterConfig> loadCluster(const GlobalOptions &options, QTextStream &err,
                                                  int &exitCode)
{
    Result<cluster::ClusterConfig> loaded = cluster::ClusterConfig::load(clusterPath(options));
    if (!loaded) {
        err << "mailmeshctl: " << QString::fromStdString(loaded.error().describe()) << '\n';
        if (loaded.error().code == ErrorCode::NotFound)
            err << "Create it with `mailmeshctl init NAME` (or point --cluster at an existing "
                   "file).\n";
        exitCode = protocol::exitCodeFor(loaded.error().code);
        return std::nullopt;
    }
    return *loaded;
}

// Runs a workflow to its end in this thread's event loop, printing it; Ctrl-C cancels it.
// Returns the exit code of its report.
int runWorkflow(cluster::Workflow *workflow, const GlobalOptions &options, QTextStream &out,
                QTextStream &err)
{
    WorkflowPrinter printer(workflow, options.json, out, err);
    int exitCode = protocol::kExitFailed;
    QObject::connect(workflow, &cluster::Workflow::finished, workflow,
                     [&](const cluster::WorkflowReport &report) {
                         exitCode = printer.printReport(report);
                         QCoreApplication::exit(0);
                     });
    g_interrupted = false;
    auto previous = std::signal(SIGINT, onInterrupt);
    QTimer interruptPoll;
    QObject::connect(&interruptPoll, &QTimer::timeout, workflow, [workflow] {
        if (g_interrupted.exchange(false))
            workflow->cancel();
    });
    interruptPoll.start(100);
    workflow->start();
    QCoreApplication::exec();
    std::signal(SIGINT, previous);
    // The workflow closed its ssh sessions with deleteLater(): let them end their processes.
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    return exitCode;
}

// The preamble of every workflow command: the workflow made over the loaded cluster, run and
// printed; its cluster kept when the report says the file must keep it and it differs.
CommandOutcome runWorkflowCommand(const CommandContext &context)
{
    // Compared with what the workflow leaves behind. Its own list of nodes: ClusterConfig::node()
    // edits a node in place without detaching the list, so a workflow's change through it also
    // reaches every copy that still shares the list, context.cluster among them.
    cluster::ClusterConfig asLoaded = *context.cluster;
    asLoaded.nodes.detach();
    QObject owner;
    Result<StartedWorkflow> started =
        context.command.workflow(context.line, *context.cluster, monitorOptions(&owner), &owner);
    if (!started)
        return {usageError(context, QString::fromStdString(started.error().message))};
    CommandOutcome outcome{
        runWorkflow(started->workflow, context.options, context.out, context.err)};
    const cluster::WorkflowReport &report = started->workflow->report();
    if (context.command.printReport && !context.options.json)
        context.command.printReport(report, context.line, context.out, context.err);
    if (report.saveCluster && started->cluster)
        if (cluster::ClusterConfig changed = started->cluster(); changed != asLoaded)
            outcome.clusterToSave = std::move(changed);
    return outcome;
}

// The one place that writes the cluster file. A failed write decides the exit code only when
// the command itself succeeded; what the command prints after a write is then left out.
int finishCommand(const CommandOutcome &outcome, const GlobalOptions &options, QTextStream &err)
{
    if (outcome.clusterToSave) {
        if (Status saved = outcome.clusterToSave->save(clusterPath(options)); !saved) {
            err << "mailmeshctl: cannot save the cluster file: "
                << QString::fromStdString(saved.error().describe()) << '\n';
            return outcome.exitCode == protocol::kExitOk ? protocol::exitCodeFor(saved.error().code)
                                                         : outcome.exitCode;
        }
    }
    if (outcome.afterSave)
        outcome.afterSave();
    return outcome.exitCode;
}

int runCommand(const Command &command, const QStringList &words, GlobalOptions options,
               QTextStream &out, QTextStream &err)
{
    const CommandLine line(command, words, options);
    if (line.helpRequested()) {
        out << CommandTable::commandUsage(command);
        return protocol::kExitOk;
    }
    if (line.versionRequested())
        return printVersion(out);
    if (!line.error().isEmpty())
        return usageError(command, words, line.error(), err);
    std::optional<cluster::ClusterConfig> cluster;
    if (command.clusterFile == ClusterFile::Loaded) {
        int exitCode = protocol::kExitOk;
        cluster = loadCluster(options, err, exitCode);
        if (!cluster)
            return exitCode;
    }
    const CommandContext context{command, line, options, cluster ? &*cluster : nullptr, out, err};
    return finishCommand(command.workflow ? runWorkflowCommand(context) : command.run(context),
                         options, err);
}

} // namespace

int runCommandLine(const CommandTable &table, QStringList arguments, QTextStream &out,
                   QTextStream &err)
{
    GlobalOptions options;
    bool help = false;
    while (!arguments.isEmpty() && arguments.first().startsWith(QLatin1String("--"))) {
        const QString option = arguments.takeFirst();
        if (option == QLatin1String("--version"))
            return printVersion(out);
        if (option == QLatin1String("--help"))
            help = true;
        else if (option == QLatin1String("--json"))
            options.json = true;
        else if (option == QLatin1String("--cluster") && !arguments.isEmpty())
            options.clusterFile = arguments.takeFirst();
        else if (option.startsWith(QLatin1String("--cluster=")))
            options.clusterFile = option.mid(10);
        else {
            err << "mailmeshctl: unknown option " << option << '\n' << table.usage();
            return protocol::kExitUsage;
        }
    }
    if (arguments.isEmpty()) {
        (help ? out : err) << table.usage();
        return help ? protocol::kExitOk : protocol::kExitUsage;
    }
    QString name = arguments.takeFirst();
    if (table.isGroup(name)) {
        const QString subcommand = arguments.value(0);
        if (table.find(name + u' ' + subcommand)) {
            name += u' ' + arguments.takeFirst();
        } else if (help || subcommand == QLatin1String("--help")) {
            out << table.groupUsage(name);
            return protocol::kExitOk;
        } else {
            err << "mailmeshctl " << name << ": "
                << (subcommand.isEmpty() ? QStringLiteral("needs a subcommand")
                                         : QStringLiteral("unknown subcommand ") + subcommand)
                << '\n'
                << table.groupUsage(name);
            return protocol::kExitUsage;
        }
    }
    const Command *command = table.find(name);
    if (!command) {
        err << "mailmeshctl: unknown command " << name << '\n' << table.usage();
        return protocol::kExitUsage;
    }
    if (help) {
        out << CommandTable::commandUsage(*command);
        return protocol::kExitOk;
    }
    return runCommand(*command, arguments, options, out, err);
}

int usageError(const CommandContext &context, const QString &message)
{
    return usageError(context.command, context.line.words(), message, context.err);
}

tl::unexpected<Error> badUsage(const QString &message)
{
    return fail(ErrorCode::BadRequest, message.toStdString());
}

QString clusterPath(const GlobalOptions &options)
{
    return options.clusterFile.isEmpty() ? cluster::ClusterConfig::defaultPath()
                                         : options.clusterFile;
}

cluster::MonitorOptions monitorOptions(QObject *owner)
{
    cluster::MonitorOptions options;
    options.agentBinary = cluster::locateAgentBinary();
    options.network = new QNetworkAccessManager(owner);
    return options;
}

} // namespace mm::ctl
