#include "cluster/config/clusterconfig.h"

#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using mm::cluster::ClusterConfig;
using mm::cluster::NodeConfig;
using mm::cluster::UidPolicy;

namespace {

ClusterConfig sampleCluster()
{
    ClusterConfig config;
    config.name = QStringLiteral("example mail");
    config.uidPolicy = UidPolicy::Replicated;
    NodeConfig node;
    node.id = QStringLiteral("mx1");
    node.ssh = QStringLiteral("ssh://admin@mx1.example.org:2222");
    node.sshOptions = {QStringLiteral("ProxyJump=bastion")};
    node.hostKey = QStringLiteral("SHA256:") + QString(43, QLatin1Char('A'));
    node.mailRoot = QStringLiteral("/var/vmail");
    node.mailUser = QStringLiteral("vmail");
    node.syncthing.home = QStringLiteral("/var/vmail/.config/syncthing");
    node.syncthing.guiAddress = QStringLiteral("127.0.0.1:8384");
    node.syncthing.syncAddress = QStringLiteral("tcp://192.0.2.10:22000");
    node.holdCommands = {{QStringLiteral("postfix"), QStringLiteral("stop")}};
    node.resumeCommands = {{QStringLiteral("postfix"), QStringLiteral("start")}};
    node.dovecot.version = QStringLiteral("2.3.19.1");
    node.dovecot.curOnlyBuild = true;
    config.nodes << node;
    node.id = QStringLiteral("mx2");
    node.ssh = QStringLiteral("mx2");
    node.sshOptions.clear();
    node.hostKey.clear();
    config.nodes << node;
    return config;
}

QJsonObject parse(const QByteArray &json)
{
    return QJsonDocument::fromJson(json).object();
}

} // namespace

