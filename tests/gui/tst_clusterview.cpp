// The cluster view and the lag charts, offscreen, after an hour of a five-node cluster: a node
// down for the last twelve minutes, a backup node falling behind, a disconnected pair, a burst
// of mail half an hour ago. Saves screenshots for a person to look at, and checks what a person
// would: nothing drawn over anything else, nothing cut off at the edges.

#include "../unit/snapshotfactory.h"
#include "cluster/config/clusterconfig.h"
#include "cluster/pluralforms.h"
#include "screenshots.h"
#include "ui/clustermapwidget.h"
#include "ui/dashboardwidget.h"
#include "ui/lagchartswidget.h"
#include "ui/mainwindow.h"

#include <QHeaderView>
#include <QScrollBar>
#include <QSettings>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace mm;

namespace {

const QStringList kNodes{QStringLiteral("mx1"), QStringLiteral("mx2"), QStringLiteral("mx3"),
                         QStringLiteral("mx4"), QStringLiteral("backup1")};
// After the clock, so that the hour follows the snapshot the main window makes of the cluster
// file when it opens it (stamped with the clock): as a monitor's snapshots do.
const QDateTime kStart = QDateTime::currentDateTimeUtc().addSecs(60);
constexpr qint64 kHour = 3600;

cluster::PeerSync &view(cluster::ClusterState &state, const QString &node, const QString &peer)
{
    for (cluster::PeerSync &candidate : state.peers)
        if (candidate.nodeId == node && candidate.peerId == peer)
            return candidate;
    qFatal("no such peer");
}

void needs(cluster::ClusterState &state, const QString &node, const QString &peer, qint64 items)
{
    cluster::PeerSync &seen = view(state, node, peer);
    seen.needItems = items;
    seen.needBytes = items * 14'000;
    seen.completion = items > 0 ? 100.0 - std::min(99.0, double(items) / 50.0) : 100.0;
}

// The cluster `second` seconds into the hour.
cluster::ClusterSnapshot clusterAt(qint64 second)
{
    auto state = std::make_shared<cluster::ClusterState>(*test::snapshotOf(kNodes));
    state->takenAt = kStart.addSecs(second);
    for (cluster::NodeState &node : state->nodes)
        node.lastSeen = state->takenAt;
    for (const QString &id : kNodes)
        state->folders << cluster::FolderState{id, QStringLiteral("idle"), 0, 0, 0, {}};

    // A burst of mail at 20 minutes: mx2 and mx4 take four minutes to catch up with mx1.
    if (second >= 20 * 60 && second < 24 * 60) {
        const qint64 left = 300 - (second - 20 * 60) * 300 / 240;
        needs(*state, QStringLiteral("mx1"), QStringLiteral("mx2"), left);
        needs(*state, QStringLiteral("mx1"), QStringLiteral("mx4"), left / 2);
    }
    // The backup falls behind mx1 and mx2 in the last five minutes, more and more.
    if (second >= kHour - 5 * 60) {
        const qint64 items = 200 + (second - (kHour - 5 * 60)) * 4;
        needs(*state, QStringLiteral("mx1"), QStringLiteral("backup1"), items);
        needs(*state, QStringLiteral("mx2"), QStringLiteral("backup1"), items - 15);
        state->folders[4].needItems = items;
    }
    // mx4 and the backup lose each other three minutes before the end.
    if (second >= kHour - 3 * 60) {
        view(*state, QStringLiteral("mx4"), QStringLiteral("backup1")).connected = false;
        view(*state, QStringLiteral("backup1"), QStringLiteral("mx4")).connected = false;
        state->nodes[4].problems << QStringLiteral("Syncthing: not connected to mx4");
    }
    // Mail on its way from mx1 to mx4 in the last 20 seconds.
    if (second >= kHour - 20)
        needs(*state, QStringLiteral("mx1"), QStringLiteral("mx4"), 14);
    // mx3 is down for the last twelve minutes: every peer loses it.
    if (second >= kHour - 12 * 60) {
        cluster::NodeState &mx3 = state->nodes[2];
        mx3.reachability = cluster::Reachability::Unreachable;
        mx3.lastSeen = kStart.addSecs(kHour - 12 * 60);
        mx3.problems << QStringLiteral(
            "ssh: connect to host mx3.example.org port 22: Connection refused");
        for (cluster::PeerSync &peer : state->peers)
            if (peer.nodeId == QStringLiteral("mx3") || peer.peerId == QStringLiteral("mx3"))
                peer.connected = false;
        const qint64 missed = 60 + (second - (kHour - 12 * 60)) / 4;
        for (const QString &other :
             {QStringLiteral("mx1"), QStringLiteral("mx2"), QStringLiteral("mx4")})
            needs(*state, other, QStringLiteral("mx3"), missed);
        view(*state, QStringLiteral("mx1"), QStringLiteral("mx3")).connected = false;
    }
    return state;
}

// An hour of snapshots, one every 5 s, as the monitor sends them.
template <typename Sink> void playTheHour(Sink &&sink)
{
    for (qint64 second = 0; second <= kHour; second += 5)
        sink(clusterAt(second));
}

QString writeClusterFile(const QTemporaryDir &dir)
{
    cluster::ClusterConfig config;
    config.name = QStringLiteral("example.org mail");
    for (const QString &id : kNodes) {
        cluster::NodeConfig node;
        node.id = id;
        node.ssh = QStringLiteral("ssh://root@%1.example.org").arg(id);
        node.mailRoot = QStringLiteral("/var/vmail");
        config.nodes << node;
    }
    const QString path = dir.filePath(QStringLiteral("cluster.json"));
    return config.save(path) ? path : QString();
}

QStringList overlaps(const QList<ui::ClusterMapWidget::Placed> &placed, const QRectF &bounds)
{
    QStringList problems;
    for (qsizetype i = 0; i < placed.size(); ++i) {
        if (!bounds.contains(placed.at(i).rect))
            problems << QStringLiteral("%1 leaves the view").arg(placed.at(i).what);
        for (qsizetype j = i + 1; j < placed.size(); ++j)
            if (placed.at(i).rect.intersects(placed.at(j).rect))
                problems
                    << QStringLiteral("%1 overlaps %2").arg(placed.at(i).what, placed.at(j).what);
    }
    return problems;
}

} // namespace

