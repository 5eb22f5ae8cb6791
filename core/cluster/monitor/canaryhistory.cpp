#include "cluster/monitor/canaryhistory.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>

namespace mm::cluster {

QJsonObject canaryReportToJson(const CanaryReport &report)
{
    QJsonArray pairs;
    for (const CanaryPairResult &pair : report.pairs) {
        QJsonObject object{{QStringLiteral("origin"), pair.origin}, {QStringLiteral("observer"), pair.observer}};
        if (pair.latencySeconds) {
            object.insert(QStringLiteral("latencySeconds"), *pair.latencySeconds);
            object.insert(QStringLiteral("noticedBy"), pair.noticedBy);
        } else {
            object.insert(QStringLiteral("failure"), pair.failure);
        }
        pairs.append(object);
    }
    return QJsonObject{
        {QStringLiteral("schemaVersion"), 1},
        {QStringLiteral("startedAt"), report.startedAt.toString(Qt::ISODateWithMs)},
        {QStringLiteral("finishedAt"), report.finishedAt.toString(Qt::ISODateWithMs)},
        {QStringLiteral("timeoutSeconds"), report.timeoutSeconds},
        {QStringLiteral("pairs"), pairs},
        {QStringLiteral("cleanedUp"), report.cleanedUp()},
        {QStringLiteral("leftBehind"), QJsonArray::fromStringList(report.leftBehind)},
        {QStringLiteral("problems"), QJsonArray::fromStringList(report.problems)},
    };
}

void CanaryHistory::add(const CanaryReport &report)
{
    const QDateTime at = report.finishedAt.isValid() ? report.finishedAt : report.startedAt;
    for (const CanaryPairResult &pair : report.pairs)
        m_samples[{pair.origin, pair.observer}].append(Sample{at, pair});
    // Drop what left the window, measured from the newest run.
    const QDateTime oldest = at.addSecs(-kWindowSeconds);
    for (auto it = m_samples.begin(); it != m_samples.end();) {
        it->removeIf([&](const Sample &sample) { return sample.at < oldest; });
        it = it->isEmpty() ? m_samples.erase(it) : std::next(it);
    }
}

QList<CanaryPairLatency> CanaryHistory::latencies(const QDateTime &now) const
{
    QList<CanaryPairLatency> out;
    const QDateTime oldest = now.addSecs(-kWindowSeconds);
    for (auto it = m_samples.cbegin(); it != m_samples.cend(); ++it) {
        CanaryPairLatency pair{it.key().first, it.key().second, {}, {}, {}, {}, 0, 0};
        QList<double> measured;
        for (const Sample &sample : *it) {
            if (sample.at < oldest)
                continue;
            if (sample.result.latencySeconds)
                measured << *sample.result.latencySeconds;
            else
                ++pair.failures;
        }
        const Sample &latest = it->constLast();
        if (latest.at < oldest)
            continue;
        pair.measuredAt = latest.at;
        pair.latestSeconds = latest.result.latencySeconds;
        pair.latestFailure = latest.result.failure;
        pair.samples = int(measured.size());
        pair.p95Seconds = percentile(measured, 0.95);
        out << pair;
    }
    return out;
}

std::optional<double> CanaryHistory::percentile(QList<double> values, double p)
{
    if (values.isEmpty())
        return std::nullopt;
    std::sort(values.begin(), values.end());
    const auto i = qsizetype(std::ceil(p * double(values.size()))) - 1;
    return values[std::clamp<qsizetype>(i, 0, values.size() - 1)];
}

} // namespace mm::cluster
