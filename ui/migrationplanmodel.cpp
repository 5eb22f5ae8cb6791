#include "ui/migrationplanmodel.h"

#include <QJsonObject>
#include <QLocale>

namespace mm::ui {

MigrationPlanModel::MigrationPlanModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void MigrationPlanModel::setPlan(const QJsonArray &nodes)
{
    beginResetModel();
    m_rows.clear();
    for (const QJsonValue &value : nodes) {
        const QJsonObject node = value.toObject();
        const QJsonObject plan = node.value(QStringLiteral("plan")).toObject();
        Row row;
        row.node = node.value(QStringLiteral("id")).toString();
        // migrate's plan counts folders to convert; revert's, folders to turn classic.
        row.folders = plan.contains(QStringLiteral("converted")) ? plan.value(QStringLiteral("converted")).toInteger()
                                                                 : plan.value(QStringLiteral("folders")).toInteger();
        row.messages = plan.value(QStringLiteral("moved")).toInteger();
        for (const QJsonValue &problem : plan.value(QStringLiteral("problemList")).toArray()) {
            const QJsonObject p = problem.toObject();
            row.problems << QStringLiteral("%1: %2 (%3)").arg(p.value(QStringLiteral("path")).toString(),
                                                             p.value(QStringLiteral("kind")).toString(),
                                                             p.value(QStringLiteral("detail")).toString());
        }
        row.state = tr("planned");
        m_rows << row;
    }
    endResetModel();
}

void MigrationPlanModel::setState(const QString &nodeId, const QString &state)
{
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_rows[i].node != nodeId || m_rows[i].state == state)
            continue;
        m_rows[i].state = state;
        Q_EMIT dataChanged(index(i, StateColumn), index(i, StateColumn));
    }
}

QStringList MigrationPlanModel::problems(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_rows[row].problems : QStringList();
}

int MigrationPlanModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int MigrationPlanModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant MigrationPlanModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const Row &row = m_rows[index.row()];
    const QLocale locale;
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case NodeColumn:
            return row.node;
        case FoldersColumn:
            return locale.toString(row.folders);
        case MessagesColumn:
            return locale.toString(row.messages);
        case ProblemsColumn:
            return row.problems.isEmpty() ? tr("none") : tr("%n problem(s)", nullptr, int(row.problems.size()));
        case StateColumn:
            return row.state;
        }
    }
    if (role == Qt::ToolTipRole && index.column() == ProblemsColumn && !row.problems.isEmpty())
        return row.problems.join(u'\n');
    if (role == Qt::TextAlignmentRole && (index.column() == FoldersColumn || index.column() == MessagesColumn))
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

QVariant MigrationPlanModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
        case NodeColumn:
            return tr("Node");
        case FoldersColumn:
            return tr("Folders");
        case MessagesColumn:
            return tr("Messages to move");
        case ProblemsColumn:
            return tr("Problems");
        case StateColumn:
            return tr("State");
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case NodeColumn:
            return tr("The node's id in the cluster file");
        case FoldersColumn:
            return tr("Maildir folders that change layout on this node");
        case MessagesColumn:
            return tr("Messages waiting in new/ that move to cur/, keeping their names");
        case ProblemsColumn:
            return tr("Folders left untouched (hostile symlinks, unreadable files...); hover for details");
        case StateColumn:
            return tr("Where the run is on this node");
        }
    }
    return {};
}

} // namespace mm::ui
