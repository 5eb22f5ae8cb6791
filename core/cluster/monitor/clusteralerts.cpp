#include "cluster/monitor/clusteralerts.h"

#include <QObject>

namespace mm::cluster {

ClusterAlerts::ClusterAlerts()
    : ClusterAlerts(Thresholds{})
{
}

ClusterAlerts::ClusterAlerts(Thresholds thresholds)
    : m_thresholds(thresholds)
{
}

QList<ClusterAlerts::Alert> ClusterAlerts::update(const ClusterState &state, const QDateTime &now)
{
    QList<Alert> alerts;
    for (const NodeState &node : state.nodes) {
        const Reachability before = m_reachability.value(node.id, Reachability::Unknown);
        if (node.reachability == Reachability::Unreachable && before == Reachability::Reachable)
            alerts.append({Alert::Kind::NodeDown, QObject::tr("%1 is down").arg(node.id),
                           node.problems.isEmpty() ? QObject::tr("It cannot be reached.") : node.problems.first(), true});
        m_reachability.insert(node.id, node.reachability);
    }

    for (const PeerSync &peer : state.peers) {
        const QString key = peer.nodeId + u'>' + peer.peerId;
        const bool lagging = !peer.connected || peer.completion < 100 || peer.needItems > 0;
        if (!lagging) {
            m_laggingSince.remove(key);
            m_stallReported.remove(key);
            continue;
        }
        if (!m_laggingSince.contains(key))
            m_laggingSince.insert(key, now);
        const qint64 seconds = m_laggingSince.value(key).secsTo(now);
        if (seconds >= m_thresholds.syncStallSeconds && !m_stallReported.value(key)) {
            m_stallReported.insert(key, true);
            alerts.append({Alert::Kind::SyncStalled, QObject::tr("Sync stalled: %1 → %2").arg(peer.nodeId, peer.peerId),
                           peer.connected ? QObject::tr("%1% for %2 minutes, %3 to go")
                                                .arg(peer.completion, 0, 'f', 0)
                                                .arg(seconds / 60)
                                                .arg(QObject::tr("%n item(s)", nullptr, int(peer.needItems)))
                                          : QObject::tr("not connected for %1 minutes").arg(seconds / 60),
                           false});
        }
    }

    // Counts that grow, and folders that appear: the baseline is the first snapshot, so what
    // was already there when the app started is on the dashboard, not in a notification.
    if (!m_first && m_thresholds.duplicates && state.duplicateGroups > m_duplicateGroups)
        alerts.append({Alert::Kind::Duplicates, QObject::tr("New duplicates"),
                       QObject::tr("%n duplicate group(s) in the cluster now", nullptr, state.duplicateGroups), false});
    if (!m_first && m_thresholds.uidConflicts && state.uidConflicts > m_uidConflicts)
        alerts.append({Alert::Kind::UidConflicts, QObject::tr("UID conflict"),
                       state.uidConflictDetails.isEmpty() ? QObject::tr("%n UID conflict(s)", nullptr, state.uidConflicts)
                                                          : state.uidConflictDetails.first(),
                       true});
    if (!m_first && m_thresholds.uidConflicts && state.keywordClashes > m_keywordClashes)
        alerts.append({Alert::Kind::UidConflicts, QObject::tr("Keyword clash"),
                       state.keywordClashDetails.isEmpty()
                           ? QObject::tr("%n keyword clash(es)", nullptr, state.keywordClashes)
                           : state.keywordClashDetails.first(),
                       true});
    if (!m_first && m_thresholds.classicFolders)
        for (const QString &folder : state.classicFolders)
            if (!m_classicFolders.contains(folder))
                alerts.append({Alert::Kind::ClassicFolder, QObject::tr("A classic folder needs converting"),
                               QObject::tr("%1 has a real new/ (created by the MTA for a new user or folder): run the "
                                           "migration again to convert it.")
                                   .arg(folder),
                               false});
    m_duplicateGroups = state.duplicateGroups;
    m_uidConflicts = state.uidConflicts;
    m_keywordClashes = state.keywordClashes;
    m_classicFolders = state.classicFolders;
    m_first = false;
    return alerts;
}

} // namespace mm::cluster
