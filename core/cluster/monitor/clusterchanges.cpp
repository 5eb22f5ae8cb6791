#include "cluster/monitor/clusterchanges.h"

#include <QCoreApplication>

namespace mm::cluster {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("ClusterChanges", text);
}

const NodeState *findNode(const ClusterState *state, const QString &id)
{
    if (!state)
        return nullptr;
    for (const NodeState &node : state->nodes)
        if (node.id == id)
            return &node;
    return nullptr;
}

void compareNode(const NodeState *before, const NodeState &now, QList<ClusterChange> &changes)
{
    const Reachability was = before ? before->reachability : Reachability::Unknown;
    if (now.reachability == Reachability::Unreachable && was != Reachability::Unreachable)
        changes << ClusterChange{Health::Error, now.id, tr("Node is unreachable over SSH")};
    else if (now.reachability == Reachability::Reachable && was == Reachability::Unreachable)
        changes << ClusterChange{Health::Ok, now.id, tr("Node is reachable again")};

    const HostKeyState keyWas = before ? before->hostKey : HostKeyState::Unknown;
    if (now.hostKey == HostKeyState::Changed && keyWas != HostKeyState::Changed)
        changes << ClusterChange{Health::Error, now.id,
                                 tr("Host key changed: Mailmesh refuses this node until the new key is verified")};

    for (const QString &problem : now.problems)
        if (!before || !before->problems.contains(problem))
            changes << ClusterChange{Health::Warning, now.id, problem};
}

} // namespace

QList<ClusterChange> changesBetween(const ClusterState *previous, const ClusterState &current)
{
    QList<ClusterChange> changes;
    for (const NodeState &node : current.nodes)
        compareNode(findNode(previous, node.id), node, changes);
    if (previous) {
        for (const NodeState &node : previous->nodes)
            if (!findNode(&current, node.id))
                changes << ClusterChange{Health::Ok, node.id, tr("Node removed from the cluster")};
    }

    const int duplicatesBefore = previous ? previous->duplicateGroups : 0;
    if (current.duplicateGroups > duplicatesBefore)
        changes << ClusterChange{Health::Warning, {},
                                 QCoreApplication::translate("ClusterChanges",
                                                             "%n duplicate group(s) found; `mailmesh-agent dupes ROOT` on "
                                                             "a node lists them with their keepers",
                                                             nullptr, current.duplicateGroups)};
    const int conflictsBefore = previous ? previous->uidConflicts : 0;
    if (current.uidConflicts > conflictsBefore)
        changes << ClusterChange{Health::Error, {},
                                 QCoreApplication::translate("ClusterChanges",
                                                             "%n UID conflict(s): the same UID names different "
                                                             "messages on two nodes",
                                                             nullptr, current.uidConflicts)};
    const int clashesBefore = previous ? previous->keywordClashes : 0;
    if (current.keywordClashes > clashesBefore)
        changes << ClusterChange{Health::Error, {},
                                 QCoreApplication::translate("ClusterChanges",
                                                             "%n keyword clash(es): one keyword letter means different "
                                                             "keywords on two nodes",
                                                             nullptr, current.keywordClashes)};
    for (const QString &folder : current.classicFolders)
        if (!previous || !previous->classicFolders.contains(folder))
            changes << ClusterChange{Health::Warning, {},
                                     tr("New classic Maildir folder needs converting: %1").arg(folder)};
    return changes;
}

} // namespace mm::cluster
