// Home nodes (core/cluster/config/homenodes.h): rendezvous hashing that stays put as nodes come and
// go, the admin's overrides, drained nodes, the passwd-file Dovecot reads, the cluster file's
// "homes" section, and the clock behind `status --check --auto-failover`.

#include "cluster/config/clusterconfig.h"
#include "cluster/config/failoverclock.h"
#include "cluster/config/homenodes.h"
#include "cluster/workflows/homesworkflow.h"

#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest>

using namespace Qt::StringLiterals;
using mm::cluster::ClusterConfig;
using mm::cluster::FailoverClock;
using mm::cluster::HomeAssignment;
using mm::cluster::HomeReason;
using mm::cluster::HomesSettings;
namespace homenodes = mm::cluster::homenodes;

namespace {

QStringList usersOf(int count)
{
    QStringList users;
    for (int i = 0; i < count; ++i)
        users << u"user%1@example.org"_s.arg(i);
    return users;
}

QStringList nodesOf(int count)
{
    QStringList nodes;
    for (int i = 1; i <= count; ++i)
        nodes << u"node%1"_s.arg(i);
    return nodes;
}

QMap<QString, QString> homeMap(const QList<HomeAssignment> &homes)
{
    QMap<QString, QString> map;
    for (const HomeAssignment &home : homes)
        map.insert(home.user, home.node);
    return map;
}

QMap<QString, int> countsPerNode(const QList<HomeAssignment> &homes)
{
    QMap<QString, int> counts;
    for (const HomeAssignment &home : homes)
        ++counts[home.node];
    return counts;
}

} // namespace

class TestHomeNodes : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void sameInputSameHome();
    void addingANodeMovesOnlyUsersToIt();
    void removingANodeMovesOnlyItsUsers();
    void drainedNodesGetNoUsers();
    void overridesWin();
    void overrideToADrainedNodeFailsOver();
    void overrideToARemovedNodeIsIgnored();
    void everyNodeDrainedLeavesUsersWithoutAHome();
    void distributionIsRoughlyEven();
    void passwdFileLines();
    void userNames_data();
    void userNames();
    void addresses_data();
    void addresses();
    void userListFromDoveadm();
    void endpointsFromTheClusterFile();
    void snippetsPerDovecotLine();
    void clusterFileKeepsTheHomesSection();
    void clusterFileWithoutHomesStillLoads();
    void clusterFileRefusesBadHomes();
    void clockRemembersTheFirstTimeDown();
    void clockFailsOverNothingWhenEveryNodeIsDown();
    void clockSurvivesASaveAndLoad();
};

void TestHomeNodes::sameInputSameHome()
{
    const QStringList nodes = nodesOf(3);
    QCOMPARE(homenodes::hashedHome(u"alice@example.org"_s, nodes),
             homenodes::hashedHome(u"alice@example.org"_s, {nodes[2], nodes[0], nodes[1]}));
    // Fixed values (SHA-256 of "node\0user", worked out by hand with Python's hashlib): the hash
    // must never change between releases, or every user would move at an upgrade.
    QCOMPARE(homenodes::hashedHome(u"alice@example.org"_s, nodes), u"node1"_s);
    QCOMPARE(homenodes::hashedHome(u"bob@example.org"_s, nodes), u"node3"_s);
    QVERIFY(homenodes::hashedHome(u"alice@example.org"_s, {}).isEmpty());
}

void TestHomeNodes::addingANodeMovesOnlyUsersToIt()
{
    const QStringList users = usersOf(2000);
    const auto before = homeMap(homenodes::assign(users, nodesOf(4), {}));
    const auto after = homeMap(homenodes::assign(users, nodesOf(5), {}));
    int moved = 0;
    for (const QString &user : users) {
        if (before.value(user) == after.value(user))
            continue;
        ++moved;
        QCOMPARE(after.value(user), u"node5"_s); // nobody moves between the old nodes
    }
    // About 1/5 of the users move (400 expected); a wide band, the hash is not a coin.
    QVERIFY2(moved > 250 && moved < 550, qPrintable(QString::number(moved)));
}

