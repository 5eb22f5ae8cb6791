#include "ui/clustermapwidget.h"

#include "ui/statuspresentation.h"

#include <QHelpEvent>
#include <QLineF>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

namespace mm::ui {

namespace {

constexpr qreal kMargin = 8;
constexpr qreal kLinkWidth = 3;
constexpr qreal kLabelPadding = 4;
constexpr int kIconSize = 16;

QColor healthColor(cluster::Health health)
{
    switch (health) {
    case cluster::Health::Ok:
        return linkStateColor(LinkState::InSync);
    case cluster::Health::Warning:
        return linkStateColor(LinkState::Behind);
    case cluster::Health::Error:
        return linkStateColor(LinkState::Disconnected);
    case cluster::Health::Unknown:
        break;
    }
    return linkStateColor(LinkState::Unknown);
}

QFont boldFont(QFont font)
{
    font.setBold(true);
    return font;
}

QFont smallFont(QFont font)
{
    font.setPointSizeF(font.pointSizeF() * 0.9);
    return font;
}

} // namespace

ClusterMapWidget::ClusterMapWidget(QWidget *parent)
    : QWidget(parent)
{
    setObjectName(QStringLiteral("clusterMap"));
    setMouseTracking(false);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void ClusterMapWidget::setState(const cluster::ClusterState &state, const SyncHistory &history)
{
    m_nodes.clear();
    for (const cluster::NodeState &nodeState : state.nodes) {
        Node node;
        node.id = nodeState.id;
        node.reachability = nodeState.reachability;
        node.health = nodeState.health();
        node.problems = nodeState.problems;
        const QList<SyncHistory::Sample> samples = history.samples(node.id);
        if (!samples.isEmpty()) {
            node.itemsBehind = samples.last().itemsBehind;
            node.lagSeconds = samples.last().lagSeconds;
            node.lagAtLeast = history.isLowerBound(node.lagSeconds);
        }
        m_nodes << node;
    }
    m_links = history.links();
    m_canary = state.canary;
    update();
}

QSize ClusterMapWidget::sizeHint() const
{
    return {460, 280};
}

QSize ClusterMapWidget::minimumSizeHint() const
{
    return {240, 160};
}

QString ClusterMapWidget::nodeCaption(const Node &node) const
{
    if (node.reachability == cluster::Reachability::Unreachable)
        return node.lagSeconds > 0
                   ? tr("unreachable for %1").arg(lagText(node.lagSeconds, node.lagAtLeast))
                   : tr("unreachable");
    if (node.reachability == cluster::Reachability::Unknown)
        return tr("not reached yet");
    if (node.itemsBehind > 0)
        return tr("%Ln item(s) behind", nullptr, int(std::min<qint64>(node.itemsBehind, INT_MAX)));
    return healthText(node.health);
}

QString ClusterMapWidget::linkLabel(const SyncHistory::Link &link) const
{
    switch (link.state) {
    case LinkState::InSync:
    case LinkState::Unknown:
        return linkStateText(link.state);
    case LinkState::NodeUnreachable:
        // The colour says why; the node's caption says it is down.
        return link.lagSeconds > 0 ? lagText(link.lagSeconds, link.lagAtLeast)
                                   : linkStateText(link.state);
    case LinkState::Disconnected:
        return tr("disconnected %1").arg(lagText(link.lagSeconds, link.lagAtLeast));
    case LinkState::Syncing:
    case LinkState::Behind:
        break;
    }
    // The lag first: it is what the colour stands for.
    return tr("%1 · %Ln item(s)", nullptr, int(std::min<qint64>(link.itemsBehind, INT_MAX)))
        .arg(lagText(link.lagSeconds, link.lagAtLeast));
}

QString ClusterMapWidget::canaryLabel(const SyncHistory::Link &link) const
{
    std::optional<double> slowest;
    QString failure;
    for (const cluster::CanaryPairLatency &pair : m_canary) {
        const bool onLink = (pair.origin == link.first && pair.observer == link.second)
                            || (pair.origin == link.second && pair.observer == link.first);
        if (!onLink)
            continue;
        if (!pair.latestSeconds)
            failure = pair.latestFailure == QLatin1String("timeout") ? tr("canary lost") : tr("canary not run");
        else if (!slowest || *pair.latestSeconds > *slowest)
            slowest = pair.latestSeconds;
    }
    if (!failure.isEmpty())
        return failure;
    return slowest ? tr("canary %1").arg(secondsText(*slowest)) : QString();
}

QString ClusterMapWidget::canaryDetails(const SyncHistory::Link &link) const
{
    QStringList lines;
    for (const cluster::CanaryPairLatency &pair : m_canary) {
        const bool onLink = (pair.origin == link.first && pair.observer == link.second)
                            || (pair.origin == link.second && pair.observer == link.first);
        if (!onLink)
            continue;
        QString line = tr("Canary %1 → %2: ").arg(pair.origin, pair.observer)
                       + (pair.latestSeconds ? secondsText(*pair.latestSeconds)
                                             : tr("not arrived (%1)").arg(pair.latestFailure));
        if (pair.p95Seconds)
            line += tr("; p95 %1 over %n run(s) in the last hour", nullptr, pair.samples).arg(secondsText(*pair.p95Seconds));
        lines << line;
    }
    return lines.join(u'\n');
}

QString ClusterMapWidget::secondsText(double seconds)
{
    return seconds < 10 ? tr("%1 s").arg(seconds, 0, 'f', 1) : lagText(qint64(std::lround(seconds)), false);
}

QSizeF ClusterMapWidget::nodeBoxSize(const Node &node) const
{
    const QFontMetricsF title(boldFont(font()));
    const QFontMetricsF caption(smallFont(font()));
    const qreal textWidth = std::max(title.horizontalAdvance(node.id) + kIconSize + 6,
                                     caption.horizontalAdvance(nodeCaption(node)));
    return {textWidth + 20, title.height() + caption.height() + 14};
}

QList<LinkState> ClusterMapWidget::legendStates() const
{
    // The states a link can take while the monitor runs; "not known yet" only while one is.
    QList<LinkState> states{LinkState::InSync, LinkState::Syncing, LinkState::Behind,
                            LinkState::Disconnected, LinkState::NodeUnreachable};
    if (std::any_of(m_links.cbegin(), m_links.cend(),
                    [](const auto &link) { return link.state == LinkState::Unknown; }))
        states << LinkState::Unknown;
    return states;
}

qreal ClusterMapWidget::layoutLegend(const QRectF &area)
{
    m_placedLegend.clear();
    const QFontMetricsF metrics(smallFont(font()));
    constexpr qreal swatch = 18, gap = 5, spacing = 14;
    const qreal rowHeight = metrics.height() + 4;
    QList<QList<Placed>> rows(1);
    qreal x = area.left();
    for (LinkState state : legendStates()) {
        const QString text = linkStateText(state);
        const qreal width = swatch + gap + metrics.horizontalAdvance(text);
        if (x > area.left() && x + width > area.right()) {
            rows.append(QList<Placed>());
            x = area.left();
        }
        rows.last().append({text, QRectF(x, 0, width, rowHeight), text});
        x += width + spacing;
    }
    // Rows are centred and stacked from the bottom up.
    const qreal height = rows.size() * rowHeight;
    qreal top = area.bottom() - height;
    for (QList<Placed> &row : rows) {
        const qreal used = row.last().rect.right() - row.first().rect.left();
        const qreal shift = (area.width() - used) / 2;
        for (Placed &entry : row) {
            entry.rect.translate(shift, top);
            m_placedLegend << entry;
        }
        top += rowHeight;
    }
    return height;
}

void ClusterMapWidget::layoutNodes(const QRectF &area)
{
    m_placedNodes.clear();
    const auto count = m_nodes.size();
    if (count == 0)
        return;
    qreal widest = 0, tallest = 0;
    QList<QSizeF> sizes;
    for (const Node &node : std::as_const(m_nodes)) {
        sizes << nodeBoxSize(node);
        widest = std::max(widest, sizes.last().width());
        tallest = std::max(tallest, sizes.last().height());
    }
    // On an ellipse inside the area, so that boxes stay whole; an even count starts half a step
    // round, which puts four nodes on the corners of a rectangle instead of a diamond.
    const QPointF centre = area.center();
    const qreal rx = std::max<qreal>(0, area.width() / 2 - widest / 2);
    const qreal ry = std::max<qreal>(0, area.height() / 2 - tallest / 2);
    const qreal step = 2 * std::numbers::pi / qreal(count);
    const qreal start =
        count == 2 ? std::numbers::pi : -std::numbers::pi / 2 + (count % 2 == 0 ? step / 2 : 0);
    for (qsizetype i = 0; i < count; ++i) {
        QPointF at = centre;
        if (count > 1)
            at += QPointF(rx * std::cos(start + step * qreal(i)),
                          ry * std::sin(start + step * qreal(i)));
        QRectF box(QPointF(), sizes.at(i));
        box.moveCenter(at);
        m_placedNodes << Placed{m_nodes.at(i).id, box, m_nodes.at(i).id};
    }
}

void ClusterMapWidget::layoutLabels()
{
    m_placedLabels.clear();
    m_labelLinks.clear();
    const QFontMetricsF metrics(smallFont(font()));
    const QRectF inside = QRectF(rect()).adjusted(2, 2, -2, -2);
    const auto centreOf = [this](const QString &id) {
        for (const Placed &node : std::as_const(m_placedNodes))
            if (node.what == id)
                return node.rect.center();
        return QPointF();
    };
    const auto isFree = [this, &inside](const QRectF &candidate) {
        if (!inside.contains(candidate))
            return false;
        const QRectF spaced = candidate.adjusted(-3, -3, 3, 3);
        for (const QList<Placed> *placed : {&m_placedNodes, &m_placedLabels, &m_placedLegend})
            for (const Placed &other : *placed)
                if (spaced.intersects(other.rect))
                    return false;
        return true;
    };
    // Midway if it is free; else along the line, away from where crossing lines meet.
    static const QList<qreal> kAlongTheLine{0.5,  0.42, 0.58, 0.34, 0.66, 0.27, 0.73, 0.46,
                                            0.54, 0.38, 0.62, 0.3,  0.7,  0.22, 0.78};
    const auto place = [&](qsizetype index, const QString &text) {
        const SyncHistory::Link &link = m_links.at(index);
        const QSizeF size(metrics.horizontalAdvance(text) + 2 * kLabelPadding,
                          metrics.height() + 2 * kLabelPadding);
        const QPointF from = centreOf(link.first), to = centreOf(link.second);
        for (qreal t : kAlongTheLine) {
            QRectF candidate(QPointF(), size);
            candidate.moveCenter(from + (to - from) * t);
            if (isFree(candidate)) {
                m_placedLabels << Placed{link.first + u'–' + link.second, candidate, text};
                m_labelLinks << index;
                return true;
            }
        }
        return false;
    };
    // What needs action first: those labels get the best places.
    const auto urgency = [](LinkState state) {
        switch (state) {
        case LinkState::Behind:
        case LinkState::Disconnected:
            return 0;
        case LinkState::Syncing:
            return 1;
        case LinkState::NodeUnreachable:
        case LinkState::Unknown:
            return 2;
        case LinkState::InSync:
            break;
        }
        return 3;
    };
    QList<qsizetype> order(m_links.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](qsizetype a, qsizetype b) {
        return urgency(m_links.at(a).state) < urgency(m_links.at(b).state);
    });
    for (qsizetype index : order) {
        const SyncHistory::Link &link = m_links.at(index);
        // An in-sync link says what the canary measured on it, room permitting.
        const QString canary = link.state == LinkState::InSync ? canaryLabel(link) : QString();
        if (!canary.isEmpty() && place(index, linkLabel(link) + QStringLiteral(" · ") + canary))
            continue;
        if (place(index, linkLabel(link)) || urgency(link.state) > 1)
            continue;
        // Crowded: the lag alone, and if even that finds no room, on the middle of its line.
        const QString lag = lagText(link.lagSeconds, link.lagAtLeast);
        if (place(index, lag))
            continue;
        QRectF middle(QPointF(), QSizeF(metrics.horizontalAdvance(lag) + 2 * kLabelPadding,
                                        metrics.height() + 2 * kLabelPadding));
        middle.moveCenter((centreOf(link.first) + centreOf(link.second)) / 2);
        m_placedLabels << Placed{link.first + u'–' + link.second, middle, lag};
        m_labelLinks << index;
    }
}

void ClusterMapWidget::paintEvent(QPaintEvent *)
{
    const QRectF area = QRectF(rect()).adjusted(kMargin, kMargin, -kMargin, -kMargin);
    const qreal legendHeight = layoutLegend(area);
    layoutNodes(area.adjusted(0, 0, 0, -legendHeight - 6));
    layoutLabels();

    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    const QPalette &colours = palette();
    if (m_nodes.isEmpty()) {
        painter.setPen(colours.color(QPalette::PlaceholderText));
        painter.drawText(rect(), Qt::AlignCenter, tr("No nodes yet"));
        return;
    }

    const auto centreOf = [this](const QString &id) {
        for (const Placed &node : std::as_const(m_placedNodes))
            if (node.what == id)
                return node.rect.center();
        return QPointF();
    };
    const auto linkPen = [](LinkState state) {
        QPen pen(linkStateColor(state), kLinkWidth,
                 linkStateIsDashed(state) ? Qt::DashLine : Qt::SolidLine, Qt::RoundCap);
        return pen;
    };
    for (const SyncHistory::Link &link : std::as_const(m_links)) {
        painter.setPen(linkPen(link.state));
        painter.drawLine(centreOf(link.first), centreOf(link.second));
    }

    const QFont small = smallFont(font());
    painter.setFont(small);
    for (qsizetype i = 0; i < m_placedLabels.size(); ++i) {
        const Placed &label = m_placedLabels.at(i);
        const QColor colour = linkStateColor(m_links.at(m_labelLinks.at(i)).state);
        painter.setPen(QPen(colour, 1.5));
        painter.setBrush(colours.color(QPalette::Base));
        painter.drawRoundedRect(label.rect, 4, 4);
        painter.setPen(colours.color(QPalette::Text));
        painter.drawText(label.rect, Qt::AlignCenter, label.text);
    }

    const QFont bold = boldFont(font());
    for (qsizetype i = 0; i < m_placedNodes.size(); ++i) {
        const Node &node = m_nodes.at(i);
        const QRectF box = m_placedNodes.at(i).rect;
        painter.setPen(QPen(healthColor(node.health), 2.5));
        painter.setBrush(colours.color(QPalette::Base));
        painter.drawRoundedRect(box, 6, 6);
        const QRectF inner = box.adjusted(10, 7, -10, -7);
        const QFontMetricsF titleMetrics(bold);
        const qreal titleWidth = kIconSize + 6 + titleMetrics.horizontalAdvance(node.id);
        const qreal titleLeft = inner.center().x() - titleWidth / 2;
        const QRectF titleRow(titleLeft, inner.top(), titleWidth, titleMetrics.height());
        painter.drawPixmap(
            QRectF(titleLeft, titleRow.center().y() - kIconSize / 2.0, kIconSize, kIconSize)
                .toRect(),
            healthIcon(node.health).pixmap(QSize(kIconSize, kIconSize), devicePixelRatioF()));
        painter.setFont(bold);
        painter.setPen(colours.color(QPalette::Text));
        painter.drawText(titleRow.adjusted(kIconSize + 6, 0, 0, 0),
                         Qt::AlignLeft | Qt::AlignVCenter, node.id);
        painter.setFont(small);
        painter.setPen(node.reachability == cluster::Reachability::Unreachable
                           ? healthColor(cluster::Health::Error)
                           : colours.color(QPalette::PlaceholderText));
        painter.drawText(QRectF(inner.left(), titleRow.bottom(), inner.width(),
                                inner.bottom() - titleRow.bottom()),
                         Qt::AlignHCenter | Qt::AlignVCenter, nodeCaption(node));
    }

    const QList<LinkState> states = legendStates();
    for (qsizetype i = 0; i < m_placedLegend.size(); ++i) {
        const Placed &entry = m_placedLegend.at(i);
        const qreal y = entry.rect.center().y();
        painter.setPen(linkPen(states.at(i)));
        painter.drawLine(QPointF(entry.rect.left() + 2, y), QPointF(entry.rect.left() + 16, y));
        painter.setPen(colours.color(QPalette::WindowText));
        painter.drawText(entry.rect.adjusted(23, 0, 0, 0), Qt::AlignLeft | Qt::AlignVCenter,
                         entry.text);
    }
}

QString ClusterMapWidget::toolTipAt(const QPointF &point) const
{
    const auto describe = [this](const SyncHistory::Link &link) {
        QString text = QStringLiteral("%1 – %2: %3\n%4\n%5")
                           .arg(link.first, link.second, linkStateText(link.state),
                                linkStateDescription(link.state), link.details);
        if (const QString canary = canaryDetails(link); !canary.isEmpty())
            text += u'\n' + canary;
        return text;
    };
    for (qsizetype i = 0; i < m_placedLabels.size(); ++i)
        if (m_placedLabels.at(i).rect.contains(point))
            return describe(m_links.at(m_labelLinks.at(i)));
    for (qsizetype i = 0; i < m_placedNodes.size(); ++i)
        if (m_placedNodes.at(i).rect.contains(point)) {
            const Node &node = m_nodes.at(i);
            QString text = QStringLiteral("%1: %2").arg(node.id, nodeCaption(node));
            if (node.lagSeconds > 0)
                text +=
                    u'\n' + tr("Not in sync with every peer for %1").arg(lagText(node.lagSeconds));
            if (!node.problems.isEmpty())
                text += u'\n' + node.problems.join(u'\n');
            return text;
        }
    const QList<LinkState> states = legendStates();
    for (qsizetype i = 0; i < m_placedLegend.size(); ++i)
        if (m_placedLegend.at(i).rect.contains(point))
            return linkStateDescription(states.at(i));
    // On a line itself: a crowded view may have left its label out.
    const auto centreOf = [this](const QString &id) {
        for (const Placed &node : std::as_const(m_placedNodes))
            if (node.what == id)
                return node.rect.center();
        return QPointF();
    };
    for (const SyncHistory::Link &link : std::as_const(m_links)) {
        const QPointF from = centreOf(link.first), along = centreOf(link.second) - from;
        const qreal length2 = QPointF::dotProduct(along, along);
        if (length2 <= 0)
            continue;
        const qreal t = std::clamp(QPointF::dotProduct(point - from, along) / length2, 0.0, 1.0);
        const QPointF nearest = from + along * t;
        if (QLineF(point, nearest).length() <= 2 * kLinkWidth)
            return describe(link);
    }
    return {};
}

bool ClusterMapWidget::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const QString text = toolTipAt(help->pos());
        if (text.isEmpty())
            QToolTip::hideText();
        else
            QToolTip::showText(help->globalPos(), text, this);
        return true;
    }
    return QWidget::event(event);
}

} // namespace mm::ui
