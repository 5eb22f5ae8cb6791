#pragma once

#include "ui/synchistory.h"

#include <QHash>
#include <QWidget>

class QPainter;

namespace mm::ui {

// The last hour per node as two small charts: how long it has not been in sync with every
// peer (lag), and how many items it still needs. A row per node; spans where the node could not
// be reached are shaded.
class LagChartsWidget : public QWidget
{
    Q_OBJECT

public:
    explicit LagChartsWidget(QWidget *parent = nullptr);

    void setHistory(const SyncHistory &history);

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    enum class Measure
    {
        Lag,
        Items
    };
    qreal rowHeight() const;
    qreal headerHeight() const;
    void paintChart(QPainter &painter, const QRectF &area,
                    const QList<SyncHistory::Sample> &samples, Measure measure) const;

    QDateTime m_end;
    QStringList m_nodeIds;
    QHash<QString, QList<SyncHistory::Sample>> m_samples;
};

} // namespace mm::ui
