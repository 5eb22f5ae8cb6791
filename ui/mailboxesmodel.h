#pragma once

#include "cluster/monitor/clusterstate.h"
#include "ui/keyedtablemodel.h"

#include <QStringList>

namespace mm::ui {

// Every mailbox with its message count on each node, side by side: column 0 is the mailbox,
// then one column per node, then whether they agree.
class MailboxesModel : public KeyedTableModel<cluster::MailboxCounts, QString>
{
    Q_OBJECT

public:
    static constexpr int SortRole = Qt::UserRole;
    static constexpr int DisagreesRole = Qt::UserRole + 1; // bool, for a "disagreeing only" filter

    explicit MailboxesModel(QObject *parent = nullptr);

    void setSnapshot(const cluster::ClusterSnapshot &snapshot);

    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

protected:
    QString keyOf(const cluster::MailboxCounts &mailbox) const override { return mailbox.mailbox; }

private:
    int agreementColumn() const { return static_cast<int>(m_nodeIds.size()) + 1; }

    QStringList m_nodeIds;
};

} // namespace mm::ui
