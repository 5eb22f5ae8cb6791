// Keyword letters of its own for every node (core/cluster/config/keywordletters.h): never two owners for
// a letter, kept once given, and taken from the richest nodes when a node joins a full cluster.

#include "cluster/config/clusterconfig.h"
#include "cluster/dovecot/dovecotcontrol.h"
#include "cluster/config/keywordletters.h"

#include <QSet>
#include <QtTest>

using namespace Qt::StringLiterals;
using mm::cluster::ClusterConfig;
using mm::cluster::NodeConfig;

namespace {

ClusterConfig clusterOf(int nodes)
{
    ClusterConfig cluster;
    cluster.name = u"test"_s;
    for (int i = 1; i <= nodes; ++i) {
        NodeConfig node;
        node.id = u"node%1"_s.arg(i);
        node.ssh = u"ssh://root@node%1"_s.arg(i);
        node.mailRoot = u"/var/vmail"_s;
        cluster.nodes << node;
    }
    return cluster;
}

// Every letter at most once across the cluster, and the cluster file accepts it.
void verifyDisjoint(const ClusterConfig &cluster)
{
    QSet<QChar> seen;
    for (const NodeConfig &node : cluster.nodes)
        for (const QChar letter : node.dovecot.keywordLetters) {
            QVERIFY2(!seen.contains(letter), qPrintable(u"letter %1 given twice"_s.arg(letter)));
            seen.insert(letter);
        }
    QVERIFY2(cluster.validate().isEmpty(), qPrintable(cluster.validate().join(u"; "_s)));
}

} // namespace

class TestKeywordLetters : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void firstAssignmentInterleaves();
    void givenLettersStay();
    void joiningNodeTakesFreeLettersFirst();
    void joiningNodeTakesFromTheRichest();
    void manyNodesStillOneLetterEach();
    void clusterFileRefusesSharedLetters();
    void snippetNamesNodeAndLetters();
};

void TestKeywordLetters::firstAssignmentInterleaves()
{
    ClusterConfig cluster = clusterOf(3);
    QVERIFY(mm::cluster::assignKeywordLetters(cluster).isEmpty());
    QCOMPARE(cluster.nodes[0].dovecot.keywordLetters, u"adgjmpsvy"_s);
    QCOMPARE(cluster.nodes[1].dovecot.keywordLetters, u"behknqtwz"_s);
    QCOMPARE(cluster.nodes[2].dovecot.keywordLetters, u"cfilorux"_s);
    verifyDisjoint(cluster);
}

void TestKeywordLetters::givenLettersStay()
{
    ClusterConfig cluster = clusterOf(2);
    mm::cluster::assignKeywordLetters(cluster);
    const ClusterConfig before = cluster;
    QVERIFY(mm::cluster::assignKeywordLetters(cluster).isEmpty());
    QCOMPARE(cluster, before);
}

void TestKeywordLetters::joiningNodeTakesFreeLettersFirst()
{
    // node3 was removed: its letters are free, and the joining node4 gets them, nobody gives.
    ClusterConfig cluster = clusterOf(3);
    mm::cluster::assignKeywordLetters(cluster);
    const QString freed = cluster.nodes[2].dovecot.keywordLetters;
    cluster.nodes.removeAt(2);
    cluster.nodes << clusterOf(4).nodes[3];
    QVERIFY(mm::cluster::assignKeywordLetters(cluster).isEmpty());
    QCOMPARE(cluster.nodes[2].dovecot.keywordLetters, freed);
    verifyDisjoint(cluster);
}

void TestKeywordLetters::joiningNodeTakesFromTheRichest()
{
    ClusterConfig cluster = clusterOf(2);
    mm::cluster::assignKeywordLetters(cluster); // 13 each
    cluster.nodes << clusterOf(3).nodes[2];
    const QStringList donors = mm::cluster::assignKeywordLetters(cluster);
    QCOMPARE(donors, (QStringList{u"node1"_s, u"node2"_s}));
    QCOMPARE(cluster.nodes[2].dovecot.keywordLetters.size(), 26 / 3);
    QVERIFY(cluster.nodes[0].dovecot.keywordLetters.size() >= 26 / 3);
    QVERIFY(cluster.nodes[1].dovecot.keywordLetters.size() >= 26 / 3);
    // The givers keep their first letters: the ones in use longest stay where they are.
    QVERIFY(cluster.nodes[0].dovecot.keywordLetters.startsWith(u"acegik"_s));
    verifyDisjoint(cluster);
}

void TestKeywordLetters::manyNodesStillOneLetterEach()
{
    ClusterConfig cluster = clusterOf(10);
    mm::cluster::assignKeywordLetters(cluster);
    for (const NodeConfig &node : cluster.nodes)
        QVERIFY(node.dovecot.keywordLetters.size() >= 2);
    verifyDisjoint(cluster);
}

void TestKeywordLetters::clusterFileRefusesSharedLetters()
{
    ClusterConfig cluster = clusterOf(2);
    cluster.nodes[0].dovecot.keywordLetters = u"abc"_s;
    cluster.nodes[1].dovecot.keywordLetters = u"cd"_s;
    const QStringList problems = cluster.validate();
    QCOMPARE(problems.size(), 1);
    QVERIFY2(problems[0].startsWith(u"nodes[1].dovecot.keywordLetters: letter c is also node1's"_s), qPrintable(problems[0]));
    cluster.nodes[1].dovecot.keywordLetters = u"D"_s;
    QVERIFY(cluster.validate().join(u' ').contains(u"must be letters a-z"_s));

    // And it survives the file.
    cluster.nodes[1].dovecot.keywordLetters = u"de"_s;
    auto back = ClusterConfig::fromJson(cluster.toJson());
    QVERIFY(back);
    QCOMPARE(back->nodes[1].dovecot.keywordLetters, u"de"_s);
}

void TestKeywordLetters::snippetNamesNodeAndLetters()
{
    namespace dc = mm::cluster::dovecotcontrol;
    const QByteArray on = dc::curOnlySnippet(true, u"node2"_s, u"behk"_s);
    QVERIFY(on.contains("maildir_cur_only = yes\n"));
    QVERIFY(on.contains("maildir_cur_only_node = node2\n"));
    QVERIFY(on.contains("maildir_cur_only_keyword_letters = behk\n"));
    // Switched off, the node files are folded away (revert): no node, no letters.
    const QByteArray off = dc::curOnlySnippet(false, u"node2"_s, u"behk"_s);
    QVERIFY(off.contains("maildir_cur_only = no\n"));
    QVERIFY(!off.contains("maildir_cur_only_node"));
}

QTEST_GUILESS_MAIN(TestKeywordLetters)
#include "tst_keywordletters.moc"
