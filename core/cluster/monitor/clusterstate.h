#pragma once

#include "cluster/monitor/canaryreport.h"

#include <QDateTime>
#include <QJsonArray>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

namespace mm::cluster {

enum class Health { Ok, Warning, Error, Unknown };

enum class Reachability { Unknown, Reachable, Unreachable };

enum class HostKeyState {
    Unknown,     // not connected yet
    Pinned,      // matches the fingerprint in the cluster file
    NotAccepted, // the node offered a key that the admin has not accepted yet
    Changed,     // differs from the pinned fingerprint: every workflow refuses the node
};

// One node as the monitor last saw it.
struct NodeState
{
    QString id;
    Reachability reachability = Reachability::Unknown;
    HostKeyState hostKey = HostKeyState::Unknown;
    QString agentVersion;       // empty: agent not running
    QString dovecotVersion;     // empty: not found
    bool dovecotCurOnlyBuild = false;
    bool dovecotCurOnlyEnabled = false;
    QString syncthingVersion;   // empty: REST API not reachable
    QDateTime lastSeen;         // last successful contact
    bool inventoryTaken = false; // the agent's probe and inventory (counts and duplicates) both answered since connecting
    // Whether `mailmesh-agent watch-changes` runs for the node's Syncthing home (from the probe);
    // nullopt until the probe answered. Without it some changes (a folder deleted and made again,
    // a path Syncthing's puller is writing) reach the other nodes only at the hourly full rescan.
    std::optional<bool> changeWatcherRunning;
    // The node's quarantine (files dedupe and friends set aside); nullopt until it was listed.
    std::optional<qint64> quarantinedFiles;
    std::optional<qint64> quarantinedBytes;
    QStringList problems;       // plain words, one per problem

    Health health() const;
    friend bool operator==(const NodeState &, const NodeState &) = default;
};

// The mail folder as one node's Syncthing sees one of its peers.
struct PeerSync
{
    QString nodeId;
    QString peerId;
    bool connected = false;
    double completion = 0;  // percent, 0-100
    qint64 needItems = 0;
    qint64 needBytes = 0;

    friend bool operator==(const PeerSync &, const PeerSync &) = default;
};

// The mail folder on one node.
struct FolderState
{
    QString nodeId;
    QString state;          // Syncthing's: idle, scanning, syncing, paused, error...
    qint64 needItems = 0;
    int pullErrors = 0;
    int conflictCopies = 0;
    // Why Syncthing's file system watcher is not running (empty: it runs). Without it a change
    // on this node reaches the others only at the next full rescan (an hour).
    QString watchError;

    friend bool operator==(const FolderState &, const FolderState &) = default;
};

// One mailbox (a Maildir folder, by its path relative to the mail root) on every node.
struct MailboxCounts
{
    QString mailbox;
    QMap<QString, qint64> messagesByNode; // node id -> message count; absent: not present there

    // True when every listed node has the mailbox with the same number of messages.
    bool agrees(const QStringList &nodeIds) const;
    friend bool operator==(const MailboxCounts &, const MailboxCounts &) = default;
};

// An immutable picture of the whole cluster at one moment. The monitor builds a new one for
// every change and hands it out as a shared pointer, so views never see half an update.
struct ClusterState
{
    QDateTime takenAt;
    QList<NodeState> nodes;
    QList<PeerSync> peers;
    QList<FolderState> folders;
    QList<MailboxCounts> mailboxes;
    int duplicateGroups = 0;
    int uidConflicts = 0;
    QStringList uidConflictDetails; // "folder: UID 7 is A on node1, B on node2"
    // One keyword letter meaning different keywords on two nodes: clients see the wrong keyword.
    int keywordClashes = 0;
    QStringList keywordClashDetails; // "folder: keyword letter a is $Junk on node1, Work on node2"
    bool crossNodeChecked = false;  // a cross-node comparison (UID conflicts) has completed
    QStringList classicFolders; // "node:path" of folders convert must still do after migration:
                                // a real new/, or new lost (MaildirWalker::lacksOnlyNew)
    // The replication canary, per origin -> observer pair: the latest run and the last hour.
    // Empty until a run finished (docs/monitoring.md, "The replication canary").
    QList<CanaryPairLatency> canary;
    QDateTime canaryLastRunAt;
    QStringList canaryLeftBehind; // probes the latest run could not see gone: "node: probe"

    QStringList nodeIds() const;
    const PeerSync *peer(const QString &nodeId, const QString &peerId) const;

    struct Summary
    {
        int ok = 0;
        int warnings = 0;
        int errors = 0;
    };
    // Counts nodes by health, with duplicates, UID conflicts and disagreeing mailboxes added as
    // warnings (conflicts as errors), as a status page would show them.
    Summary summary() const;
};

using ClusterSnapshot = std::shared_ptr<const ClusterState>;

// What one node's monitor knows, as a snapshot takes it in.
struct NodeContribution
{
    NodeState state;
    QList<PeerSync> peers;
    FolderState folder;
    QMap<QString, qint64> mailboxCounts; // mailbox path -> messages on this node
    int duplicateGroups = 0;
    QStringList classicFolders;
};

// The cluster-wide part of a snapshot: nodes, peers and folders side by side, every mailbox's
// counts across the nodes, duplicate groups and classic folders. Cross-node findings (UID
// conflicts) and takenAt are the caller's to fill in.
std::shared_ptr<ClusterState> assembleClusterState(const QList<NodeContribution> &nodes);

// A node's mailbox counts and its classic folders, from the folders of the agent's `scan`
// reply. Classic folders count only on a node that has cur/-only folders already: before the
// migration every folder is classic, and none needs flagging.
struct ScanInventory
{
    QMap<QString, qint64> mailboxCounts;
    QStringList classicFolders; // "node:path"
};
ScanInventory inventoryFromScan(const QString &nodeId, const QJsonArray &folders);

// Whether the probe's `changeWatchers` (protocol.md, "probe") hold one for this Syncthing home.
// Paths are compared cleaned ("/a/b/" is "/a/b"); an empty home takes any watcher.
bool changeWatcherRunsFor(const QJsonArray &changeWatchers, const QString &syncthingHome);

} // namespace mm::cluster
