#include "cluster/monitor/clustermetrics.h"

#include "cluster/monitor/prometheustext.h"

namespace mm::cluster {

namespace {

using Type = PrometheusText::Type;

double flag(bool value)
{
    return value ? 1 : 0;
}

double epochSeconds(const QDateTime &time)
{
    return double(time.toMSecsSinceEpoch()) / 1000.0;
}

} // namespace

QString clusterMetrics(const ClusterState &state, bool settled)
{
    PrometheusText metrics;
    const auto gauge = [&metrics](const char *name, const char *help) {
        metrics.family(QLatin1String(name), Type::Gauge, QLatin1String(help));
    };
    const auto node = [](const QString &id) { return PrometheusText::Labels{{QStringLiteral("node"), id}}; };
    const auto link = [](const QString &id, const QString &peer) {
        return PrometheusText::Labels{{QStringLiteral("node"), id}, {QStringLiteral("peer"), peer}};
    };

    gauge("mailmesh_status_settled", "1 when every node answered everything once before the snapshot was taken");
    metrics.sample(QStringLiteral("mailmesh_status_settled"), {}, flag(settled));
    gauge("mailmesh_snapshot_timestamp_seconds", "When the snapshot was taken, in seconds since the epoch");
    metrics.sample(QStringLiteral("mailmesh_snapshot_timestamp_seconds"), {}, epochSeconds(state.takenAt));

    gauge("mailmesh_node_up", "1 when the node answered over ssh");
    gauge("mailmesh_node_agent_up", "1 when mailmesh-agent runs on the node");
    gauge("mailmesh_node_syncthing_up", "1 when the node's Syncthing REST API answered");
    gauge("mailmesh_node_change_watcher_up", "1 when mailmesh-agent watch-changes runs for the node's Syncthing");
    gauge("mailmesh_node_last_seen_timestamp_seconds", "Last successful contact with the node, in seconds since the epoch");
    gauge("mailmesh_node_problems", "Problems the monitor names for the node");
    gauge("mailmesh_quarantine_files", "Files in the node's quarantine");
    gauge("mailmesh_quarantine_bytes", "Bytes in the node's quarantine");
    for (const NodeState &n : state.nodes) {
        metrics.sample(QStringLiteral("mailmesh_node_up"), node(n.id), flag(n.reachability == Reachability::Reachable));
        metrics.sample(QStringLiteral("mailmesh_node_agent_up"), node(n.id), flag(!n.agentVersion.isEmpty()));
        metrics.sample(QStringLiteral("mailmesh_node_syncthing_up"), node(n.id), flag(!n.syncthingVersion.isEmpty()));
        if (n.changeWatcherRunning)
            metrics.sample(QStringLiteral("mailmesh_node_change_watcher_up"), node(n.id), flag(*n.changeWatcherRunning));
        if (n.lastSeen.isValid())
            metrics.sample(QStringLiteral("mailmesh_node_last_seen_timestamp_seconds"), node(n.id), epochSeconds(n.lastSeen));
        metrics.sample(QStringLiteral("mailmesh_node_problems"), node(n.id), double(n.problems.size()));
        if (n.quarantinedFiles)
            metrics.sample(QStringLiteral("mailmesh_quarantine_files"), node(n.id), double(*n.quarantinedFiles));
        if (n.quarantinedBytes)
            metrics.sample(QStringLiteral("mailmesh_quarantine_bytes"), node(n.id), double(*n.quarantinedBytes));
    }

    gauge("mailmesh_folder_need_items", "Items the node's Syncthing still needs in the mail folder");
    gauge("mailmesh_folder_pull_errors", "Files Syncthing failed to pull on the node");
    gauge("mailmesh_folder_conflict_copies", "Syncthing conflict copies in the node's mail folder");
    for (const FolderState &folder : state.folders) {
        if (folder.state.isEmpty())
            continue; // Syncthing never answered: nothing known
        metrics.sample(QStringLiteral("mailmesh_folder_need_items"), node(folder.nodeId), double(folder.needItems));
        metrics.sample(QStringLiteral("mailmesh_folder_pull_errors"), node(folder.nodeId), double(folder.pullErrors));
        metrics.sample(QStringLiteral("mailmesh_folder_conflict_copies"), node(folder.nodeId), double(folder.conflictCopies));
    }

    gauge("mailmesh_peer_connected", "1 when the node's Syncthing is connected to the peer");
    gauge("mailmesh_peer_in_sync", "1 when the peer is connected and has everything the node has (completion 100 %)");
    gauge("mailmesh_peer_completion_ratio", "The peer's completion of the mail folder as the node sees it, 0 to 1");
    gauge("mailmesh_peer_need_items", "Items the peer still needs from the node's view of the folder");
    gauge("mailmesh_peer_need_bytes", "Bytes the peer still needs");
    for (const PeerSync &peer : state.peers) {
        const auto labels = link(peer.nodeId, peer.peerId);
        metrics.sample(QStringLiteral("mailmesh_peer_connected"), labels, flag(peer.connected));
        metrics.sample(QStringLiteral("mailmesh_peer_in_sync"), labels,
                       flag(peer.connected && peer.completion >= 100 && peer.needItems == 0));
        metrics.sample(QStringLiteral("mailmesh_peer_completion_ratio"), labels, peer.completion / 100.0);
        metrics.sample(QStringLiteral("mailmesh_peer_need_items"), labels, double(peer.needItems));
        metrics.sample(QStringLiteral("mailmesh_peer_need_bytes"), labels, double(peer.needBytes));
    }

    gauge("mailmesh_canary_latency_seconds",
          "Latest replication canary latency from node (origin) to peer (observer), on the app's clock");
    gauge("mailmesh_canary_latency_p95_seconds", "95th percentile of the canary latency over the last hour");
    gauge("mailmesh_canary_arrived", "1 when the latest canary probe from node reached peer");
    gauge("mailmesh_canary_samples", "Canary runs that measured the pair in the last hour");
    gauge("mailmesh_canary_failures", "Canary runs in the last hour whose probe did not reach the peer");
    gauge("mailmesh_canary_last_run_timestamp_seconds", "When the latest canary run finished, in seconds since the epoch");
    gauge("mailmesh_canary_probes_left_behind", "Probes the latest canary run could not see deleted everywhere");
    for (const CanaryPairLatency &pair : state.canary) {
        const auto labels = link(pair.origin, pair.observer);
        if (pair.latestSeconds)
            metrics.sample(QStringLiteral("mailmesh_canary_latency_seconds"), labels, *pair.latestSeconds);
        if (pair.p95Seconds)
            metrics.sample(QStringLiteral("mailmesh_canary_latency_p95_seconds"), labels, *pair.p95Seconds);
        metrics.sample(QStringLiteral("mailmesh_canary_arrived"), labels, flag(pair.latestSeconds.has_value()));
        metrics.sample(QStringLiteral("mailmesh_canary_samples"), labels, pair.samples);
        metrics.sample(QStringLiteral("mailmesh_canary_failures"), labels, pair.failures);
    }
    if (state.canaryLastRunAt.isValid()) {
        metrics.sample(QStringLiteral("mailmesh_canary_last_run_timestamp_seconds"), {}, epochSeconds(state.canaryLastRunAt));
        metrics.sample(QStringLiteral("mailmesh_canary_probes_left_behind"), {}, double(state.canaryLeftBehind.size()));
    }

    gauge("mailmesh_duplicate_groups", "Duplicate groups on the node with the most");
    metrics.sample(QStringLiteral("mailmesh_duplicate_groups"), {}, state.duplicateGroups);
    gauge("mailmesh_cross_node_checked", "1 when a comparison of the nodes' mailboxes (UID conflicts, keyword clashes) completed");
    metrics.sample(QStringLiteral("mailmesh_cross_node_checked"), {}, flag(state.crossNodeChecked));
    if (state.crossNodeChecked) {
        gauge("mailmesh_uid_conflicts", "UIDs that name different messages on two nodes under one UIDVALIDITY");
        metrics.sample(QStringLiteral("mailmesh_uid_conflicts"), {}, state.uidConflicts);
        gauge("mailmesh_keyword_clashes", "Keyword letters that mean different keywords on two nodes");
        metrics.sample(QStringLiteral("mailmesh_keyword_clashes"), {}, state.keywordClashes);
    }
    int disagreeing = 0;
    const QStringList ids = state.nodeIds();
    for (const MailboxCounts &mailbox : state.mailboxes)
        if (!mailbox.agrees(ids))
            ++disagreeing;
    gauge("mailmesh_mailboxes", "Mailboxes (Maildir folders) found on any node");
    metrics.sample(QStringLiteral("mailmesh_mailboxes"), {}, double(state.mailboxes.size()));
    gauge("mailmesh_mailboxes_disagreeing", "Mailboxes whose message counts differ between nodes");
    metrics.sample(QStringLiteral("mailmesh_mailboxes_disagreeing"), {}, disagreeing);
    gauge("mailmesh_classic_folders", "Folders with a real new/ directory after the migration");
    metrics.sample(QStringLiteral("mailmesh_classic_folders"), {}, double(state.classicFolders.size()));
    return metrics.text();
}

} // namespace mm::cluster
