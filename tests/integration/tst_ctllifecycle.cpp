// Node lifecycle end to end, through the real mailmeshctl, on four sandbox nodes that run sshd,
// syncthing and the patched cur/-only Dovecot on 127.0.0.1: a three-node cluster is built and
// migrated (init → add-node ×3 → pair → migrate), then the fourth node joins it live — held
// until its copy is complete, given the cur/-only setting, released — and is removed again,
// first while it answers, then (after joining once more) while it is dead.

#include "classicmailseed.h"
#include "ctlrunner.h"
#include "nodefiles.h"
#include "sandbox/sandbox.h"

#include <QCryptographicHash>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <csignal>

using namespace mm;
using mm::test::treeOf;

namespace {

const QString kPrefix = QStringLiteral(MAILMESH_DOVECOT_PREFIX);
constexpr int kNewNode = 3; // node4

int messageCount(const QString &root)
{
    int count = 0;
    const QMap<QString, QString> tree = treeOf(root);
    for (auto it = tree.begin(); it != tree.end(); ++it)
        if (it.key().section(u'/', -2, -2) == QLatin1String("cur") && it.value().startsWith(QLatin1String("file")))
            ++count;
    return count;
}

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// "* N EXISTS" of a SELECT transcript; -1 when there is none.
int existsCount(const QByteArray &transcript)
{
    const QRegularExpressionMatch match =
        QRegularExpression(QStringLiteral("\\* (\\d+) EXISTS")).match(QString::fromLatin1(transcript));
    return match.hasMatch() ? match.captured(1).toInt() : -1;
}

QString stepState(const CtlRun &run, const QString &id)
{
    for (const QJsonValue &step : run.report.value(QStringLiteral("steps")).toArray())
        if (step.toObject().value(QStringLiteral("id")).toString() == id)
            return step.toObject().value(QStringLiteral("state")).toString();
    return {};
}

} // namespace

