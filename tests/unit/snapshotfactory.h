#pragma once

// Builds ClusterState snapshots for model and view tests.

#include "cluster/monitor/clusterstate.h"

namespace mm::test {

inline cluster::NodeState healthyNode(const QString &id)
{
    cluster::NodeState node;
    node.id = id;
    node.reachability = cluster::Reachability::Reachable;
    node.hostKey = cluster::HostKeyState::Pinned;
    node.agentVersion = QStringLiteral("0.1.0");
    node.dovecotVersion = QStringLiteral("2.3.19.1");
    node.dovecotCurOnlyBuild = true;
    node.dovecotCurOnlyEnabled = true;
    node.syncthingVersion = QStringLiteral("v1.19.2");
    node.lastSeen = QDateTime::fromSecsSinceEpoch(1'800'000'000);
    return node;
}

inline cluster::MailboxCounts mailbox(const QString &name, const QList<std::pair<QString, qint64>> &counts)
{
    cluster::MailboxCounts mailbox;
    mailbox.mailbox = name;
    for (const auto &[node, count] : counts)
        mailbox.messagesByNode.insert(node, count);
    return mailbox;
}

inline cluster::ClusterSnapshot snapshotOf(const QStringList &nodeIds, QList<cluster::MailboxCounts> mailboxes = {})
{
    auto state = std::make_shared<cluster::ClusterState>();
    for (const QString &id : nodeIds)
        state->nodes << healthyNode(id);
    for (const QString &node : nodeIds)
        for (const QString &peer : nodeIds)
            if (node != peer)
                state->peers << cluster::PeerSync{node, peer, true, 100.0, 0, 0};
    state->mailboxes = std::move(mailboxes);
    return state;
}

} // namespace mm::test