void TestHomeNodes::removingANodeMovesOnlyItsUsers()
{
    const QStringList users = usersOf(2000);
    const auto before = homeMap(homenodes::assign(users, nodesOf(4), {}));
    const auto after = homeMap(homenodes::assign(users, {u"node1"_s, u"node3"_s, u"node4"_s}, {}));
    for (const QString &user : users) {
        if (before.value(user) != u"node2"_s)
            QCOMPARE(after.value(user), before.value(user));
        else
            QVERIFY(after.value(user) != u"node2"_s);
    }
}

void TestHomeNodes::drainedNodesGetNoUsers()
{
    const QStringList users = usersOf(1000);
    const auto before = homenodes::assign(users, nodesOf(3), {});
    HomesSettings settings;
    settings.drained = {u"node2"_s};
    const auto after = homenodes::assign(users, nodesOf(3), settings);
    QCOMPARE(after.size(), before.size());
    for (qsizetype i = 0; i < after.size(); ++i) {
        QVERIFY(after[i].node != u"node2"_s);
        QCOMPARE(after[i].preferred, before[i].node);
        if (before[i].node == u"node2"_s) {
            QCOMPARE(after[i].reason, HomeReason::Failover);
        } else {
            QCOMPARE(after[i].node, before[i].node);
            QCOMPARE(after[i].reason, HomeReason::Hash);
        }
    }
    // The drained node's users spread over the others by the same hash: the same as removing it.
    QCOMPARE(homeMap(after), homeMap(homenodes::assign(users, {u"node1"_s, u"node3"_s}, {})));
}

void TestHomeNodes::overridesWin()
{
    const QStringList users = usersOf(50);
    HomesSettings settings;
    for (const QString &user : users)
        settings.overrides.insert(user, u"node3"_s);
    for (const HomeAssignment &home : homenodes::assign(users, nodesOf(3), settings)) {
        QCOMPARE(home.node, u"node3"_s);
        QCOMPARE(home.reason, HomeReason::Override);
    }
}

void TestHomeNodes::overrideToADrainedNodeFailsOver()
{
    HomesSettings settings;
    settings.overrides.insert(u"bob@example.org"_s, u"node2"_s);
    settings.drained = {u"node2"_s};
    const auto homes = homenodes::assign({u"bob@example.org"_s}, nodesOf(3), settings);
    QCOMPARE(homes.size(), 1);
    QCOMPARE(homes[0].reason, HomeReason::Failover);
    QCOMPARE(homes[0].preferred, u"node2"_s);
    QCOMPARE(homes[0].node, homenodes::hashedHome(u"bob@example.org"_s, {u"node1"_s, u"node3"_s}));
}

void TestHomeNodes::overrideToARemovedNodeIsIgnored()
{
    HomesSettings settings;
    settings.overrides.insert(u"bob@example.org"_s, u"node9"_s);
    const auto homes = homenodes::assign({u"bob@example.org"_s}, nodesOf(3), settings);
    QCOMPARE(homes[0].reason, HomeReason::Hash);
    QCOMPARE(homes[0].node, homenodes::hashedHome(u"bob@example.org"_s, nodesOf(3)));
}

void TestHomeNodes::everyNodeDrainedLeavesUsersWithoutAHome()
{
    HomesSettings settings;
    settings.drained = nodesOf(2);
    const auto homes = homenodes::assign({u"bob@example.org"_s}, nodesOf(2), settings);
    QCOMPARE(homes[0].reason, HomeReason::Nowhere);
    QVERIFY(homes[0].node.isEmpty());
    // No line for a user without a home: Dovecot then serves the login where it arrives.
    QVERIFY(!homenodes::passwdFile(homes, {{u"node1"_s, {u"10.0.0.1"_s, 143}}}).contains("bob@"));
}

void TestHomeNodes::distributionIsRoughlyEven()
{
    const auto counts = countsPerNode(homenodes::assign(usersOf(3000), nodesOf(3), {}));
    QCOMPARE(counts.size(), 3);
    for (auto it = counts.begin(); it != counts.end(); ++it)
        QVERIFY2(it.value() > 850 && it.value() < 1150,
                 qPrintable(u"%1: %2"_s.arg(it.key()).arg(it.value())));
}

