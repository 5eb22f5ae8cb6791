// What a real cluster of 3, 5 and 10 sandbox nodes costs as it grows (issue #24 part 4). Each
// size gets a fresh sandbox (sshd, Syncthing, mailmesh-agent watch-changes and Dovecot per node)
// set up as an admin does it, through the real mailmeshctl: init, add-node, pair, migrate.
// Measured per size, with the 3-node cluster of the same run as the baseline of every ratio:
//   pair       wall time of `mailmeshctl pair`, and of each of its steps (3, 5 and 10 nodes);
//   migrate    wall time of `mailmeshctl migrate` (needs the patched Dovecot, else skipped);
//   delivery   a message written into node 1's tmp/ and renamed into new/, as an MTA does,
//              until it is on every node: p50, p95 and max (3 and 10 nodes);
//   monitor    the dashboard's ClusterMonitor with its default periods watching the cluster, in
//              a fresh process of its own: that process's CPU seconds and peak RSS over the
//              window, and the CPU of the ssh clients it ran (3 and 10 nodes).
// The 10 nodes x 10,000 folders snapshot figure is bench_snapshotscale's; it is not repeated here.
// The bench fails only when something did not work (a step failed, a delivery never arrived, a
// node stayed unreachable, a daemon outlived its sandbox); it asserts no time.
//
//   bench_clusterscale [deliveries] [monitor-seconds]     (default 50 and 60)
//   bench_clusterscale --watch CLUSTER-FILE SSH-CONFIG KNOWN-HOSTS SECONDS   (the monitor's own
//   process)

#include "ctlrunner.h"
#include "benchstats.h"

#include "cluster/monitor/clustermonitor.h"
#include "cluster/monitor/statuscheck.h"
#include "sandbox/sandbox.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include <sys/resource.h>
#include <unistd.h>

