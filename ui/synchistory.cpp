#include "ui/synchistory.h"

#include <QCoreApplication>
#include <QLocale>

#include <algorithm>
#include <tuple>

namespace mm::ui {

using cluster::PeerSync;
using cluster::Reachability;

namespace {

QString directionKey(const QString &nodeId, const QString &peerId)
{
    return nodeId + u'>' + peerId;
}

Reachability reachabilityOf(const cluster::ClusterState &state, const QString &nodeId)
{
    for (const cluster::NodeState &node : state.nodes)
        if (node.id == nodeId)
            return node.reachability;
    return Reachability::Unknown;
}

// A view from a node the monitor cannot reach is stale (or the defaults from before the first
// contact); it neither starts nor ends a lag.
const PeerSync *usableView(const cluster::ClusterState &state, const QString &nodeId,
                           const QString &peerId)
{
    return reachabilityOf(state, nodeId) == Reachability::Reachable ? state.peer(nodeId, peerId)
                                                                    : nullptr;
}

QString describeView(const PeerSync &view)
{
    const auto tr = [](const char *text) {
        return QCoreApplication::translate("mm::ui::SyncHistory", text);
    };
    if (!view.connected)
        return tr("%1 → %2: not connected").arg(view.nodeId, view.peerId);
    return tr("%1 → %2: %3% complete, %4 items still needed")
        .arg(view.nodeId, view.peerId, QLocale().toString(view.completion, 'f', 1),
             QLocale().toString(view.needItems));
}

QDateTime bucketStart(const QDateTime &at)
{
    const qint64 seconds = at.toSecsSinceEpoch();
    return QDateTime::fromSecsSinceEpoch(seconds - seconds % SyncHistory::kBucketSeconds, Qt::UTC);
}

} // namespace

void SyncHistory::add(const cluster::ClusterState &state)
{
    if (!state.takenAt.isValid())
        return;
    // A snapshot older than the latest (the clock went back) counts as taken at the latest, so
    // lags and samples stay in order.
    m_latest = m_latest.isValid() ? std::max(m_latest, state.takenAt) : state.takenAt;
    if (!m_first.isValid())
        m_first = m_latest;
    m_nodeIds = state.nodeIds();
    trackLag(state);
    buildLinks(state);
    sampleNodes(state);
}

qint64 SyncHistory::lagSeconds(const QString &nodeId, const QString &peerId) const
{
    const auto since = m_notInSyncSince.constFind(directionKey(nodeId, peerId));
    return since == m_notInSyncSince.cend() ? 0 : since->secsTo(m_latest);
}

void SyncHistory::trackLag(const cluster::ClusterState &state)
{
    QHash<QString, QDateTime> kept;
    for (const QString &nodeId : std::as_const(m_nodeIds)) {
        for (const QString &peerId : std::as_const(m_nodeIds)) {
            if (nodeId == peerId)
                continue;
            const QString key = directionKey(nodeId, peerId);
            const PeerSync *view = usableView(state, nodeId, peerId);
            const auto since = m_notInSyncSince.constFind(key);
            if (!view) {
                // Unknown for now: a lag that was running goes on, none starts.
                if (since != m_notInSyncSince.cend())
                    kept.insert(key, *since);
            } else if (!peerInSync(*view)) {
                kept.insert(key, since != m_notInSyncSince.cend() ? *since : m_latest);
            }
        }
    }
    m_notInSyncSince = std::move(kept); // nodes that left the cluster leave with it
}

void SyncHistory::buildLinks(const cluster::ClusterState &state)
{
    m_links.clear();
    for (qsizetype i = 0; i < m_nodeIds.size(); ++i) {
        for (qsizetype j = i + 1; j < m_nodeIds.size(); ++j) {
            const QString &first = m_nodeIds.at(i);
            const QString &second = m_nodeIds.at(j);
            const PeerSync *forward = state.peer(first, second);
            const PeerSync *backward = state.peer(second, first);
            if (!forward && !backward)
                continue; // the pair does not share the folder
            Link link;
            link.first = first;
            link.second = second;
            QStringList details;
            for (const auto &[from, to, view] :
                 {std::tuple{first, second, forward}, std::tuple{second, first, backward}}) {
                const auto since = m_notInSyncSince.constFind(directionKey(from, to));
                if (since != m_notInSyncSince.cend()) {
                    const qint64 lag = since->secsTo(m_latest);
                    if (lag >= link.lagSeconds) {
                        link.lagSeconds = lag;
                        link.lagAtLeast = *since == m_first;
                    }
                }
                if (const PeerSync *usable = usableView(state, from, to)) {
                    link.itemsBehind = std::max(link.itemsBehind, usable->needItems);
                    details << describeView(*usable);
                } else if (view) {
                    details << QCoreApplication::translate("mm::ui::SyncHistory",
                                                           "%1 → %2: not known (%1 not reachable)")
                                   .arg(from, to);
                }
            }
            link.state = linkState(
                {reachabilityOf(state, first), reachabilityOf(state, second), forward, backward},
                link.lagSeconds);
            if (link.state == LinkState::InSync) {
                link.lagSeconds = 0;
                link.lagAtLeast = false;
            }
            link.details = details.join(u'\n');
            m_links << link;
        }
    }
}

void SyncHistory::sampleNodes(const cluster::ClusterState &state)
{
    for (const cluster::NodeState &node : state.nodes) {
        Sample sample;
        sample.at = bucketStart(m_latest);
        sample.reachable = node.reachability != Reachability::Unreachable;
        // Its own count of what it needs, and what its peers see it missing (the only word
        // there is while it is unreachable); each peer sees the same items, so the largest.
        if (node.reachability == Reachability::Reachable)
            for (const cluster::FolderState &folder : state.folders)
                if (folder.nodeId == node.id)
                    sample.itemsBehind = std::max(sample.itemsBehind, folder.needItems);
        for (const QString &peerId : std::as_const(m_nodeIds)) {
            if (peerId == node.id)
                continue;
            if (const PeerSync *view = usableView(state, peerId, node.id))
                sample.itemsBehind = std::max(sample.itemsBehind, view->needItems);
            sample.lagSeconds = std::max(sample.lagSeconds, lagSeconds(peerId, node.id));
        }
        addSample(node.id, sample);
    }
    for (auto it = m_samples.begin(); it != m_samples.end();) {
        if (m_nodeIds.contains(it.key()))
            ++it;
        else
            it = m_samples.erase(it);
    }
}

void SyncHistory::addSample(const QString &nodeId, const Sample &sample)
{
    QList<Sample> &samples = m_samples[nodeId];
    if (!samples.isEmpty() && samples.last().at >= sample.at) {
        Sample &last = samples.last(); // same bucket: keep the worst of it
        last.itemsBehind = std::max(last.itemsBehind, sample.itemsBehind);
        last.lagSeconds = std::max(last.lagSeconds, sample.lagSeconds);
        last.reachable = last.reachable && sample.reachable;
    } else {
        samples << sample;
    }
    const QDateTime oldest = sample.at.addSecs(-kWindowSeconds);
    while (!samples.isEmpty() &&
           (samples.first().at < oldest || samples.size() > kMaxSamplesPerNode))
        samples.removeFirst();
}

} // namespace mm::ui