class TestClusterView : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(cluster::installPluralForms()); // "14 items", as the app says it
    }
    void init() { QSettings().clear(); }

    void theMapShowsEveryLinkInItsState()
    {
        ui::SyncHistory history;
        cluster::ClusterSnapshot last;
        playTheHour([&](const cluster::ClusterSnapshot &snapshot) {
            history.add(*snapshot);
            last = snapshot;
        });
        QCOMPARE(history.links().size(), 10);
        QMap<QString, ui::LinkState> states;
        for (const ui::SyncHistory::Link &link : history.links())
            states.insert(link.first + u'-' + link.second, link.state);
        QCOMPARE(states.value(QStringLiteral("mx1-mx2")), ui::LinkState::InSync);
        QCOMPARE(states.value(QStringLiteral("mx1-mx4")), ui::LinkState::Syncing);
        QCOMPARE(states.value(QStringLiteral("mx1-backup1")), ui::LinkState::Behind);
        QCOMPARE(states.value(QStringLiteral("mx4-backup1")), ui::LinkState::Disconnected);
        QCOMPARE(states.value(QStringLiteral("mx1-mx3")), ui::LinkState::NodeUnreachable);

        ui::ClusterMapWidget map;
        map.resize(560, 340);
        map.setState(*last, history);
        map.show();
        QVERIFY(QTest::qWaitForWindowExposed(&map));
        QVERIFY(map.grab().save(screenshotPath(QStringLiteral("cluster-map.png"))));

        QCOMPARE(map.placedNodes().size(), 5);
        QCOMPARE(map.placedLabels().size(), 10);
        QList<ui::ClusterMapWidget::Placed> everything =
            map.placedNodes() + map.placedLabels() + map.placedLegend();
        const QStringList problems = overlaps(everything, QRectF(map.rect()));
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QStringLiteral("; "))));
        QStringList labels;
        for (const auto &label : map.placedLabels())
            labels << label.what + QStringLiteral(": ") + label.text;
        const QString written = labels.join(u'\n');
        QVERIFY2(written.contains(QStringLiteral("mx1–backup1: 5 min · ")), qPrintable(written));
        QVERIFY2(written.contains(QStringLiteral("mx1–mx4: 20 s · 14 items")), qPrintable(written));
        QVERIFY2(written.contains(QStringLiteral("mx4–backup1: disconnected 3 min")),
                 qPrintable(written));
        QVERIFY2(written.contains(QStringLiteral("mx1–mx2: in sync")), qPrintable(written));

        // The same picture in a small view still keeps every box and label apart.
        map.resize(420, 300);
        QVERIFY(map.grab().save(screenshotPath(QStringLiteral("cluster-map-small.png"))));
        everything = map.placedNodes() + map.placedLabels() + map.placedLegend();
        const QStringList crowded = overlaps(everything, QRectF(map.rect()));
        QVERIFY2(crowded.isEmpty(), qPrintable(crowded.join(QStringLiteral("; "))));

        // Hovering tells the details: a label, a node, and a line whose label gave way.
        for (const auto &label : map.placedLabels())
            if (label.what == QStringLiteral("mx1–backup1"))
                QVERIFY2(
                    map.toolTipAt(label.rect.center()).contains(QStringLiteral("mx1 → backup1: ")),
                    qPrintable(map.toolTipAt(label.rect.center())));
        for (const auto &node : map.placedNodes())
            if (node.what == QStringLiteral("mx3"))
                QVERIFY(map.toolTipAt(node.rect.center())
                            .contains(QStringLiteral("Connection refused")));
        QStringList labelled;
        for (const auto &label : map.placedLabels())
            labelled << label.what;
        for (const ui::SyncHistory::Link &link : history.links()) {
            const QString what = link.first + u'–' + link.second;
            if (labelled.contains(what))
                continue;
            QPointF from, to;
            for (const auto &node : map.placedNodes()) {
                if (node.what == link.first)
                    from = node.rect.center();
                if (node.what == link.second)
                    to = node.rect.center();
            }
            // A point on the line, outside both boxes and every label.
            for (qreal t = 0.3; t <= 0.7; t += 0.05) {
                const QPointF onTheLine = from + (to - from) * t;
                const bool covered =
                    std::any_of(everything.cbegin(), everything.cend(), [&](const auto &placed) {
                        return placed.rect.contains(onTheLine);
                    });
                if (covered)
                    continue;
                QVERIFY2(map.toolTipAt(onTheLine).startsWith(link.first + QStringLiteral(" – ") +
                                                             link.second),
                         qPrintable(what + QStringLiteral(": ") + map.toolTipAt(onTheLine)));
                break;
            }
        }
    }

    // Three nodes in sync; the replication canary measured every pair, one probe got lost.
    void theMapShowsTheCanaryOnItsLinks()
    {
        const QStringList nodes{QStringLiteral("mx1"), QStringLiteral("mx2"), QStringLiteral("mx3")};
        auto state = std::make_shared<cluster::ClusterState>(*test::snapshotOf(nodes));
        state->takenAt = kStart;
        for (const QString &id : nodes)
            state->folders << cluster::FolderState{id, QStringLiteral("idle"), 0, 0, 0, {}};
        const auto pair = [&](const char *origin, const char *observer, std::optional<double> latest, double p95) {
            state->canary << cluster::CanaryPairLatency{QLatin1String(origin), QLatin1String(observer), kStart, latest,
                                                        latest ? QString() : QStringLiteral("timeout"), p95, 12, latest ? 0 : 1};
        };
        pair("mx1", "mx2", 0.62, 0.9);
        pair("mx2", "mx1", 0.71, 1.2);
        pair("mx1", "mx3", 1.4, 2.1);
        pair("mx3", "mx1", 0.8, 1.0);
        pair("mx2", "mx3", 0.55, 0.8);
        pair("mx3", "mx2", {}, 0.9);
        ui::SyncHistory history;
        history.add(*state);
        ui::ClusterMapWidget map;
        map.resize(560, 340);
        map.setState(*state, history);
        map.show();
        QVERIFY(QTest::qWaitForWindowExposed(&map));
        QVERIFY(map.grab().save(screenshotPath(QStringLiteral("cluster-map-canary.png"))));

        QMap<QString, ui::ClusterMapWidget::Placed> labels;
        for (const auto &label : map.placedLabels())
            labels.insert(label.what, label);
        QCOMPARE(labels.size(), 3);
        QCOMPARE(labels.value(QStringLiteral("mx1–mx2")).text, QStringLiteral("in sync · canary 0.7 s"));
        QCOMPARE(labels.value(QStringLiteral("mx1–mx3")).text, QStringLiteral("in sync · canary 1.4 s"));
        QCOMPARE(labels.value(QStringLiteral("mx2–mx3")).text, QStringLiteral("in sync · canary lost"));
        const QStringList problems =
            overlaps(map.placedNodes() + map.placedLabels() + map.placedLegend(), QRectF(map.rect()));
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QStringLiteral("; "))));
        const QString tip = map.toolTipAt(labels.value(QStringLiteral("mx2–mx3")).rect.center());
        QVERIFY2(tip.contains(QStringLiteral("Canary mx2 → mx3: 0.6 s; p95 0.8 s over 12 runs in the last hour")), qPrintable(tip));
        QVERIFY2(tip.contains(QStringLiteral("Canary mx3 → mx2: not arrived (timeout)")), qPrintable(tip));
    }

    void theChartsShowTheLastHourPerNode()
    {
        ui::SyncHistory history;
        playTheHour([&](const cluster::ClusterSnapshot &snapshot) { history.add(*snapshot); });
        for (const QString &id : kNodes) {
            QVERIFY(history.samples(id).size() <= ui::SyncHistory::kMaxSamplesPerNode);
            QVERIFY(history.samples(id).size() >= ui::SyncHistory::kMaxSamplesPerNode - 1);
        }
        ui::LagChartsWidget charts;
        charts.setHistory(history);
        charts.resize(600, charts.sizeHint().height());
        charts.show();
        QVERIFY(QTest::qWaitForWindowExposed(&charts));
        const QImage image = charts.grab().toImage();
        QVERIFY(image.save(screenshotPath(QStringLiteral("lag-charts.png"))));
    }

    void theDashboardShowsTheMapAndTheChartsAndTheWholeNodesTable()
    {
        QTemporaryDir dir;
        const QString path = writeClusterFile(dir);
        QVERIFY(!path.isEmpty());
        ui::MainWindow window;
        QVERIFY(window.openCluster(path));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        playTheHour(
            [&](const cluster::ClusterSnapshot &snapshot) { window.setSnapshot(snapshot); });
        QCoreApplication::processEvents();
        QVERIFY(window.dashboard()->clusterMap()->isVisible());
        QVERIFY(window.dashboard()->lagCharts()->isVisible());
        QTableView *nodes = window.dashboard()->nodesView();
        QVERIFY2(!nodes->horizontalScrollBar()->isVisible(),
                 qPrintable(QStringLiteral("the nodes table needs %1 px, has %2")
                                .arg(nodes->horizontalHeader()->length())
                                .arg(nodes->viewport()->width())));
        QVERIFY(window.grab().save(screenshotPath(QStringLiteral("dashboard-cluster.png"))));

        auto *views = window.dashboard()->findChild<QTabWidget *>(QStringLiteral("syncViews"));
        QVERIFY(views);
        views->setCurrentIndex(1);
        QCoreApplication::processEvents();
        QVERIFY(window.grab().save(screenshotPath(QStringLiteral("dashboard-sync-matrix.png"))));
    }
};

QTEST_MAIN(TestClusterView)
#include "tst_clusterview.moc"
