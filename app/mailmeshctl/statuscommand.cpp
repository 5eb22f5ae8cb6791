// `status`: the cluster as the monitor sees it. One-shot waits until every node answered (or
// --timeout); --watch prints every change until interrupted; --check prints one line and exits by
// the Nagios convention.

#include "commandsupport.h"

#include "cluster/agentlocator.h"
#include "cluster/clustermonitor.h"
#include "cluster/pluralforms.h"
#include "cluster/statuscheck.h"
#include "protocol/exitcodes.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QTimer>

#include <atomic>
#include <csignal>

using namespace Qt::StringLiterals;

namespace mm::ctl {

namespace {

std::atomic<bool> g_stop{false};

void onStopSignal(int)
{
    g_stop = true;
}

constexpr int kNagiosCritical = 2;
constexpr int kNagiosUnknown = 3;

QString percent(double value)
{
    return QString::number(value, 'f', value >= 100 ? 0 : 1) + u'%';
}

void printTable(const cluster::ClusterState &state, const QString &name, QTextStream &out)
{
    const cluster::ClusterState::Summary summary = state.summary();
    out << "Cluster \"" << name << "\": " << summary.ok << " ok, " << cluster::counted(summary.warnings, "warning", "warnings")
        << ", " << cluster::counted(summary.errors, "error", "errors") << "\n\n";
    out << QStringLiteral("%1 %2 %3 %4 %5\n")
               .arg(QStringLiteral("NODE"), -10)
               .arg(QStringLiteral("HEALTH"), -8)
               .arg(QStringLiteral("DOVECOT"), -46)
               .arg(QStringLiteral("SYNCTHING"), -13)
               .arg(QStringLiteral("PROBLEMS"));
    const QJsonObject json = cluster::stateToJson(state);
    for (const QJsonValue &value : json.value(QStringLiteral("nodes")).toArray()) {
        const QJsonObject node = value.toObject();
        QString dovecot = node.value(QStringLiteral("dovecotVersion")).toString();
        if (node.value(QStringLiteral("dovecotCurOnlyBuild")).toBool())
            dovecot += node.value(QStringLiteral("dovecotCurOnlyEnabled")).toBool() ? QStringLiteral(" cur-only on")
                                                                                     : QStringLiteral(" cur-only off");
        QStringList problems;
        for (const QJsonValue &problem : node.value(QStringLiteral("problems")).toArray())
            problems << problem.toString();
        out << QStringLiteral("%1 %2 %3 %4 %5\n")
                   .arg(node.value(QStringLiteral("id")).toString(), -10)
                   .arg(node.value(QStringLiteral("health")).toString(), -8)
                   .arg(dovecot.isEmpty() ? QStringLiteral("-") : dovecot, -46)
                   .arg(node.value(QStringLiteral("syncthingVersion")).toString(), -13)
                   .arg(problems.join(QStringLiteral("; ")));
    }
    out << '\n';
    for (const cluster::PeerSync &peer : state.peers)
        out << "  " << peer.nodeId << " sees " << peer.peerId << ": "
            << (peer.connected ? percent(peer.completion) : QStringLiteral("not connected"))
            << (peer.needItems > 0 ? QStringLiteral(", %1 to go").arg(cluster::counted(peer.needItems, "item", "items"))
                                : QString()) << '\n';
    int disagreeing = 0;
    const QStringList ids = state.nodeIds();
    for (const cluster::MailboxCounts &mailbox : state.mailboxes)
        if (!mailbox.agrees(ids))
            ++disagreeing;
    out << "\nMailboxes: " << state.mailboxes.size() << ", disagreeing: " << disagreeing
        << "; duplicate groups: " << state.duplicateGroups << "; UID conflicts: " << state.uidConflicts
        << "; classic folders after migration: " << state.classicFolders.size() << '\n';
}

CommandOutcome status(const CommandContext &context)
{
    const CommandLine &line = context.line;
    const GlobalOptions &options = context.options;
    QTextStream &out = context.out;
    QTextStream &err = context.err;
    cluster::StatusThresholds thresholds;
    int timeoutSeconds = 60;
    const bool watch = line.isSet(u"watch"_s);
    const bool check = line.isSet(u"check"_s);
    const QList<std::pair<QString, qint64 *>> lagLimits{{u"warn-lag"_s, &thresholds.warnLagItems},
                                                       {u"crit-lag"_s, &thresholds.critLagItems}};
    const QList<std::pair<QString, int *>> countLimits{{u"warn-conflicts"_s, &thresholds.warnConflicts},
                                                      {u"crit-conflicts"_s, &thresholds.critConflicts},
                                                      {u"warn-duplicates"_s, &thresholds.warnDuplicates},
                                                      {u"crit-duplicates"_s, &thresholds.critDuplicates},
                                                      {u"warn-unreachable"_s, &thresholds.warnUnreachable},
                                                      {u"crit-unreachable"_s, &thresholds.critUnreachable},
                                                      {u"timeout"_s, &timeoutSeconds}};
    bool ok = true;
    for (const auto &[name, target] : lagLimits)
        if (line.isSet(name) && (*target = line.value(name).toLongLong(&ok), !ok))
            return {usageError(context, QStringLiteral("--%1 needs a number").arg(name))};
    for (const auto &[name, target] : countLimits)
        if (line.isSet(name) && (*target = line.value(name).toInt(&ok), !ok))
            return {usageError(context, QStringLiteral("--%1 needs a number").arg(name))};
    if (watch && check) {
        err << "mailmeshctl: --check judges once; use it without --watch (cron runs it again)\n";
        return {kNagiosUnknown};
    }

    // Not the common preamble: with --check a cluster file that cannot be read is a verdict too.
    Result<cluster::ClusterConfig> config = cluster::ClusterConfig::load(clusterPath(options));
    if (!config) {
        if (check) {
            // A file that is there but refused (a forbidden ssh option, a broken field) is a
            // problem with the cluster, not a gap in our knowledge of it: CRITICAL, exit 2.
            if (config.error().code == ErrorCode::InvalidData) {
                out << "MAILMESH CRITICAL - cluster file refused: " << QString::fromStdString(config.error().describe())
                    << '\n';
                return {kNagiosCritical};
            }
            out << "MAILMESH UNKNOWN - " << QString::fromStdString(config.error().describe()) << '\n';
            return {kNagiosUnknown};
        }
        err << "mailmeshctl: " << QString::fromStdString(config.error().describe()) << '\n';
        return {protocol::exitCodeFor(config.error().code)};
    }

    QNetworkAccessManager network;
    cluster::MonitorOptions monitorOptions;
    monitorOptions.agentBinary = cluster::locateAgentBinary();
    monitorOptions.network = &network;
    cluster::ClusterMonitor monitor(*config, monitorOptions);

    int exitCode = 0;
    bool settledOnce = false;
    const auto report = [&](const cluster::ClusterSnapshot &snapshot, bool settled) {
        if (check) {
            const cluster::StatusVerdict verdict = cluster::checkStatus(*snapshot, thresholds, settled);
            out << verdict.line << '\n';
            exitCode = verdict.code;
        } else if (options.json) {
            QJsonObject object = cluster::stateToJson(*snapshot);
            object.insert(QStringLiteral("settled"), settled);
            out << QJsonDocument(object).toJson(QJsonDocument::Compact) << '\n';
        } else if (watch) {
            out << snapshot->takenAt.toLocalTime().toString(QStringLiteral("HH:mm:ss")) << "  "
                << cluster::checkStatus(*snapshot, thresholds, settled).line << '\n';
        } else {
            printTable(*snapshot, config->name, out);
        }
        out.flush();
        if (!check) {
            // docs/architecture.md, "Exit codes": a node that cannot be reached is exit code 4;
            // findings are not.
            exitCode = 0;
            for (const cluster::NodeState &node : snapshot->nodes)
                if (node.reachability != cluster::Reachability::Reachable)
                    exitCode = protocol::kExitUnreachable;
        }
    };

    QTimer deadline;
    deadline.setSingleShot(true);
    QObject::connect(&deadline, &QTimer::timeout, &monitor, [&] {
        if (!settledOnce) {
            settledOnce = true;
            report(monitor.snapshot(), false);
            if (!watch)
                QCoreApplication::exit(0);
        }
    });
    QObject::connect(&monitor, &cluster::ClusterMonitor::snapshotChanged, &monitor,
                     [&](const cluster::ClusterSnapshot &snapshot) {
                         const bool settled = cluster::isSettled(*snapshot);
                         if (!settledOnce) {
                             if (!settled)
                                 return;
                             settledOnce = true;
                             report(snapshot, true);
                             if (!watch)
                                 QCoreApplication::exit(0);
                             return;
                         }
                         if (watch)
                             report(snapshot, settled);
                     });
    g_stop = false;
    auto previous = std::signal(SIGINT, onStopSignal);
    auto previousTerm = std::signal(SIGTERM, onStopSignal);
    QTimer stopPoll;
    QObject::connect(&stopPoll, &QTimer::timeout, &monitor, [] {
        if (g_stop.exchange(false))
            QCoreApplication::exit(0);
    });
    stopPoll.start(100);
    deadline.start(timeoutSeconds * 1000);
    monitor.start();
    QCoreApplication::exec();
    std::signal(SIGINT, previous);
    std::signal(SIGTERM, previousTerm);
    monitor.stop();
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    return {exitCode};
}

CommandOption threshold(const QString &name, const QString &valueName, const QString &help)
{
    return {.name = name, .valueName = valueName, .help = help};
}

} // namespace

QList<Command> statusCommands()
{
    return {
        {.name = u"status"_s,
         .summary = u"the cluster's health once every node answered; --check for cron and Nagios"_s,
         .options = {{.name = u"watch"_s, .help = u"print every change until interrupted"_s},
                     {.name = u"check"_s,
                      .help = u"one line with performance data; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN"_s},
                     threshold(u"timeout"_s, u"SECONDS"_s, u"how long the nodes get to answer (default 60)"_s),
                     threshold(u"warn-lag"_s, u"ITEMS"_s, u"items behind on a link that warn (default 100; -1: off)"_s),
                     threshold(u"crit-lag"_s, u"ITEMS"_s, u"items behind that are critical (default 1000)"_s),
                     threshold(u"warn-conflicts"_s, u"N"_s, u"Syncthing conflict copies that warn (default 1)"_s),
                     threshold(u"crit-conflicts"_s, u"N"_s, u"conflict copies that are critical (default 10)"_s),
                     threshold(u"warn-duplicates"_s, u"N"_s, u"duplicate groups that warn (default 1)"_s),
                     threshold(u"crit-duplicates"_s, u"N"_s, u"duplicate groups that are critical (default off)"_s),
                     threshold(u"warn-unreachable"_s, u"N"_s, u"unreachable nodes that warn (default off)"_s),
                     threshold(u"crit-unreachable"_s, u"N"_s, u"unreachable nodes that are critical (default 1)"_s)},
         .clusterFile = ClusterFile::Named,
         .run = status,
         .badUsageExitCode =
             [](const QStringList &words) {
                 return words.contains(u"--check"_s) ? kNagiosUnknown : int(protocol::kExitUsage);
             }},
    };
}

} // namespace mm::ctl
