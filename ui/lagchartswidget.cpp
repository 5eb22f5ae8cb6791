#include "ui/lagchartswidget.h"

#include "ui/linkstate.h"

#include <QLocale>
#include <QPainter>
#include <QPainterPath>

namespace mm::ui {

namespace {

constexpr qreal kGap = 10;
constexpr qreal kValueWidth = 78;

QColor measureColor(bool lag)
{
    return lag ? linkStateColor(LinkState::Syncing) : linkStateColor(LinkState::Behind);
}

QFont smallFont(QFont font)
{
    font.setPointSizeF(font.pointSizeF() * 0.85);
    return font;
}

} // namespace

LagChartsWidget::LagChartsWidget(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("lagCharts"));
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
}

void LagChartsWidget::setHistory(const SyncHistory &history)
{
    m_end = history.latest();
    const QStringList nodeIds = history.nodeIds();
    const bool rowsChanged = nodeIds.size() != m_nodeIds.size();
    m_nodeIds = nodeIds;
    m_samples.clear();
    for (const QString &id : nodeIds)
        m_samples.insert(id, history.samples(id));
    if (rowsChanged)
        updateGeometry();
    update();
}

qreal LagChartsWidget::rowHeight() const
{
    return 2 * QFontMetricsF(font()).height() + 10;
}

qreal LagChartsWidget::headerHeight() const
{
    return QFontMetricsF(font()).height() + 6;
}

QSize LagChartsWidget::sizeHint() const
{
    const qreal axis = QFontMetricsF(smallFont(font())).height() + 4;
    return {460, int(headerHeight() + std::max<qsizetype>(m_nodeIds.size(), 1) * rowHeight() +
                     axis + 4)};
}

QSize LagChartsWidget::minimumSizeHint() const
{
    return {300, sizeHint().height()};
}

void LagChartsWidget::paintChart(QPainter &painter, const QRectF &area,
                                 const QList<SyncHistory::Sample> &samples, Measure measure) const
{
    const bool lag = measure == Measure::Lag;
    const QRectF chart = area.adjusted(0, 0, -kValueWidth - 6, 0);
    const QRectF values = QRectF(chart.right() + 6, area.top(), kValueWidth, area.height());
    const QPalette &colours = palette();

    painter.setPen(QPen(colours.color(QPalette::Mid), 1));
    painter.setBrush(colours.color(QPalette::Base));
    painter.drawRect(chart);

    const auto valueOf = [lag](const SyncHistory::Sample &sample) {
        return lag ? sample.lagSeconds : sample.itemsBehind;
    };
    qint64 highest = 0;
    for (const SyncHistory::Sample &sample : samples)
        highest = std::max(highest, valueOf(sample));
    const QDateTime start = m_end.addSecs(-SyncHistory::kWindowSeconds);
    const qreal bucketWidth =
        chart.width() * SyncHistory::kBucketSeconds / SyncHistory::kWindowSeconds;
    const auto xOf = [&](const QDateTime &at) {
        return chart.left() + chart.width() * qreal(start.secsTo(at)) / SyncHistory::kWindowSeconds;
    };
    const QRectF plot = chart.adjusted(1, 3, -1, -1);
    const auto yOf = [&](qint64 value) {
        return plot.bottom() - (highest > 0 ? plot.height() * qreal(value) / qreal(highest) : 0);
    };

    painter.save();
    painter.setClipRect(chart.adjusted(1, 1, -1, -1));
    QColor unreachable = linkStateColor(LinkState::Disconnected);
    unreachable.setAlpha(45);
    for (const SyncHistory::Sample &sample : samples)
        if (!sample.reachable)
            painter.fillRect(QRectF(xOf(sample.at), chart.top(), std::max<qreal>(bucketWidth, 1),
                                    chart.height()),
                             unreachable);

    // One path per stretch of consecutive buckets: a gap (the app was not running) stays a gap.
    QColor fill = measureColor(lag);
    fill.setAlpha(60);
    const auto flush = [&](QPolygonF &line) {
        if (line.isEmpty())
            return;
        if (line.size() == 1)
            line << line.first() + QPointF(std::max<qreal>(bucketWidth, 2), 0);
        QPolygonF area = line;
        area << QPointF(line.last().x(), plot.bottom()) << QPointF(line.first().x(), plot.bottom());
        painter.setPen(Qt::NoPen);
        painter.setBrush(fill);
        painter.drawPolygon(area);
        painter.setPen(QPen(measureColor(lag), 1.6));
        painter.setBrush(Qt::NoBrush);
        painter.drawPolyline(line);
        line.clear();
    };
    QPolygonF line;
    QDateTime previous;
    for (const SyncHistory::Sample &sample : samples) {
        if (previous.isValid() && previous.secsTo(sample.at) > 3 * SyncHistory::kBucketSeconds)
            flush(line);
        line << QPointF(xOf(sample.at), yOf(valueOf(sample)));
        previous = sample.at;
    }
    flush(line);
    painter.restore();

    const auto format = [lag](qint64 value) {
        return lag ? lagText(value) : QLocale().toString(value);
    };
    const QFontMetricsF metrics(font());
    painter.setPen(colours.color(QPalette::WindowText));
    const QString now = samples.isEmpty() ? QStringLiteral("—") : format(valueOf(samples.last()));
    painter.drawText(QRectF(values.left(), values.top(), values.width(), values.height() / 2),
                     Qt::AlignLeft | Qt::AlignVCenter,
                     metrics.elidedText(now, Qt::ElideRight, values.width()));
    painter.setFont(smallFont(font()));
    painter.setPen(colours.color(QPalette::PlaceholderText));
    const QString peak = tr("max %1").arg(format(highest));
    painter.drawText(
        QRectF(values.left(), values.center().y(), values.width(), values.height() / 2),
        Qt::AlignLeft | Qt::AlignVCenter,
        QFontMetricsF(painter.font()).elidedText(peak, Qt::ElideRight, values.width()));
    painter.setFont(font());
}

