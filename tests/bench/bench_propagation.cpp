// How fast a delivery reaches the other nodes: a message is delivered into node 1's Maildir as an
// MTA does (written to tmp/, renamed into new/), and the clock runs until the file exists on every
// other node. Three sandbox nodes paired by the real PairWorkflow with Mailmesh's folder options;
// then the same folder switched to Syncthing's defaults (fsWatcherDelayS 10), in the same run, as
// the baseline. Prints p50 and p95 of both and their ratio.
// Goal (issue: cluster workflows part 2): p50 <= 1 s on loopback, and at least 5x the defaults.
//
//   bench_propagation [deliveries] [default-deliveries]     (default 100 and 20)

#include "cluster/workflows/pairworkflow.h"
#include "benchstats.h"
#include "cluster/config/sandboxcluster.h"
#include "sandbox/sandbox.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QProcess>
#include <QThread>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <unistd.h>

namespace {

using mm::bench::percentile;

// One REST call to a node's Syncthing, the way an admin would script it.
bool patchFolder(const mm::sandbox::NodeInfo &node, const QString &folderId, const QByteArray &json)
{
    QProcess curl;
    curl.start(QStringLiteral("curl"),
               {QStringLiteral("-sf"), QStringLiteral("-X"), QStringLiteral("PATCH"), QStringLiteral("-H"),
                QStringLiteral("X-API-Key: ") + node.syncthingApiKey, QStringLiteral("-d"), QString::fromUtf8(json),
                QStringLiteral("http://%1/rest/config/folders/%2").arg(node.syncthingGuiAddress(), folderId)});
    return curl.waitForFinished(30000) && curl.exitStatus() == QProcess::NormalExit && curl.exitCode() == 0;
}

// Delivers `count` messages on node 1 one after another; the seconds until each was on every node.
QList<double> measure(const mm::sandbox::Sandbox &sandbox, int count, const QString &tag)
{
    QList<double> seconds;
    const QList<mm::sandbox::NodeInfo> nodes = sandbox.nodes();
    for (int i = 0; i < count; ++i) {
        const QString name = QStringLiteral("%1.M%2P1.%3.bench").arg(1800000000 + i).arg(i).arg(tag);
        const QString tmp = nodes[0].maildir + QStringLiteral("/tmp/") + name;
        QFile file(tmp);
        if (!file.open(QIODevice::WriteOnly))
            return {};
        file.write(QStringLiteral("Message-ID: <%1@bench>\r\nSubject: propagation %2\r\n\r\n").arg(name).arg(i).toUtf8()
                   + QByteArray(2000, 'x') + "\r\n");
        file.close();
        // The sandbox's mail belongs to its mail user: so must a delivery, or Syncthing would
        // not be able to replace it.
        QFile::setPermissions(tmp, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup);
        if (::chown(qPrintable(tmp), sandbox.user().uid(), sandbox.user().gid()) != 0)
            return {};
        QElapsedTimer clock;
        clock.start();
        if (!QFile::rename(tmp, nodes[0].maildir + QStringLiteral("/new/") + name))
            return {};
        bool everywhere = false;
        while (!everywhere && clock.elapsed() < 120'000) {
            everywhere = true;
            for (qsizetype n = 1; n < nodes.size() && everywhere; ++n)
                everywhere = QFileInfo::exists(nodes[n].maildir + QStringLiteral("/new/") + name);
            if (!everywhere)
                QThread::msleep(5);
        }
        if (!everywhere)
            return {};
        seconds << double(clock.nsecsElapsed()) / 1e9;
        QThread::msleep(200); // deliveries apart, as mail arrives
    }
    return seconds;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int deliveries = argc > 1 ? std::max(5, std::atoi(argv[1])) : 100;
    const int defaultDeliveries = argc > 2 ? std::max(3, std::atoi(argv[2])) : 20;

    mm::sandbox::Sandbox sandbox;
    if (const auto started = sandbox.start(); !started) {
        std::fprintf(stderr, "sandbox: %s\n", started.error().message.c_str());
        return 3;
    }
    auto config = mm::cluster::clusterFromSandboxDescription(sandbox.description(), QStringLiteral("bench"));
    if (!config) {
        std::fprintf(stderr, "cluster: %s\n", config.error().message.c_str());
        return 3;
    }
    QNetworkAccessManager network;
    mm::cluster::MonitorOptions options;
    options.network = &network;
    options.ssh.configFile = sandbox.sshConfigFile();
    options.ssh.knownHostsFile = sandbox.dir() + QStringLiteral("/client/mailmesh_known_hosts");
    options.ssh.readKnownHostsFiles.clear();
    mm::cluster::PairWorkflow pair(*config, options);
    QEventLoop loop;
    bool paired = false;
    QObject::connect(&pair, &mm::cluster::Workflow::finished, &loop, [&](const mm::cluster::WorkflowReport &report) {
        paired = report.succeeded;
        if (!paired)
            std::fprintf(stderr, "pair: %s\n", report.error ? report.error->message.c_str() : "failed");
        loop.quit();
    });
    pair.start();
    loop.exec();
    if (!paired)
        return 3;

    const QList<double> ours = measure(sandbox, deliveries, QStringLiteral("ours"));
    bool switched = true;
    for (const mm::sandbox::NodeInfo &node : sandbox.nodes())
        switched = switched && patchFolder(node, config->folderId, R"({"fsWatcherDelayS":10})");
    QThread::sleep(2); // the folders restart with the new options
    const QList<double> defaults = switched ? measure(sandbox, defaultDeliveries, QStringLiteral("defaults")) : QList<double>{};
    sandbox.tearDown();
    if (ours.isEmpty() || defaults.isEmpty()) {
        std::fprintf(stderr, "a delivery never reached every node (or the folder options could not be changed)\n");
        return 1;
    }

    const double p50 = percentile(ours, 0.50), p95 = percentile(ours, 0.95);
    const double defaultP50 = percentile(defaults, 0.50), defaultP95 = percentile(defaults, 0.95);
    std::printf("delivery on node 1 until present on nodes 2 and 3 (s), 3 sandbox nodes on loopback:\n");
    std::printf("  Mailmesh folder options (fsWatcherDelayS 1), %3d deliveries: p50 %.2f  p95 %.2f\n",
                int(ours.size()), p50, p95);
    std::printf("  Syncthing defaults (fsWatcherDelayS 10),     %3d deliveries: p50 %.2f  p95 %.2f\n",
                int(defaults.size()), defaultP50, defaultP95);
    const double ratio = defaultP50 / std::max(0.001, p50);
    std::printf("ratio defaults/ours at p50: %.1fx; goal p50 <= 1 s and >= 5x -> %s\n", ratio,
                p50 <= 1.0 && ratio >= 5 ? "met" : "NOT met");
    return 0;
}
