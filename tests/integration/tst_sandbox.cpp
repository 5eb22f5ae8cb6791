// Three real nodes (sshd, syncthing, dovecot on 127.0.0.1) from core/sandbox, shared by every
// test function; the last function tears them down and checks that nothing survived.

#include "sandbox/probes.h"
#include "sandbox/sandbox.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QSet>
#include <QTest>

#include <csignal>
#include <sys/stat.h>
#include <unistd.h>

using namespace Qt::StringLiterals;
using mm::sandbox::HttpReply;
using mm::sandbox::ProcessTable;
using mm::sandbox::Sandbox;
using mm::sandbox::SandboxOptions;

class TestSandbox : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void description();
    void sshRunsCommandsAsTheMailUser_data();
    void sshRunsCommandsAsTheMailUser();
    void hostKeyFingerprintMatchesSshKeygen_data();
    void hostKeyFingerprintMatchesSshKeygen();
    void mailRootBelongsToTheMailUser_data();
    void mailRootBelongsToTheMailUser();
    void syncthingAnswersPingWithItsKeyOnly_data();
    void syncthingAnswersPingWithItsKeyOnly();
    void syncthingRunsTheSandboxConfig_data();
    void syncthingRunsTheSandboxConfig();
    void imapLoginSelect_data();
    void imapLoginSelect();
    void imapRefusesAWrongPassword();
    void newHostKeyIsRefusedUntilTrusted();
    void syncthingStopsAndStartsAlone();
    void dovecotRestarts();
    void tearDownLeavesNothingRunning();

private:
    void addNodeRows();
    Sandbox m_sandbox{SandboxOptions{}};
};

void TestSandbox::initTestCase()
{
    const mm::Status started = m_sandbox.start();
    QVERIFY2(started, started ? "" : started.error().describe().c_str());
    QCOMPARE(m_sandbox.nodes().size(), 3);
    // A figure for the log, never an assertion (tests do not assert wall-clock times).
    qInfo("3 nodes up in %lld ms", static_cast<long long>(m_sandbox.startupMilliseconds()));
}

void TestSandbox::addNodeRows()
{
    QTest::addColumn<int>("index");
    for (int i = 0; i < m_sandbox.nodes().size(); ++i)
        QTest::newRow(qPrintable(m_sandbox.node(i).id)) << i;
}

void TestSandbox::description()
{
    const QJsonObject description = m_sandbox.description();
    QCOMPARE(description.value(u"schemaVersion"_s).toInt(), 1);
    QCOMPARE(description.value(u"dir"_s).toString(), m_sandbox.dir());
    const QJsonArray nodes = description.value(u"nodes"_s).toArray();
    QCOMPARE(nodes.size(), 3);
    QSet<int> ports;
    for (int i = 0; i < nodes.size(); ++i) {
        const QJsonObject node = nodes[i].toObject();
        QCOMPARE(node.value(u"id"_s).toString(), u"node%1"_s.arg(i + 1));
        const QJsonObject ssh = node.value(u"ssh"_s).toObject();
        const QJsonObject syncthing = node.value(u"syncthing"_s).toObject();
        const QJsonObject imap = node.value(u"imap"_s).toObject();
        const QJsonObject dovecot = node.value(u"dovecot"_s).toObject();
        QCOMPARE(ssh.value(u"alias"_s).toString(), node.value(u"id"_s).toString());
        QVERIFY(ssh.value(u"hostKeyFingerprint"_s).toString().startsWith(u"SHA256:"_s));
        QVERIFY(QFileInfo::exists(ssh.value(u"configFile"_s).toString()));
        QVERIFY(QFileInfo::exists(ssh.value(u"identityFile"_s).toString()));
        QVERIFY(QFileInfo::exists(ssh.value(u"knownHostsFile"_s).toString()));
        QCOMPARE(ssh.value(u"user"_s).toString(), m_sandbox.user().name());
        QVERIFY(QFileInfo(node.value(u"mailRoot"_s).toString()).isDir());
        QVERIFY(QFileInfo(node.value(u"maildir"_s).toString() + u"/cur"_s).isDir());
        QCOMPARE(syncthing.value(u"apiKey"_s).toString().size(), 32);
        QCOMPARE(syncthing.value(u"deviceId"_s).toString().size(), 63); // 8 groups of 7
        QVERIFY(syncthing.value(u"guiAddress"_s).toString().startsWith(u"127.0.0.1:"_s));
        QVERIFY(syncthing.value(u"syncAddress"_s).toString().startsWith(u"tcp://127.0.0.1:"_s));
        QVERIFY(!imap.value(u"password"_s).toString().isEmpty());
        QVERIFY(QFileInfo(dovecot.value(u"confD"_s).toString()).isDir());
        QCOMPARE(dovecot.value(u"prefix"_s).toString(), u"/usr"_s);
        for (int port :
             {ssh.value(u"port"_s).toInt(), imap.value(u"port"_s).toInt(),
              int(m_sandbox.node(i).syncthingGuiPort), int(m_sandbox.node(i).syncthingSyncPort)}) {
            QVERIFY(port > 0);
            QVERIFY2(!ports.contains(port), "every daemon has its own port");
            ports.insert(port);
        }
    }
}

