#include "cluster/monitor/clusterstate.h"
#include "snapshotfactory.h"

#include <QJsonArray>
#include <QJsonObject>
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

    void assemblingPutsEveryMailboxSideBySide()
    {
        NodeContribution a;
        a.state.id = QStringLiteral("a");
        a.mailboxCounts = {{QStringLiteral("x/Maildir"), 3}, {QStringLiteral("y/Maildir"), 1}};
        a.duplicateGroups = 2;
        NodeContribution b;
        b.state.id = QStringLiteral("b");
        b.mailboxCounts = {{QStringLiteral("x/Maildir"), 3}, {QStringLiteral("w/Maildir"), 5}};
        b.duplicateGroups = 1;
        b.classicFolders = {QStringLiteral("b:w/Maildir")};
        const auto state = assembleClusterState({a, b});
        QCOMPARE(state->nodes.size(), 2);
        QCOMPARE(state->mailboxes.size(), 3);
        QCOMPARE(state->mailboxes[0].mailbox, QStringLiteral("w/Maildir")); // sorted by path
        QCOMPARE(state->mailboxes[0].messagesByNode, (QMap<QString, qint64>{{QStringLiteral("b"), 5}}));
        QCOMPARE(state->mailboxes[1].messagesByNode,
                 (QMap<QString, qint64>{{QStringLiteral("a"), 3}, {QStringLiteral("b"), 3}}));
        QVERIFY(!state->mailboxes[2].agrees({QStringLiteral("a"), QStringLiteral("b")}));
        QCOMPARE(state->duplicateGroups, 2); // replicas find the same groups: the most, not the sum
        QCOMPARE(state->classicFolders, QStringList{QStringLiteral("b:w/Maildir")});
    }

    void classicFoldersCountOnlyAfterMigration()
    {
        const auto folder = [](const char *path, const char *state, int cur, int fresh) {
            return QJsonObject{{QStringLiteral("path"), QLatin1String(path)}, {QStringLiteral("state"), QLatin1String(state)},
                               {QStringLiteral("curMessages"), cur}, {QStringLiteral("newMessages"), fresh}};
        };
        const ScanInventory before = inventoryFromScan(QStringLiteral("n1"), {folder("u/Maildir", "classic", 2, 3)});
        QCOMPARE(before.mailboxCounts.value(QStringLiteral("u/Maildir")), 5);
        QVERIFY(before.classicFolders.isEmpty());
        const ScanInventory after = inventoryFromScan(
            QStringLiteral("n1"), {folder("u/Maildir", "cur-only", 4, 0), folder("new/Maildir", "classic", 0, 1)});
        QCOMPARE(after.classicFolders, QStringList{QStringLiteral("n1:new/Maildir")});
        // A folder that lost its new -> cur link needs convert too; other broken folders do not.
        QJsonObject lostNew = folder("u/Maildir/.Lost", "broken", 1, 0);
        lostNew.insert(QStringLiteral("brokenReason"), QStringLiteral("new is missing"));
        QJsonObject noCur = folder("u/Maildir/.Gone", "broken", 0, 0);
        noCur.insert(QStringLiteral("brokenReason"), QStringLiteral("cur/ is missing"));
        const ScanInventory lost =
            inventoryFromScan(QStringLiteral("n1"), {folder("u/Maildir", "cur-only", 4, 0), lostNew, noCur});
        QCOMPARE(lost.classicFolders, QStringList{QStringLiteral("n1:u/Maildir/.Lost")});
    }

    // The probe's watch-changes processes (protocol.md, "probe") against the node's Syncthing home.
    void changeWatcherIsFoundByItsSyncthingHome()
    {
        const auto watcher = [](const QJsonValue &home) {
            return QJsonObject{{QStringLiteral("pid"), 845}, {QStringLiteral("user"), QStringLiteral("vmail")},
                               {QStringLiteral("syncthingHome"), home}};
        };
        const QString home = QStringLiteral("/var/vmail/.config/syncthing");
        QVERIFY(!changeWatcherRunsFor({}, home));
        QVERIFY(changeWatcherRunsFor({watcher(home)}, home));
        QVERIFY(changeWatcherRunsFor({watcher(QStringLiteral("/var/vmail/.config/syncthing/"))}, home));
        QVERIFY(changeWatcherRunsFor({watcher(QStringLiteral("/var/vmail//.config/./syncthing"))}, home + u'/'));
        // Another node's or user's Syncthing on the same machine (a sandbox, a second instance).
        QVERIFY(!changeWatcherRunsFor({watcher(QStringLiteral("/srv/other/syncthing"))}, home));
        QVERIFY(changeWatcherRunsFor({watcher(QStringLiteral("/srv/other/syncthing")), watcher(home)}, home));
        // Started without --syncthing-home it watches nothing (the agent refuses to start).
        QVERIFY(!changeWatcherRunsFor({watcher(QJsonValue())}, home));
        // A node whose Syncthing home is not known takes any watcher.
        QVERIFY(changeWatcherRunsFor({watcher(QStringLiteral("/srv/other/syncthing"))}, QString()));
        QVERIFY(!changeWatcherRunsFor({}, QString()));
    }
};

QTEST_GUILESS_MAIN(TestClusterState)
#include "tst_clusterstate.moc"
