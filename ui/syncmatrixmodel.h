#pragma once

#include "cluster/monitor/clusterstate.h"

#include <QAbstractTableModel>

namespace mm::ui {

// Node x peer: how far each node's Syncthing has the mail folder in sync with each peer.
// Rows are the nodes, columns their peers (same order); the diagonal is empty.
class SyncMatrixModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    explicit SyncMatrixModel(QObject *parent = nullptr);

    void setSnapshot(const cluster::ClusterSnapshot &snapshot);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    cluster::ClusterSnapshot m_snapshot;
    QStringList m_nodeIds;
};

} // namespace mm::ui
