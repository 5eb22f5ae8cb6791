#include "cluster/clusterstate.h"

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
    return summary;
}

} // namespace mm::cluster
