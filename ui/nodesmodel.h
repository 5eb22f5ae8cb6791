#pragma once

#include "cluster/monitor/clusterstate.h"
#include "ui/keyedtablemodel.h"

namespace mm::ui {

// The dashboard's nodes table: one row per node of the latest snapshot.
class NodesModel : public KeyedTableModel<cluster::NodeState, QString>
{
    Q_OBJECT

public:
    enum Column { Node, Health, Reachable, HostKey, Agent, Dovecot, CurOnly, Syncthing, LastSeen, Problems, ColumnCount };

    explicit NodesModel(QObject *parent = nullptr);

    void setSnapshot(const cluster::ClusterSnapshot &snapshot);

    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

protected:
    QString keyOf(const cluster::NodeState &node) const override { return node.id; }
};

} // namespace mm::ui