void TestSandbox::sshRunsCommandsAsTheMailUser_data()
{
    addNodeRows();
}

void TestSandbox::sshRunsCommandsAsTheMailUser()
{
    QFETCH(int, index);
    const auto result =
        m_sandbox.runOnNode(index, u"id -un; id -u; echo \"$MAILMESH_SANDBOX_DIR\""_s);
    QVERIFY2(result, result ? "" : result.error().describe().c_str());
    QVERIFY2(result->exitCode == 0, result->standardError.constData());
    const QList<QByteArray> lines = result->standardOutput.trimmed().split('\n');
    QCOMPARE(lines.size(), 3);
    QCOMPARE(QString::fromLocal8Bit(lines[0]), m_sandbox.user().name());
    if (::geteuid() == 0) {
        QCOMPARE(QString::fromLocal8Bit(lines[0]), u"mailmesh-test"_s);
        QVERIFY(lines[1].toUInt() != 0);
    }
    QCOMPARE(QString::fromLocal8Bit(lines[2]), m_sandbox.dir());

    // The remote side really is this node: it sees this node's own files.
    const auto seen = m_sandbox.runOnNode(
        index, u"test -d '%1/cur' && echo yes"_s.arg(m_sandbox.node(index).maildir));
    QVERIFY(seen);
    QCOMPARE(seen->standardOutput.trimmed(), QByteArray("yes"));
}

void TestSandbox::hostKeyFingerprintMatchesSshKeygen_data()
{
    addNodeRows();
}

void TestSandbox::hostKeyFingerprintMatchesSshKeygen()
{
    QFETCH(int, index);
    QProcess keygen;
    keygen.start(u"ssh-keygen"_s,
                 {u"-l"_s, u"-E"_s, u"sha256"_s, u"-f"_s, m_sandbox.node(index).sshHostKeyFile});
    QVERIFY(keygen.waitForFinished(10000));
    const QList<QByteArray> fields = keygen.readAllStandardOutput().split(' ');
    QVERIFY(fields.size() > 2);
    QCOMPARE(QString::fromLatin1(fields[1]), m_sandbox.node(index).sshHostKeyFingerprint);
}

void TestSandbox::mailRootBelongsToTheMailUser_data()
{
    addNodeRows();
}

void TestSandbox::mailRootBelongsToTheMailUser()
{
    QFETCH(int, index);
    for (const QString &path :
         {m_sandbox.node(index).mailRoot, m_sandbox.node(index).maildir,
          m_sandbox.node(index).maildir + u"/cur"_s, m_sandbox.node(index).syncthingHome}) {
        struct stat status
        {
        };
        QCOMPARE(::stat(QFile::encodeName(path).constData(), &status), 0);
        QCOMPARE(status.st_uid, m_sandbox.user().uid());
    }
    // syncthing runs as the mail user too (it writes the replicated files).
    const QList<ProcessTable::Entry> processes = m_sandbox.leftovers();
    bool found = false;
    for (const ProcessTable::Entry &entry : processes) {
        if (!entry.commandLine.contains(QFile::encodeName(m_sandbox.node(index).syncthingHome)))
            continue;
        struct stat status
        {
        };
        QCOMPARE(::stat(qPrintable(u"/proc/%1"_s.arg(entry.pid)), &status), 0);
        QCOMPARE(status.st_uid, m_sandbox.user().uid());
        found = true;
    }
    QVERIFY(found);
}

void TestSandbox::syncthingAnswersPingWithItsKeyOnly_data()
{
    addNodeRows();
}

void TestSandbox::syncthingAnswersPingWithItsKeyOnly()
{
    QFETCH(int, index);
    const mm::sandbox::NodeInfo node = m_sandbox.node(index);
    const auto good = mm::sandbox::httpGet(node.syncthingGuiPort, "/rest/system/ping",
                                           {{"X-API-Key", node.syncthingApiKey.toLatin1()}}, 5000);
    QVERIFY2(good, good ? "" : good.error().describe().c_str());
    QCOMPARE(good->status, 200);
    QVERIFY(good->body.contains("pong"));

    const auto wrong = mm::sandbox::httpGet(node.syncthingGuiPort, "/rest/system/ping",
                                            {{"X-API-Key", "not-the-key"}}, 5000);
    QVERIFY(wrong);
    QCOMPARE(wrong->status, 403);

    // Another node's key is a wrong key too: the nodes are distinct instances.
    const mm::sandbox::NodeInfo other = m_sandbox.node((index + 1) % 3);
    const auto foreign =
        mm::sandbox::httpGet(node.syncthingGuiPort, "/rest/system/ping",
                             {{"X-API-Key", other.syncthingApiKey.toLatin1()}}, 5000);
    QVERIFY(foreign);
    QCOMPARE(foreign->status, 403);
}

