#pragma once

#include "cluster/config/clusterconfig.h"

#include <QAbstractTableModel>
#include <QHash>

namespace mm::ui {

// The setup wizard's nodes while the admin types them: one row per node, every row checked
// with ClusterConfig::validate() on each change, its problems kept per row and field.
class NodeDraftModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { Id, Ssh, MailRoot, MailUser, SshOptions, SyncthingHome, StateDir, Problems, ColumnCount };

    explicit NodeDraftModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    QList<cluster::NodeConfig> nodes() const { return m_nodes; }
    void setNodes(const QList<cluster::NodeConfig> &nodes);
    const cluster::NodeConfig &node(int row) const { return m_nodes.at(row); }
    void setNode(int row, const cluster::NodeConfig &node);
    // Appends a node with a free id ("node1", "node2"...) and returns its row.
    int addNode();
    void removeNode(int row);

    // "mailRoot" -> message, for the row's fields; "" holds what names no single field.
    QHash<QString, QString> problems(int row) const { return m_problems.value(row); }
    bool isValid() const { return m_valid; }

Q_SIGNALS:
    void validityChanged();

private:
    void revalidate();

    QList<cluster::NodeConfig> m_nodes;
    QHash<int, QHash<QString, QString>> m_problems;
    bool m_valid = false;
};

} // namespace mm::ui
