#pragma once

#include "common/result.h"

#include <QDateTime>
#include <QMap>
#include <QString>
#include <QStringList>

namespace mm::cluster {

// `status --check --auto-failover SECONDS`, run from cron: remembers since when each node has
// been unreachable, across runs, and says which nodes have been down long enough to fail over.
// Kept in a small JSON file beside the cluster file (stateFileFor()); never in the cluster file,
// which admins share and keep in git.
class FailoverClock
{
public:
    static QString stateFileFor(const QString &clusterFile); // "<cluster file>.down-since.json"
    // A missing file is an empty clock; an unreadable one is an error (the caller says so and
    // fails over nothing).
    static Result<FailoverClock> load(const QString &path);
    Status save(const QString &path) const;

    // One look at the cluster: nodes seen up are forgotten, nodes seen down keep the first time
    // they were seen down (now for a new one).
    void observe(const QStringList &reachable, const QStringList &unreachable,
                 const QDateTime &now);

    // Nodes down for at least thresholdSeconds that are not drained yet, in the given order. None
    // when no node is reachable (Mailmesh itself may be the one cut off), and never so many that
    // no reachable, undrained node would be left.
    QStringList due(const QStringList &nodeOrder, const QStringList &reachable,
                    const QStringList &drained, qint64 thresholdSeconds,
                    const QDateTime &now) const;

    QDateTime downSince(const QString &node) const { return m_downSince.value(node); }
    const QMap<QString, QDateTime> &entries() const { return m_downSince; }

private:
    QMap<QString, QDateTime> m_downSince;
};

} // namespace mm::cluster