class TestClusterConfig : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void migratesVersion1FilesByNamingDovecotConf()
    {
        // A version 1 file: dovecot.conf was implicit, wherever the node's Dovecot keeps it.
        const auto loaded = ClusterConfig::fromJson(parse(R"({"schemaVersion":1,"name":"old","nodes":[
            {"id":"mx1","ssh":"mx1","mailRoot":"/var/vmail","dovecot":{"curOnlyBuild":true}},
            {"id":"mx2","ssh":"mx2","mailRoot":"/var/vmail","dovecot":{"prefix":"/opt/dovecot"}}]})"));
        QVERIFY2(loaded.has_value(), loaded ? "" : loaded.error().message.c_str());
        QCOMPARE(loaded->nodes[0].dovecot.configFile, QStringLiteral("/etc/dovecot/dovecot.conf"));
        QCOMPARE(loaded->nodes[1].dovecot.configFile, QStringLiteral("/opt/dovecot/etc/dovecot/dovecot.conf"));
        QVERIFY(loaded->nodes[0].dovecot.curOnlyBuild);
        QCOMPARE(loaded->toJson().value(QStringLiteral("schemaVersion")).toInt(), 2);
    }

    void keepsAnExplicitDovecotConfAndReloadCommand()
    {
        ClusterConfig config = sampleCluster();
        config.nodes[0].dovecot.configFile = QStringLiteral("/srv/dovecot/dovecot.conf");
        config.nodes[0].dovecot.reloadCommand = {{QStringLiteral("doveadm"), QStringLiteral("reload")}};
        const auto loaded = ClusterConfig::fromJson(config.toJson());
        QVERIFY(loaded.has_value());
        QCOMPARE(*loaded, config);
    }

    void roundTripsThroughAFile()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("sub/cluster.json"));
        const ClusterConfig config = sampleCluster();
        QVERIFY(config.save(path).has_value());
        const auto loaded = ClusterConfig::load(path);
        QVERIFY2(loaded.has_value(), loaded ? "" : loaded.error().message.c_str());
        QCOMPARE(*loaded, config);
        QCOMPARE(loaded->toJson().value(QStringLiteral("schemaVersion")).toInt(), ClusterConfig::kSchemaVersion);
        QCOMPARE(loaded->node(QStringLiteral("mx2"))->ssh, QStringLiteral("mx2"));
        QVERIFY(loaded->node(QStringLiteral("nope")) == nullptr);
    }

    // A change through node() stays in the config it was made on: copies share the node list
    // until one of them changes it (the CLI compares a workflow's cluster with a copy to decide
    // whether to save).
    void aNodeChangedThroughOneCopyLeavesTheOtherAlone()
    {
        const ClusterConfig original = sampleCluster();
        ClusterConfig changed = original;
        changed.node(QStringLiteral("mx2"))->ssh = QStringLiteral("mx2-new");
        QCOMPARE(original.node(QStringLiteral("mx2"))->ssh, QStringLiteral("mx2"));
        QCOMPARE(changed.node(QStringLiteral("mx2"))->ssh, QStringLiteral("mx2-new"));
        QVERIFY(!(changed == original));
    }

    void reportsEveryBadFieldByName_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QStringList>("expectedFields");

        QTest::newRow("no version") << QByteArray(R"({"name":"x"})") << QStringList{QStringLiteral("schemaVersion")};
        QTest::newRow("newer version")
            << QByteArray(R"({"schemaVersion":99,"name":"x"})") << QStringList{QStringLiteral("newer Mailmesh")};
        QTest::newRow("missing name") << QByteArray(R"({"schemaVersion":1})") << QStringList{QStringLiteral("name:")};
        QTest::newRow("bad policy") << QByteArray(R"({"schemaVersion":1,"name":"x","uidPolicy":"maybe"})")
                                    << QStringList{QStringLiteral("uidPolicy:")};
        QTest::newRow("node fields")
            << QByteArray(R"({"schemaVersion":1,"name":"x","nodes":[
                   {"id":"a","ssh":"mx1","mailRoot":"/m"},
                   {"id":"B!","ssh":"-oProxyCommand=x","mailRoot":"relative","hostKey":"md5:zz"}]})")
            << QStringList{QStringLiteral("nodes[1].id:"), QStringLiteral("nodes[1].ssh:"),
                           QStringLiteral("nodes[1].mailRoot:"), QStringLiteral("nodes[1].hostKey:")};
        QTest::newRow("wrong types")
            << QByteArray(R"({"schemaVersion":1,"name":"x","nodes":[
                   {"id":"a","ssh":"h","mailRoot":"/m","sshOptions":"ProxyJump=b",
                    "holdCommands":["postfix stop"],"dovecot":{"curOnlyBuild":"yes"}}]})")
            << QStringList{QStringLiteral("nodes[0].sshOptions:"), QStringLiteral("nodes[0].holdCommands[0]:"),
                           QStringLiteral("nodes[0].dovecot.curOnlyBuild:")};
        QTest::newRow("duplicate id")
            << QByteArray(R"({"schemaVersion":1,"name":"x","nodes":[
                   {"id":"a","ssh":"h1","mailRoot":"/m"},{"id":"a","ssh":"h2","mailRoot":"/m"}]})")
            << QStringList{QStringLiteral("nodes[1].id: \"a\" is used by another node")};
        QTest::newRow("state dir inside mail root")
            << QByteArray(R"({"schemaVersion":1,"name":"x","nodes":[
                   {"id":"a","ssh":"h","mailRoot":"/var/vmail","stateDir":"/var/vmail/.state"}]})")
            << QStringList{QStringLiteral("nodes[0].stateDir:")};
        // Issue #20: a shared cluster file that would make ssh run commands on the admin's machine.
        QTest::newRow("ssh options that run commands")
            << QByteArray(R"({"schemaVersion":2,"name":"x","nodes":[
                   {"id":"a","ssh":"h","mailRoot":"/m","sshOptions":["IdentitiesOnly=yes",
                    "ProxyCommand=sh -c 'touch MARKER; nc HOST PORT'","LocalCommand=touch x"]},
                   {"id":"b","ssh":"h2","mailRoot":"/m","sshOptions":["PKCS11Provider=/tmp/p.so",
                    "GlobalKnownHostsFile=/tmp/k","ForwardAgent=yes","ProxyJump=j;id"]}]})")
            << QStringList{QStringLiteral("nodes[0].sshOptions[1]: \"ProxyCommand=sh -c 'touch MARKER; nc HOST PORT'\" is refused"),
                           QStringLiteral("nodes[0].sshOptions[2]: \"LocalCommand=touch x\" is refused"),
                           QStringLiteral("nodes[1].sshOptions[0]: \"PKCS11Provider"),
                           QStringLiteral("nodes[1].sshOptions[1]: \"GlobalKnownHostsFile"),
                           QStringLiteral("nodes[1].sshOptions[2]: \"ForwardAgent=yes\" is refused"),
                           QStringLiteral("nodes[1].sshOptions[3]: \"ProxyJump=j;id\" is refused")};
        // Found by fuzz_clusterconfig: converted to int before the range check (undefined).
        QTest::newRow("huge port")
            << QByteArray(R"({"schemaVersion":2,"name":"x","nodes":[
                   {"id":"a","ssh":"h","mailRoot":"/m","dovecot":{"imapPort":8e9}}]})")
            << QStringList{QStringLiteral("nodes[0].dovecot.imapPort: must be a port number")};
        QTest::newRow("unpaired hold")
            << QByteArray(R"({"schemaVersion":1,"name":"x","nodes":[
                   {"id":"a","ssh":"h","mailRoot":"/m","holdCommands":[["postfix","stop"]]}]})")
            << QStringList{QStringLiteral("nodes[0].resumeCommands:")};
    }
    void reportsEveryBadFieldByName()
    {
        QFETCH(QByteArray, json);
        QFETCH(QStringList, expectedFields);
        const auto config = ClusterConfig::fromJson(parse(json));
        QVERIFY(!config.has_value());
        const QString message = QString::fromStdString(config.error().message);
        for (const QString &field : expectedFields)
            QVERIFY2(message.contains(field), qPrintable(message));
    }

    void ignoresUnknownFieldsAndDefaultsOptionalOnes()
    {
        const auto config = ClusterConfig::fromJson(parse(R"({"schemaVersion":1,"name":"x","futureField":1,
            "nodes":[{"id":"a","ssh":"h","mailRoot":"/m","alsoFuture":true}]})"));
        QVERIFY2(config.has_value(), config ? "" : config.error().message.c_str());
        QCOMPARE(config->uidPolicy, UidPolicy::PerNode); // the measured safe default
        QCOMPARE(config->folderId, QStringLiteral("mailmesh-mail"));
        QCOMPARE(config->nodes.size(), 1);
    }

    void loadNamesTheFileOnError()
    {
        QTemporaryDir dir;
        const QString missing = dir.filePath(QStringLiteral("missing.json"));
        auto config = ClusterConfig::load(missing);
        QVERIFY(!config);
        QCOMPARE(config.error().code, mm::ErrorCode::NotFound);
        QCOMPARE(QString::fromStdString(config.error().path), missing);

        const QString garbage = dir.filePath(QStringLiteral("garbage.json"));
        QFile file(garbage);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("{ not json");
        file.close();
        config = ClusterConfig::load(garbage);
        QVERIFY(!config);
        QCOMPARE(config.error().code, mm::ErrorCode::InvalidData);
        QVERIFY(QString::fromStdString(config.error().message).contains(garbage));
    }

    void refusesToSaveAnInvalidCluster()
    {
        QTemporaryDir dir;
        ClusterConfig config = sampleCluster();
        config.nodes[1].id = config.nodes[0].id;
        const QString path = dir.filePath(QStringLiteral("cluster.json"));
        QVERIFY(!config.save(path).has_value());
        QVERIFY(!QFile::exists(path));
    }
};

QTEST_GUILESS_MAIN(TestClusterConfig)
#include "tst_clusterconfig.moc"
