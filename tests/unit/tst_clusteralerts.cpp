// The tray's rules: each alert once when its condition starts, stalls only past the threshold,
// and nothing for what was already there when the app started.

#include "cluster/monitor/clusteralerts.h"

#include <QTest>

using namespace mm::cluster;

namespace {

ClusterState cluster(Reachability node2 = Reachability::Reachable, double completion = 100, int duplicates = 0,
                     int uidConflicts = 0, QStringList classic = {})
{
    ClusterState state;
    for (const char *id : {"node1", "node2"}) {
        NodeState node;
        node.id = QLatin1String(id);
        node.reachability = Reachability::Reachable;
        state.nodes << node;
    }
    state.nodes[1].reachability = node2;
    state.peers << PeerSync{QStringLiteral("node1"), QStringLiteral("node2"), true, completion, completion < 100 ? 12 : 0, 0};
    state.duplicateGroups = duplicates;
    state.uidConflicts = uidConflicts;
    state.classicFolders = classic;
    return state;
}

QList<ClusterAlerts::Alert::Kind> kinds(const QList<ClusterAlerts::Alert> &alerts)
{
    QList<ClusterAlerts::Alert::Kind> list;
    for (const auto &alert : alerts)
        list << alert.kind;
    return list;
}

} // namespace

class TestClusterAlerts : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void nodeDownOnceWhenItGoes()
    {
        ClusterAlerts alerts;
        const QDateTime t0 = QDateTime::fromSecsSinceEpoch(1'800'000'000);
        QVERIFY(alerts.update(cluster(), t0).isEmpty());
        const auto down = alerts.update(cluster(Reachability::Unreachable), t0.addSecs(5));
        QCOMPARE(kinds(down), QList<ClusterAlerts::Alert::Kind>{ClusterAlerts::Alert::Kind::NodeDown});
        QVERIFY(down.first().critical);
        QVERIFY(down.first().title.contains(QLatin1String("node2")));
        QVERIFY(alerts.update(cluster(Reachability::Unreachable), t0.addSecs(10)).isEmpty()); // still down: said once
        QVERIFY(alerts.update(cluster(), t0.addSecs(15)).isEmpty());
        QCOMPARE(alerts.update(cluster(Reachability::Unreachable), t0.addSecs(20)).size(), 1); // down again
    }

    void aNodeUnreachableAtStartIsNotNews()
    {
        ClusterAlerts alerts;
        QVERIFY(alerts.update(cluster(Reachability::Unreachable), QDateTime::fromSecsSinceEpoch(1'800'000'000)).isEmpty());
    }

    void syncStallsOnlyPastTheThreshold()
    {
        ClusterAlerts::Thresholds thresholds;
        thresholds.syncStallSeconds = 300;
        ClusterAlerts alerts(thresholds);
        const QDateTime t0 = QDateTime::fromSecsSinceEpoch(1'800'000'000);
        QVERIFY(alerts.update(cluster(Reachability::Reachable, 90), t0).isEmpty());
        QVERIFY(alerts.update(cluster(Reachability::Reachable, 95), t0.addSecs(299)).isEmpty());
        const auto stalled = alerts.update(cluster(Reachability::Reachable, 95), t0.addSecs(301));
        QCOMPARE(kinds(stalled), QList<ClusterAlerts::Alert::Kind>{ClusterAlerts::Alert::Kind::SyncStalled});
        QVERIFY(stalled.first().text.contains(QLatin1String("12 item(s)")));
        QVERIFY(alerts.update(cluster(Reachability::Reachable, 95), t0.addSecs(900)).isEmpty());
        // Caught up, then lagging anew: the clock starts again.
        QVERIFY(alerts.update(cluster(), t0.addSecs(901)).isEmpty());
        QVERIFY(alerts.update(cluster(Reachability::Reachable, 50), t0.addSecs(902)).isEmpty());
        QVERIFY(alerts.update(cluster(Reachability::Reachable, 50), t0.addSecs(1100)).isEmpty());
    }

    void newDuplicatesUidConflictsAndClassicFolders()
    {
        ClusterAlerts alerts;
        const QDateTime t0 = QDateTime::fromSecsSinceEpoch(1'800'000'000);
        // Already there at start: on the dashboard, not news.
        QVERIFY(alerts.update(cluster(Reachability::Reachable, 100, 2, 0, {QStringLiteral("node1:a")}), t0).isEmpty());
        const auto more = alerts.update(
            cluster(Reachability::Reachable, 100, 3, 1, {QStringLiteral("node1:a"), QStringLiteral("node2:b")}), t0.addSecs(1));
        QCOMPARE(kinds(more), (QList<ClusterAlerts::Alert::Kind>{ClusterAlerts::Alert::Kind::Duplicates,
                                                                 ClusterAlerts::Alert::Kind::UidConflicts,
                                                                 ClusterAlerts::Alert::Kind::ClassicFolder}));
        QVERIFY(more[2].text.contains(QLatin1String("node2:b")));
        ClusterAlerts::Thresholds quiet;
        quiet.duplicates = false;
        alerts.setThresholds(quiet);
        QVERIFY(kinds(alerts.update(cluster(Reachability::Reachable, 100, 9, 1, {QStringLiteral("node1:a"), QStringLiteral("node2:b")}),
                                    t0.addSecs(2)))
                    .isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestClusterAlerts)
#include "tst_clusteralerts.moc"
