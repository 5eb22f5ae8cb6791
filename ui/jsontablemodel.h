#pragma once

#include <QAbstractTableModel>
#include <QJsonArray>
#include <QJsonObject>

#include <functional>
#include <vector>

namespace mm::ui {

// A read-only table over a list of JSON objects (a workflow report's rows): each column says
// how to show a row, and the header's tooltip says what the column means. Workflow reports are
// the source of truth; this only presents them.
class JsonTableModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    struct Column
    {
        using Cell = std::function<QVariant(const QJsonObject &row)>;
        Column(QString title, QString tooltip, Cell display, bool alignRight = false, Cell cellTooltip = {})
            : title(std::move(title))
            , tooltip(std::move(tooltip))
            , display(std::move(display))
            , alignRight(alignRight)
            , cellTooltip(std::move(cellTooltip))
        {
        }

        QString title;
        QString tooltip; // what the column means, on its header
        Cell display;
        bool alignRight = false;
        Cell cellTooltip; // empty: the displayed text
    };

    JsonTableModel(std::vector<Column> columns, QObject *parent = nullptr);

    void setRows(const QJsonArray &rows);
    QJsonObject row(int index) const { return index >= 0 && index < m_rows.size() ? m_rows.at(index).toObject() : QJsonObject(); }

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::vector<Column> m_columns;
    QJsonArray m_rows;
};

} // namespace mm::ui
