#pragma once

#include "cluster/monitor/clusterstate.h"
#include "ui/synchistory.h"

#include <QList>
#include <QRectF>
#include <QWidget>

namespace mm::ui {

// The cluster as a picture: every node as a box, every pair that shares the mail folder as a
// line coloured by its state (linkstate.h) with its lag written on it, and a legend. It shows
// what it is given; hovering a node or a link label tells the details. When the view is too
// small for every label, the ones that say "all is well" or repeat a node's own caption (in
// sync, node unreachable) give way first. A link the replication canary measured says how long a
// probe took (the slower direction); hovering it tells both directions and the last hour's p95.
class ClusterMapWidget : public QWidget
{
    Q_OBJECT

public:
    explicit ClusterMapWidget(QWidget *parent = nullptr);

    void setState(const cluster::ClusterState &state, const SyncHistory &history);

    // Where the last paint put each node, link label and legend entry (for tests: nothing may
    // overlap or leave the widget).
    struct Placed
    {
        QString what; // node id, "first–second" for a link, or the legend's state name
        QRectF rect;
        QString text; // what is written there
    };
    QList<Placed> placedNodes() const { return m_placedNodes; }
    QList<Placed> placedLabels() const { return m_placedLabels; }
    QList<Placed> placedLegend() const { return m_placedLegend; }

    // What hovering there tells: a link's both directions, a node's problems, a legend entry.
    QString toolTipAt(const QPointF &point) const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;
    bool event(QEvent *event) override;

private:
    struct Node
    {
        QString id;
        cluster::Reachability reachability = cluster::Reachability::Unknown;
        cluster::Health health = cluster::Health::Unknown;
        qint64 itemsBehind = 0;
        qint64 lagSeconds = 0;
        bool lagAtLeast = false;
        QStringList problems;
    };

    QString nodeCaption(const Node &node) const;
    QString linkLabel(const SyncHistory::Link &link) const;
    // The replication canary on a link: the slower direction's latest latency, or why a probe
    // did not arrive; empty when no run measured it (docs/monitoring.md).
    QString canaryLabel(const SyncHistory::Link &link) const;
    QString canaryDetails(const SyncHistory::Link &link) const;
    static QString secondsText(double seconds);
    QSizeF nodeBoxSize(const Node &node) const;
    QList<LinkState> legendStates() const;
    // Lays the legend out in rows from the bottom of `area`; returns its height.
    qreal layoutLegend(const QRectF &area);
    void layoutNodes(const QRectF &area);
    void layoutLabels();

    QList<Node> m_nodes;
    QList<SyncHistory::Link> m_links;
    QList<cluster::CanaryPairLatency> m_canary;
    QList<Placed> m_placedNodes;
    QList<Placed> m_placedLabels;
    QList<qsizetype> m_labelLinks; // the index in m_links of each placed label
    QList<Placed> m_placedLegend;
};

} // namespace mm::ui
