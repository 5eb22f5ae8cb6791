// The admin's whole journey on real Debian servers (core/lab), driven by the real mailmeshctl
// from the lab's admin namespace: three Debian nodes booted with systemd, Postfix delivering
// through Dovecot's LMTP into /var/vmail, Syncthing installed but stopped, node2 reached as a
// sudo user whose root login is off.
//
//   init → add-node ×3 (host keys pinned) → mail over SMTP on node1 → prepare ×3 (syncthing@vmail
//   and mailmesh-watch-changes@vmail through systemd; again: nothing changes) → pair over the
//   network → status names a node whose change watcher is stopped, prepare starts it again → deploy-dovecot --prefix (systemd restarts one node
//   at a time, IMAPS answers somewhere throughout) → migrate (hold commands `systemctl stop postfix
//   dovecot`) → mail sent over SMTP to node1 is read over IMAPS on node2 and node3 → revert.
//
// tst_labjourneyfull (label slow) also runs the chaos of mailboxchaos.h on the lab (IMAPS clients
// and Postfix deliveries on every node at once), removes node3, joins a fresh node, deploys the
// Debian packages of installers/dovecot/build-debs.sh when they are built, and measures
// SMTP-to-IMAPS over more messages. Step times and the latencies are printed, never asserted.
//
// MAILMESH_LAB_DEBIAN picks the nodes' release: 12 (Debian's Dovecot 2.3, the patched 2.3 prefix)
// or 13 for tst_labjourney13 (Debian's Dovecot 2.4, the patched 2.4 prefix, build-debs.sh 13).
//
// Needs root and the patched prefix (MAILMESH_DOVECOT_PREFIX); exits 77 (skipped) without them.

#include "chaoscluster.h"
#include "ctlrunner.h"
#include "labmail.h"
#include "mailboxchaos.h"

#include "lab/lab.h"
#include "lab/labhost.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMap>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <algorithm>
#include <cstdio>
#include <numeric>

using namespace Qt::StringLiterals;
using mm::lab::Lab;

namespace {

const QString kPrefix = QStringLiteral(MAILMESH_DOVECOT_PREFIX);
const QString kRelease = QStringLiteral(MAILMESH_LAB_DEBIAN);
// The Dovecot line Debian ships on kRelease, which the prefix and the packages must match.
const QString kDovecotLine = kRelease == u"13"_s ? u"2.4"_s : u"2.3"_s;
constexpr bool kFull = MAILMESH_LAB_JOURNEY_FULL;

QByteArray output(const mm::Result<mm::lab::ProgramOutput> &ran)
{
    return ran ? ran->standardOutput.trimmed()
               : QByteArray("(failed: " + QByteArray::fromStdString(ran.error().message) + ")");
}

QString stepState(const CtlRun &run, const QString &id)
{
    for (const QJsonValue &step : run.report.value(u"steps"_s).toArray())
        if (step.toObject().value(u"id"_s).toString() == id)
            return step.toObject().value(u"state"_s).toString();
    return {};
}

QString stepDetail(const CtlRun &run, const QString &id)
{
    for (const QJsonValue &step : run.report.value(u"steps"_s).toArray())
        if (step.toObject().value(u"id"_s).toString() == id)
            return step.toObject().value(u"detail"_s).toString();
    return {};
}

// What prepare installs on a systemd node beside syncthing@vmail.
const QString kWatcherUnit = u"mailmesh-watch-changes@vmail"_s;
const QString kAgentCopy = u"/usr/local/lib/mailmesh/mailmesh-agent"_s;

qint64 percentile(QList<qint64> values, int percent)
{
    if (values.isEmpty())
        return -1;
    std::sort(values.begin(), values.end());
    return values[std::min<qsizetype>(values.size() - 1, (values.size() * percent + 99) / 100 - 1)];
}

// The chaos run's view of the lab: IMAPS clients as alice on each node, deliveries over SMTP to
// each node's Postfix (which hands them to Dovecot's LMTP), and "quiet" as mailmeshctl status
// reports it (every link connected at 100 %, every folder idle with nothing needed).
class LabChaosCluster : public mm::test::ChaosCluster
{
public:
    LabChaosCluster(Lab &lab, QString home, QString clusterFile, int nodes)
        : m_lab(lab)
        , m_home(std::move(home))
        , m_clusterFile(std::move(clusterFile))
        , m_nodes(nodes)
    {
    }

    int size() const override { return m_nodes; }

    bool login(mm::test::ImapClient &imap, int n) const override
    {
        const Lab::Account alice = m_lab.accounts().first();
        return imap.loginTls(m_lab.node(n).address, m_lab.node(n).hostName, m_lab.caFile(), 993,
                             alice.login.toUtf8(), alice.password.toUtf8());
    }

