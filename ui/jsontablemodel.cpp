#include "ui/jsontablemodel.h"

namespace mm::ui {

JsonTableModel::JsonTableModel(std::vector<Column> columns, QObject *parent)
    : QAbstractTableModel(parent)
    , m_columns(std::move(columns))
{
}

void JsonTableModel::setRows(const QJsonArray &rows)
{
    beginResetModel();
    m_rows = rows;
    endResetModel();
}

int JsonTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int JsonTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_columns.size());
}

QVariant JsonTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size() || index.column() >= int(m_columns.size()))
        return {};
    const Column &column = m_columns[std::size_t(index.column())];
    if (role == Qt::DisplayRole)
        return column.display(m_rows[index.row()].toObject());
    if (role == Qt::ToolTipRole)
        return column.cellTooltip ? column.cellTooltip(m_rows[index.row()].toObject()) : column.display(m_rows[index.row()].toObject());
    if (role == Qt::TextAlignmentRole && column.alignRight)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

QVariant JsonTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= int(m_columns.size()))
        return {};
    if (role == Qt::DisplayRole)
        return m_columns[std::size_t(section)].title;
    if (role == Qt::ToolTipRole)
        return m_columns[std::size_t(section)].tooltip;
    return {};
}

} // namespace mm::ui