class TestCtlLifecycle : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        if (kPrefix.isEmpty())
            QSKIP("MAILMESH_DOVECOT_PREFIX is not configured: run installers/dovecot/build-prefix.sh 2.3 "
                  "and configure with -DMAILMESH_DOVECOT_PREFIX=<the path it prints>");
        QVERIFY(m_home.isValid());
        sandbox::SandboxOptions options;
        options.nodeCount = 4;
        options.dovecotPrefix = kPrefix;
        m_sandbox = std::make_unique<sandbox::Sandbox>(options);
        QVERIFY2(m_sandbox->start(), "sandbox did not start");
        m_clusterFile = m_home.path() + QStringLiteral("/cluster.json");

        const QString seedError = seedClassicMaildirs(*m_sandbox, 0);
        QVERIFY2(seedError.isEmpty(), qPrintable(seedError));
        // The sandbox user's own INBOX gets mail too, so IMAP can count it on every node.
        const auto seeded = m_sandbox->runOnNode(0, QStringLiteral(
            "set -e; for i in 1 2 3 4 5; do printf 'Message-ID: <inbox%s@sandbox.test>\\r\\nSubject: inbox %s\\r\\n\\r\\nbody\\r\\n' "
            "$i $i > '%1/new/170000200'$i'.M'$i'P3.mx'; done")
            .arg(m_sandbox->node(0).maildir));
        QVERIFY2(seeded && seeded->exitCode == 0, seeded ? seeded->standardError.constData() : "ssh failed");

        // node4's hold and resume commands: what an admin of a node without systemd writes.
        // Both log what they saw, so the test can tell when the node was held and released.
        const sandbox::NodeInfo node = m_sandbox->node(kNewNode);
        m_lifecycleLog = node.stateDir + QStringLiteral("/lifecycle.log"); // the mail user can write there
        QFile hold(node.dir + QStringLiteral("/hold.sh"));
        QVERIFY(hold.open(QIODevice::WriteOnly));
        hold.write(test::stopDovecotMasterShell(node.dovecotBaseDir)
                   + QStringLiteral("echo held >> '%1'\n").arg(m_lifecycleLog).toUtf8());
        hold.close();
        QFile resume(node.dir + QStringLiteral("/resume.sh"));
        QVERIFY(resume.open(QIODevice::WriteOnly));
        resume.write(QStringLiteral("echo \"resumed $(find '%1' -path '*/cur/*' -type f | wc -l)\" >> '%2'\n"
                                    "exec '%3/sbin/dovecot' -c '%4' </dev/null >/dev/null 2>>'%5/dovecot/resume.stderr'\n")
                         .arg(node.mailRoot, m_lifecycleLog, kPrefix, node.dovecotConfigFile, node.dir)
                         .toUtf8());
        resume.close();
    }

    void cleanupTestCase()
    {
        if (!m_sandbox)
            return;
        // The Dovecot that node4's resume command started left the sandbox's process groups.
        test::stopDovecotMaster(m_sandbox->node(kNewNode).dovecotBaseDir);
        m_sandbox->tearDown();
    }

    void buildsAMigratedThreeNodeCluster()
    {
        QCOMPARE(ctl({QStringLiteral("init"), QStringLiteral("lifecycle")}).exitCode, 0);
        for (int i = 0; i < 3; ++i) {
            const CtlRun run = ctl(addNodeArguments(i));
            QVERIFY2(run.exitCode == 0, failureOf(run).constData());
        }
        const CtlRun paired = ctl({QStringLiteral("pair")});
        QVERIFY2(paired.exitCode == 0, paired.output.constData());
        const CtlRun migrated = ctl({QStringLiteral("migrate")});
        QVERIFY2(migrated.exitCode == 0, migrated.output.constData());
        m_messages = messageCount(m_sandbox->node(0).mailRoot);
        QCOMPARE(m_messages, 36 + 5);
    }

    void addNodeToAPairedClusterPointsToJoin()
    {
        const CtlRun run = ctl(addNodeArguments(kNewNode) << holdArguments());
        QVERIFY2(run.exitCode == 0, failureOf(run).constData());
        QCOMPARE(run.report.value(QStringLiteral("details")).toObject().value(QStringLiteral("next")).toString(),
                 QStringLiteral("mailmeshctl join node4"));
        // pair would let node4's Dovecot serve during the copy: refused, pointing to join.
        const CtlRun pair = ctl({QStringLiteral("pair")});
        QCOMPARE(pair.exitCode, 2);
        QVERIFY2(pair.output.contains("mailmeshctl join"), pair.output.constData());
    }

    void joinRefusesANodeWithMailOfItsOwn()
    {
        // The sandbox gave node4 a Maildir of its own: its mail would replicate to every node.
        const QMap<QString, QByteArray> before = configSnapshot();
        const CtlRun run = ctl({QStringLiteral("join"), QStringLiteral("node4")});
        QCOMPARE(run.exitCode, 3);
        QVERIFY2(run.report.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().contains(
                     QLatin1String("is not empty")),
                 run.output.constData());
        QCOMPARE(stepState(run, QStringLiteral("hold")), QStringLiteral("pending")); // never got that far
        QCOMPARE(configSnapshot(), before);
        QVERIFY(!QFileInfo::exists(m_lifecycleLog));

        // What the next action says: move it aside, nothing is deleted.
        QVERIFY(moveMailRootAside(QStringLiteral("mail.before-join")));
    }

    void joinDryRunChangesNothing()
    {
        const QMap<QString, QByteArray> before = configSnapshot();
        const CtlRun run = ctl({QStringLiteral("join"), QStringLiteral("node4"), QStringLiteral("--dry-run")});
        QVERIFY2(run.exitCode == 0, failureOf(run).constData());
        QVERIFY(run.report.value(QStringLiteral("dryRun")).toBool());
        const QStringList plan = planOf(run);
        QVERIFY2(plan.contains(QStringLiteral("node1: share the mail folder with node4")), qPrintable(plan.join(u'\n')));
        QVERIFY2(plan.filter(QStringLiteral("maildir_cur_only = yes")).size() == 1, qPrintable(plan.join(u'\n')));
        QCOMPARE(configSnapshot(), before);
        QVERIFY(!QFileInfo::exists(m_lifecycleLog)); // not held
    }

    void joinHoldsTheNewNodeUntilItsCopyIsComplete()
    {
        QProcess join;
        startMailmeshctl(join, m_home.path(), m_clusterFile, {QStringLiteral("join"), QStringLiteral("node4")});
        QVERIFY(join.waitForStarted());
        int refusedWhileHeld = 0;
        while (!join.waitForFinished(100)) {
            // Logins only once held: before that, a login would make Dovecot create the INBOX,
            // and the mail root would no longer be empty when join looks at it.
            if (!readAll(m_lifecycleLog).contains("held"))
                continue;
            const auto login = m_sandbox->imapLoginSelect(kNewNode);
            if (login) {
                // Serving is allowed only after the resume command ran, i.e. after the copy.
                QVERIFY2(readAll(m_lifecycleLog).contains("resumed"), "node4 served IMAP before its copy was complete");
            } else if (!readAll(m_lifecycleLog).contains("resumed")) {
                ++refusedWhileHeld;
            }
        }
        const CtlRun run = finishMailmeshctl(join);
        QVERIFY2(run.exitCode == 0, failureOf(run).constData());
        QVERIFY2(refusedWhileHeld > 0, "no IMAP login was tried while node4 was held");

        // Released with every message in place, and the same mail as node1.
        const QByteArray log = readAll(m_lifecycleLog);
        QVERIFY2(log.contains("resumed " + QByteArray::number(m_messages)), log.constData());
        QCOMPARE(treeOf(m_sandbox->node(kNewNode).mailRoot), treeOf(m_sandbox->node(0).mailRoot));
        QVERIFY(readAll(m_sandbox->node(kNewNode).dovecotConfD + QStringLiteral("/99-mailmesh-cur-only.conf"))
                    .contains("maildir_cur_only = yes"));
        QCOMPARE(run.report.value(QStringLiteral("details")).toObject().value(QStringLiteral("deviceId")).toString(),
                 m_sandbox->node(kNewNode).syncthingDeviceId);

        QByteArray onNode4;
        QTRY_VERIFY_WITH_TIMEOUT(existsCount(onNode4 = m_sandbox->imapLoginSelect(kNewNode).value_or(QByteArray())) >= 0,
                                 15000);
        const auto onNode1 = m_sandbox->imapLoginSelect(0);
        QVERIFY(onNode1);
        QCOMPARE(existsCount(onNode4), existsCount(*onNode1));
        QCOMPARE(existsCount(onNode4), 5);

        // Every node knows node4 now, and it is in the cluster file with its device.
        for (int i = 0; i < 3; ++i)
            QVERIFY(readAll(configXml(i)).contains(m_sandbox->node(kNewNode).syncthingDeviceId.toUtf8()));
        QVERIFY(readAll(m_clusterFile).contains(m_sandbox->node(kNewNode).syncthingDeviceId.toUtf8()));

        // Joining again continues nothing and changes no mail.
        const CtlRun again = ctl({QStringLiteral("join"), QStringLiteral("node4")});
        QVERIFY2(again.exitCode == 0, again.output.constData());
    }

    void removeNodeDryRunChangesNothing()
    {
        const QMap<QString, QByteArray> before = configSnapshot();
        const CtlRun run = ctl({QStringLiteral("remove-node"), QStringLiteral("node4"), QStringLiteral("--dry-run")});
        QVERIFY2(run.exitCode == 0, failureOf(run).constData());
        const QStringList plan = planOf(run);
        QVERIFY2(plan.filter(QStringLiteral("node1: remove device node4")).size() == 1, qPrintable(plan.join(u'\n')));
        QVERIFY2(plan.contains(QStringLiteral("node4: pause the mail folder (its files stay)")), qPrintable(plan.join(u'\n')));
        QCOMPARE(configSnapshot(), before);
    }

    void removeNodeForgetsItEverywhereAndKeepsItsMail()
    {
        const QString device = m_sandbox->node(kNewNode).syncthingDeviceId;
        const QMap<QString, QString> mail = treeOf(m_sandbox->node(kNewNode).mailRoot);
        const CtlRun run = ctl({QStringLiteral("remove-node"), QStringLiteral("node4")});
        QVERIFY2(run.exitCode == 0, failureOf(run).constData());
        QVERIFY(run.report.value(QStringLiteral("details")).toObject().value(QStringLiteral("nodeReachable")).toBool());
        for (int i = 0; i < 3; ++i)
            QTRY_VERIFY_WITH_TIMEOUT(!readAll(configXml(i)).contains(device.toUtf8()), 10000);
        QVERIFY(!readAll(m_clusterFile).contains("\"node4\""));
        // On node4 itself: the folder paused and shared with nobody, the peers forgotten.
        QTRY_VERIFY_WITH_TIMEOUT(!readAll(configXml(kNewNode)).contains(m_sandbox->node(0).syncthingDeviceId.toUtf8()), 10000);
        QVERIFY(readAll(configXml(kNewNode)).contains("<paused>true</paused>"));
        QCOMPARE(treeOf(m_sandbox->node(kNewNode).mailRoot), mail);
        QCOMPARE(messageCount(m_sandbox->node(kNewNode).mailRoot), m_messages);
        // node4 is no longer in the cluster file: a second removal says so.
        QCOMPARE(ctl({QStringLiteral("remove-node"), QStringLiteral("node4")}).exitCode, 2); // not in the file any more
    }

    void aDeadNodeIsRemovedFromTheOthers()
    {
        // node4 comes back as a replacement: empty mail root, added and joined again.
        const sandbox::NodeInfo node = m_sandbox->node(kNewNode);
        QVERIFY(moveMailRootAside(QStringLiteral("mail.removed")));
        QVERIFY(ctl(addNodeArguments(kNewNode) << holdArguments()).exitCode == 0);
        const CtlRun joined = ctl({QStringLiteral("join"), QStringLiteral("node4")});
        QVERIFY2(joined.exitCode == 0, joined.output.constData());
        QCOMPARE(messageCount(node.mailRoot), m_messages);

        // Then it dies: its ssh address answers no more.
        QJsonObject cluster = QJsonDocument::fromJson(readAll(m_clusterFile)).object();
        QJsonArray nodes = cluster.value(QStringLiteral("nodes")).toArray();
        for (qsizetype i = 0; i < nodes.size(); ++i) {
            QJsonObject entry = nodes[i].toObject();
            if (entry.value(QStringLiteral("id")).toString() == QLatin1String("node4")) {
                entry.insert(QStringLiteral("ssh"), QStringLiteral("ssh://%1@127.0.0.1:1").arg(node.sshUser));
                nodes[i] = entry;
            }
        }
        cluster.insert(QStringLiteral("nodes"), nodes);
        QFile file(m_clusterFile);
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write(QJsonDocument(cluster).toJson());
        file.close();

        const QByteArray ownBefore = readAll(configXml(kNewNode));
        const CtlRun run = ctl({QStringLiteral("remove-node"), QStringLiteral("node4")});
        QVERIFY2(run.exitCode == 0, failureOf(run).constData());
        const QJsonObject details = run.report.value(QStringLiteral("details")).toObject();
        QVERIFY(details.contains(QStringLiteral("nodeReachable")));
        QVERIFY(!details.value(QStringLiteral("nodeReachable")).toBool());
        QCOMPARE(stepState(run, QStringLiteral("reach")), QStringLiteral("skipped"));
        QCOMPARE(stepState(run, QStringLiteral("detach")), QStringLiteral("skipped"));
        for (int i = 0; i < 3; ++i)
            QTRY_VERIFY_WITH_TIMEOUT(!readAll(configXml(i)).contains(node.syncthingDeviceId.toUtf8()), 10000);
        QVERIFY(!readAll(m_clusterFile).contains("\"node4\""));
        QCOMPARE(readAll(configXml(kNewNode)), ownBefore); // the dead node was not touched
    }

