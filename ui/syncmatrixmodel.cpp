#include "ui/syncmatrixmodel.h"

#include "ui/statuspresentation.h"

#include <QLocale>

namespace mm::ui {

SyncMatrixModel::SyncMatrixModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void SyncMatrixModel::setSnapshot(const cluster::ClusterSnapshot &snapshot)
{
    const QStringList nodeIds = snapshot ? snapshot->nodeIds() : QStringList{};
    if (nodeIds != m_nodeIds) {
        beginResetModel();
        m_snapshot = snapshot;
        m_nodeIds = nodeIds;
        endResetModel();
        return;
    }
    m_snapshot = snapshot;
    if (!m_nodeIds.isEmpty())
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, columnCount() - 1));
}

int SyncMatrixModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_nodeIds.size());
}

int SyncMatrixModel::columnCount(const QModelIndex &parent) const
{
    return rowCount(parent);
}

QVariant SyncMatrixModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid) || !m_snapshot)
        return {};
    if (index.row() == index.column())
        return role == Qt::DisplayRole ? QVariant(QStringLiteral("—")) : QVariant();
    const cluster::PeerSync *peer = m_snapshot->peer(m_nodeIds.at(index.row()), m_nodeIds.at(index.column()));
    if (!peer)
        return role == Qt::DisplayRole ? QVariant(tr("unknown")) : QVariant();
    const bool inSync = peer->connected && peer->completion >= 100 && peer->needItems == 0;
    switch (role) {
    case Qt::DisplayRole:
        if (!peer->connected)
            return tr("disconnected");
        if (inSync)
            return tr("in sync");
        // Compact, so a matrix of several peers fits beside the nodes table; the tooltip has it all.
        return tr("%1%, %2 needed")
            .arg(QLocale().toString(peer->completion, 'f', 1), QLocale().toString(peer->needItems));
    case Qt::DecorationRole:
        return healthIcon(!peer->connected ? cluster::Health::Error
                                           : (inSync ? cluster::Health::Ok : cluster::Health::Warning));
    case Qt::ToolTipRole:
        return tr("%1 sees %2: %3% complete, %4 items / %5 bytes still needed")
            .arg(peer->nodeId, peer->peerId, QLocale().toString(peer->completion, 'f', 1))
            .arg(peer->needItems)
            .arg(peer->needBytes);
    case Qt::UserRole:
        return peer->completion;
    default:
        return {};
    }
}

QVariant SyncMatrixModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (section < 0 || section >= m_nodeIds.size())
        return {};
    if (role == Qt::DisplayRole)
        return m_nodeIds.at(section);
    if (role == Qt::ToolTipRole)
        return orientation == Qt::Vertical ? tr("What node %1 sees of its peers").arg(m_nodeIds.at(section))
                                           : tr("Peer %1").arg(m_nodeIds.at(section));
    return {};
}

} // namespace mm::ui