    bool deliver(int n, const QByteArray &message) override
    {
        const QByteArray alice = m_lab.accounts().first().login.toUtf8();
        return mm::test::sendSmtp(m_lab.node(n).address, "chaos@lab.test", {alice}, message).isEmpty();
    }

    bool waitQuiet(int timeoutMs) override
    {
        QElapsedTimer clock;
        clock.start();
        do {
            const CtlRun status = runMailmeshctl(m_home, m_clusterFile, {u"status"_s});
            const QJsonObject state = QJsonDocument::fromJson(status.output.split('\n').first()).object();
            bool quiet = !state.isEmpty();
            for (const QJsonValue &peer : state.value(u"peers"_s).toArray())
                quiet = quiet && peer[u"connected"_s].toBool() && peer[u"completion"_s].toDouble() >= 100 &&
                        peer[u"needItems"_s].toInteger() == 0;
            for (const QJsonValue &folder : state.value(u"folders"_s).toArray())
                quiet = quiet && folder[u"state"_s].toString() == u"idle"_s && folder[u"needItems"_s].toInteger() == 0;
            if (quiet)
                return true;
            QThread::msleep(1000);
        } while (clock.elapsed() < timeoutMs);
        return false;
    }

private:
    Lab &m_lab;
    QString m_home;
    QString m_clusterFile;
    int m_nodes;
};

} // namespace