void TestHomeNodes::passwdFileLines()
{
    const QList<HomeAssignment> homes{
        {u"alice@example.org"_s, u"node2"_s, HomeReason::Hash, u"node2"_s},
        {u"bad:user"_s, u"node1"_s, HomeReason::Hash, u"node1"_s},
        {u"carol@example.org"_s, u"node1"_s, HomeReason::Override, u"node1"_s}};
    const QByteArray file = homenodes::passwdFile(
        homes, {{u"node1"_s, {u"10.0.0.1"_s, 143}}, {u"node2"_s, {u"10.0.0.2"_s, 10143}}});
    QStringList lines;
    for (const QByteArray &line : file.split('\n'))
        if (!line.isEmpty() && !line.startsWith('#'))
            lines << QString::fromUtf8(line);
    QCOMPARE(
        lines,
        QStringList(
            {u"alice@example.org:::::::noauthenticate proxy_maybe=y host=10.0.0.2 port=10143"_s,
             u"carol@example.org:::::::noauthenticate proxy_maybe=y host=10.0.0.1 port=143"_s}));
}

void TestHomeNodes::userNames_data()
{
    QTest::addColumn<QString>("user");
    QTest::addColumn<bool>("usable");
    QTest::newRow("address") << u"alice@example.org"_s << true;
    QTest::newRow("plain") << u"bob"_s << true;
    QTest::newRow("colon") << u"a:b"_s << false;
    QTest::newRow("space") << u"a b"_s << false;
    QTest::newRow("newline") << u"a\nb"_s << false;
    QTest::newRow("comment") << u"#a"_s << false;
    QTest::newRow("empty") << QString() << false;
}

void TestHomeNodes::userNames()
{
    QFETCH(QString, user);
    QFETCH(bool, usable);
    QCOMPARE(homenodes::isUsableUserName(user), usable);
}

void TestHomeNodes::addresses_data()
{
    QTest::addColumn<QString>("address");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::newRow("host") << u"10.0.0.2"_s << u"10.0.0.2"_s << 143;
    QTest::newRow("host:port") << u"10.0.0.2:10143"_s << u"10.0.0.2"_s << 10143;
    QTest::newRow("v6") << u"2001:db8::2"_s << u"2001:db8::2"_s << 143;
    QTest::newRow("[v6]:port") << u"[2001:db8::2]:993"_s << u"2001:db8::2"_s << 993;
    QTest::newRow("bad port") << u"host:99999"_s << QString() << 0;
    QTest::newRow("empty") << QString() << QString() << 0;
    QTest::newRow("space") << u"a b"_s << QString() << 0;
}

void TestHomeNodes::addresses()
{
    QFETCH(QString, address);
    QFETCH(QString, host);
    QFETCH(int, port);
    const homenodes::Endpoint endpoint = homenodes::parseAddress(address, 143);
    QCOMPARE(endpoint.host, host);
    QCOMPARE(endpoint.port, port);
}

void TestHomeNodes::userListFromDoveadm()
{
    QCOMPARE(homenodes::parseUserList("alice@example.org\nbob@example.org\n\nalice@example.org\n"),
             QStringList({u"alice@example.org"_s, u"bob@example.org"_s}));
}

