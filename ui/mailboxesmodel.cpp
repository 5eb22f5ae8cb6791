#include "ui/mailboxesmodel.h"

#include "ui/statuspresentation.h"

#include <QFont>
#include <QLocale>

namespace mm::ui {

MailboxesModel::MailboxesModel(QObject *parent)
    : KeyedTableModel(parent)
{
}

void MailboxesModel::setSnapshot(const cluster::ClusterSnapshot &snapshot)
{
    QList<cluster::MailboxCounts> mailboxes = snapshot ? snapshot->mailboxes : QList<cluster::MailboxCounts>{};
    const QStringList nodeIds = snapshot ? snapshot->nodeIds() : QStringList{};
    if (nodeIds != m_nodeIds) {
        // The columns follow the nodes; a changed node set is rare (add/remove node) and
        // justifies a reset.
        beginResetModel();
        m_nodeIds = nodeIds;
        endResetModel();
        resetRows(std::move(mailboxes));
        return;
    }
    setRows(std::move(mailboxes));
}

int MailboxesModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : agreementColumn() + 1;
}

QVariant MailboxesModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const cluster::MailboxCounts &mailbox = rowAt(index.row());
    const bool agrees = mailbox.agrees(m_nodeIds);
    const int column = index.column();
    if (role == DisagreesRole)
        return !agrees;
    if (column == 0) {
        if (role == Qt::DisplayRole || role == SortRole)
            return mailbox.mailbox;
        if (role == Qt::DecorationRole && !agrees)
            return healthIcon(cluster::Health::Warning);
        if (role == Qt::FontRole && !agrees) {
            QFont font;
            font.setBold(true);
            return font;
        }
        return {};
    }
    if (column == agreementColumn()) {
        if (role == Qt::DisplayRole)
            return agrees ? tr("same") : tr("differs");
        if (role == SortRole)
            return agrees ? 1 : 0;
        return {};
    }
    const QString &nodeId = m_nodeIds.at(column - 1);
    const auto count = mailbox.messagesByNode.constFind(nodeId);
    const bool present = count != mailbox.messagesByNode.cend();
    if (role == Qt::DisplayRole)
        return present ? QLocale().toString(*count) : tr("missing");
    if (role == SortRole)
        return present ? *count : qint64(-1);
    if (role == Qt::TextAlignmentRole)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::FontRole && !agrees) {
        QFont font;
        font.setBold(true);
        return font;
    }
    return {};
}

QVariant MailboxesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= columnCount())
        return {};
    if (role == Qt::DisplayRole) {
        if (section == 0)
            return tr("Mailbox");
        if (section == agreementColumn())
            return tr("Nodes agree");
        return m_nodeIds.at(section - 1);
    }
    if (role == Qt::ToolTipRole) {
        if (section == 0)
            return tr("Maildir folder, relative to the mail root");
        if (section == agreementColumn())
            return tr("Whether every node holds the same number of messages in this mailbox");
        return tr("Messages in this mailbox on node %1").arg(m_nodeIds.at(section - 1));
    }
    return {};
}

} // namespace mm::ui
