#include "ui/nodesmodel.h"

#include "ui/statuspresentation.h"

#include <QLocale>

namespace mm::ui {

using cluster::HostKeyState;
using cluster::NodeState;
using cluster::Reachability;

namespace {

QString reachabilityText(Reachability reachability)
{
    switch (reachability) {
    case Reachability::Reachable:
        return NodesModel::tr("yes");
    case Reachability::Unreachable:
        return NodesModel::tr("no");
    case Reachability::Unknown:
        break;
    }
    return NodesModel::tr("not yet");
}

QString hostKeyText(HostKeyState state)
{
    switch (state) {
    case HostKeyState::Pinned:
        return NodesModel::tr("verified");
    case HostKeyState::NotAccepted:
        return NodesModel::tr("not accepted");
    case HostKeyState::Changed:
        return NodesModel::tr("CHANGED");
    case HostKeyState::Unknown:
        break;
    }
    return NodesModel::tr("unknown");
}

QString orDash(const QString &text)
{
    return text.isEmpty() ? QStringLiteral("—") : text;
}

} // namespace

NodesModel::NodesModel(QObject *parent)
    : KeyedTableModel(parent)
{
}

void NodesModel::setSnapshot(const cluster::ClusterSnapshot &snapshot)
{
    setRows(snapshot ? snapshot->nodes : QList<NodeState>{});
}

int NodesModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant NodesModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const NodeState &node = rowAt(index.row());
    const auto column = static_cast<Column>(index.column());
    if (role == Qt::DisplayRole) {
        switch (column) {
        case Node:
            return node.id;
        case Health:
            return healthText(node.health());
        case Reachable:
            return reachabilityText(node.reachability);
        case HostKey:
            return hostKeyText(node.hostKey);
        case Agent:
            return orDash(node.agentVersion);
        case Dovecot:
            return node.dovecotVersion.isEmpty()
                       ? QStringLiteral("—")
                       : node.dovecotVersion + (node.dovecotCurOnlyBuild ? tr(" (cur/-only build)") : tr(" (stock)"));
        case CurOnly:
            return node.dovecotCurOnlyBuild ? (node.dovecotCurOnlyEnabled ? tr("on") : tr("off")) : QStringLiteral("—");
        case Syncthing:
            return orDash(node.syncthingVersion);
        case LastSeen:
            return node.lastSeen.isValid() ? QLocale().toString(node.lastSeen.toLocalTime(), QLocale::ShortFormat)
                                           : tr("never");
        case Problems:
            return node.problems.join(QStringLiteral("; "));
        case ColumnCount:
            break;
        }
    } else if (role == Qt::DecorationRole && column == Health) {
        return healthIcon(node.health());
    } else if (role == Qt::ToolTipRole && column == Problems && !node.problems.isEmpty()) {
        return node.problems.join(QLatin1Char('\n'));
    } else if (role == Qt::ToolTipRole && column == HostKey && node.hostKey == HostKeyState::Changed) {
        return tr("The node offered a different host key than the one pinned. This can mean the server "
                  "was reinstalled, or that someone is intercepting the connection. Mailmesh refuses the "
                  "node until you verify the new key out of band.");
    } else if (role == Qt::UserRole) { // sort key
        if (column == LastSeen)
            return node.lastSeen;
        if (column == Health)
            return static_cast<int>(node.health());
        return data(index, Qt::DisplayRole);
    }
    return {};
}

QVariant NodesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        switch (static_cast<Column>(section)) {
        case Node:
            return tr("Node");
        case Health:
            return tr("Status");
        case Reachable:
            return tr("Reachable");
        case HostKey:
            return tr("Host key");
        case Agent:
            return tr("Agent");
        case Dovecot:
            return tr("Dovecot");
        case CurOnly:
            return tr("cur/-only");
        case Syncthing:
            return tr("Syncthing");
        case LastSeen:
            return tr("Last seen");
        case Problems:
            return tr("Problems");
        case ColumnCount:
            break;
        }
    } else if (role == Qt::ToolTipRole) {
        switch (static_cast<Column>(section)) {
        case Node:
            return tr("The node's id in the cluster file");
        case Health:
            return tr("Overall state: errors first, then warnings");
        case Reachable:
            return tr("Whether Mailmesh reached the node over SSH at its last attempt");
        case HostKey:
            return tr("Whether the node's SSH host key matches the fingerprint you accepted");
        case Agent:
            return tr("Version of mailmesh-agent running on the node");
        case Dovecot:
            return tr("Dovecot version, and whether it is the patched cur/-only build");
        case CurOnly:
            return tr("Whether maildir_cur_only is switched on (it is, after migration)");
        case Syncthing:
            return tr("Syncthing version, when its REST API answers through the SSH tunnel");
        case LastSeen:
            return tr("Last successful contact");
        case Problems:
            return tr("What needs your attention on this node");
        case ColumnCount:
            break;
        }
    }
    return {};
}

} // namespace mm::ui
