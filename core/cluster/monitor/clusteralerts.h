#pragma once

#include "cluster/monitor/clusterstate.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QString>

namespace mm::cluster {

// When the admin should be told, with nobody looking at the dashboard: the rules behind the
// tray's notifications, fed one snapshot after another. Each alert is raised once when its
// condition starts, not on every snapshot while it lasts.
class ClusterAlerts
{
public:
    struct Thresholds
    {
        int syncStallSeconds = 600; // a peer below 100% this long is a stall
        bool duplicates = true;
        bool uidConflicts = true;
        bool classicFolders = true;
    };

    struct Alert
    {
        enum class Kind
        {
            NodeDown,
            SyncStalled,
            Duplicates,
            UidConflicts,
            ClassicFolder
        };
        Kind kind;
        QString title;
        QString text;
        bool critical = false;
    };

    ClusterAlerts();
    explicit ClusterAlerts(Thresholds thresholds);
    void setThresholds(const Thresholds &thresholds) { m_thresholds = thresholds; }

    // The alerts this snapshot raises, judged against the ones before it. `now` is the
    // snapshot's time (passed in so tests need no clock).
    QList<Alert> update(const ClusterState &state, const QDateTime &now);

private:
    Thresholds m_thresholds;
    bool m_first = true;
    QHash<QString, Reachability> m_reachability;  // node -> last seen
    QHash<QString, QDateTime> m_laggingSince;     // "node>peer" -> since when below 100%
    QHash<QString, bool> m_stallReported;
    int m_duplicateGroups = 0;
    int m_uidConflicts = 0;
    int m_keywordClashes = 0;
    QStringList m_classicFolders;
};

} // namespace mm::cluster