namespace {

using mm::bench::percentile;

const QString kDovecotPrefix = QStringLiteral(MAILMESH_DOVECOT_PREFIX);

bool patchedDovecot()
{
    return !kDovecotPrefix.isEmpty();
}

QString loadAverage()
{
    QFile file(QStringLiteral("/proc/loadavg"));
    if (!file.open(QIODevice::ReadOnly))
        return QStringLiteral("?");
    const QList<QByteArray> fields = file.readAll().split(' ');
    return fields.size() >= 3 ? QString::fromLatin1(fields[0] + ' ' + fields[1] + ' ' + fields[2])
                              : QStringLiteral("?");
}

double cpuSeconds(const rusage &usage)
{
    return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

rusage usageOf(int who)
{
    rusage usage{};
    getrusage(who, &usage);
    return usage;
}

// kB from a "Name:   123 kB" line of /proc/self/status.
qint64 statusKb(const char *name)
{
    QFile file(QStringLiteral("/proc/self/status"));
    if (!file.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : file.readAll().split('\n'))
        if (line.startsWith(name))
            return line.mid(qsizetype(qstrlen(name))).trimmed().split(' ').value(0).toLongLong();
    return -1;
}

// One mailmeshctl run, with the moment each workflow step started (its JSON "step" lines).
struct TimedRun
{
    bool succeeded = false;
    double seconds = 0;
    QList<QPair<QString, double>> steps; // id, seconds the step took
    QString failure;
};

TimedRun runTimed(const QString &home, const QString &clusterFile, const QStringList &arguments)
{
    TimedRun run;
    QProcess process;
    QElapsedTimer clock;
    clock.start();
    startMailmeshctl(process, home, clusterFile, arguments);
    QList<QPair<QString, double>> starts;
    QJsonObject report;
    QByteArray tail;
    const auto readLines = [&] {
        while (process.canReadLine()) {
            const QByteArray line = process.readLine();
            tail = (tail + line).right(2000);
            const QJsonObject object = QJsonDocument::fromJson(line).object();
            const QString type = object.value(QStringLiteral("type")).toString();
            const double now = double(clock.nsecsElapsed()) / 1e9;
            if (type == QLatin1String("step")) {
                starts.append({object.value(QStringLiteral("id")).toString(), now});
            } else if (type == QLatin1String("report")) {
                report = object;
            }
        }
    };
    while (process.state() != QProcess::NotRunning && clock.elapsed() < 1'200'000) {
        process.waitForReadyRead(1000);
        readLines();
    }
    if (process.state() != QProcess::NotRunning) {
        process.kill();
        process.waitForFinished();
        run.failure = QStringLiteral("mailmeshctl %1 did not finish within 20 minutes")
                          .arg(arguments.join(u' '));
        return run;
    }
    run.seconds = double(clock.nsecsElapsed()) / 1e9;
    readLines();
    if (!starts.isEmpty()) // the process starting and reading its cluster file
        run.steps.append({QStringLiteral("start"), starts.front().second});
    for (qsizetype i = 0; i < starts.size(); ++i)
        run.steps.append(
            {starts[i].first,
             (i + 1 < starts.size() ? starts[i + 1].second : run.seconds) - starts[i].second});
    run.succeeded = process.exitStatus() == QProcess::NormalExit && process.exitCode() == 0;
    if (!run.succeeded)
        run.failure =
            QStringLiteral("mailmeshctl %1: exit %2: %3\n...%4")
                .arg(arguments.join(u' '))
                .arg(process.exitCode())
                .arg(report.value(QStringLiteral("error"))
                         .toObject()
                         .value(QStringLiteral("message"))
                         .toString(),
                     QString::fromUtf8(tail + process.readAllStandardError().right(1000)));
    return run;
}

QString describeSteps(const TimedRun &run)
{
    QStringList parts;
    for (const auto &[id, seconds] : run.steps)
        parts << QStringLiteral("%1 %2").arg(id).arg(seconds, 0, 'f', 1);
    return parts.join(QStringLiteral(", "));
}

// A sandbox cluster set up through mailmeshctl up to add-node; pair and migrate are timed by the
// caller. The sandbox's destructor stops every daemon, also on an early return.
class MeasuredCluster
{
public:
    explicit MeasuredCluster(int nodeCount)
    {
        mm::sandbox::SandboxOptions options;
        options.nodeCount = nodeCount;
        options.dovecotPrefix = patchedDovecot() ? kDovecotPrefix : QStringLiteral("/usr");
        options.changeWatcher = QStringLiteral(MAILMESH_AGENT_BINARY);
        // Ten nodes start on a shared 2-core machine: the default minute is not always enough.
        options.startTimeoutMs = 600'000;
        // MAILMESH_TEST_KEEP=1 keeps the nodes' directories (Syncthing's logs) for a post-mortem.
        options.keepDir = !qEnvironmentVariableIsEmpty("MAILMESH_TEST_KEEP");
        m_sandbox = std::make_unique<mm::sandbox::Sandbox>(options);
    }

    // Empty on success, else what failed.
    QString setUp()
    {
        if (!m_home.isValid())
            return QStringLiteral("no temporary home");
        m_clusterFile = m_home.path() + QStringLiteral("/cluster.json");
        QElapsedTimer clock;
        clock.start();
        if (const mm::Status started = m_sandbox->start(); !started)
            return QString::fromStdString(started.error().describe());
        m_sandboxSeconds = double(clock.nsecsElapsed()) / 1e9;
        clock.restart();
        if (const TimedRun init = run({QStringLiteral("init"), QStringLiteral("cluster-scale")});
            !init.succeeded)
            return init.failure;
        for (const mm::sandbox::NodeInfo &node : m_sandbox->nodes())
            if (const TimedRun added =
                    run(sandboxAddNodeArguments(node)
                        << QStringLiteral("--accept-host-key") << node.sshHostKeyFingerprint);
                !added.succeeded)
                return added.failure;
        m_addNodesSeconds = double(clock.nsecsElapsed()) / 1e9;
        return {};
    }

    TimedRun run(const QStringList &arguments)
    {
        return runTimed(m_home.path(), m_clusterFile, arguments);
    }

    QString clusterFile() const { return m_clusterFile; }
    mm::sandbox::Sandbox &sandbox() { return *m_sandbox; }
    int size() const { return int(m_sandbox->nodes().size()); }
    double sandboxSeconds() const { return m_sandboxSeconds; }
    double addNodesSeconds() const { return m_addNodesSeconds; }

    // Stops the daemons; what survived it, described (empty when nothing did).
    QString tearDown()
    {
        m_sandbox->tearDown();
        const QList<mm::sandbox::ProcessTable::Entry> left = m_sandbox->leftovers();
        return left.isEmpty() ? QString() : mm::sandbox::ProcessTable::describe(left);
    }

private:
    QTemporaryDir m_home;
    QString m_clusterFile;
    std::unique_ptr<mm::sandbox::Sandbox> m_sandbox;
    double m_sandboxSeconds = 0;
    double m_addNodesSeconds = 0;
};

// A delivered message is on a node once its file is there: in new/ on a classic Maildir, in cur/
// (under the same name, through new -> cur) on a migrated one.
bool arrived(const QString &maildir, const QString &name)
{
    return QFileInfo::exists(maildir + QStringLiteral("/new/") + name) ||
           QFileInfo::exists(maildir + QStringLiteral("/cur/") + name);
}

// Delivers `count` messages on node 1 one after another; the seconds until each was on every
// node. Empty when one never arrived within two minutes.
QList<double> measureDeliveries(const mm::sandbox::Sandbox &sandbox, int count, QString *failure)
{
    QList<double> seconds;
    const QList<mm::sandbox::NodeInfo> nodes = sandbox.nodes();
    for (int i = 0; i < count; ++i) {
        const QString name = QStringLiteral("%1.M%2P%3.scale%4")
                                 .arg(1800000000 + i)
                                 .arg(i)
                                 .arg(::getpid())
                                 .arg(nodes.size());
        const QString staged = nodes[0].maildir + QStringLiteral("/tmp/") + name;
        QFile file(staged);
        if (!file.open(QIODevice::WriteOnly)) {
            *failure = QStringLiteral("cannot write %1").arg(staged);
            return {};
        }
        file.write(QStringLiteral("Message-ID: <%1@bench>\r\nSubject: scale %2\r\n\r\n")
                       .arg(name)
                       .arg(i)
                       .toUtf8() +
                   QByteArray(2000, 'x') + "\r\n");
        file.close();
        // The mail belongs to the sandbox's mail user, so must a delivery: else Syncthing (that
        // user) could not replace it.
        QFile::setPermissions(staged, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup);
        if (::chown(qPrintable(staged), sandbox.user().uid(), sandbox.user().gid()) != 0) {
            *failure = QStringLiteral("cannot hand %1 to the mail user").arg(staged);
            return {};
        }
        QElapsedTimer clock;
        clock.start();
        if (!QFile::rename(staged, nodes[0].maildir + QStringLiteral("/new/") + name)) {
            *failure = QStringLiteral("cannot rename %1 into new/").arg(staged);
            return {};
        }
        qsizetype waitingFor = 1; // nodes before it have the message
        while (waitingFor < nodes.size() && clock.elapsed() < 120'000) {
            if (arrived(nodes[waitingFor].maildir, name))
                ++waitingFor;
            else
                QThread::msleep(5);
        }
        if (waitingFor < nodes.size()) {
            *failure = QStringLiteral("delivery %1 never reached %2 within 120 s")
                           .arg(i + 1)
                           .arg(nodes[waitingFor].id);
            return {};
        }
        seconds << double(clock.nsecsElapsed()) / 1e9;
        QThread::msleep(200); // deliveries apart, as mail arrives
    }
    return seconds;
}

struct MonitorCost
{
    double processCpuSeconds = 0; // the watching process, every thread
    double sshCpuSeconds = 0;     // the ssh clients it ran (its only children)
    double settleSeconds = -1;    // until every node had answered everything once
    double processCpuToSettle = 0;
    double sshCpuToSettle = 0;
    qint64 rssBeforeKb = 0; // before the monitor was made: Qt and the process itself
    qint64 peakRssKb = 0;   // VmHWM of the watching process, its whole life
    int snapshots = 0;

    QJsonObject toJson() const
    {
        return {{QStringLiteral("processCpuSeconds"), processCpuSeconds},
                {QStringLiteral("sshCpuSeconds"), sshCpuSeconds},
                {QStringLiteral("settleSeconds"), settleSeconds},
                {QStringLiteral("processCpuToSettle"), processCpuToSettle},
                {QStringLiteral("sshCpuToSettle"), sshCpuToSettle},
                {QStringLiteral("rssBeforeKb"), double(rssBeforeKb)},
                {QStringLiteral("peakRssKb"), double(peakRssKb)},
                {QStringLiteral("snapshots"), snapshots}};
    }
    static MonitorCost fromJson(const QJsonObject &object)
    {
        MonitorCost cost;
        cost.processCpuSeconds = object.value(QStringLiteral("processCpuSeconds")).toDouble();
        cost.sshCpuSeconds = object.value(QStringLiteral("sshCpuSeconds")).toDouble();
        cost.settleSeconds = object.value(QStringLiteral("settleSeconds")).toDouble(-1);
        cost.processCpuToSettle = object.value(QStringLiteral("processCpuToSettle")).toDouble();
        cost.sshCpuToSettle = object.value(QStringLiteral("sshCpuToSettle")).toDouble();
        cost.rssBeforeKb = qint64(object.value(QStringLiteral("rssBeforeKb")).toDouble());
        cost.peakRssKb = qint64(object.value(QStringLiteral("peakRssKb")).toDouble());
        cost.snapshots = object.value(QStringLiteral("snapshots")).toInt();
        return cost;
    }
};

// CPU of this process's children: those reaped (RUSAGE_CHILDREN) and those still running
// (/proc/PID/stat, utime and stime in clock ticks).
double childrenCpuSeconds()
{
    double seconds = cpuSeconds(usageOf(RUSAGE_CHILDREN));
    const double ticksPerSecond = double(sysconf(_SC_CLK_TCK));
    const QString self = QString::number(::getpid());
    for (const QFileInfo &entry :
         QDir(QStringLiteral("/proc")).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile file(entry.filePath() + QStringLiteral("/stat"));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        const QByteArray stat = file.readAll();
        // Fields after the command name, which is in parentheses and may hold spaces.
        const QList<QByteArray> fields = stat.mid(stat.lastIndexOf(')') + 2).split(' ');
        if (fields.size() > 12 && fields[1] == self.toLatin1())
            seconds += (fields[11].toDouble() + fields[12].toDouble()) / ticksPerSecond;
    }
    return seconds;
}

// The dashboard's monitor, with its default periods, watching the cluster for `seconds`. Runs in
// a process of its own (see watchInFreshProcess), so that its CPU and RSS are the monitor's alone.
int watchCluster(const QString &clusterFile, const QString &sshConfig, const QString &knownHosts,
                 int seconds)
{
    const auto config = mm::cluster::ClusterConfig::load(clusterFile);
    if (!config) {
        std::fprintf(stderr, "%s\n", config.error().describe().c_str());
        return 1;
    }
    MonitorCost cost;
    QNetworkAccessManager network;
    mm::cluster::MonitorOptions options;
    options.agentBinary = QStringLiteral(MAILMESH_AGENT_BINARY);
    options.network = &network;
    options.ssh.configFile = sshConfig;
    options.ssh.knownHostsFile = knownHosts;
    options.ssh.readKnownHostsFiles.clear();

    cost.rssBeforeKb = statusKb("VmRSS:");
    const double processBefore = cpuSeconds(usageOf(RUSAGE_SELF));
    const double sshBefore = childrenCpuSeconds();
    QElapsedTimer clock;
    clock.start();
    mm::cluster::ClusterMonitor monitor(*config, options);
    QObject::connect(&monitor, &mm::cluster::ClusterMonitor::snapshotChanged, &monitor,
                     [&](const mm::cluster::ClusterSnapshot &snapshot) {
                         ++cost.snapshots;
                         if (cost.settleSeconds < 0 && mm::cluster::isSettled(*snapshot)) {
                             cost.settleSeconds = double(clock.nsecsElapsed()) / 1e9;
                             cost.processCpuToSettle =
                                 cpuSeconds(usageOf(RUSAGE_SELF)) - processBefore;
                             cost.sshCpuToSettle = childrenCpuSeconds() - sshBefore;
                         }
                     });
    monitor.start();
    QEventLoop loop;
    QTimer::singleShot(seconds * 1000, &loop, &QEventLoop::quit);
    loop.exec();
    cost.processCpuSeconds = cpuSeconds(usageOf(RUSAGE_SELF)) - processBefore;
    cost.sshCpuSeconds = childrenCpuSeconds() - sshBefore;
    cost.peakRssKb = statusKb("VmHWM:");
    QStringList unreachable;
    for (const mm::cluster::NodeState &node : monitor.snapshot()->nodes)
        if (node.reachability != mm::cluster::Reachability::Reachable)
            unreachable << node.id;
    if (monitor.snapshot()->nodes.isEmpty() || !unreachable.isEmpty()) {
        std::fprintf(stderr, "the monitor could not reach %s\n",
                     qPrintable(unreachable.join(QStringLiteral(", "))));
        return 1;
    }
    std::printf("%s\n", QJsonDocument(cost.toJson()).toJson(QJsonDocument::Compact).constData());
    return 0;
}

std::optional<MonitorCost> watchInFreshProcess(const QString &clusterFile,
                                               const mm::sandbox::Sandbox &sandbox, int seconds,
                                               QString *failure)
{
    QProcess watcher;
    watcher.start(QCoreApplication::applicationFilePath(),
                  {QStringLiteral("--watch"), clusterFile, sandbox.sshConfigFile(),
                   sandbox.dir() + QStringLiteral("/client/mailmesh_known_hosts"),
                   QString::number(seconds)});
    if (!watcher.waitForFinished((seconds + 120) * 1000)) {
        watcher.kill();
        watcher.waitForFinished();
        *failure = QStringLiteral("the monitor's process did not end");
        return std::nullopt;
    }
    const QByteArray output = watcher.readAllStandardOutput().trimmed();
    if (watcher.exitStatus() != QProcess::NormalExit || watcher.exitCode() != 0) {
        *failure = QStringLiteral("monitor: ") +
                   QString::fromUtf8(watcher.readAllStandardError().right(2000));
        return std::nullopt;
    }
    return MonitorCost::fromJson(QJsonDocument::fromJson(output.split('\n').last()).object());
}

struct SizeFigures
{
    int nodes = 0;
    double sandboxSeconds = 0;
    double addNodesSeconds = 0;
    TimedRun pair;
    std::optional<TimedRun> migrate;
    QList<double> deliveries;
    std::optional<MonitorCost> monitor;
    QString load; // load average when the size was done
};

struct Plan
{
    int nodes;
    bool migrate;
    bool deliverAndWatch;
};

int runSize(const Plan &plan, int deliveries, int monitorSeconds, SizeFigures *figures)
{
    figures->nodes = plan.nodes;
    std::printf("-- %d nodes (load average %s)\n", plan.nodes, qPrintable(loadAverage()));
    std::fflush(stdout);
    MeasuredCluster cluster(plan.nodes);
    QString failure = cluster.setUp();
    const auto finish = [&](int code) {
        const QString survivors = cluster.tearDown();
        if (!failure.isEmpty())
            std::fprintf(stderr, "%d nodes: %s\n", plan.nodes, qPrintable(failure));
        if (!survivors.isEmpty()) {
            std::fprintf(stderr, "%d nodes: daemons outlived the sandbox:\n%s\n", plan.nodes,
                         qPrintable(survivors));
            return 1;
        }
        return code;
    };
    if (!failure.isEmpty())
        return finish(1);
    figures->sandboxSeconds = cluster.sandboxSeconds();
    figures->addNodesSeconds = cluster.addNodesSeconds();
    std::printf("   sandbox up %.1f s, init + add-node %.1f s\n", figures->sandboxSeconds,
                figures->addNodesSeconds);

    figures->pair = cluster.run({QStringLiteral("pair")});
    if (!figures->pair.succeeded) {
        failure = figures->pair.failure;
        return finish(1);
    }
    std::printf("   pair %.1f s (%s)\n", figures->pair.seconds,
                qPrintable(describeSteps(figures->pair)));
    std::fflush(stdout);

    if (plan.migrate && patchedDovecot()) {
        figures->migrate = cluster.run({QStringLiteral("migrate")});
        if (!figures->migrate->succeeded) {
            failure = figures->migrate->failure;
            return finish(1);
        }
        std::printf("   migrate %.1f s (%s)\n", figures->migrate->seconds,
                    qPrintable(describeSteps(*figures->migrate)));
        std::fflush(stdout);
    }

    if (plan.deliverAndWatch) {
        figures->deliveries = measureDeliveries(cluster.sandbox(), deliveries, &failure);
        if (figures->deliveries.isEmpty())
            return finish(1);
        std::printf("   %d deliveries into node 1, until on all %d nodes: p50 %.2f s  p95 %.2f s  "
                    "max %.2f s\n",
                    int(figures->deliveries.size()), plan.nodes,
                    percentile(figures->deliveries, 0.5), percentile(figures->deliveries, 0.95),
                    percentile(figures->deliveries, 1.0));
        std::fflush(stdout);

        figures->monitor =
            watchInFreshProcess(cluster.clusterFile(), cluster.sandbox(), monitorSeconds, &failure);
        if (!figures->monitor)
            return finish(1);
        const MonitorCost &cost = *figures->monitor;
        std::printf("   monitor for %d s: %.2f CPU s in its process + %.2f in its ssh clients; "
                    "settled after %.1f s "
                    "(%.2f + %.2f CPU s by then); %d snapshots; RSS %.1f MB before it was made, "
                    "peak %.1f MB\n",
                    monitorSeconds, cost.processCpuSeconds, cost.sshCpuSeconds, cost.settleSeconds,
                    cost.processCpuToSettle, cost.sshCpuToSettle, cost.snapshots,
                    double(cost.rssBeforeKb) / 1024, double(cost.peakRssKb) / 1024);
    }
    figures->load = loadAverage();
    return finish(0);
}

double ratio(double value, double baseline)
{
    return baseline > 0 ? value / baseline : 0;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc == 6 && qstrcmp(argv[1], "--watch") == 0)
        return watchCluster(QString::fromLocal8Bit(argv[2]), QString::fromLocal8Bit(argv[3]),
                            QString::fromLocal8Bit(argv[4]), std::atoi(argv[5]));
    const int deliveries = argc > 1 ? std::max(5, std::atoi(argv[1])) : 50;
    const int monitorSeconds = argc > 2 ? std::max(10, std::atoi(argv[2])) : 60;

    std::printf(
        "real sandbox clusters on 127.0.0.1, %d CPUs; Dovecot %s\n",
        int(std::thread::hardware_concurrency()),
        patchedDovecot()
            ? qPrintable(QStringLiteral("patched, ") + kDovecotPrefix)
            : "stock (/usr): MAILMESH_DOVECOT_PREFIX is not configured, so migrate is skipped");
    std::fflush(stdout);
    const Plan plans[] = {{3, true, true}, {5, true, false}, {10, true, true}};
    QList<SizeFigures> results;
    for (const Plan &plan : plans) {
        SizeFigures figures;
        if (const int code = runSize(plan, deliveries, monitorSeconds, &figures); code != 0)
            return code;
        results << figures;
    }
    const SizeFigures &three = results.front();
    const SizeFigures &ten = results.back();

    std::printf("\nsummary (the 3-node cluster of this run is the baseline):\n");
    std::printf("  pair:     ");
    for (const SizeFigures &figures : results)
        std::printf("%d nodes %.1f s (%.2fx)  ", figures.nodes, figures.pair.seconds,
                    ratio(figures.pair.seconds, three.pair.seconds));
    std::printf("\n");
    if (three.migrate && ten.migrate) {
        std::printf("  migrate:  ");
        for (const SizeFigures &figures : results)
            if (figures.migrate)
                std::printf("%d nodes %.1f s (%.2fx)  ", figures.nodes, figures.migrate->seconds,
                            ratio(figures.migrate->seconds, three.migrate->seconds));
        std::printf("\n");
    } else {
        std::printf("  migrate:  not measured (no patched Dovecot)\n");
    }
    const double p50Three = percentile(three.deliveries, 0.5),
                 p95Three = percentile(three.deliveries, 0.95);
    const double p50Ten = percentile(ten.deliveries, 0.5),
                 p95Ten = percentile(ten.deliveries, 0.95);
    std::printf("  delivery until on every node: 3 nodes p50 %.2f s p95 %.2f s max %.2f s; 10 "
                "nodes p50 %.2f s "
                "p95 %.2f s max %.2f s; ratio 10/3 p50 %.2fx p95 %.2fx\n",
                p50Three, p95Three, percentile(three.deliveries, 1.0), p50Ten, p95Ten,
                percentile(ten.deliveries, 1.0), ratio(p50Ten, p50Three), ratio(p95Ten, p95Three));
    const MonitorCost &monitorThree = *three.monitor;
    const MonitorCost &monitorTen = *ten.monitor;
    const auto percentOfCore = [monitorSeconds](double cpu) { return 100 * cpu / monitorSeconds; };
    std::printf("  monitor over %d s, its process: 3 nodes %.2f CPU s (%.2f %% of a core), 10 "
                "nodes %.2f CPU s "
                "(%.2f %%); ratio 10/3 %.2fx\n",
                monitorSeconds, monitorThree.processCpuSeconds,
                percentOfCore(monitorThree.processCpuSeconds), monitorTen.processCpuSeconds,
                percentOfCore(monitorTen.processCpuSeconds),
                ratio(monitorTen.processCpuSeconds, monitorThree.processCpuSeconds));
    std::printf("  monitor over %d s, its ssh clients: 3 nodes %.2f CPU s (%.2f %%), 10 nodes %.2f "
                "CPU s (%.2f %%); "
                "ratio 10/3 %.2fx\n",
                monitorSeconds, monitorThree.sshCpuSeconds,
                percentOfCore(monitorThree.sshCpuSeconds), monitorTen.sshCpuSeconds,
                percentOfCore(monitorTen.sshCpuSeconds),
                ratio(monitorTen.sshCpuSeconds, monitorThree.sshCpuSeconds));
    const auto steadyCpu = [](const MonitorCost &cost) {
        return cost.processCpuSeconds - cost.processCpuToSettle + cost.sshCpuSeconds -
               cost.sshCpuToSettle;
    };
    const auto steadySeconds = [monitorSeconds](const MonitorCost &cost) {
        return monitorSeconds - cost.settleSeconds;
    };
    std::printf("  monitor once settled, process + ssh: 3 nodes %.2f CPU s in %.0f s (%.2f %%), 10 "
                "nodes %.2f CPU s "
                "in %.0f s (%.2f %%); ratio 10/3 of the share %.2fx\n",
                steadyCpu(monitorThree), steadySeconds(monitorThree),
                100 * steadyCpu(monitorThree) / steadySeconds(monitorThree), steadyCpu(monitorTen),
                steadySeconds(monitorTen), 100 * steadyCpu(monitorTen) / steadySeconds(monitorTen),
                ratio(steadyCpu(monitorTen) / steadySeconds(monitorTen),
                      steadyCpu(monitorThree) / steadySeconds(monitorThree)));
    std::printf("  monitor peak RSS of its process: 3 nodes %.1f MB (%.1f MB before the monitor "
                "was made), 10 nodes "
                "%.1f MB (%.1f MB); ratio 10/3 %.2fx, of the growth %.2fx\n",
                double(monitorThree.peakRssKb) / 1024, double(monitorThree.rssBeforeKb) / 1024,
                double(monitorTen.peakRssKb) / 1024, double(monitorTen.rssBeforeKb) / 1024,
                ratio(double(monitorTen.peakRssKb), double(monitorThree.peakRssKb)),
                ratio(double(monitorTen.peakRssKb - monitorTen.rssBeforeKb),
                      double(monitorThree.peakRssKb - monitorThree.rssBeforeKb)));
    std::printf("  10 nodes x 10,000 folders, one snapshot's CPU: see bench_snapshotscale "
                "(recorded replies)\n");
    std::printf("  load average at the end of each size: ");
    for (const SizeFigures &figures : results)
        std::printf("%d nodes %s; ", figures.nodes, qPrintable(figures.load));
    std::printf("\n");
    return 0;
}
