// Home nodes end to end (issue #25): three sandbox nodes with the patched Dovecot, not paired, so
// each node's store holds only what was written through it, which shows where a login landed.
// Through the real mailmeshctl: `homes show` and `homes deploy`, then real IMAP logins through a
// node that is not the user's home land on the home; concurrent clients through every node
// land on the same store; `failover node2` (its Dovecot stopped) moves its users and logins on
// node1 land elsewhere; `failover --return` moves them back; `status --check --auto-failover`
// fails over a node that does not answer, once.

#include "cluster/config/clusterconfig.h"
#include "cluster/config/homenodes.h"
#include "cluster/config/sandboxcluster.h"
#include "ctlrunner.h"
#include "imapclient.h"
#include "sandbox/freeport.h"
#include "sandbox/sandbox.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QTemporaryDir>
#include <QtTest>

#include <latch>
#include <memory>
#include <thread>

using namespace Qt::StringLiterals;
using mm::test::ImapClient;

namespace {

const QStringList kUsers{u"alice"_s, u"bob"_s, u"carol"_s, u"dave"_s, u"erin"_s, u"frank"_s};
const QString kDomain = u"sandbox.test"_s;

QByteArray passwordOf(const QString &user)
{
    return "pw-" + user.toUtf8() + "-7Hq2";
}

QJsonObject homeOf(const CtlRun &run, const QString &user)
{
    for (const QJsonValue &value :
         run.report.value(u"details"_s).toObject().value(u"homes"_s).toArray())
        if (value.toObject().value(u"user"_s).toString() == user)
            return value.toObject();
    return {};
}

} // namespace

class TestCtlHomes : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void showGivesEveryUserAHome();
    void aLoginThroughAnotherNodeLandsOnTheHome();
    void aSecondDeployChangesNothing();
    void concurrentLoginsThroughEveryNodeLandOnOneStore();
    void failoverMovesTheUsersOfAStoppedNode();
    void returnMovesThemBack();
    void autoFailoverFromStatusCheck();

private:
    CtlRun ctl(const QStringList &arguments)
    {
        return runMailmeshctl(m_home.path(), m_clusterFile, arguments);
    }
    quint16 imapPort(int n) const { return m_sandbox->node(n).imapPort; }
    QString address(const QString &user) const { return user + u'@' + kDomain; }
    // The user's directory on node n: Dovecot makes it at the first login there.
    bool hasHomeOn(int n, const QString &user) const
    {
        return QFileInfo::exists(m_sandbox->node(n).mailRoot + u'/' + kDomain + u'/' + user);
    }
    QStringList foldersVia(int n, const QString &user)
    {
        ImapClient imap;
        if (!imap.login(imapPort(n), address(user).toUtf8(), passwordOf(user)))
            return {u"<login refused>"_s};
        return imap.listMailboxes();
    }
    QJsonObject clusterJson() const
    {
        QFile file(m_clusterFile);
        return file.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(file.readAll()).object()
                                              : QJsonObject();
    }

    QTemporaryDir m_home;
    QString m_clusterFile;
    std::unique_ptr<mm::sandbox::Sandbox> m_sandbox;
    QString m_user;     // a user whose home is node2
    QString m_failedTo; // where m_user went when node2 was drained
};

