// `canary`: one run of the replication canary on demand (docs/monitoring.md, "The replication
// canary"). It starts the monitor, waits until the nodes answered (or --wait), has every node
// write a probe, times its arrival on every other node and removes it everywhere again.

#include "commandsupport.h"

#include "cluster/session/agentlocator.h"
#include "cluster/monitor/clustermonitor.h"
#include "cluster/pluralforms.h"
#include "cluster/monitor/statuscheck.h"
#include "protocol/exitcodes.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QTimer>

#include <atomic>
#include <csignal>

using namespace Qt::StringLiterals;

namespace mm::ctl {

namespace {

std::atomic<bool> g_interrupted{false};

void onInterrupt(int)
{
    g_interrupted = true;
}

void printReport(const cluster::CanaryReport &report, QTextStream &out)
{
    int measured = 0;
    for (const cluster::CanaryPairResult &pair : report.pairs)
        measured += pair.measured() ? 1 : 0;
    out << "Replication canary: " << measured << " of " << cluster::counted(report.pairs.size(), "pair", "pairs")
        << " measured; " << (report.cleanedUp() ? QStringLiteral("every probe removed again") : QStringLiteral("cleanup incomplete"))
        << "\n\n";
    out << QStringLiteral("%1 %2 %3 %4\n")
               .arg(QStringLiteral("ORIGIN"), -12)
               .arg(QStringLiteral("OBSERVER"), -12)
               .arg(QStringLiteral("LATENCY"), -10)
               .arg(QStringLiteral("NOTICED BY"));
    for (const cluster::CanaryPairResult &pair : report.pairs)
        out << QStringLiteral("%1 %2 %3 %4\n")
                   .arg(pair.origin, -12)
                   .arg(pair.observer, -12)
                   .arg(pair.latencySeconds ? QString::number(*pair.latencySeconds, 'f', 3) + QStringLiteral(" s") : QStringLiteral("-"),
                        -10)
                   .arg(pair.measured() ? pair.noticedBy : pair.failure);
    for (const QString &left : report.leftBehind)
        out << "left behind: " << left << '\n';
    for (const QString &problem : report.problems)
        out << "problem: " << problem << '\n';
}

// docs/architecture.md, "Exit codes": a pair not measured is a node that could not be reached
// (in time); probes that could not be removed are a failure; both: the first.
int exitCodeFor(const cluster::CanaryReport &report)
{
    for (const cluster::CanaryPairResult &pair : report.pairs)
        if (!pair.measured())
            return protocol::kExitUnreachable;
    return report.cleanedUp() ? protocol::kExitOk : protocol::kExitFailed;
}

CommandOutcome canary(const CommandContext &context)
{
    const CommandLine &line = context.line;
    bool ok = true;
    int timeoutSeconds = 60;
    int waitSeconds = 60;
    if (line.isSet(u"timeout"_s) && ((timeoutSeconds = line.value(u"timeout"_s).toInt(&ok)), !ok || timeoutSeconds < 1))
        return {usageError(context, u"--timeout needs a number of seconds, at least 1"_s)};
    if (line.isSet(u"wait"_s) && ((waitSeconds = line.value(u"wait"_s).toInt(&ok)), !ok || waitSeconds < 0))
        return {usageError(context, u"--wait needs a number of seconds"_s)};

    QNetworkAccessManager network;
    cluster::MonitorOptions monitorOptions;
    monitorOptions.agentBinary = cluster::locateAgentBinary();
    monitorOptions.network = &network;
    monitorOptions.canaryIntervalMs = 0; // this one run only
    monitorOptions.canaryTimeoutMs = timeoutSeconds * 1000;
    cluster::ClusterMonitor monitor(*context.cluster, monitorOptions);

    int exitCode = protocol::kExitFailed;
    bool started = false;
    const auto startCanary = [&] {
        if (started)
            return;
        started = true;
        if (!context.options.json)
            context.err << "mailmeshctl: every node writes a probe; waiting for it on the others (at most "
                        << cluster::counted(timeoutSeconds, "second", "seconds") << ")\n";
        monitor.runCanary();
    };
    QObject::connect(&monitor, &cluster::ClusterMonitor::snapshotChanged, &monitor,
                     [&](const cluster::ClusterSnapshot &snapshot) {
                         if (cluster::isSettled(*snapshot))
                             startCanary();
                     });
    QObject::connect(&monitor, &cluster::ClusterMonitor::canaryFinished, &monitor,
                     [&](const cluster::CanaryReport &report) {
                         if (context.options.json)
                             context.out << QJsonDocument(cluster::canaryReportToJson(report)).toJson(QJsonDocument::Compact)
                                         << '\n';
                         else
                             printReport(report, context.out);
                         context.out.flush();
                         exitCode = exitCodeFor(report);
                         QCoreApplication::exit(0);
                     });
    // Nodes that have not answered by then take part as far as they can (or not at all).
    QTimer wait;
    wait.setSingleShot(true);
    QObject::connect(&wait, &QTimer::timeout, &monitor, startCanary);
    g_interrupted = false;
    auto previous = std::signal(SIGINT, onInterrupt);
    QTimer interruptPoll;
    QObject::connect(&interruptPoll, &QTimer::timeout, &monitor, [&] {
        if (g_interrupted.exchange(false)) {
            exitCode = protocol::exitCodeFor(ErrorCode::Cancelled);
            QCoreApplication::exit(0);
        }
    });
    interruptPoll.start(100);
    wait.start(waitSeconds * 1000);
    monitor.start();
    QCoreApplication::exec();
    std::signal(SIGINT, previous);
    monitor.stop();
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    return {exitCode};
}

} // namespace

QList<Command> canaryCommands()
{
    return {
        {.name = u"canary"_s,
         .summary = u"time a probe file from every node to every other, then remove it everywhere"_s,
         .options = {{.name = u"timeout"_s,
                      .valueName = u"SECONDS"_s,
                      .help = u"how long a probe gets to reach every node, and again to be gone (default 60)"_s},
                     {.name = u"wait"_s,
                      .valueName = u"SECONDS"_s,
                      .help = u"how long the nodes get to answer before the run starts (default 60)"_s}},
         .run = canary},
    };
}

} // namespace mm::ctl
