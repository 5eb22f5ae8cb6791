#pragma once

#include "cluster/monitor/canaryreport.h"

#include <QDateTime>
#include <QList>
#include <QMap>

#include <utility>

namespace mm::cluster {

// The canary runs of the last hour, per pair, in memory like the dashboard's other histories
// (ui/synchistory): enough for "latest" and "p95 over the last hour".
class CanaryHistory
{
public:
    static constexpr qint64 kWindowSeconds = 3600;

    void add(const CanaryReport &report);
    // Every pair seen in the window, ordered by origin then observer; older runs are dropped.
    QList<CanaryPairLatency> latencies(const QDateTime &now) const;
    bool isEmpty() const { return m_samples.isEmpty(); }

    // The nearest-rank percentile (p in 0..1) of values; nullopt for none.
    static std::optional<double> percentile(QList<double> values, double p);

private:
    struct Sample
    {
        QDateTime at;
        CanaryPairResult result;
    };
    QMap<std::pair<QString, QString>, QList<Sample>> m_samples;
};

} // namespace mm::cluster