void TestCtlHomes::initTestCase()
{
    // tst_ctlhomes runs the 2.3 build, tst_ctlhomes24 the 2.4 one (their own variable each).
    const QString variable = QStringLiteral(MAILMESH_DOVECOT_PREFIX_VARIABLE);
    const QString prefix = qEnvironmentVariable(variable.toLatin1().constData(),
                                                QStringLiteral(MAILMESH_DOVECOT_PREFIX));
    if (prefix.isEmpty())
        QSKIP(qPrintable(u"no patched Dovecot prefix (%1)"_s.arg(variable)));
    mm::sandbox::SandboxOptions options;
    options.nodeCount = 3;
    options.dovecotPrefix = prefix;
    options.keepDir = !qEnvironmentVariableIsEmpty("MAILMESH_TEST_KEEP");
    m_sandbox = std::make_unique<mm::sandbox::Sandbox>(options);
    const mm::Status started = m_sandbox->start();
    QVERIFY2(started, started ? "" : started.error().describe().c_str());

    // The same users and passwords on every node, as a real cluster's userdb has them.
    for (int n = 0; n < 3; ++n) {
        const mm::sandbox::NodeInfo node = m_sandbox->node(n);
        QByteArray users;
        for (const QString &user : kUsers)
            users += address(user).toUtf8() + ":{PLAIN}" + passwordOf(user) + ':' +
                     QByteArray::number(m_sandbox->user().uid()) + ':' +
                     QByteArray::number(m_sandbox->user().gid()) + "::" + node.mailRoot.toUtf8() +
                     '/' + kDomain.toUtf8() + '/' + user.toUtf8() + "::\n";
        const auto written =
            m_sandbox->runOnNode(n, u"cat > '%1/dovecot/users'"_s.arg(node.dir), 30000, users);
        QVERIFY(written && written->exitCode == 0);
    }

    auto cluster = mm::cluster::clusterFromSandboxDescription(m_sandbox->description(), u"homes"_s);
    QVERIFY2(cluster, cluster ? "" : cluster.error().message.c_str());
    for (int n = 0; n < 3; ++n)
        cluster->nodes[n].dovecot.imapPort = imapPort(n);
    m_clusterFile = m_home.filePath(u"cluster.json"_s);
    QVERIFY(cluster->save(m_clusterFile));

    QStringList nodeIds{u"node1"_s, u"node2"_s, u"node3"_s};
    for (const QString &user : kUsers)
        if (mm::cluster::homenodes::hashedHome(address(user), nodeIds) == u"node2"_s) {
            m_user = user;
            break;
        }
    QVERIFY2(!m_user.isEmpty(), "no test user hashes to node2; add users");
}

void TestCtlHomes::cleanupTestCase()
{
    if (m_sandbox)
        m_sandbox->tearDown();
}

void TestCtlHomes::showGivesEveryUserAHome()
{
    const CtlRun run = ctl({u"homes"_s, u"show"_s});
    QVERIFY2(run.exitCode == 0, run.output.constData());
    QCOMPARE(run.report.value(u"details"_s).toObject().value(u"homes"_s).toArray().size(),
             kUsers.size());
    const QJsonObject home = homeOf(run, address(m_user));
    QCOMPARE(home.value(u"node"_s).toString(), u"node2"_s);
    QCOMPARE(home.value(u"reason"_s).toString(), u"hash"_s);
    // show changes nothing on the nodes.
    QVERIFY(!QFile::exists(m_sandbox->node(0).dovecotConfD + u"/95-mailmesh-homes.conf"_s));
}

void TestCtlHomes::aLoginThroughAnotherNodeLandsOnTheHome()
{
    // A folder that exists only in node2's store (nothing replicates here).
    {
        ImapClient direct;
        QVERIFY(direct.login(imapPort(1), address(m_user).toUtf8(), passwordOf(m_user)));
        QVERIFY(direct.command("CREATE OnlyOnNode2"));
    }
    QVERIFY(!foldersVia(0, m_user).contains(u"OnlyOnNode2"_s)); // before deploy: node1's own store
    QVERIFY(hasHomeOn(0, m_user));
    QVERIFY(QDir(m_sandbox->node(0).mailRoot + u'/' + kDomain + u'/' + m_user).removeRecursively());

    const CtlRun deployed = ctl({u"homes"_s, u"deploy"_s});
    QVERIFY2(deployed.exitCode == 0, deployed.output.constData());
    QCOMPARE(deployed.report.value(u"details"_s).toObject().value(u"written"_s).toArray().size(),
             3);

    for (const int via : {0, 2}) {
        const QStringList folders = foldersVia(via, m_user);
        QVERIFY2(folders.contains(u"OnlyOnNode2"_s),
                 qPrintable(u"through node%1: %2"_s.arg(via + 1).arg(folders.join(u", "_s))));
    }
    QVERIFY(!hasHomeOn(0, m_user));
    QVERIFY(!hasHomeOn(2, m_user));
    // The password is still checked: the home table authenticates nothing.
    ImapClient wrong;
    QVERIFY(!wrong.login(imapPort(0), address(m_user).toUtf8(), "not-the-password"));
    // Dovecot says so itself.
    QFile log(m_sandbox->node(0).dovecotLogFile);
    QVERIFY(log.open(QIODevice::ReadOnly));
    QVERIFY(log.readAll().contains("proxy(" + address(m_user).toUtf8() +
                                   ",127.0.0.1:" + QByteArray::number(imapPort(1))));
}