void TestSandbox::syncthingRunsTheSandboxConfig_data()
{
    addNodeRows();
}

void TestSandbox::syncthingRunsTheSandboxConfig()
{
    // What the running daemon reports, not what the file says: loopback only, nothing phones
    // home, nothing upgrades.
    QFETCH(int, index);
    const mm::sandbox::NodeInfo node = m_sandbox.node(index);
    const auto reply = mm::sandbox::httpGet(node.syncthingGuiPort, "/rest/config",
                                            {{"X-API-Key", node.syncthingApiKey.toLatin1()}}, 5000);
    QVERIFY(reply);
    QCOMPARE(reply->status, 200);
    const QJsonObject config = QJsonDocument::fromJson(reply->body).object();
    const QJsonObject options = config.value(u"options"_s).toObject();
    QCOMPARE(options.value(u"listenAddresses"_s).toArray(),
             QJsonArray{node.syncthingSyncAddress()});
    QCOMPARE(options.value(u"globalAnnounceEnabled"_s).toBool(true), false);
    QCOMPARE(options.value(u"localAnnounceEnabled"_s).toBool(true), false);
    QCOMPARE(options.value(u"relaysEnabled"_s).toBool(true), false);
    QCOMPARE(options.value(u"natEnabled"_s).toBool(true), false);
    QCOMPARE(options.value(u"startBrowser"_s).toBool(true), false);
    QCOMPARE(options.value(u"urAccepted"_s).toInt(), -1);
    QCOMPARE(options.value(u"autoUpgradeIntervalH"_s).toInt(-1), 0);
    QCOMPARE(options.value(u"crashReportingEnabled"_s).toBool(true), false);
    const QJsonObject gui = config.value(u"gui"_s).toObject();
    QCOMPARE(gui.value(u"address"_s).toString(), node.syncthingGuiAddress());
    QCOMPARE(config.value(u"folders"_s).toArray().size(), 0); // no default folder

    const auto status =
        mm::sandbox::httpGet(node.syncthingGuiPort, "/rest/system/status",
                             {{"X-API-Key", node.syncthingApiKey.toLatin1()}}, 5000);
    QVERIFY(status);
    QCOMPARE(QJsonDocument::fromJson(status->body).object().value(u"myID"_s).toString(),
             node.syncthingDeviceId);
}

void TestSandbox::imapLoginSelect_data()
{
    addNodeRows();
}

void TestSandbox::imapLoginSelect()
{
    QFETCH(int, index);
    const auto transcript = m_sandbox.imapLoginSelect(index);
    QVERIFY2(transcript, transcript ? "" : transcript.error().describe().c_str());
    QVERIFY(transcript->contains("a1 OK"));
    QVERIFY(transcript->contains("a2 OK [READ-WRITE]"));
    QVERIFY(transcript->contains("* 0 EXISTS"));
}

void TestSandbox::imapRefusesAWrongPassword()
{
    const mm::sandbox::NodeInfo node = m_sandbox.node(0);
    const auto refused = mm::sandbox::imapLoginSelect(node.imapPort, node.imapUser, u"wrong"_s);
    QVERIFY(!refused);
    QCOMPARE(refused.error().code, mm::ErrorCode::AccessDenied);
}

void TestSandbox::newHostKeyIsRefusedUntilTrusted()
{
    const QString before = m_sandbox.node(1).sshHostKeyFingerprint;
    const mm::Status restarted = m_sandbox.restartSshdWithNewHostKey(1);
    QVERIFY2(restarted, restarted ? "" : restarted.error().describe().c_str());
    QVERIFY(m_sandbox.node(1).sshHostKeyFingerprint != before);

    // known_hosts still holds the old key: ssh must refuse, as with a man in the middle.
    const auto refused = m_sandbox.runOnNode(1, u"echo should-not-run"_s);
    QVERIFY(refused);
    QCOMPARE(refused->exitCode, 255);
    QVERIFY(!refused->standardOutput.contains("should-not-run"));
    QVERIFY2(refused->standardError.contains("Host key verification failed"),
             refused->standardError.constData());
    // The other nodes are unaffected.
    const auto other = m_sandbox.runOnNode(0, u"true"_s);
    QVERIFY(other);
    QCOMPARE(other->exitCode, 0);

    QVERIFY(m_sandbox.trustCurrentHostKeys());
    const auto accepted = m_sandbox.runOnNode(1, u"echo ran"_s);
    QVERIFY(accepted);
    QCOMPARE(accepted->exitCode, 0);
    QCOMPARE(accepted->standardOutput.trimmed(), QByteArray("ran"));
}