void TestHomeNodes::endpointsFromTheClusterFile()
{
    ClusterConfig cluster;
    cluster.name = u"t"_s;
    for (int i = 1; i <= 3; ++i) {
        mm::cluster::NodeConfig node;
        node.id = u"node%1"_s.arg(i);
        node.ssh = u"ssh://root@mx%1.example.org"_s.arg(i);
        node.mailRoot = u"/var/vmail"_s;
        cluster.nodes << node;
    }
    cluster.nodes[0].syncthing.syncAddress = u"tcp://192.0.2.10:22000"_s;
    cluster.nodes[0].dovecot.imapPort = 10143;
    cluster.homes.imapAddresses.insert(u"node2"_s, u"192.0.2.20:143"_s);
    const auto endpoints = mm::cluster::homeEndpoints(cluster);
    QCOMPARE(endpoints.value(u"node1"_s).host, u"192.0.2.10"_s);
    QCOMPARE(endpoints.value(u"node1"_s).port, 10143);
    QCOMPARE(endpoints.value(u"node2"_s).host, u"192.0.2.20"_s);
    // Nothing to go by but the ssh address: its host.
    QCOMPARE(endpoints.value(u"node3"_s).host, u"mx3.example.org"_s);
    QCOMPARE(endpoints.value(u"node3"_s).port, 143);
}

void TestHomeNodes::snippetsPerDovecotLine()
{
    mm::cluster::DovecotFacts packaged;
    QCOMPARE(mm::cluster::homefiles::passwdPath(packaged), u"/etc/dovecot/mailmesh-homes.passwd"_s);
    QCOMPARE(mm::cluster::homefiles::snippetPath(packaged),
             u"/etc/dovecot/conf.d/95-mailmesh-homes.conf"_s);
    mm::cluster::DovecotFacts prefixed;
    prefixed.prefix = u"/opt/dovecot"_s;
    QCOMPARE(mm::cluster::homefiles::passwdPath(prefixed),
             u"/opt/dovecot/etc/dovecot/mailmesh-homes.passwd"_s);

    const QString table = u"/etc/dovecot/mailmesh-homes.passwd"_s;
    const auto v23 = mm::cluster::homefiles::snippet(u"2.3"_s, table);
    QVERIFY(v23);
    QVERIFY(v23->contains("protocol imap {\n  passdb {\n    driver = passwd-file\n    args = " +
                          table.toUtf8() + '\n'));
    const auto v24 = mm::cluster::homefiles::snippet(u"2.4"_s, table);
    QVERIFY(v24);
    QVERIFY(v24->contains(
        "  passdb mailmesh-homes {\n    driver = passwd-file\n    passwd_file_path = " +
        table.toUtf8()));
    for (const QByteArray &text : {*v23, *v24}) {
        // First in line, adding fields only: every result goes on to the node's own passdb.
        QVERIFY(text.contains("result_success = continue\n"));
        QVERIFY(text.contains("result_failure = continue\n"));
        QVERIFY(text.contains("result_internalfail = continue\n"));
        QVERIFY(!text.contains("{{"));
    }
    QVERIFY(!mm::cluster::homefiles::snippet(u"2.5"_s, table)); // no template: refused, not guessed
}

void TestHomeNodes::clusterFileKeepsTheHomesSection()
{
    ClusterConfig cluster;
    cluster.name = u"t"_s;
    cluster.homes.overrides.insert(u"bob@example.org"_s, u"node2"_s);
    cluster.homes.drained = {u"node3"_s};
    cluster.homes.imapAddresses.insert(u"node1"_s, u"10.0.0.1"_s);
    const QJsonObject json = cluster.toJson();
    QVERIFY(json.contains(u"homes"_s));
    const auto read = ClusterConfig::fromJson(json);
    QVERIFY2(read, read ? "" : read.error().message.c_str());
    QCOMPARE(read->homes, cluster.homes);
}

void TestHomeNodes::clusterFileWithoutHomesStillLoads()
{
    const QByteArray old = R"({"schemaVersion": 2, "name": "old", "nodes": [
        {"id": "mx1", "ssh": "ssh://root@mx1", "mailRoot": "/var/vmail"}]})";
    const auto read = ClusterConfig::fromJson(QJsonDocument::fromJson(old).object());
    QVERIFY2(read, read ? "" : read.error().message.c_str());
    QVERIFY(read->homes.isEmpty());
    QVERIFY(!read->toJson().contains(u"homes"_s)); // nothing new written into an old file
}

