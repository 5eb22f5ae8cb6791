#pragma once

#include "cluster/monitor/clusterstate.h"

#include <QAbstractTableModel>
#include <QDateTime>

namespace mm::ui {

struct LogEvent
{
    QDateTime time;
    cluster::Health severity = cluster::Health::Ok;
    QString node; // empty: the cluster as a whole
    QString message;
};

// What happened, newest last, bounded so a long-running session keeps a steady footprint.
class EventLogModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { Time, Severity, Node, Message, ColumnCount };
    static constexpr int kMaxEvents = 10'000;

    explicit EventLogModel(QObject *parent = nullptr);

    void append(LogEvent event);
    // Tab-separated text, one event per line: what "Export" writes.
    QString toText(const QModelIndexList &rows = {}) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    QList<LogEvent> m_events;
};

} // namespace mm::ui
