#include "statuscommand.h"

#include "cluster/agentlocator.h"
#include "cluster/clustermonitor.h"
#include "cluster/statuscheck.h"
#include "protocol/exitcodes.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QTimer>

#include <atomic>
#include <csignal>

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
    out << "Cluster \"" << name << "\": " << summary.ok << " ok, " << summary.warnings << " warning(s), "
        << summary.errors << " error(s)\n\n";
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
            << (peer.needItems > 0 ? QStringLiteral(", %1 item(s) to go").arg(peer.needItems) : QString()) << '\n';
    int disagreeing = 0;
    const QStringList ids = state.nodeIds();
    for (const cluster::MailboxCounts &mailbox : state.mailboxes)
        if (!mailbox.agrees(ids))
            ++disagreeing;
    out << "\nMailboxes: " << state.mailboxes.size() << ", disagreeing: " << disagreeing
        << "; duplicate groups: " << state.duplicateGroups << "; UID conflicts: " << state.uidConflicts
        << "; classic folders after migration: " << state.classicFolders.size() << '\n';
}

} // namespace

int statusCommand(const QStringList &arguments, const GlobalOptions &options, QTextStream &out, QTextStream &err)
{
    const QString usage = QStringLiteral(
        "mailmeshctl status [--json] [--watch] [--check] [--timeout SECONDS]\n"
        "            [--warn-lag ITEMS] [--crit-lag ITEMS] [--warn-conflicts N] [--crit-conflicts N]\n"
        "            [--warn-duplicates N] [--crit-duplicates N] [--warn-unreachable N] [--crit-unreachable N]");
    cluster::StatusThresholds thresholds;
    int timeoutSeconds = 60;
    bool watch = false;
    bool check = false;
    const QList<std::pair<QString, qint64 *>> lagLimits{{QStringLiteral("--warn-lag"), &thresholds.warnLagItems},
                                                       {QStringLiteral("--crit-lag"), &thresholds.critLagItems}};
    const QList<std::pair<QString, int *>> countLimits{{QStringLiteral("--warn-conflicts"), &thresholds.warnConflicts},
                                                      {QStringLiteral("--crit-conflicts"), &thresholds.critConflicts},
                                                      {QStringLiteral("--warn-duplicates"), &thresholds.warnDuplicates},
                                                      {QStringLiteral("--crit-duplicates"), &thresholds.critDuplicates},
                                                      {QStringLiteral("--warn-unreachable"), &thresholds.warnUnreachable},
                                                      {QStringLiteral("--crit-unreachable"), &thresholds.critUnreachable},
                                                      {QStringLiteral("--timeout"), &timeoutSeconds}};
    for (qsizetype i = 0; i < arguments.size(); ++i) {
        const QString &argument = arguments[i];
        if (argument == QLatin1String("--watch")) {
            watch = true;
            continue;
        }
        if (argument == QLatin1String("--check")) {
            check = true;
            continue;
        }
        bool known = false;
        bool ok = false;
        const QString value = arguments.value(i + 1);
        for (const auto &[name, target] : lagLimits)
            if (argument == name) {
                known = true;
                *target = value.toLongLong(&ok);
            }
        for (const auto &[name, target] : countLimits)
            if (argument == name) {
                known = true;
                *target = value.toInt(&ok);
            }
        if (!known || !ok) {
            err << "mailmeshctl: " << (known ? argument + QStringLiteral(" needs a number") : QStringLiteral("unknown argument ") + argument)
                << "\nusage: " << usage << '\n';
            return check ? kNagiosUnknown : protocol::kExitUsage;
        }
        ++i;
    }
    if (watch && check) {
        err << "mailmeshctl: --check judges once; use it without --watch (cron runs it again)\n";
        return kNagiosUnknown;
    }

    const QString path = options.clusterFile.isEmpty() ? cluster::ClusterConfig::defaultPath() : options.clusterFile;
    Result<cluster::ClusterConfig> config = cluster::ClusterConfig::load(path);
    if (!config) {
        if (check) {
            // A file that is there but refused (a forbidden ssh option, a broken field) is a
            // problem with the cluster, not a gap in our knowledge of it: CRITICAL, exit 2.
            if (config.error().code == ErrorCode::InvalidData) {
                out << "MAILMESH CRITICAL - cluster file refused: " << QString::fromStdString(config.error().describe())
                    << '\n';
                return kNagiosCritical;
            }
            out << "MAILMESH UNKNOWN - " << QString::fromStdString(config.error().describe()) << '\n';
            return kNagiosUnknown;
        }
        err << "mailmeshctl: " << QString::fromStdString(config.error().describe()) << '\n';
        return protocol::exitCodeFor(config.error().code);
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
    return exitCode;
}

} // namespace mm::ctl
