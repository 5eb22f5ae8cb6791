#pragma once

#include "cluster/monitor/clusterstate.h"
#include "ui/linkstate.h"

#include <QDateTime>
#include <QHash>
#include <QList>
#include <QString>
#include <QStringList>

namespace mm::ui {

// The last hour of the cluster's sync, for the cluster view and the lag charts, built from the
// snapshots the dashboard gets: per link its state and lag, per node a bounded list of samples.
// Lag is how long a node has not been in sync with a peer. Syncthing does not report it; it is
// measured here from the snapshots' times, so it starts at the first snapshot the app saw.
// Time comes only from ClusterState::takenAt, never from the clock.
class SyncHistory
{
public:
    static constexpr qint64 kWindowSeconds = 3600;
    // Snapshots come every few seconds; one sample per bucket (the worst values in it) keeps an
    // hour at 361 samples per node whatever the snapshot rate.
    static constexpr qint64 kBucketSeconds = 10;
    static constexpr int kMaxSamplesPerNode = int(kWindowSeconds / kBucketSeconds) + 1;

    struct Sample
    {
        QDateTime at;           // start of the sample's bucket
        qint64 itemsBehind = 0; // what the node still needs, as it or its peers see it
        qint64 lagSeconds = 0;  // how long some peer has seen it not in sync
        bool reachable = true;  // false when the node was unreachable at any time in the bucket
    };

    // A pair of nodes that share the mail folder, the first one earlier in cluster order.
    struct Link
    {
        QString first;
        QString second;
        LinkState state = LinkState::Unknown;
        qint64 itemsBehind = 0;  // the larger of the two directions
        qint64 lagSeconds = 0;   // the longer of the two directions; 0 when in sync
        bool lagAtLeast = false; // not in sync since before the first snapshot seen
        QString details;         // both directions in words, for a tooltip
    };

    // Takes in a snapshot; snapshots without a time are ignored.
    void add(const cluster::ClusterState &state);

    QDateTime first() const { return m_first; }
    QDateTime latest() const { return m_latest; }
    // Whether a lag of this length began before the first snapshot seen (so it is longer).
    bool isLowerBound(qint64 lagSeconds) const
    {
        return lagSeconds > 0 && m_first.secsTo(m_latest) <= lagSeconds;
    }
    QStringList nodeIds() const { return m_nodeIds; }
    QList<Sample> samples(const QString &nodeId) const { return m_samples.value(nodeId); }
    QList<Link> links() const { return m_links; }
    // How long `peerId` has not been in sync as `nodeId`'s Syncthing sees it, at the latest
    // snapshot (0: in sync, or nothing known).
    qint64 lagSeconds(const QString &nodeId, const QString &peerId) const;

private:
    void trackLag(const cluster::ClusterState &state);
    void buildLinks(const cluster::ClusterState &state);
    void sampleNodes(const cluster::ClusterState &state);
    void addSample(const QString &nodeId, const Sample &sample);

    QDateTime m_first;
    QDateTime m_latest;
    QStringList m_nodeIds;
    QHash<QString, QDateTime> m_notInSyncSince; // "node>peer" -> first snapshot that saw it so
    QHash<QString, QList<Sample>> m_samples;
    QList<Link> m_links;
};

} // namespace mm::ui
