#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace mm::cluster {

// One origin -> observer pair of one canary run. The latency is measured on the app's clock:
// from the moment the origin's agent answered that the probe was written to the moment the app
// learned it was on the observer (docs/monitoring.md, "The replication canary"), so the nodes'
// clocks never enter it.
struct CanaryPairResult
{
    QString origin;
    QString observer;
    std::optional<double> latencySeconds; // empty: not seen (see failure)
    // Why there is no latency: "timeout" (not seen within the run's timeout), or the reason the
    // pair could not be measured (a node not reachable, the write refused).
    QString failure;
    QString noticedBy; // "event" (Syncthing's ItemFinished) or "poll" (the agent's canary-list)

    bool measured() const { return latencySeconds.has_value(); }
    friend bool operator==(const CanaryPairResult &, const CanaryPairResult &) = default;
};

// What one canary run found: a result per ordered pair of nodes, and whether every probe is gone
// from every node again.
struct CanaryReport
{
    QDateTime startedAt;
    QDateTime finishedAt;
    double timeoutSeconds = 0;
    QList<CanaryPairResult> pairs;
    QStringList leftBehind; // "node: probe" still present when the run gave up waiting
    QStringList problems;   // cleanup that failed, in plain words

    bool cleanedUp() const { return leftBehind.isEmpty() && problems.isEmpty(); }
};

QJsonObject canaryReportToJson(const CanaryReport &report);

// One pair as the dashboard and `status` show it: the latest run and the last hour.
struct CanaryPairLatency
{
    QString origin;
    QString observer;
    QDateTime measuredAt; // of the latest run
    std::optional<double> latestSeconds;
    QString latestFailure; // empty when the latest run measured it
    std::optional<double> p95Seconds; // over the measured runs of the last hour
    int samples = 0;  // measured runs in the last hour
    int failures = 0; // runs in the last hour that did not see the probe arrive

    friend bool operator==(const CanaryPairLatency &, const CanaryPairLatency &) = default;
};

} // namespace mm::cluster
