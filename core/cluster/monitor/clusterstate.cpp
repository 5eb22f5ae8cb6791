#include "cluster/monitor/clusterstate.h"

#include <QDir>
#include <QHash>
#include <QJsonObject>

#include <algorithm>

namespace mm::cluster {

Health NodeState::health() const
{
    if (reachability == Reachability::Unknown)
        return Health::Unknown;
    if (reachability == Reachability::Unreachable || hostKey == HostKeyState::Changed)
        return Health::Error;
    if (!problems.isEmpty() || hostKey == HostKeyState::NotAccepted || agentVersion.isEmpty()
        || syncthingVersion.isEmpty())
        return Health::Warning;
    return Health::Ok;
}

bool MailboxCounts::agrees(const QStringList &nodeIds) const
{
    if (nodeIds.isEmpty())
        return true;
    const auto first = messagesByNode.constFind(nodeIds.first());
    if (first == messagesByNode.cend())
        return false;
    for (const QString &id : nodeIds) {
        const auto count = messagesByNode.constFind(id);
        if (count == messagesByNode.cend() || *count != *first)
            return false;
    }
    return true;
}

QStringList ClusterState::nodeIds() const
{
    QStringList ids;
    ids.reserve(nodes.size());
    for (const NodeState &node : nodes)
        ids << node.id;
    return ids;
}

const PeerSync *ClusterState::peer(const QString &nodeId, const QString &peerId) const
{
    for (const PeerSync &candidate : peers)
        if (candidate.nodeId == nodeId && candidate.peerId == peerId)
            return &candidate;
    return nullptr;
}

ClusterState::Summary ClusterState::summary() const
{
    Summary summary;
    for (const NodeState &node : nodes) {
        switch (node.health()) {
        case Health::Ok:
            ++summary.ok;
            break;
        case Health::Warning:
        case Health::Unknown:
            ++summary.warnings;
            break;
        case Health::Error:
            ++summary.errors;
            break;
        }
    }
    const QStringList ids = nodeIds();
    for (const MailboxCounts &mailbox : mailboxes)
        if (!mailbox.agrees(ids))
            ++summary.warnings;
    if (duplicateGroups > 0)
        ++summary.warnings;
    if (!classicFolders.isEmpty())
        ++summary.warnings;
    if (uidConflicts > 0)
        ++summary.errors;
    if (keywordClashes > 0)
        ++summary.errors;
    return summary;
}

std::shared_ptr<ClusterState> assembleClusterState(const QList<NodeContribution> &nodes)
{
    auto state = std::make_shared<ClusterState>();
    QHash<QString, MailboxCounts> mailboxes;
    for (const NodeContribution &node : nodes) {
        state->nodes << node.state;
        state->peers << node.peers;
        state->folders << node.folder;
        mailboxes.reserve(node.mailboxCounts.size());
        for (auto count = node.mailboxCounts.cbegin(); count != node.mailboxCounts.cend(); ++count) {
            MailboxCounts &mailbox = mailboxes[count.key()];
            if (mailbox.mailbox.isEmpty())
                mailbox.mailbox = count.key();
            mailbox.messagesByNode.insert(node.state.id, count.value());
        }
        // Every node holds a replica of the same folders, so each finds the same groups: the
        // cluster has as many as the node that found the most, not their sum.
        state->duplicateGroups = std::max(state->duplicateGroups, node.duplicateGroups);
        state->classicFolders << node.classicFolders;
    }
    state->mailboxes = mailboxes.values();
    std::sort(state->mailboxes.begin(), state->mailboxes.end(),
              [](const MailboxCounts &a, const MailboxCounts &b) { return a.mailbox < b.mailbox; });
    return state;
}

ScanInventory inventoryFromScan(const QString &nodeId, const QJsonArray &folders)
{
    ScanInventory inventory;
    QStringList classic;
    bool migrated = false;
    for (const QJsonValue &value : folders) {
        const QJsonObject folder = value.toObject();
        const QString path = folder.value(QLatin1String("path")).toString();
        const QString state = folder.value(QLatin1String("state")).toString();
        inventory.mailboxCounts.insert(path, folder.value(QLatin1String("curMessages")).toInteger()
                                                 + folder.value(QLatin1String("newMessages")).toInteger());
        migrated = migrated || state == QLatin1String("cur-only");
        // What convert still has to make cur/-only: a real new/, or a `new` lost to a DELETE that
        // raced mail added on another node (MaildirWalker::lacksOnlyNew).
        if (state == QLatin1String("classic") ||
            (state == QLatin1String("broken") &&
             folder.value(QLatin1String("brokenReason")).toString() == QLatin1String("new is missing")))
            classic << nodeId + QLatin1Char(':') + path;
    }
    if (migrated)
        inventory.classicFolders = classic;
    return inventory;
}

bool changeWatcherRunsFor(const QJsonArray &changeWatchers, const QString &syncthingHome)
{
    const QString wanted = syncthingHome.isEmpty() ? QString() : QDir::cleanPath(syncthingHome);
    return std::any_of(changeWatchers.begin(), changeWatchers.end(), [&wanted](const QJsonValue &watcher) {
        const QString home = watcher.toObject().value(QLatin1String("syncthingHome")).toString();
        return wanted.isEmpty() || (!home.isEmpty() && QDir::cleanPath(home) == wanted);
    });
}

} // namespace mm::cluster
