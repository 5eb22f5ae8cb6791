// `status`: the cluster as the monitor sees it. One-shot waits until every node answered (or
// --timeout); --watch prints every change until interrupted; --check prints one line and exits by
// the Nagios convention.

#include "commandsupport.h"
#include "homecommands.h"

#include "cluster/session/agentlocator.h"
#include "cluster/monitor/clustermetrics.h"
#include "cluster/monitor/clustermonitor.h"
#include "cluster/pluralforms.h"
#include "cluster/monitor/statuscheck.h"
#include "protocol/exitcodes.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QSaveFile>
#include <QTimer>

#include <atomic>
#include <csignal>
#include <memory>

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

void printCanary(const cluster::ClusterState &state, QTextStream &out)
{
    if (state.canary.isEmpty())
        return;
    out << "\nReplication canary (latest; p95 over the last hour):\n";
    for (const cluster::CanaryPairLatency &pair : state.canary)
        out << "  " << pair.origin << " -> " << pair.observer << ": "
            << (pair.latestSeconds ? QString::number(*pair.latestSeconds, 'f', 2) + QStringLiteral(" s") : pair.latestFailure)
            << (pair.p95Seconds ? QStringLiteral("; p95 %1 s of %2").arg(*pair.p95Seconds, 0, 'f', 2)
                                      .arg(cluster::counted(pair.samples, "run", "runs"))
                                : QString())
            << '\n';
    if (!state.canaryLeftBehind.isEmpty())
        out << "  probes not seen deleted: " << state.canaryLeftBehind.join(QStringLiteral(", ")) << '\n';
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
    printCanary(state, out);
}

