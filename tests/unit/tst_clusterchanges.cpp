#include "cluster/monitor/clusterchanges.h"
#include "snapshotfactory.h"

#include <QTest>

using namespace mm::cluster;

class TestClusterChanges : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void steadyStateIsQuiet()
    {
        const auto state = mm::test::snapshotOf({QStringLiteral("a"), QStringLiteral("b")});
        QVERIFY(changesBetween(state.get(), *state).isEmpty());
        QVERIFY(changesBetween(nullptr, *state).isEmpty());
    }

    void reportsNodesGoingDownAndComingBack()
    {
        const auto up = mm::test::snapshotOf({QStringLiteral("a"), QStringLiteral("b")});
        ClusterState down = *up;
        down.nodes[1].reachability = Reachability::Unreachable;
        const QList<ClusterChange> wentDown = changesBetween(up.get(), down);
        QCOMPARE(wentDown.size(), 1);
        QCOMPARE(wentDown[0].nodeId, QStringLiteral("b"));
        QCOMPARE(wentDown[0].severity, Health::Error);
        QVERIFY(changesBetween(&down, down).isEmpty()); // said once, not on every snapshot
        const QList<ClusterChange> cameBack = changesBetween(&down, *up);
        QCOMPARE(cameBack.size(), 1);
        QCOMPARE(cameBack[0].severity, Health::Ok);
    }

    void reportsFindingsWhenTheyAppear()
    {
        const auto before = mm::test::snapshotOf({QStringLiteral("a")});
        ClusterState after = *before;
        after.nodes[0].hostKey = HostKeyState::Changed;
        after.duplicateGroups = 2;
        after.uidConflicts = 1;
        after.classicFolders << QStringLiteral("a:example.org/new-user/Maildir");
        const QList<ClusterChange> changes = changesBetween(before.get(), after);
        QCOMPARE(changes.size(), 4);
        QVERIFY(changes[0].message.contains(QStringLiteral("Host key changed")));
        QVERIFY(changes[1].message.startsWith(QStringLiteral("2 duplicate")));
        QCOMPARE(changes[2].severity, Health::Error);
        QVERIFY(changes[3].message.contains(QStringLiteral("new-user")));
    }
};

QTEST_GUILESS_MAIN(TestClusterChanges)
#include "tst_clusterchanges.moc"