class TestLabJourney : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_home.isValid());
        mm::lab::LabOptions options;
        options.nodeCount = 3;
        options.debianRelease = kRelease;
        options.login = mm::lab::LoginVariant::Mixed; // node2 logs in as the sudo user admin
        options.readOnlyBinds = {kPrefix};
        m_lab = std::make_unique<Lab>(options);
        QElapsedTimer clock;
        clock.start();
        const mm::Status started = m_lab->start();
        QVERIFY2(started, started ? "" : started.error().describe().c_str());
        record(u"lab up (3 Debian %1 nodes%2)"_s.arg(kRelease).arg(m_lab->imageBuildMs() > 0 ? u", root file system built"_s
                                                                     : u", cached"_s),
               clock.elapsed());
        QVERIFY(m_lab->enterAdminNetwork());
        m_clusterFile = m_home.filePath(u"cluster.json"_s);
    }

    void cleanupTestCase()
    {
        QStringList table;
        for (const auto &[what, ms] : std::as_const(m_times))
            table << u"  %1 %2 s"_s.arg(what, -48).arg(ms / 1000.0, 0, 'f', 1);
        qInfo("step times:\n%s", qPrintable(table.join(u'\n')));
        if (m_lab)
            m_lab->tearDown();
    }

    void addNodePinsEachHostKey()
    {
        QVERIFY(ctl({u"init"_s, u"lab journey"_s}).exitCode == 0);
        // A fingerprint that is not the node's is refused, and nothing is added.
        QStringList wrong = addNodeArguments(0);
        wrong.last() = m_lab->node(1).sshHostKeyFingerprint;
        const CtlRun refused = ctl(wrong);
        QCOMPARE(refused.exitCode, 4);
        for (int i = 0; i < 3; ++i) {
            const CtlRun added =
                timed(u"add-node %1"_s.arg(m_lab->node(i).id), addNodeArguments(i));
            QVERIFY2(added.exitCode == 0, failureOf(added).constData());
        }
        QFile known(m_home.filePath(u".config/mailmesh/known_hosts"_s));
        QVERIFY(known.open(QIODevice::ReadOnly));
        const QByteArray pinned = known.readAll();
        for (int i = 0; i < 3; ++i)
            QVERIFY(pinned.contains(m_lab->node(i).address.toUtf8()));
    }

    void node1HasMailDeliveredByPostfix()
    {
        // The server before the cut-over: mail arrives over SMTP, users read and file some of it.
        for (int i = 0; i < 10; ++i)
            for (const QByteArray &user : {QByteArray("alice"), QByteArray("bob")}) {
                const QString sent = mm::test::sendSmtp(
                    m_lab->node(0).address, "sender@lab.test", {user + "@lab.test"},
                    mm::test::labMessage("seed" + QByteArray::number(i) + user,
                                         user + "@lab.test"));
                QVERIFY2(sent.isEmpty(), qPrintable(sent));
            }
        mm::test::ImapsClient alice;
        QVERIFY2(login(alice, 0).isEmpty(), "alice cannot log in on node1");
        QTRY_COMPARE_WITH_TIMEOUT(alice.messageIds().size(), 10, 15'000);
        QVERIFY(alice.command("SELECT INBOX"));
        QVERIFY(alice.command("STORE 1:4 +FLAGS (\\Seen)"));
        QVERIFY(alice.command("STORE 2 +FLAGS (\\Flagged)"));
        QVERIFY(alice.command("CREATE Archive"));
        QVERIFY(alice.command("COPY 5:6 Archive"));
        m_messages = 22;
    }

    void prepareStartsSyncthingThroughSystemd()
    {
        for (int i = 0; i < 3; ++i) {
            const CtlRun prepared =
                timed(u"prepare %1"_s.arg(m_lab->node(i).id), {u"prepare"_s, m_lab->node(i).id});
            QVERIFY2(prepared.exitCode == 0, failureOf(prepared).constData());
            QCOMPARE(
                output(m_lab->runInNode(i, {u"systemctl"_s, u"is-active"_s, u"syncthing@vmail"_s})),
                QByteArray("active"));
            QCOMPARE(output(m_lab->runInNode(
                         i, {u"systemctl"_s, u"is-enabled"_s, u"syncthing@vmail"_s})),
                     QByteArray("enabled"));
            // Its first configuration: no default folder in the mail root, nothing dialled outside.
            const QString config =
                m_lab->node(i).rootDir + u"/var/vmail/.config/syncthing/config.xml"_s;
            QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(config), 10'000);
            QFile file(config);
            QVERIFY(file.open(QIODevice::ReadOnly));
            const QByteArray xml = file.readAll();
            QVERIFY(xml.contains("<relaysEnabled>false<") &&
                    xml.contains("<globalAnnounceEnabled>false<"));
            QVERIFY(!QFileInfo::exists(m_lab->node(i).rootDir + u"/var/vmail/Sync"_s));
            QCOMPARE(output(m_lab->runInNode(
                         i, {u"stat"_s, u"-c"_s, u"%U"_s, u"/var/.mailmesh-state/vmail"_s})),
                     QByteArray("vmail"));
            // mailmesh-agent watch-changes beside it, from a root-owned copy of the agent.
            QCOMPARE(stepState(prepared, u"watch-changes"_s), u"done"_s);
            QCOMPARE(output(m_lab->runInNode(i, {u"systemctl"_s, u"is-enabled"_s, kWatcherUnit})),
                     QByteArray("enabled"));
            QCOMPARE(output(m_lab->runInNode(i, {u"systemctl"_s, u"is-active"_s, kWatcherUnit})),
                     QByteArray("active"));
            QCOMPARE(output(m_lab->runInNode(i, {u"stat"_s, u"-c"_s, u"%U %a"_s, kAgentCopy})),
                     QByteArray("root 755"));
        }
    }

    void prepareAgainChangesNothing()
    {
        const auto mainPid = [this] {
            return output(m_lab->runInNode(
                0, {u"systemctl"_s, u"show"_s, u"-p"_s, u"MainPID"_s, u"--value"_s, kWatcherUnit}));
        };
        const QByteArray before = mainPid();
        QVERIFY(before.toInt() > 0);
        const CtlRun again = timed(u"prepare node1 again"_s, {u"prepare"_s, u"node1"_s});
        QVERIFY2(again.exitCode == 0, failureOf(again).constData());
        const QString detail = stepDetail(again, u"watch-changes"_s);
        QVERIFY2(detail.contains(u"runs "_s) && !detail.contains(u"ran:"_s), qPrintable(detail));
        QCOMPARE(mainPid(), before); // not restarted
    }

    void pairOverTheNetwork()
    {
        const CtlRun paired = timed(u"pair"_s, {u"pair"_s});
        QVERIFY2(paired.exitCode == 0, paired.output.right(1500).constData());
        QTRY_COMPARE_WITH_TIMEOUT(messageFiles(2), m_messages, 30'000);
        QCOMPARE(messageFiles(1), m_messages);
        // Every node keeps its own Syncthing identity: its home lies inside the mail root.
        QSet<QByteArray> certificates;
        for (int i = 0; i < 3; ++i)
            certificates << readNodeFile(i, u"/var/vmail/.config/syncthing/cert.pem"_s);
        QCOMPARE(certificates.size(), 3);
    }

    // The probe lists each node's watcher, status says it runs; one stopped is named until
    // prepare starts it again (a dry run only says it would).
    void statusNamesANodeWithoutItsChangeWatcher()
    {
        for (int i = 0; i < 3; ++i) {
            const QJsonObject probe = QJsonDocument::fromJson(output(m_lab->runInNode(
                                                                  i, {kAgentCopy, u"probe"_s, u"--json"_s})))
                                          .object();
            const QJsonArray watchers = probe.value(u"changeWatchers"_s).toArray();
            QVERIFY2(watchers.size() == 1, QJsonDocument(probe).toJson().constData());
            QCOMPARE(watchers[0][u"user"_s].toString(), u"vmail"_s);
            QCOMPARE(watchers[0][u"syncthingHome"_s].toString(), u"/var/vmail/.config/syncthing"_s);
        }

        const auto watcherRunning = [this] {
            QMap<QString, QJsonValue> running;
            const CtlRun status = ctl({u"status"_s});
            const QJsonObject state = QJsonDocument::fromJson(status.output.split('\n').first()).object();
            for (const QJsonValue &node : state.value(u"nodes"_s).toArray())
                running.insert(node[u"id"_s].toString(), node[u"changeWatcherRunning"_s]);
            return running;
        };
        for (const QJsonValue &running : watcherRunning())
            QCOMPARE(running, QJsonValue(true));

        QCOMPARE(output(m_lab->runInNode(2, {u"systemctl"_s, u"stop"_s, kWatcherUnit})), QByteArray());
        QCOMPARE(watcherRunning().value(u"node3"_s), QJsonValue(false));
        const CtlRun check = ctl({u"status"_s, u"--check"_s});
        QVERIFY2(check.exitCode == 1 &&
                     check.output.contains("node3 mailmesh-agent watch-changes is not running"),
                 check.output.constData());

        const CtlRun dryRun = ctl({u"prepare"_s, u"node3"_s, u"--dry-run"_s});
        QCOMPARE(stepState(dryRun, u"watch-changes"_s), u"skipped"_s);
        QVERIFY2(stepDetail(dryRun, u"watch-changes"_s).contains(u"would run: systemctl start"_s),
                 qPrintable(stepDetail(dryRun, u"watch-changes"_s)));
        QCOMPARE(output(m_lab->runInNode(2, {u"systemctl"_s, u"is-active"_s, kWatcherUnit})),
                 QByteArray("inactive"));

        const CtlRun prepared = timed(u"prepare node3 (watcher stopped)"_s, {u"prepare"_s, u"node3"_s});
        QVERIFY2(prepared.exitCode == 0, failureOf(prepared).constData());
        QCOMPARE(output(m_lab->runInNode(2, {u"systemctl"_s, u"is-active"_s, kWatcherUnit})),
                 QByteArray("active"));
        QCOMPARE(watcherRunning().value(u"node3"_s), QJsonValue(true));
    }

    void deployDovecotPrefixKeepsImapServing()
    {
        int fewestServing = 3;
        const CtlRun deployed =
            whileWatchingImaps(u"deploy-dovecot --prefix"_s,
                               {u"deploy-dovecot"_s, u"--prefix"_s, kPrefix}, &fewestServing);
        QVERIFY2(deployed.exitCode == 0, failureOf(deployed).constData());
        qInfo("deploy-dovecot --prefix: at least %d of 3 nodes answered IMAPS at every moment",
              fewestServing);
        QVERIFY(fewestServing >= 1);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(
                output(m_lab->runInNode(
                    i, {u"sh"_s, u"-c"_s, u"readlink /proc/$(cat /run/dovecot/master.pid)/exe"_s})),
                (kPrefix + u"/sbin/dovecot"_s).toUtf8());
            QCOMPARE(output(m_lab->runInNode(i, {u"systemctl"_s, u"is-active"_s, u"dovecot"_s})),
                     QByteArray("active"));
        }
        // The node's folder layout is kept: the folder filed before the deploy is still there
        // (a 2.4 snippet that restated doveconf's global layout turned Maildir++ into fs).
        mm::test::ImapsClient alice;
        QVERIFY2(login(alice, 0).isEmpty(), "alice cannot log in on node1 after the deploy");
        QVERIFY2(alice.command("SELECT Archive"), "Archive is gone after the deploy");
        // Postfix still delivers through the new build's LMTP.
        QVERIFY(mm::test::sendSmtp(m_lab->node(0).address, "sender@lab.test", {"bob@lab.test"},
                                   mm::test::labMessage("after-deploy", "bob@lab.test"))
                    .isEmpty());
        ++m_messages;
        QTRY_COMPARE_WITH_TIMEOUT(messageFiles(0), m_messages, 15'000);
    }

    void migrateWithRealHoldCommands()
    {
        QTRY_COMPARE_WITH_TIMEOUT(messageFiles(2), m_messages, 30'000);
        // While it runs, Postfix on node1 must be seen held: the hold commands really stop it.
        QElapsedTimer clock;
        clock.start();
        QProcess process;
        startMailmeshctl(process, m_home.path(), m_clusterFile, {u"migrate"_s});
        process.waitForStarted();
        bool smtpRefused = false;
        while (!process.waitForFinished(50)) {
            QTcpSocket smtp;
            smtp.connectToHost(m_lab->node(0).address, 25);
            if (!smtp.waitForConnected(1'000) &&
                smtp.error() == QAbstractSocket::ConnectionRefusedError)
                smtpRefused = true;
        }
        const CtlRun migrated = finishMailmeshctl(process);
        record(u"migrate"_s, clock.elapsed());
        if (migrated.exitCode != 0)
            showSyncthingOnNodes();
        QVERIFY2(migrated.exitCode == 0, failureOf(migrated).constData());
        QCOMPARE(stepState(migrated, u"freeze"_s), u"done"_s);
        QVERIFY2(smtpRefused,
                 "Postfix on node1 was never seen stopped while migrate held the nodes");
        for (int i = 0; i < 3; ++i) {
            const QString maildir = m_lab->node(i).rootDir + u"/var/vmail/lab.test/alice/Maildir"_s;
            QVERIFY2(QFileInfo(maildir + u"/new"_s).isSymLink(), qPrintable(maildir));
            QVERIFY(readNodeFile(i, u"/etc/dovecot/conf.d/99-mailmesh-cur-only.conf"_s)
                        .contains("maildir_cur_only = yes"));
            // Resumed: both services run again.
            QCOMPARE(output(m_lab->runInNode(
                         i, {u"systemctl"_s, u"is-active"_s, u"postfix"_s, u"dovecot"_s})),
                     QByteArray("active\nactive"));
        }
    }

    void mailSentToNode1IsReadOverImapsOnTheOthers()
    {
        measureSmtpToImaps(kFull ? 40 : 5, {1, 2}, u"after migrate"_s);
    }

    void chaosLosesAndDuplicatesNothing()
    {
        if (!kFull)
            QSKIP("in tst_labjourneyfull (label slow)");
        // Real IMAPS clients on every node at once (flags, keywords, appends, expunges, folders,
        // subscriptions) and Postfix delivering on every node, then every node must agree.
        LabChaosCluster cluster(*m_lab, m_home.path(), m_clusterFile, 3);
        mm::test::ChaosOptions options;
        options.seconds = 30;
        QElapsedTimer clock;
        clock.start();
        const mm::test::ChaosFigures figures = mm::test::MailboxChaos(cluster, options).run();
        record(u"chaos (%1 s of traffic, then settling)"_s.arg(options.seconds), clock.elapsed());
        qInfo().noquote() << "chaos on the lab:" << figures.summary();
        QVERIFY2(figures.totalOperations() > 100, qPrintable(figures.summary()));
        if (!figures.broken().isEmpty())
            showSyncthingOnNodes();
        QVERIFY2(figures.broken().isEmpty(), qPrintable(figures.broken()));

        // The dashboard counts duplicate groups in the files, where the chaos counts what IMAP
        // clients see. The groups the chaos may leave are two names of one message (flags
        // changed on two nodes at once: flag-divergence) and Syncthing's conflict copies, which
        // the patched Dovecot shows as one message and `dedupe` settles. A same-message group
        // would be a duplicate a client sees.
        for (int i = 0; i < 3; ++i) {
            const QJsonObject dupes = QJsonDocument::fromJson(output(m_lab->runInNode(
                                                                  i, {kAgentCopy, u"dupes"_s, u"/var/vmail"_s, u"--json"_s})))
                                          .object();
            QVERIFY2(dupes.contains(u"groups"_s), "no answer from dupes");
            QMap<QString, int> byKind;
            for (const QJsonValue &group : dupes.value(u"groups"_s).toArray())
                ++byKind[group[u"kind"_s].toString()];
            QStringList counts;
            for (auto it = byKind.cbegin(); it != byKind.cend(); ++it)
                counts << u"%1 %2"_s.arg(it.value()).arg(it.key());
            qInfo("duplicate groups in the files of node%d after the chaos: %s", i + 1,
                  qPrintable(counts.isEmpty() ? u"none"_s : counts.join(u", "_s)));
            QCOMPARE(byKind.value(u"same-message"_s), 0);
        }
    }

    // The chaos deletes folders on one node while clients on others add mail to them: Syncthing
    // then keeps cur/ with that mail and drops the folder's `new -> cur` link everywhere. Such a
    // folder is named by status; `migrate` again makes the links, and every folder of every node
    // is cur/-only after it (a join would refuse the copy otherwise).
    void migrateAgainMakesLostLinks()
    {
        if (!kFull)
            QSKIP("in tst_labjourneyfull (label slow)");
        const auto foldersNotCurOnly = [this](int index) {
            const QJsonObject scan = QJsonDocument::fromJson(output(m_lab->runInNode(
                                                                 index, {kAgentCopy, u"scan"_s, u"/var/vmail"_s, u"--json"_s})))
                                         .object();
            QStringList wrong;
            for (const QJsonValue &folder : scan.value(u"folders"_s).toArray())
                if (folder[u"state"_s].toString() != u"cur-only"_s)
                    wrong << folder[u"path"_s].toString() + u" ("_s + folder[u"state"_s].toString() + u")"_s;
            return scan.isEmpty() ? QStringList{u"(no scan)"_s} : wrong;
        };
        qInfo("after the chaos, folders not cur/-only on node1: %s",
              qPrintable(foldersNotCurOnly(0).join(u", "_s)));
        const CtlRun migrated = timed(u"migrate again after the chaos"_s, {u"migrate"_s});
        QVERIFY2(migrated.exitCode == 0, failureOf(migrated).constData());
        for (int i = 0; i < 3; ++i)
            QTRY_VERIFY2_WITH_TIMEOUT(foldersNotCurOnly(i).isEmpty(),
                                      qPrintable(foldersNotCurOnly(i).join(u", "_s)), 30'000);
    }

    void theDashboardShowsTheLabCluster()
    {
        // The app itself, as an admin opens it on the cluster file, from the admin's network.
        QProcess app;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(u"HOME"_s, m_home.path());
        environment.insert(u"XDG_CONFIG_HOME"_s, m_home.filePath(u".config"_s));
        environment.insert(u"MAILMESH_AGENT"_s, QStringLiteral(MAILMESH_AGENT_BINARY));
        environment.insert(u"QT_QPA_PLATFORM"_s, u"offscreen"_s);
        app.setProcessEnvironment(environment);
        const QString picture = QStringLiteral(MAILMESH_BUILD_DIR "/screenshots/") +
                                (kRelease == u"12"_s ? u"lab-dashboard.png"_s
                                                     : u"lab%1-dashboard.png"_s.arg(kRelease));
        QDir().mkpath(QFileInfo(picture).path());
        QFile::remove(picture);
        QElapsedTimer clock;
        clock.start();
        app.start(QStringLiteral(MAILMESH_APP_BINARY), {u"--screenshot"_s, picture, m_clusterFile});
        QVERIFY(app.waitForFinished(180'000));
        record(u"dashboard: every node answered"_s, clock.elapsed());
        QVERIFY2(app.exitCode() == 0, app.readAllStandardError().constData());
        QImage image(picture);
        QVERIFY(!image.isNull() && image.width() > 400);
        qInfo("dashboard of the lab cluster: %s", qPrintable(picture));
    }

    void removeNodeAndJoinAFreshOne()
    {
        if (!kFull)
            QSKIP("in tst_labjourneyfull (label slow)");
        const CtlRun removed = timed(u"remove-node node3"_s, {u"remove-node"_s, u"node3"_s});
        QVERIFY2(removed.exitCode == 0, failureOf(removed).constData());

        QElapsedTimer clock;
        clock.start();
        const mm::Result<int> added = m_lab->addNode();
        QVERIFY2(added, added ? "" : added.error().describe().c_str());
        record(u"lab: boot a fresh node4"_s, clock.elapsed());
        const int fresh = *added;
        const CtlRun addedNode = timed(u"add-node node4"_s, addNodeArguments(fresh));
        QVERIFY2(addedNode.exitCode == 0, failureOf(addedNode).constData());
        const CtlRun prepared = timed(u"prepare node4"_s, {u"prepare"_s, u"node4"_s});
        QVERIFY2(prepared.exitCode == 0, failureOf(prepared).constData());
        // A stock Dovecot may not join a cur/-only cluster: the patched build first.
        const CtlRun refused = ctl({u"join"_s, u"node4"_s});
        QVERIFY2(refused.exitCode != 0 && failureOf(refused).contains("not the patched build"),
                 failureOf(refused).constData());
        const CtlRun deployed = timed(u"deploy-dovecot --prefix node4"_s,
                                      {u"deploy-dovecot"_s, u"--prefix"_s, kPrefix, u"node4"_s});
        QVERIFY2(deployed.exitCode == 0, failureOf(deployed).constData());
        const CtlRun joined = timed(u"join node4"_s, {u"join"_s, u"node4"_s});
        QVERIFY2(joined.exitCode == 0, failureOf(joined).constData());
        QCOMPARE(messageFiles(fresh), messageFiles(0));
        QVERIFY(readNodeFile(fresh, u"/etc/dovecot/conf.d/99-mailmesh-cur-only.conf"_s)
                    .contains("maildir_cur_only = yes"));
        measureSmtpToImaps(10, {1, fresh}, u"after join"_s);
    }

    void deployDovecotPackages()
    {
        if (!kFull)
            QSKIP("in tst_labjourneyfull (label slow)");
        const QString debs = qEnvironmentVariable(
            "MAILMESH_TEST_DEBS", mm::lab::labhost::defaultCacheDir() + u"/debs-"_s + kRelease);
        if (QDir(debs).entryList({u"dovecot-core_*.deb"_s}).isEmpty())
            QSKIP(qPrintable(
                u"no packages in %1: build them once with installers/dovecot/build-debs.sh %2 (about 40 min)"_s
                    .arg(debs, kRelease)));
        int fewestServing = 3;
        const CtlRun deployed = whileWatchingImaps(
            u"deploy-dovecot --packages"_s,
            {u"deploy-dovecot"_s, u"--packages"_s, debs, u"--allow-downgrade"_s}, &fewestServing);
        QVERIFY2(deployed.exitCode == 0, failureOf(deployed).constData());
        qInfo("deploy-dovecot --packages: at least %d nodes answered IMAPS at every moment",
              fewestServing);
        QVERIFY(fewestServing >= 1);
        for (int i = 0; i < m_lab->nodeCount(); ++i) {
            if (!nodeInCluster(i))
                continue;
            QVERIFY(output(m_lab->runInNode(i, {u"dpkg-query"_s, u"-W"_s, u"-f"_s, u"${Version}"_s,
                                                u"dovecot-core"_s}))
                        .contains("+mailmesh"));
            QCOMPARE(
                output(m_lab->runInNode(
                    i, {u"sh"_s, u"-c"_s, u"readlink /proc/$(cat /run/dovecot/master.pid)/exe"_s})),
                QByteArray("/usr/sbin/dovecot"));
            QVERIFY(!QFileInfo::exists(
                m_lab->node(i).rootDir +
                u"/etc/systemd/system/dovecot.service.d/90-mailmesh-prefix.conf"_s));
        }
        measureSmtpToImaps(5, {1}, u"after --packages"_s);
    }

    void revertToClassicMaildirs()
    {
        const CtlRun reverted = timed(u"revert"_s, {u"revert"_s});
        if (reverted.exitCode != 0)
            showSyncthingOnNodes();
        QVERIFY2(reverted.exitCode == 0, failureOf(reverted).constData());
        for (int i = 0; i < m_lab->nodeCount(); ++i) {
            if (!nodeInCluster(i))
                continue;
            const QString maildir = m_lab->node(i).rootDir + u"/var/vmail/lab.test/alice/Maildir"_s;
            QVERIFY(QFileInfo(maildir + u"/new"_s).isDir() &&
                    !QFileInfo(maildir + u"/new"_s).isSymLink());
            QVERIFY(readNodeFile(i, u"/etc/dovecot/conf.d/99-mailmesh-cur-only.conf"_s)
                        .contains("maildir_cur_only = no"));
        }
        measureSmtpToImaps(3, {1}, u"after revert"_s);
    }

private:
    // After a failed workflow: what Syncthing did on each node, from systemd's journal.
    void showSyncthingOnNodes()
    {
        qInfo("mailmeshctl status, folders and node problems:\n%s",
              ctl({u"status"_s}).output.split('\n').first().constData());
        for (int i = 0; i < m_lab->nodeCount(); ++i)
            qInfo("node%d:\n%s", i + 1,
                  output(m_lab->runInNode(
                             i, {u"sh"_s, u"-c"_s,
                                 u"ps -o pid,user,lstart,args -C syncthing; "
                                 "journalctl -u syncthing@vmail --no-pager -o short-monotonic | "
                                 "grep -i -m 8 'watch\\|inotify'; "
                                 "journalctl -u dovecot --no-pager | grep -i -m 3 inotify; "
                                 "journalctl -u syncthing@vmail -n 15 --no-pager -o short-monotonic"_s}))
                      .constData());
    }

    CtlRun ctl(const QStringList &arguments)
    {
        return runMailmeshctl(m_home.path(), m_clusterFile, arguments);
    }

    CtlRun timed(const QString &what, const QStringList &arguments)
    {
        QElapsedTimer clock;
        clock.start();
        CtlRun run = ctl(arguments);
        record(what, clock.elapsed());
        return run;
    }

    void record(const QString &what, qint64 ms)
    {
        m_times.append({what, ms});
        qInfo("%s: %.1f s", qPrintable(what), ms / 1000.0);
    }

    QStringList addNodeArguments(int index) const
    {
        return m_lab->node(index).addNodeArguments(m_lab->identityFile())
               << u"--accept-host-key"_s << m_lab->node(index).sshHostKeyFingerprint;
    }

    bool nodeInCluster(int index) const
    {
        QFile file(m_clusterFile);
        return file.open(QIODevice::ReadOnly) &&
               file.readAll().contains("\"" + m_lab->node(index).id.toUtf8() + "\"");
    }

    QByteArray readNodeFile(int index, const QString &path) const
    {
        QFile file(m_lab->node(index).rootDir + path);
        return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
    }

    // Message files under the node's mail root, Syncthing's temporary files left out.
    int messageFiles(int index) const
    {
        const auto counted = m_lab->runInNode(
            index,
            {u"sh"_s, u"-c"_s,
             u"find /var/vmail/lab.test -type f \\( -path '*/cur/*' -o -path '*/new/*' \\) ! -name '.*' | wc -l"_s});
        return counted ? counted->standardOutput.trimmed().toInt() : -1;
    }

    QString login(mm::test::ImapsClient &client, int index) const
    {
        const Lab::Account alice = m_lab->accounts().first();
        return client.login(m_lab->node(index).address, m_lab->node(index).hostName,
                            m_lab->caFile(), alice.login.toUtf8(), alice.password.toUtf8());
    }

    // Runs mailmeshctl while checking, round after round, which nodes of the cluster answer
    // IMAPS with a greeting; the fewest that answered in one round go to fewestServing.
    CtlRun whileWatchingImaps(const QString &what, const QStringList &arguments, int *fewestServing)
    {
        QElapsedTimer clock;
        clock.start();
        QProcess process;
        startMailmeshctl(process, m_home.path(), m_clusterFile, arguments);
        process.waitForStarted();
        int rounds = 0;
        while (!process.waitForFinished(50)) {
            int serving = 0;
            for (int i = 0; i < m_lab->nodeCount(); ++i) {
                if (!nodeInCluster(i))
                    continue;
                QSslSocket socket;
                QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
                configuration.setCaCertificates(QSslCertificate::fromPath(m_lab->caFile()));
                socket.setSslConfiguration(configuration);
                socket.connectToHostEncrypted(m_lab->node(i).address, 993, m_lab->node(i).hostName);
                if (socket.waitForEncrypted(2'000) &&
                    (socket.canReadLine() || socket.waitForReadyRead(2'000)) &&
                    socket.readLine().startsWith("* OK"))
                    ++serving;
            }
            *fewestServing = std::min(*fewestServing, serving);
            ++rounds;
        }
        CtlRun run = finishMailmeshctl(process);
        record(what, clock.elapsed());
        qInfo("%s: %d IMAPS rounds while it ran", qPrintable(what), rounds);
        return run;
    }

    // Mail handed to Postfix on node1 until it can be read over IMAPS on each of the nodes.
    void measureSmtpToImaps(int count, const QList<int> &readers, const QString &when)
    {
        std::vector<std::unique_ptr<mm::test::ImapsClient>> clients;
        for (int index : readers) {
            clients.push_back(std::make_unique<mm::test::ImapsClient>());
            const QString problem = login(*clients.back(), index);
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
        }
        QList<qint64> latencies;
        for (int n = 0; n < count; ++n) {
            const QByteArray id =
                "e2e-" + when.toUtf8().replace(' ', '-') + '-' + QByteArray::number(n);
            QElapsedTimer clock;
            clock.start();
            const QString sent = mm::test::sendSmtp(m_lab->node(0).address, "sender@lab.test",
                                                    {"alice@lab.test"}, mm::test::labMessage(id));
            QVERIFY2(sent.isEmpty(), qPrintable(sent));
            QList<int> waiting(readers.size());
            std::iota(waiting.begin(), waiting.end(), 0);
            while (!waiting.isEmpty() && clock.elapsed() < 60'000) {
                for (qsizetype w = waiting.size() - 1; w >= 0; --w)
                    if (clients[size_t(waiting[w])]->contains(id + "@lab.test")) {
                        latencies << clock.elapsed();
                        waiting.removeAt(w);
                    }
                QTest::qWait(20);
            }
            QVERIFY2(waiting.isEmpty(), qPrintable(u"%1 did not reach every node within 60 s"_s.arg(
                                            QString::fromUtf8(id))));
        }
        qInfo("SMTP on node1 to IMAPS on %lld other node(s), %s, %d messages: p50 %lld ms, p95 "
              "%lld ms, max %lld ms",
              qint64(readers.size()), qPrintable(when), count, percentile(latencies, 50),
              percentile(latencies, 95), percentile(latencies, 100));
    }

    QTemporaryDir m_home;
    std::unique_ptr<Lab> m_lab;
    QString m_clusterFile;
    int m_messages = 0;
    QList<std::pair<QString, qint64>> m_times;
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (const QString why = mm::lab::labhost::whyLabCannotRun(); !why.isEmpty()) {
        std::fprintf(stderr, "SKIP: %s\n", qPrintable(why));
        return 77;
    }
    if (kPrefix.isEmpty()) {
        std::fprintf(stderr,
                     "SKIP: the patched Dovecot %s prefix is not configured: run "
                     "installers/dovecot/build-prefix.sh %s and configure with -D%s=<the path it prints>\n",
                     qPrintable(kDovecotLine), qPrintable(kDovecotLine),
                     kDovecotLine == u"2.4"_s ? "MAILMESH_DOVECOT24_PREFIX" : "MAILMESH_DOVECOT_PREFIX");
        return 77;
    }
    TestLabJourney test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_labjourney.moc"
