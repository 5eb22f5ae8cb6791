// How responsive the GUI thread stays while the app follows a busy cluster: the demo's three
// sandbox nodes are started, paired and monitored while a 5 ms timer on the GUI thread records
// how late it fires. The same timer on an idle event loop, measured first in the same run, is
// the baseline. Prints the longest stall and the 99th percentile of both, and their ratio.
// Goal (issue: desktop app part 1): no stall above 50 ms.

#include "cluster/clustermonitor.h"
#include "democluster.h"
#include "ui/mainwindow.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

constexpr int kTickMs = 5;

struct Lateness
{
    std::vector<double> samplesMs;

    double longest() const { return samplesMs.empty() ? 0 : *std::max_element(samplesMs.begin(), samplesMs.end()); }
    double percentile(double p) const
    {
        if (samplesMs.empty())
            return 0;
        std::vector<double> sorted = samplesMs;
        std::sort(sorted.begin(), sorted.end());
        return sorted[static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1))];
    }
};

// Runs the event loop for durationMs while a kTickMs timer measures how late each tick is.
Lateness measure(int durationMs)
{
    Lateness lateness;
    QElapsedTimer clock;
    clock.start();
    qint64 last = clock.nsecsElapsed();
    QTimer tick;
    tick.setTimerType(Qt::PreciseTimer);
    QObject::connect(&tick, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed();
        lateness.samplesMs.push_back(std::max(0.0, static_cast<double>(now - last) / 1e6 - kTickMs));
        last = now;
    });
    tick.start(kTickMs);
    QTimer::singleShot(durationMs, qApp, &QCoreApplication::quit);
    QCoreApplication::exec();
    return lateness;
}

} // namespace

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const int busySeconds = argc > 1 ? std::max(10, atoi(argv[1])) : 60;

    // The window is shown before the baseline, so its first layout and paint (fonts, styles)
    // count as start-up, not as a stall caused by following the cluster.
    mm::ui::MainWindow window;
    window.show();
    const Lateness idle = measure(3000);

    mm::app::DemoCluster demo;
    bool failed = false;
    QObject::connect(&demo, &mm::app::DemoCluster::failed, [&](const QString &reason) {
        std::fprintf(stderr, "demo failed: %s\n", qPrintable(reason));
        failed = true;
        QCoreApplication::quit();
    });
    QObject::connect(&demo, &mm::app::DemoCluster::clusterReady,
                     [&](const QString &file, mm::cluster::ClusterMonitor *monitor) {
                         if (window.openCluster(file, false))
                             window.followMonitor(monitor);
                     });
    demo.start();
    const Lateness busy = measure(busySeconds * 1000);
    const std::size_t snapshots = demo.monitor() ? static_cast<std::size_t>(demo.monitor()->snapshot()->nodes.size()) : 0;
    demo.stop();
    if (failed || snapshots == 0) {
        std::fprintf(stderr, "the demo cluster never came up; nothing was measured\n");
        return 1;
    }

    std::printf("GUI thread lateness of a %d ms timer (ms): idle p99 %.2f, longest %.2f; "
                "following the demo cluster for %d s: p99 %.2f, longest %.2f\n",
                kTickMs, idle.percentile(0.99), idle.longest(), busySeconds, busy.percentile(0.99), busy.longest());
    std::printf("longest stall ratio busy/idle: %.1fx; goal: no stall above 50 ms -> %s\n",
                busy.longest() / std::max(0.01, idle.longest()), busy.longest() <= 50 ? "met" : "NOT met");
    return 0;
}
