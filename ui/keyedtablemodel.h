#pragma once

#include <QAbstractTableModel>
#include <QHash>
#include <QList>

namespace mm::ui {

// A table whose rows are values with a key (a node id, a mailbox path). setRows() replaces the
// rows while keeping row identity: rows whose key is gone are removed, new keys are appended,
// and rows that stayed emit dataChanged only when they changed. Selections and scroll positions
// survive a new snapshot that way; a model reset would destroy them.
template <class Row, class Key>
class KeyedTableModel : public QAbstractTableModel
{
public:
    using QAbstractTableModel::QAbstractTableModel;

    int rowCount(const QModelIndex &parent = {}) const override
    {
        return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
    }

    const Row &rowAt(int row) const { return m_rows.at(row); }
    int rowOf(const Key &key) const { return static_cast<int>(m_index.value(key, -1)); }

protected:
    virtual Key keyOf(const Row &row) const = 0;

    void setRows(QList<Row> fresh)
    {
        QHash<Key, qsizetype> freshIndex;
        freshIndex.reserve(fresh.size());
        for (qsizetype i = 0; i < fresh.size(); ++i)
            freshIndex.insert(keyOf(fresh[i]), i);

        // Remove vanished rows bottom-up, one contiguous run at a time.
        for (qsizetype last = m_rows.size() - 1; last >= 0;) {
            if (freshIndex.contains(keyOf(m_rows[last]))) {
                --last;
                continue;
            }
            qsizetype first = last;
            while (first > 0 && !freshIndex.contains(keyOf(m_rows[first - 1])))
                --first;
            beginRemoveRows({}, static_cast<int>(first), static_cast<int>(last));
            m_rows.remove(first, last - first + 1);
            endRemoveRows();
            last = first - 1;
        }
        reindex();

        QList<Row> added;
        for (Row &row : fresh) {
            const qsizetype at = m_index.value(keyOf(row), -1);
            if (at < 0) {
                added << std::move(row);
            } else if (!(m_rows[at] == row)) {
                m_rows[at] = std::move(row);
                Q_EMIT dataChanged(index(static_cast<int>(at), 0),
                                   index(static_cast<int>(at), columnCount() - 1));
            }
        }
        if (!added.isEmpty()) {
            const auto first = static_cast<int>(m_rows.size());
            beginInsertRows({}, first, first + static_cast<int>(added.size()) - 1);
            m_rows.append(std::move(added));
            endInsertRows();
            reindex();
        }
    }

    // For models whose columns depend on the data (one per node): a full reset is unavoidable.
    void resetRows(QList<Row> fresh)
    {
        beginResetModel();
        m_rows = std::move(fresh);
        reindex();
        endResetModel();
    }

private:
    void reindex()
    {
        m_index.clear();
        m_index.reserve(m_rows.size());
        for (qsizetype i = 0; i < m_rows.size(); ++i)
            m_index.insert(keyOf(m_rows[i]), i);
    }

    QList<Row> m_rows;
    QHash<Key, qsizetype> m_index;
};

} // namespace mm::ui