void TestHomeNodes::clusterFileRefusesBadHomes()
{
    const QByteArray badShape = R"({"schemaVersion": 2, "name": "bad", "nodes": [],
        "homes": {"drained": "node1"}})";
    const auto shape = ClusterConfig::fromJson(QJsonDocument::fromJson(badShape).object());
    QVERIFY(!shape);
    QVERIFY2(shape.error().message.find("homes.drained") != std::string::npos,
             shape.error().message.c_str());

    const QByteArray badValues = R"({"schemaVersion": 2, "name": "bad", "nodes": [],
        "homes": {"overrides": {"a:b": "node1", "bob": "Node 2"}, "imapAddresses": {"node1": "a b"}}})";
    const auto read = ClusterConfig::fromJson(QJsonDocument::fromJson(badValues).object());
    QVERIFY(!read);
    const QString message = QString::fromStdString(read.error().message);
    QVERIFY2(message.contains(u"homes.overrides.bob"_s), qPrintable(message));
    QVERIFY2(message.contains(u"homes.overrides.a:b"_s), qPrintable(message));
    QVERIFY2(message.contains(u"homes.imapAddresses.node1"_s), qPrintable(message));
}

void TestHomeNodes::clockRemembersTheFirstTimeDown()
{
    const QDateTime t0 = QDateTime::fromString(u"2026-12-06T10:00:00Z"_s, Qt::ISODate);
    FailoverClock clock;
    const QStringList nodes = nodesOf(3);
    clock.observe({u"node1"_s, u"node3"_s}, {u"node2"_s}, t0);
    clock.observe({u"node1"_s, u"node3"_s}, {u"node2"_s}, t0.addSecs(60));
    QCOMPARE(clock.downSince(u"node2"_s), t0);
    QVERIFY(clock.due(nodes, {u"node1"_s, u"node3"_s}, {}, 300, t0.addSecs(299)).isEmpty());
    QCOMPARE(clock.due(nodes, {u"node1"_s, u"node3"_s}, {}, 300, t0.addSecs(300)),
             QStringList{u"node2"_s});
    // Once drained it is not due again; seen up, it is forgotten.
    QVERIFY(
        clock.due(nodes, {u"node1"_s, u"node3"_s}, {u"node2"_s}, 300, t0.addSecs(900)).isEmpty());
    clock.observe(nodes, {}, t0.addSecs(1000));
    QVERIFY(!clock.downSince(u"node2"_s).isValid());
}

void TestHomeNodes::clockFailsOverNothingWhenEveryNodeIsDown()
{
    const QDateTime t0 = QDateTime::fromString(u"2026-12-06T10:00:00Z"_s, Qt::ISODate);
    FailoverClock clock;
    clock.observe({}, nodesOf(3), t0);
    QVERIFY(clock.due(nodesOf(3), {}, {}, 60, t0.addSecs(3600)).isEmpty());
    // The only node still up is drained: nobody would be left to serve.
    clock.observe({u"node1"_s}, {u"node2"_s, u"node3"_s}, t0);
    QVERIFY(clock.due(nodesOf(3), {u"node1"_s}, {u"node1"_s}, 60, t0.addSecs(3600)).isEmpty());
}

void TestHomeNodes::clockSurvivesASaveAndLoad()
{
    QTemporaryDir dir;
    const QString path = FailoverClock::stateFileFor(dir.filePath(u"cluster.json"_s));
    QVERIFY(path.endsWith(u"cluster.json.down-since.json"_s));
    QVERIFY(FailoverClock::load(path)->entries().isEmpty()); // no file yet: an empty clock
    const QDateTime t0 = QDateTime::fromString(u"2026-12-06T10:00:00Z"_s, Qt::ISODate);
    FailoverClock clock;
    clock.observe({}, {u"node2"_s}, t0);
    QVERIFY(clock.save(path));
    const auto loaded = FailoverClock::load(path);
    QVERIFY(loaded);
    QCOMPARE(loaded->downSince(u"node2"_s), t0);
    QFile broken(path);
    QVERIFY(broken.open(QIODevice::WriteOnly));
    broken.write("{not json");
    broken.close();
    QVERIFY(!FailoverClock::load(path));
}

QTEST_GUILESS_MAIN(TestHomeNodes)
#include "tst_homenodes.moc"