private:
    CtlRun ctl(const QStringList &arguments) { return runMailmeshctl(m_home.path(), m_clusterFile, arguments); }

    QStringList addNodeArguments(int index) const
    {
        return sandboxAddNodeArguments(m_sandbox->node(index))
               << QStringLiteral("--accept-host-key") << m_sandbox->node(index).sshHostKeyFingerprint;
    }

    QStringList holdArguments() const
    {
        const QString dir = m_sandbox->node(kNewNode).dir;
        return {QStringLiteral("--hold-command"), QStringLiteral("sh ") + dir + QStringLiteral("/hold.sh"),
                QStringLiteral("--resume-command"), QStringLiteral("sh ") + dir + QStringLiteral("/resume.sh")};
    }

    // The node directory belongs to the sandbox's owner, not to the mail user: moved from here,
    // and a new empty mail root handed to the mail user.
    bool moveMailRootAside(const QString &name) const
    {
        const sandbox::NodeInfo node = m_sandbox->node(kNewNode);
        return QDir().rename(node.mailRoot, node.dir + u'/' + name) && QDir().mkdir(node.mailRoot)
               && QProcess::execute(QStringLiteral("chown"), {node.mailUser, node.mailRoot}) == 0;
    }

    QString configXml(int index) const { return m_sandbox->node(index).syncthingHome + QStringLiteral("/config.xml"); }

    // Every node's Syncthing configuration and the cluster file, byte for byte.
    QMap<QString, QByteArray> configSnapshot() const
    {
        QMap<QString, QByteArray> snapshot{{QStringLiteral("cluster.json"), readAll(m_clusterFile)}};
        for (int i = 0; i < 4; ++i)
            snapshot.insert(m_sandbox->node(i).id, readAll(configXml(i)));
        return snapshot;
    }

    static QStringList planOf(const CtlRun &run)
    {
        QStringList plan;
        for (const QJsonValue &action : run.report.value(QStringLiteral("details")).toObject().value(QStringLiteral("plan")).toArray())
            plan << action.toString();
        return plan;
    }

    QTemporaryDir m_home;
    std::unique_ptr<sandbox::Sandbox> m_sandbox;
    QString m_clusterFile;
    QString m_lifecycleLog;
    int m_messages = 0;
};

QTEST_GUILESS_MAIN(TestCtlLifecycle)
#include "tst_ctllifecycle.moc"
