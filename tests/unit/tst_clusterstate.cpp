#include "cluster/clusterstate.h"
#include "snapshotfactory.h"

#include <QTest>

using namespace mm::cluster;

class TestClusterState : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void nodeHealth_data()
    {
        QTest::addColumn<int>("change");
        QTest::addColumn<Health>("expected");
        QTest::newRow("healthy") << 0 << Health::Ok;
        QTest::newRow("unreachable") << 1 << Health::Error;
        QTest::newRow("changed host key") << 2 << Health::Error;
        QTest::newRow("problem") << 3 << Health::Warning;
        QTest::newRow("no agent") << 4 << Health::Warning;
        QTest::newRow("never contacted") << 5 << Health::Unknown;
    }
    void nodeHealth()
    {
        QFETCH(int, change);
        QFETCH(Health, expected);
        NodeState node = mm::test::healthyNode(QStringLiteral("n1"));
        switch (change) {
        case 1: node.reachability = Reachability::Unreachable; break;
        case 2: node.hostKey = HostKeyState::Changed; break;
        case 3: node.problems << QStringLiteral("inotify limit too low"); break;
        case 4: node.agentVersion.clear(); break;
        case 5: node.reachability = Reachability::Unknown; break;
        }
        QCOMPARE(node.health(), expected);
    }

    void mailboxAgreement()
    {
        const QStringList nodes{QStringLiteral("a"), QStringLiteral("b")};
        QVERIFY(mm::test::mailbox(QStringLiteral("INBOX"), {{QStringLiteral("a"), 3}, {QStringLiteral("b"), 3}}).agrees(nodes));
        QVERIFY(!mm::test::mailbox(QStringLiteral("INBOX"), {{QStringLiteral("a"), 3}, {QStringLiteral("b"), 4}}).agrees(nodes));
        QVERIFY(!mm::test::mailbox(QStringLiteral("INBOX"), {{QStringLiteral("a"), 3}}).agrees(nodes));
    }

    void summaryCountsNodesAndFindings()
    {
        auto state = std::make_shared<ClusterState>(*mm::test::snapshotOf(
            {QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")},
            {mm::test::mailbox(QStringLiteral("INBOX"), {{QStringLiteral("a"), 1}, {QStringLiteral("b"), 1}, {QStringLiteral("c"), 2}})}));
        state->nodes[2].reachability = Reachability::Unreachable;
        state->uidConflicts = 1;
        const ClusterState::Summary summary = state->summary();
        QCOMPARE(summary.ok, 2);
        QCOMPARE(summary.warnings, 1); // the disagreeing mailbox
        QCOMPARE(summary.errors, 2);   // the node, the UID conflict
    }
};

QTEST_GUILESS_MAIN(TestClusterState)
#include "tst_clusterstate.moc"
