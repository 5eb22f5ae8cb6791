#pragma once

#include <QAbstractTableModel>
#include <QJsonArray>

namespace mm::ui {

// The migration plan and progress, one row per node: what the dry run found (folders to
// convert, messages to move, problems), then the live state of the real run.
class MigrationPlanModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column
    {
        NodeColumn,
        FoldersColumn,
        MessagesColumn,
        ProblemsColumn,
        StateColumn,
        ColumnCount
    };

    explicit MigrationPlanModel(QObject *parent = nullptr);

    // report.details.nodes of a migrate or revert dry run.
    void setPlan(const QJsonArray &nodes);
    void setState(const QString &nodeId, const QString &state);
    QStringList problems(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Row
    {
        QString node;
        qint64 folders = 0;
        qint64 messages = 0;
        QStringList problems;
        QString state;
    };
    QList<Row> m_rows;
};

} // namespace mm::ui