void TestCtlHomes::aSecondDeployChangesNothing()
{
    const QString snippet = m_sandbox->node(0).dovecotConfD + u"/95-mailmesh-homes.conf"_s;
    const QDateTime before = QFileInfo(snippet).lastModified();
    const CtlRun again = ctl({u"homes"_s, u"deploy"_s});
    QVERIFY2(again.exitCode == 0, again.output.constData());
    const QJsonObject details = again.report.value(u"details"_s).toObject();
    QCOMPARE(details.value(u"unchanged"_s).toArray().size(), 3);
    QVERIFY(details.value(u"written"_s).toArray().isEmpty());
    QCOMPARE(QFileInfo(snippet).lastModified(), before);
    for (const QJsonValue &step : again.report.value(u"steps"_s).toArray())
        if (step.toObject().value(u"id"_s).toString() == u"reload"_s)
            QCOMPARE(step.toObject().value(u"state"_s).toString(), u"skipped"_s);
}

void TestCtlHomes::concurrentLoginsThroughEveryNodeLandOnOneStore()
{
    // One client through each node, all logged in at once, then each appends: one store, one
    // UIDVALIDITY, three UIDs.
    std::latch loggedIn(3);
    std::pair<quint32, quint32> appended[3] = {};
    bool ok[3] = {false, false, false};
    std::vector<std::thread> clients;
    for (int n = 0; n < 3; ++n)
        clients.emplace_back([&, n] {
            ImapClient imap;
            const bool in = imap.login(imapPort(n), address(m_user).toUtf8(), passwordOf(m_user));
            loggedIn.arrive_and_wait();
            if (!in)
                return;
            const QByteArray message =
                "Subject: through node" + QByteArray::number(n + 1) + "\r\n\r\nhello\r\n";
            ok[n] = imap.append("INBOX", message);
            appended[n] = imap.lastAppendUid();
        });
    for (std::thread &client : clients)
        client.join();
    QSet<quint32> uids;
    for (int n = 0; n < 3; ++n) {
        QVERIFY2(ok[n], qPrintable(u"APPEND through node%1 failed"_s.arg(n + 1)));
        QCOMPARE(appended[n].first, appended[0].first);
        uids.insert(appended[n].second);
    }
    QCOMPARE(uids.size(), 3);
    QDir cur(m_sandbox->node(1).mailRoot + u'/' + kDomain + u'/' + m_user + u"/Maildir/cur"_s);
    QDir fresh(m_sandbox->node(1).mailRoot + u'/' + kDomain + u'/' + m_user + u"/Maildir/new"_s);
    QCOMPARE(cur.entryList(QDir::Files).size() + fresh.entryList(QDir::Files).size(), 3);
    QVERIFY(!hasHomeOn(0, m_user));
    QVERIFY(!hasHomeOn(2, m_user));
}