void LagChartsWidget::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    const QPalette &colours = palette();
    const QFontMetricsF metrics(font());
    if (m_nodeIds.isEmpty()) {
        painter.setPen(colours.color(QPalette::PlaceholderText));
        painter.drawText(rect(), Qt::AlignCenter, tr("No samples yet"));
        return;
    }

    qreal nameWidth = 0;
    for (const QString &id : std::as_const(m_nodeIds))
        nameWidth = std::max(nameWidth, metrics.horizontalAdvance(id));
    nameWidth += kGap;
    const QRectF area = QRectF(rect()).adjusted(4, 2, -4, -2);
    const qreal chartWidth = (area.width() - nameWidth - kGap) / 2;
    const qreal lagLeft = area.left() + nameWidth;
    const qreal itemsLeft = lagLeft + chartWidth + kGap;

    QFont bold = font();
    bold.setBold(true);
    painter.setFont(bold);
    painter.setPen(colours.color(QPalette::WindowText));
    const QRectF header(area.left(), area.top(), area.width(), headerHeight());
    painter.drawText(QRectF(lagLeft, header.top(), chartWidth, header.height()),
                     Qt::AlignLeft | Qt::AlignVCenter, tr("Lag"));
    painter.drawText(QRectF(itemsLeft, header.top(), chartWidth, header.height()),
                     Qt::AlignLeft | Qt::AlignVCenter, tr("Items behind"));
    painter.setFont(font());

    qreal top = header.bottom();
    for (const QString &id : std::as_const(m_nodeIds)) {
        const QRectF row(area.left(), top, area.width(), rowHeight());
        painter.setPen(colours.color(QPalette::WindowText));
        painter.drawText(QRectF(row.left(), row.top(), nameWidth, row.height()),
                         Qt::AlignLeft | Qt::AlignVCenter, id);
        const QRectF cell = row.adjusted(0, 3, 0, -3);
        const QList<SyncHistory::Sample> samples = m_samples.value(id);
        paintChart(painter, QRectF(lagLeft, cell.top(), chartWidth, cell.height()), samples,
                   Measure::Lag);
        paintChart(painter, QRectF(itemsLeft, cell.top(), chartWidth, cell.height()), samples,
                   Measure::Items);
        top += rowHeight();
    }

    // The time axis under both charts: an hour ago on the left, the latest snapshot on the right.
    painter.setFont(smallFont(font()));
    painter.setPen(colours.color(QPalette::PlaceholderText));
    const qreal axisHeight = QFontMetricsF(painter.font()).height() + 4;
    for (const qreal left : {lagLeft, itemsLeft}) {
        const QRectF axis(left, top, chartWidth - kValueWidth - 6, axisHeight);
        painter.drawText(axis, Qt::AlignLeft | Qt::AlignVCenter, tr("−60 min"));
        painter.drawText(axis, Qt::AlignHCenter | Qt::AlignVCenter, tr("−30 min"));
        painter.drawText(axis, Qt::AlignRight | Qt::AlignVCenter, tr("now"));
    }
}

} // namespace mm::ui
