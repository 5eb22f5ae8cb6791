// `status --check`: the Nagios verdict from a snapshot, and when a snapshot counts as settled.

#include "cluster/monitor/crossnodecheck.h"
#include "cluster/monitor/statuscheck.h"

#include <QJsonArray>
#include <QTest>

using namespace mm::cluster;

namespace {

ClusterState healthyCluster()
{
    ClusterState state;
    state.crossNodeChecked = true;
    for (const char *id : {"n1", "n2"}) {
        NodeState node;
        node.id = QLatin1String(id);
        node.reachability = Reachability::Reachable;
        node.hostKey = HostKeyState::Pinned;
        node.agentVersion = QStringLiteral("0.1.0");
        node.syncthingVersion = QStringLiteral("v1.19.2");
        node.inventoryTaken = true;
        state.nodes << node;
        state.folders << FolderState{node.id, QStringLiteral("idle"), 0, 0, 0, {}};
    }
    state.peers << PeerSync{QStringLiteral("n1"), QStringLiteral("n2"), true, 100, 0, 0}
                << PeerSync{QStringLiteral("n2"), QStringLiteral("n1"), true, 100, 0, 0};
    return state;
}

} // namespace

class TestStatusCheck : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void verdicts_data()
    {
        QTest::addColumn<QString>("change");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("healthy") << QString() << 0 << QStringLiteral("MAILMESH OK - 2/2 nodes reachable, 2/2 peer links in sync");
        QTest::newRow("lag warns") << QStringLiteral("lag150") << 1 << QStringLiteral("150 items behind");
        QTest::newRow("lag critical") << QStringLiteral("lag5000") << 2 << QStringLiteral("5000 items behind");
        QTest::newRow("unreachable") << QStringLiteral("down") << 2 << QStringLiteral("1 node unreachable");
        QTest::newRow("duplicates warn") << QStringLiteral("dupes") << 1 << QStringLiteral("4 duplicate groups");
        QTest::newRow("conflict copies") << QStringLiteral("conflicts") << 2 << QStringLiteral("12 conflict copies");
        QTest::newRow("uid conflict") << QStringLiteral("uid") << 2 << QStringLiteral("1 UID conflict (.Sent: UID 7 is a on n1, b on n2)");
        QTest::newRow("changed key") << QStringLiteral("key") << 2 << QStringLiteral("1 changed host key");
        QTest::newRow("agent down") << QStringLiteral("agent") << 1 << QStringLiteral("n2 Agent: gone");
        QTest::newRow("no change watcher") << QStringLiteral("watcher") << 1
                                           << QStringLiteral("n2 mailmesh-agent watch-changes is not running");
        QTest::newRow("not settled") << QStringLiteral("unsettled") << 3 << QStringLiteral("MAILMESH UNKNOWN - not every node answered");
    }

    void verdicts()
    {
        QFETCH(QString, change);
        QFETCH(int, code);
        QFETCH(QString, mentions);
        ClusterState state = healthyCluster();
        bool settled = true;
        if (change == QLatin1String("lag150"))
            state.peers[0].needItems = 150;
        else if (change == QLatin1String("lag5000"))
            state.peers[1].needItems = 5000;
        else if (change == QLatin1String("down"))
            state.nodes[1].reachability = Reachability::Unreachable;
        else if (change == QLatin1String("dupes"))
            state.duplicateGroups = 4;
        else if (change == QLatin1String("conflicts"))
            state.folders[0].conflictCopies = 12;
        else if (change == QLatin1String("uid")) {
            state.uidConflicts = 1;
            state.uidConflictDetails << QStringLiteral(".Sent: UID 7 is a on n1, b on n2");
        }
        else if (change == QLatin1String("key"))
            state.nodes[0].hostKey = HostKeyState::Changed;
        else if (change == QLatin1String("agent"))
            state.nodes[1].problems << QStringLiteral("Agent: gone");
        else if (change == QLatin1String("watcher")) {
            state.nodes[1].changeWatcherRunning = false;
            state.nodes[1].problems << QStringLiteral("mailmesh-agent watch-changes is not running: some changes wait "
                                                      "up to an hour");
        }
        else if (change == QLatin1String("unsettled"))
            settled = false;
        const StatusVerdict verdict = checkStatus(state, StatusThresholds{}, settled);
        QCOMPARE(verdict.code, code);
        QVERIFY2(verdict.line.contains(mentions), qPrintable(verdict.line));
        QVERIFY(verdict.line.contains(QLatin1String(" | nodes=2 ")));
    }

    void comparesOnlyFoldersWhoseUidsAreComparable()
    {
        CrossNodeCheck::Digests digests;
        // INBOX: one uidvalidity on n1 and n2, different digests: compare. .Sent: same digest.
        // .Drafts: per-node uidvalidities: nothing to compare. .Junk: no uidlist on n2.
        digests[QStringLiteral("n1")] = {{QStringLiteral("INBOX"), {QStringLiteral("a"), 100, {}}},
                                        {QStringLiteral(".Sent"), {QStringLiteral("s"), 5, {}}},
                                        {QStringLiteral(".Drafts"), {QStringLiteral("d1"), 7, {}}},
                                        {QStringLiteral(".Junk"), {QStringLiteral("j1"), 9, {}}}};
        digests[QStringLiteral("n2")] = {{QStringLiteral("INBOX"), {QStringLiteral("b"), 100, {}}},
                                        {QStringLiteral(".Sent"), {QStringLiteral("s"), 5, {}}},
                                        {QStringLiteral(".Drafts"), {QStringLiteral("d2"), 8, {}}},
                                        {QStringLiteral(".Junk"), {QStringLiteral("j2"), -1, {}}}};
        digests[QStringLiteral("n3")] = {{QStringLiteral("INBOX"), {QStringLiteral("a"), 100, {}}}};
        const QMap<QString, QStringList> compare = CrossNodeCheck::foldersToCompare(digests);
        QCOMPARE(compare.keys(), QStringList{QStringLiteral("INBOX")});
        QCOMPARE(compare.value(QStringLiteral("INBOX")),
                 (QStringList{QStringLiteral("n1"), QStringLiteral("n2"), QStringLiteral("n3")}));
    }

    void keywordLettersMeaningTwoKeywordsAreClashes()
    {
        CrossNodeCheck::Digests digests;
        // INBOX: letter a is $Junk on both (n2 writes it differently: Dovecot ignores case), b is
        // not on n2 yet (its file has not arrived: no clash), c is $Node1 on n1 and $Node2 on n2.
        digests[QStringLiteral("n1")] = {{QStringLiteral("INBOX"),
                                          {QStringLiteral("x"), 1,
                                           {{QStringLiteral("a"), QStringLiteral("$Junk")},
                                            {QStringLiteral("b"), QStringLiteral("Work")},
                                            {QStringLiteral("c"), QStringLiteral("$Node1")}}}}};
        digests[QStringLiteral("n2")] = {{QStringLiteral("INBOX"),
                                          {QStringLiteral("y"), 2,
                                           {{QStringLiteral("a"), QStringLiteral("$junk")},
                                            {QStringLiteral("c"), QStringLiteral("$Node2")}}}}};
        QCOMPARE(CrossNodeCheck::keywordClashes(digests),
                 QStringList{QStringLiteral("INBOX: keyword letter c is $Node1 on n1, $Node2 on n2")});

        ClusterState state = healthyCluster();
        state.keywordClashes = 1;
        state.keywordClashDetails = CrossNodeCheck::keywordClashes(digests);
        const StatusVerdict verdict = checkStatus(state, StatusThresholds{}, true);
        QCOMPARE(verdict.code, 2);
        QVERIFY2(verdict.line.contains(QLatin1String("keyword clash")), qPrintable(verdict.line));
        QVERIFY2(verdict.line.contains(QLatin1String("keywordclashes=1")), qPrintable(verdict.line));
    }

    // `status --json`: whether each node's change watcher runs, null until its probe answered.
    void jsonSaysWhetherTheChangeWatcherRuns()
    {
        ClusterState state = healthyCluster();
        state.nodes[0].changeWatcherRunning = true;
        state.nodes[1].changeWatcherRunning = false;
        QJsonArray nodes = stateToJson(state).value(QStringLiteral("nodes")).toArray();
        QCOMPARE(nodes[0].toObject().value(QStringLiteral("changeWatcherRunning")), QJsonValue(true));
        QCOMPARE(nodes[1].toObject().value(QStringLiteral("changeWatcherRunning")), QJsonValue(false));
        state.nodes[1].changeWatcherRunning.reset();
        nodes = stateToJson(state).value(QStringLiteral("nodes")).toArray();
        QVERIFY(nodes[1].toObject().contains(QStringLiteral("changeWatcherRunning")));
        QVERIFY(nodes[1].toObject().value(QStringLiteral("changeWatcherRunning")).isNull());
    }

    void thresholdsCanBeTurnedOff()
    {
        ClusterState state = healthyCluster();
        state.duplicateGroups = 9;
        StatusThresholds thresholds;
        thresholds.warnDuplicates = -1;
        QCOMPARE(checkStatus(state, thresholds, true).code, 0);
    }

    void settlesOnceEveryNodeAnsweredOrIsDown()
    {
        ClusterState state = healthyCluster();
        QVERIFY(isSettled(state));
        state.nodes[0].inventoryTaken = false;
        QVERIFY(!isSettled(state));
        state.nodes[0].reachability = Reachability::Unreachable;
        QVERIFY(isSettled(state));
        state.nodes[1].reachability = Reachability::Unknown;
        QVERIFY(!isSettled(state));
        state = healthyCluster();
        state.crossNodeChecked = false; // UID conflicts not compared yet
        QVERIFY(!isSettled(state));
    }
};

QTEST_GUILESS_MAIN(TestStatusCheck)
#include "tst_statuscheck.moc"
