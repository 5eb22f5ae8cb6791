// Home nodes: `homes show|set|clear|deploy` and `failover`. Each user gets a home node that every
// node's Dovecot proxies its IMAP logins to (core/cluster/workflows/homesworkflow.h, docs/home-nodes.md).

#include "homecommands.h"

#include "commandsupport.h"

#include "cluster/session/agentlocator.h"
#include "cluster/config/failoverclock.h"
#include "cluster/workflows/homesworkflow.h"
#include "cluster/pluralforms.h"
#include "protocol/exitcodes.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>

using namespace Qt::StringLiterals;

namespace mm::ctl {

namespace {

using cluster::HomesWorkflow;

WorkflowFactory homesWorkflow(HomesWorkflow::Mode mode)
{
    return
        [mode](const CommandLine &line, const cluster::ClusterConfig &config,
               const cluster::MonitorOptions &monitor, QObject *owner) -> Result<StartedWorkflow> {
            HomesWorkflow::Options options;
            options.mode = mode;
            options.dryRun = line.isSet(u"dry-run"_s);
            if (mode == HomesWorkflow::Mode::Failover) {
                options.node = line.positional(0);
                if (line.isSet(u"return"_s))
                    options.mode = HomesWorkflow::Mode::Return;
                if (!config.node(options.node))
                    return badUsage(u"there is no node \"%1\" in the cluster"_s.arg(options.node));
            }
            return startedWorkflow(new HomesWorkflow(config, options, monitor, owner));
        };
}

// USER  HOME  WHY, then how many users each node is home to.
void printHomes(const cluster::WorkflowReport &report, const CommandLine &, QTextStream &out,
                QTextStream &)
{
    const QJsonArray homes = report.details.value(u"homes"_s).toArray();
    if (homes.isEmpty() && !report.details.contains(u"homes"_s))
        return;
    qsizetype width = 4;
    for (const QJsonValue &value : homes)
        width = std::max(width, value.toObject().value(u"user"_s).toString().size());
    out << '\n' << u"%1  %2 %3\n"_s.arg(u"USER"_s, -int(width)).arg(u"HOME"_s, -10).arg(u"WHY"_s);
    for (const QJsonValue &value : homes) {
        const QJsonObject home = value.toObject();
        QString why = home.value(u"reason"_s).toString();
        if (why == u"failover"_s)
            why += u" (from %1)"_s.arg(home.value(u"preferred"_s).toString());
        if (home.contains(u"movedFrom"_s))
            why += u", moves from %1"_s.arg(home.value(u"movedFrom"_s).toString());
        out << u"%1  %2 %3\n"_s.arg(home.value(u"user"_s).toString(), -int(width))
                   .arg(home.value(u"node"_s).toString().isEmpty()
                            ? u"-"_s
                            : home.value(u"node"_s).toString(),
                        -10)
                   .arg(why);
    }
    for (const QJsonValue &note : report.details.value(u"notes"_s).toArray())
        out << "Note: " << note.toString() << '\n';
    if (report.dryRun && report.workflow == u"homes"_s && report.succeeded)
        out << "Nothing was changed on the nodes; `mailmeshctl homes deploy` writes this table.\n";
}

CommandOutcome setHome(const CommandContext &context, bool clear)
{
    const QString user = context.line.positional(0);
    cluster::ClusterConfig config = *context.cluster;
    if (!cluster::homenodes::isUsableUserName(user))
        return {
            usageError(context, u"\"%1\" is not a user name a passwd-file can hold"_s.arg(user))};
    QString message;
    if (clear) {
        if (!config.homes.overrides.remove(user)) {
            context.out << user << " has no override; its home comes from the hash\n";
            return {};
        }
        message = u"%1: override removed; its home comes from the hash again."_s.arg(user);
    } else {
        const QString node = context.line.positional(1);
        if (!config.node(node))
            return {usageError(context, u"there is no node \"%1\" in the cluster"_s.arg(node))};
        config.homes.overrides.insert(user, node);
        message = u"%1: home is %2."_s.arg(user, node);
        if (config.homes.drained.contains(node))
            message +=
                u" %1 is drained: the user stays on a failover node until `mailmeshctl failover --return %1`."_s
                    .arg(node);
    }
    CommandOutcome outcome;
    outcome.clusterToSave = config;
    outcome.afterSave = [&out = context.out, json = context.options.json, message, config] {
        if (json)
            out << QJsonDocument(
                       QJsonObject{{u"type"_s, u"homes"_s}, {u"homes"_s, config.homes.toJson()}})
                       .toJson(QJsonDocument::Compact)
                << '\n';
        else
            out << message << "\nRun `mailmeshctl homes deploy` to apply it on the nodes.\n";
    };
    return outcome;
}

constexpr int kNagiosCritical = 2;

// One failover, run to its end in this thread's event loop; the cluster file keeps the drain.
QString failOver(const QString &clusterFile, const QString &node, bool &ok)
{
    ok = false;
    Result<cluster::ClusterConfig> config = cluster::ClusterConfig::load(clusterFile);
    if (!config)
        return QString::fromStdString(config.error().describe());
    QNetworkAccessManager network;
    cluster::MonitorOptions monitor;
    monitor.agentBinary = cluster::locateAgentBinary();
    monitor.network = &network;
    HomesWorkflow::Options options;
    options.mode = HomesWorkflow::Mode::Failover;
    options.node = node;
    HomesWorkflow workflow(*config, options, monitor);
    QObject::connect(&workflow, &cluster::Workflow::finished, &workflow,
                     [] { QCoreApplication::exit(0); });
    workflow.start();
    if (!workflow.isFinished())
        QCoreApplication::exec();
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    const cluster::WorkflowReport &report = workflow.report();
    if (!report.succeeded)
        return QString::fromStdString(report.error ? report.error->describe()
                                                   : std::string("failed"));
    if (report.saveCluster)
        if (const Status saved = workflow.cluster().save(clusterFile); !saved)
            return QString::fromStdString(saved.error().describe());
    ok = true;
    QStringList targets;
    const QJsonObject perNode = report.details.value(u"usersPerNode"_s).toObject();
    for (auto it = perNode.begin(); it != perNode.end(); ++it)
        if (it.key() != node)
            targets << it.key();
    return u"%1 moved to %2"_s.arg(
        cluster::counted(report.details.value(u"moved"_s).toInt(), "user", "users"),
        targets.join(u", "_s));
}

} // namespace

int autoFailover(const cluster::ClusterState &state, const QString &clusterFile, qint64 seconds,
                 int verdictCode, QTextStream &out)
{
    const QString clockFile = cluster::FailoverClock::stateFileFor(clusterFile);
    Result<cluster::FailoverClock> clock = cluster::FailoverClock::load(clockFile);
    if (!clock) {
        out << "MAILMESH FAILOVER - not judged: "
            << QString::fromStdString(clock.error().describe()) << '\n';
        return std::max(verdictCode, kNagiosCritical);
    }
    Result<cluster::ClusterConfig> config = cluster::ClusterConfig::load(clusterFile);
    if (!config)
        return verdictCode; // the verdict said so already
    QStringList order, reachable, unreachable;
    for (const cluster::NodeState &node : state.nodes) {
        order << node.id;
        if (node.reachability == cluster::Reachability::Reachable)
            reachable << node.id;
        else if (node.reachability == cluster::Reachability::Unreachable)
            unreachable << node.id;
    }
    const QDateTime now = QDateTime::currentDateTimeUtc();
    clock->observe(reachable, unreachable, now);
    if (const Status saved = clock->save(clockFile); !saved)
        out << "MAILMESH FAILOVER - cannot remember when nodes went down: "
            << QString::fromStdString(saved.error().describe()) << '\n';
    int code = verdictCode;
    for (const QString &node : clock->due(order, reachable, config->homes.drained, seconds, now)) {
        const QDateTime since = clock->downSince(node);
        bool ok = false;
        const QString outcome = failOver(clusterFile, node, ok);
        out << "MAILMESH FAILOVER - " << node << " unreachable since "
            << since.toString(Qt::ISODate) << " (" << since.secsTo(now)
            << " s): " << (ok ? outcome : u"failover failed: "_s + outcome) << '\n';
        if (!ok)
            code = std::max(code, kNagiosCritical);
    }
    for (const QString &node : std::as_const(config->homes.drained))
        if (reachable.contains(node))
            out << "MAILMESH FAILOVER - " << node
                << " answers again but stays drained; `mailmeshctl failover --return " << node
                << "` moves its users back\n";
    return code;
}

QList<Command> homeCommands()
{
    const CommandOption dryRun{.name = u"dry-run"_s,
                               .help = u"show the table and what would move; change nothing"_s};
    return {
        {.name = u"homes show"_s,
         .summary = u"every mail user's home node and why (hash, override, failover)"_s,
         .workflow = homesWorkflow(HomesWorkflow::Mode::Show),
         .printReport = printHomes},
        {.name = u"homes set"_s,
         .summary = u"make NODE the home of USER (kept in the cluster file; deploy applies it)"_s,
         .arguments = {{.name = u"USER"_s}, {.name = u"NODE"_s}},
         .run = [](const CommandContext &context) { return setHome(context, false); }},
        {.name = u"homes clear"_s,
         .summary = u"remove the override of USER: its home comes from the hash again"_s,
         .arguments = {{.name = u"USER"_s}},
         .run = [](const CommandContext &context) { return setHome(context, true); }},
        {.name = u"homes deploy"_s,
         .summary =
             u"write the home table on every node and reload Dovecot: logins go to each user's home"_s,
         .options = {dryRun},
         .workflow = homesWorkflow(HomesWorkflow::Mode::Deploy),
         .printReport = printHomes},
        {.name = u"failover"_s,
         .summary =
             u"move the users of NODE to the other nodes (--return: back to NODE); deploys the table"_s,
         .arguments = {{.name = u"NODE"_s}},
         .options = {dryRun,
                     {.name = u"return"_s,
                      .help = u"NODE serves its users again: they move back to it"_s}},
         .workflow = homesWorkflow(HomesWorkflow::Mode::Failover),
         .printReport = printHomes},
    };
}

} // namespace mm::ctl
