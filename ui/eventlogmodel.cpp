#include "ui/eventlogmodel.h"

#include "ui/statuspresentation.h"

namespace mm::ui {

EventLogModel::EventLogModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

void EventLogModel::append(LogEvent event)
{
    if (m_events.size() >= kMaxEvents) {
        const int drop = kMaxEvents / 10; // trim in chunks, not one row per event
        beginRemoveRows({}, 0, drop - 1);
        m_events.remove(0, drop);
        endRemoveRows();
    }
    const auto row = static_cast<int>(m_events.size());
    beginInsertRows({}, row, row);
    m_events << std::move(event);
    endInsertRows();
}

QString EventLogModel::toText(const QModelIndexList &rows) const
{
    QString text;
    const auto line = [&](const LogEvent &event) {
        text += event.time.toUTC().toString(Qt::ISODate) + QLatin1Char('\t') + healthText(event.severity)
                + QLatin1Char('\t') + (event.node.isEmpty() ? QStringLiteral("-") : event.node) + QLatin1Char('\t')
                + event.message + QLatin1Char('\n');
    };
    if (rows.isEmpty()) {
        for (const LogEvent &event : m_events)
            line(event);
    } else {
        for (const QModelIndex &index : rows)
            if (index.isValid() && index.model() == this)
                line(m_events.at(index.row()));
    }
    return text;
}

int EventLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_events.size());
}

int EventLogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant EventLogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const LogEvent &event = m_events.at(index.row());
    switch (static_cast<Column>(index.column())) {
    case Time:
        if (role == Qt::DisplayRole)
            return event.time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
        if (role == Qt::UserRole)
            return event.time;
        break;
    case Severity:
        if (role == Qt::DisplayRole)
            return healthText(event.severity);
        if (role == Qt::DecorationRole)
            return healthIcon(event.severity);
        if (role == Qt::UserRole)
            return static_cast<int>(event.severity);
        break;
    case Node:
        if (role == Qt::DisplayRole || role == Qt::UserRole)
            return event.node.isEmpty() ? tr("cluster") : event.node;
        break;
    case Message:
        if (role == Qt::DisplayRole || role == Qt::ToolTipRole || role == Qt::UserRole)
            return event.message;
        break;
    case ColumnCount:
        break;
    }
    return {};
}

QVariant EventLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    static const char *const titles[] = {QT_TR_NOOP("Time"), QT_TR_NOOP("Severity"), QT_TR_NOOP("Node"),
                                         QT_TR_NOOP("Event")};
    static const char *const tips[] = {QT_TR_NOOP("When Mailmesh noticed it (local time)"),
                                       QT_TR_NOOP("OK, warning or error"),
                                       QT_TR_NOOP("Which node it concerns"),
                                       QT_TR_NOOP("What happened")};
    if (section < 0 || section >= ColumnCount)
        return {};
    if (role == Qt::DisplayRole)
        return tr(titles[section]);
    if (role == Qt::ToolTipRole)
        return tr(tips[section]);
    return {};
}

} // namespace mm::ui