// The metrics file for node_exporter's textfile collector, replaced whole (QSaveFile writes a
// temporary file beside it and renames it), so the collector never reads half of it.
bool writeMetricsFile(const QString &path, const QString &text, QTextStream &err)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(text.toUtf8()) < 0 || !file.commit()) {
        err << "mailmeshctl: cannot write " << path << ": " << file.errorString() << '\n';
        return false;
    }
    return true;
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
    const bool prometheus = line.isSet(u"prometheus"_s);
    const QString outputFile = line.value(u"output"_s);
    const bool canary = !line.isSet(u"no-canary"_s);
    int canaryTimeoutSeconds = 60;
    const QList<std::pair<QString, qint64 *>> lagLimits{{u"warn-lag"_s, &thresholds.warnLagItems},
                                                       {u"crit-lag"_s, &thresholds.critLagItems}};
    const QList<std::pair<QString, int *>> countLimits{{u"warn-conflicts"_s, &thresholds.warnConflicts},
                                                      {u"crit-conflicts"_s, &thresholds.critConflicts},
                                                      {u"warn-duplicates"_s, &thresholds.warnDuplicates},
                                                      {u"crit-duplicates"_s, &thresholds.critDuplicates},
                                                      {u"warn-unreachable"_s, &thresholds.warnUnreachable},
                                                      {u"crit-unreachable"_s, &thresholds.critUnreachable},
                                                      {u"timeout"_s, &timeoutSeconds},
                                                      {u"canary-timeout"_s, &canaryTimeoutSeconds}};
    const QList<std::pair<QString, double *>> secondLimits{{u"canary-warn"_s, &thresholds.warnCanarySeconds},
                                                          {u"canary-crit"_s, &thresholds.critCanarySeconds}};
    bool ok = true;
    for (const auto &[name, target] : lagLimits)
        if (line.isSet(name) && (*target = line.value(name).toLongLong(&ok), !ok))
            return {usageError(context, QStringLiteral("--%1 needs a number").arg(name))};
    for (const auto &[name, target] : countLimits)
        if (line.isSet(name) && (*target = line.value(name).toInt(&ok), !ok))
            return {usageError(context, QStringLiteral("--%1 needs a number").arg(name))};
    for (const auto &[name, target] : secondLimits)
        if (line.isSet(name) && (*target = line.value(name).toDouble(&ok), !ok))
            return {usageError(context, QStringLiteral("--%1 needs a number of seconds").arg(name))};
    if (canaryTimeoutSeconds < 1)
        return {usageError(context, QStringLiteral("--canary-timeout needs at least 1 second"))};
    if (!outputFile.isEmpty() && !prometheus)
        return {usageError(context, QStringLiteral("--output writes the --prometheus metrics; give both"))};
    if (prometheus && (watch || check || options.json))
        return {usageError(context, QStringLiteral("--prometheus prints metrics once; it goes with neither --watch, --check nor --json"))};
    qint64 autoFailoverSeconds = -1;
    if (line.isSet(u"auto-failover"_s)) {
        autoFailoverSeconds = line.value(u"auto-failover"_s).toLongLong(&ok);
        if (!ok || autoFailoverSeconds < 0 || !check)
            return {usageError(context, QStringLiteral("--auto-failover needs --check and a number of seconds"))};
    }
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
    monitorOptions.canaryTimeoutMs = canaryTimeoutSeconds * 1000;
    // A one-shot status runs one canary itself, once the nodes answered; --watch keeps the
    // dashboard's schedule.
    if (!watch || !canary)
        monitorOptions.canaryIntervalMs = 0;
    cluster::ClusterMonitor monitor(*config, monitorOptions);

    int exitCode = 0;
    bool settledOnce = false;
    cluster::ClusterSnapshot lastChecked;
    const auto report = [&](const cluster::ClusterSnapshot &snapshot, bool settled) {
        if (check) {
            const cluster::StatusVerdict verdict = cluster::checkStatus(*snapshot, thresholds, settled);
            out << verdict.line << '\n';
            exitCode = verdict.code;
            lastChecked = snapshot;
        } else if (prometheus) {
            // Exit 0 whenever the metrics were written: a node down is in them (mailmesh_node_up),
            // and `status --prometheus > f.tmp && mv f.tmp f.prom` must still replace the file.
            const QString text = cluster::clusterMetrics(*snapshot, settled);
            if (outputFile.isEmpty())
                out << text;
            exitCode = outputFile.isEmpty() || writeMetricsFile(outputFile, text, err)
                           ? 0
                           : protocol::exitCodeFor(ErrorCode::IoError);
            out.flush();
            return;
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

    cluster::ClusterSnapshot beforeCanary; // the settled cluster the one-shot report judges
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
                             // The canary's figures belong in the one report: it runs first. The
                             // cluster is judged as it was before: the probes themselves keep the
                             // links busy for a moment.
                             if (!watch && canary && monitor.runCanary()) {
                                 beforeCanary = snapshot;
                                 return;
                             }
                             report(snapshot, true);
                             if (!watch)
                                 QCoreApplication::exit(0);
                             return;
                         }
                         if (watch)
                             report(snapshot, settled);
                     });
    QObject::connect(&monitor, &cluster::ClusterMonitor::canaryFinished, &monitor, [&] {
        if (watch)
            return;
        const cluster::ClusterSnapshot latest = monitor.snapshot();
        auto judged = std::make_shared<cluster::ClusterState>(beforeCanary ? *beforeCanary : *latest);
        judged->canary = latest->canary;
        judged->canaryLastRunAt = latest->canaryLastRunAt;
        judged->canaryLeftBehind = latest->canaryLeftBehind;
        report(judged, true);
        QCoreApplication::exit(0);
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
    // After the monitor's event loop: a failover runs a workflow of its own.
    if (autoFailoverSeconds >= 0 && lastChecked)
        exitCode = autoFailover(*lastChecked, clusterPath(options), autoFailoverSeconds, exitCode, out);
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
                     threshold(u"auto-failover"_s, u"SECONDS"_s,
                               u"with --check: fail over a node unreachable this long (from cron; never moves users back)"_s),
                     threshold(u"crit-unreachable"_s, u"N"_s, u"unreachable nodes that are critical (default 1)"_s),
                     {.name = u"no-canary"_s, .help = u"skip the replication canary (by default one run once the nodes answered)"_s},
                     threshold(u"canary-timeout"_s, u"SECONDS"_s, u"how long a canary probe gets to reach every node (default 60)"_s),
                     threshold(u"canary-warn"_s, u"SECONDS"_s, u"canary latency on a pair that warns (default 10; -1: off)"_s),
                     threshold(u"canary-crit"_s, u"SECONDS"_s, u"canary latency that is critical (default 60); a probe that never arrives always is"_s),
                     {.name = u"prometheus"_s, .help = u"print the metrics in Prometheus's text format (node_exporter's textfile collector)"_s},
                     threshold(u"output"_s, u"FILE"_s, u"with --prometheus: write FILE whole (a temporary file renamed into place)"_s)},
         .clusterFile = ClusterFile::Named,
         .run = status,
         .badUsageExitCode =
             [](const QStringList &words) {
                 return words.contains(u"--check"_s) ? kNagiosUnknown : int(protocol::kExitUsage);
             }},
    };
}

} // namespace mm::ctl