void TestCtlHomes::failoverMovesTheUsersOfAStoppedNode()
{
    QVERIFY(m_sandbox->stopDovecot(1));
    // Its home is down: the proxy says so (and proves the login was proxied).
    QCOMPARE(foldersVia(0, m_user), QStringList{u"<login refused>"_s});

    const CtlRun dry = ctl({u"failover"_s, u"node2"_s, u"--dry-run"_s});
    QVERIFY2(dry.exitCode == 0, dry.output.constData());
    QVERIFY(!clusterJson().contains(u"homes"_s)); // a dry run keeps nothing

    const CtlRun run = ctl({u"failover"_s, u"node2"_s});
    QVERIFY2(run.exitCode == 0, run.output.constData());
    const QJsonObject home = homeOf(run, address(m_user));
    QCOMPARE(home.value(u"reason"_s).toString(), u"failover"_s);
    QCOMPARE(home.value(u"movedFrom"_s).toString(), u"node2"_s);
    m_failedTo = home.value(u"node"_s).toString();
    QVERIFY(m_failedTo == u"node1"_s || m_failedTo == u"node3"_s);
    QCOMPARE(clusterJson().value(u"homes"_s).toObject().value(u"drained"_s).toArray(),
             QJsonArray{u"node2"_s});
    // node2's Dovecot is down: it was left out, and the report says so.
    QVERIFY(!run.report.value(u"details"_s).toObject().value(u"notes"_s).toArray().isEmpty());

    const QStringList folders = foldersVia(0, m_user);
    QVERIFY2(folders.contains(u"INBOX"_s) && !folders.contains(u"OnlyOnNode2"_s),
             qPrintable(folders.join(u", "_s)));
    const int failoverIndex = m_failedTo == u"node1"_s ? 0 : 2;
    QVERIFY(hasHomeOn(failoverIndex, m_user));
    QVERIFY(!hasHomeOn(2 - failoverIndex, m_user));
}

void TestCtlHomes::returnMovesThemBack()
{
    QVERIFY(m_sandbox->restartDovecot(1));
    const CtlRun run = ctl({u"failover"_s, u"--return"_s, u"node2"_s});
    QVERIFY2(run.exitCode == 0, run.output.constData());
    QCOMPARE(homeOf(run, address(m_user)).value(u"node"_s).toString(), u"node2"_s);
    QVERIFY(!clusterJson().value(u"homes"_s).toObject().contains(u"drained"_s));
    const QStringList folders = foldersVia(m_failedTo == u"node1"_s ? 0 : 2, m_user);
    QVERIFY2(folders.contains(u"OnlyOnNode2"_s), qPrintable(folders.join(u", "_s)));
}

void TestCtlHomes::autoFailoverFromStatusCheck()
{
    // A fourth node that never answers: nothing listens on its ssh port.
    QJsonObject cluster = clusterJson();
    QJsonArray nodes = cluster.value(u"nodes"_s).toArray();
    QJsonObject ghost = nodes.last().toObject();
    ghost.insert(u"id"_s, u"node4"_s);
    ghost.insert(u"ssh"_s, u"ssh://%1@127.0.0.1:%2"_s.arg(m_sandbox->user().name())
                               .arg(mm::sandbox::findFreeLoopbackPort()));
    ghost.remove(u"hostKey"_s);
    nodes.append(ghost);
    cluster.insert(u"nodes"_s, nodes);
    QFile file(m_clusterFile);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(QJsonDocument(cluster).toJson());
    file.close();

    const QStringList check{u"status"_s,    u"--check"_s, u"--no-canary"_s,
                            u"--timeout"_s, u"20"_s,      u"--auto-failover"_s,
                            u"0"_s};
    const CtlRun first = ctl(check);
    QVERIFY2(first.output.contains("MAILMESH FAILOVER - node4 unreachable since"),
             first.output.constData());
    QVERIFY2(first.output.contains("moved to node1, node2, node3"), first.output.constData());
    QCOMPARE(clusterJson().value(u"homes"_s).toObject().value(u"drained"_s).toArray(),
             QJsonArray{u"node4"_s});
    QVERIFY(QFile::exists(m_clusterFile + u".down-since.json"_s));
    // The next run judges again but fails over nothing twice, and never returns a node.
    const CtlRun second = ctl(check);
    QVERIFY2(!second.output.contains("unreachable since"), second.output.constData());
    QCOMPARE(clusterJson().value(u"homes"_s).toObject().value(u"drained"_s).toArray(),
             QJsonArray{u"node4"_s});
    // Logins still land on the homes: node4 had none to serve, m_user is still node2's.
    QVERIFY(foldersVia(2, m_user).contains(u"OnlyOnNode2"_s));
}

QTEST_GUILESS_MAIN(TestCtlHomes)
#include "tst_ctlhomes.moc"