void TestSandbox::syncthingStopsAndStartsAlone()
{
    const mm::sandbox::NodeInfo node = m_sandbox.node(2);
    const QList<QPair<QByteArray, QByteArray>> key{{"X-API-Key", node.syncthingApiKey.toLatin1()}};
    QVERIFY(m_sandbox.stopSyncthing(2));
    QVERIFY(!mm::sandbox::httpGet(node.syncthingGuiPort, "/rest/system/ping", key, 2000));
    // The node's other daemons keep running.
    QVERIFY(m_sandbox.imapLoginSelect(2));

    const mm::Status started = m_sandbox.startSyncthing(2);
    QVERIFY2(started, started ? "" : started.error().describe().c_str());
    const auto ping = mm::sandbox::httpGet(node.syncthingGuiPort, "/rest/system/ping", key, 5000);
    QVERIFY(ping);
    QCOMPARE(ping->status, 200);
    // Same home, same identity.
    QCOMPARE(m_sandbox.node(2).syncthingDeviceId, node.syncthingDeviceId);
}

void TestSandbox::dovecotRestarts()
{
    QVERIFY(m_sandbox.stopDovecot(0));
    QVERIFY(!mm::sandbox::imapGreeting(m_sandbox.node(0).imapPort, 2000));
    const mm::Status restarted = m_sandbox.restartDovecot(0, u"/usr"_s);
    QVERIFY2(restarted, restarted ? "" : restarted.error().describe().c_str());
    QVERIFY(m_sandbox.imapLoginSelect(0));
}

void TestSandbox::tearDownLeavesNothingRunning()
{
    const QString dir = m_sandbox.dir();
    const QList<ProcessTable::Entry> before = m_sandbox.leftovers();
    // sshd, syncthing and the dovecot master of each node at least, plus dovecot's children.
    QVERIFY2(before.size() >= 9, qPrintable(ProcessTable::describe(before)));
    QSet<qint64> groups;
    for (const ProcessTable::Entry &entry : before)
        groups.insert(entry.pgid);
    // The end-of-run check (tst_sandboxleftovers) must see every daemon of this run, sshd and
    // dovecot included, whose process titles hide their environment.
    if (const QString run = qEnvironmentVariable(ProcessTable::kRunVariable); !run.isEmpty()) {
        const QList<ProcessTable::Entry> tagged = ProcessTable::runProcesses(run);
        for (const QByteArray &daemon : {QByteArray("sshd_config"), QByteArray("dovecot.conf"),
                                         QByteArray("syncthing serve")}) {
            int count = 0;
            for (const ProcessTable::Entry &entry : tagged)
                count += entry.commandLine.contains(daemon) ? 1 : 0;
            QVERIFY2(count >= 3, daemon.constData());
        }
    }

    // A session left running on a node must not survive either.
    QProcess straySession;
    straySession.start(u"ssh"_s, m_sandbox.sshArguments(0) << u"--"_s << u"sleep 600"_s);
    QVERIFY(straySession.waitForStarted());
    const auto sessionRuns = [&] {
        for (const ProcessTable::Entry &entry : m_sandbox.leftovers())
            if (entry.commandLine == "sleep 600")
                return true;
        return false;
    };
    QTRY_VERIFY_WITH_TIMEOUT(sessionRuns(), 10000);

    // A bystander that merely names the sandbox dir (think `tail -f DIR/.../dovecot.log`) is
    // not the sandbox's to kill.
    QProcess bystander;
    bystander.start(u"tail"_s, {u"-f"_s, m_sandbox.node(0).sshdConfigFile});
    QVERIFY(bystander.waitForStarted());

    m_sandbox.tearDown();
    straySession.waitForFinished(10000);
    QCOMPARE(bystander.state(), QProcess::Running);
    QVERIFY(ProcessTable::killableProcesses(dir).isEmpty());
    bystander.kill();
    bystander.waitForFinished();

    const QList<ProcessTable::Entry> after = ProcessTable::sandboxProcesses(dir, groups);
    QVERIFY2(after.isEmpty(), qPrintable(ProcessTable::describe(after)));
    for (qint64 group : groups)
        QVERIFY(::kill(-static_cast<pid_t>(group), 0) != 0);
    QVERIFY2(!QFileInfo::exists(dir), "a temporary sandbox dir is removed at teardown");
}

QTEST_GUILESS_MAIN(TestSandbox)
#include "tst_sandbox.moc"
