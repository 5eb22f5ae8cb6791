// deploy-dovecot end to end, through the real mailmeshctl, on three sandbox nodes that start
// with the STOCK Dovecot: init → add-node ×3 (with a restart command, as a node without
// systemd needs) → deploy-dovecot --prefix <patched build> → every node runs the +mailmesh
// build with maildir_cur_only off; a failed restart puts the restarted nodes back on their old
// build and configuration; a rerun changes nothing; a broken template fails validation and is
// rolled back while IMAP keeps serving; migrate still works afterwards.

#include "ctlrunner.h"
#include "nodefiles.h"
#include "sandbox/sandbox.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <csignal>

using namespace mm;

namespace {

const QString kPrefix = QStringLiteral(MAILMESH_DOVECOT_PREFIX);

QByteArray readFile(const QString &path);

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

} // namespace

class TestCtlDeployDovecot : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        if (kPrefix.isEmpty())
            QSKIP("MAILMESH_DOVECOT_PREFIX is not configured: run installers/dovecot/build-prefix.sh 2.3 "
                  "and configure with -DMAILMESH_DOVECOT_PREFIX=<the path it prints>");
        QVERIFY(m_home.isValid());
        m_sandbox = std::make_unique<sandbox::Sandbox>(sandbox::SandboxOptions{}); // stock /usr Dovecot
        QVERIFY2(m_sandbox->start(), "sandbox did not start");
        m_clusterFile = m_home.path() + QStringLiteral("/cluster.json");
        for (int i = 0; i < 3; ++i) {
            QVERIFY(QFileInfo(m_sandbox->node(i).dovecotBinary()).canonicalFilePath().startsWith(QLatin1String("/usr/")));
            QVERIFY(!test::writeDovecotRestartScript(m_sandbox->node(i)).isEmpty());
        }
    }

    void cleanupTestCase()
    {
        if (!m_sandbox)
            return;
        // Dovecots started by the restart command left the sandbox's process groups: stop them
        // the way the admin would, then let the sandbox sweep the rest.
        for (int i = 0; i < 3; ++i)
            test::stopDovecotMaster(m_sandbox->node(i).dovecotBaseDir);
        m_sandbox->tearDown();
    }

    void buildsTheClusterOnStockDovecot()
    {
        QCOMPARE(ctl({QStringLiteral("init"), QStringLiteral("deploy")}).exitCode, 0);
        for (int i = 0; i < 3; ++i) {
            const CtlRun run = ctl(addNodeArguments(i));
            QVERIFY2(run.exitCode == 0, run.output.constData());
            const QJsonObject dovecot = clusterNode(i).value(QStringLiteral("dovecot")).toObject();
            QVERIFY(!dovecot.value(QStringLiteral("curOnlyBuild")).toBool());
            QCOMPARE(dovecot.value(QStringLiteral("imapPort")).toInt(), int(m_sandbox->node(i).imapPort));
            QCOMPARE(dovecot.value(QStringLiteral("restartCommand")).toArray().size(), 1);
        }
    }

    void refusesABuildThatIsNotThePatchedOne()
    {
        CtlRun run = ctl({QStringLiteral("deploy-dovecot"), QStringLiteral("--prefix"), QStringLiteral("/usr")});
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(errorMessage(run).contains(QLatin1String("not the cur/-only build")), run.output.constData());
        run = ctl({QStringLiteral("deploy-dovecot"), QStringLiteral("--prefix"), m_home.path() + QStringLiteral("/none")});
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(errorMessage(run).contains(QLatin1String("holds no Dovecot")), run.output.constData());
        QTemporaryDir packages;
        run = ctl({QStringLiteral("deploy-dovecot"), QStringLiteral("--packages"), packages.path()});
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(errorMessage(run).contains(QLatin1String("build-debs.sh 12")), run.output.constData());
        QFile deb(packages.path() + QStringLiteral("/dovecot-core_2.3.19.1+dfsg1-2.1+deb12u6+mailmesh6_amd64.deb"));
        QVERIFY(deb.open(QIODevice::WriteOnly));
        deb.close();
        // Named like a package but not one: refused while reading its version, before any upload.
        run = ctl({QStringLiteral("deploy-dovecot"), QStringLiteral("--packages"), packages.path()});
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(errorMessage(run).contains(QLatin1String("is not a Debian package")), run.output.constData());
        QCOMPARE(stepState(run, QStringLiteral("detect")), QStringLiteral("failed"));
        for (int i = 0; i < 3; ++i)
            QVERIFY(!QFileInfo::exists(snippetPath(i)));
    }

    void dryRunShowsTheSnippetAndChangesNothing()
    {
        QList<qint64> pids;
        for (int i = 0; i < 3; ++i)
            pids << masterPid(i);
        const CtlRun run = ctl({QStringLiteral("deploy-dovecot"), QStringLiteral("--prefix"), kPrefix, QStringLiteral("--dry-run")});
        QVERIFY2(run.exitCode == 0, run.output.constData());
        QVERIFY(run.report.value(QStringLiteral("dryRun")).toBool());
        const QJsonArray nodes = details(run).value(QStringLiteral("nodes")).toArray();
        QCOMPARE(nodes.size(), 3);
        for (int i = 0; i < 3; ++i) {
            const QJsonObject node = nodes[i].toObject();
            QVERIFY(node.value(QStringLiteral("diff")).toString().contains(QLatin1String("+mail_location = maildir:~/Maildir")));
            QVERIFY(node.value(QStringLiteral("indexes")).toString().contains(QLatin1String("left in the Maildir")));
            QVERIFY(!QFileInfo::exists(snippetPath(i)));
            QVERIFY(!QFileInfo::exists(curOnlyPath(i)));
            QCOMPARE(masterPid(i), pids[i]);
        }
    }

    void aFailedRestartRollsBackToTheOldConfiguration()
    {
        // Restarts go one node at a time, in cluster order: the second node's fails, so the first
        // already runs the target and must be brought back as well; the third is never touched.
        QList<qint64> pids;
        for (int i = 0; i < 3; ++i)
            pids << masterPid(i);
        QFile flag(m_sandbox->node(1).dir + QStringLiteral("/dovecot/fail-next-restart"));
        QVERIFY(flag.open(QIODevice::WriteOnly));
        flag.close();
        const CtlRun run = ctl({QStringLiteral("deploy-dovecot"), QStringLiteral("--prefix"), kPrefix});
        QCOMPARE(run.exitCode, 3);
        QCOMPARE(stepState(run, QStringLiteral("restart")), QStringLiteral("failed"));
        QVERIFY2(errorMessage(run).contains(QLatin1String("failing as the test asked")), run.output.constData());
        QVERIFY2(errorMessage(run).contains(QLatin1String("Rolled back")), run.output.constData());
        QVERIFY(!flag.exists()); // the restart did run, and failed
        for (int i = 0; i < 3; ++i) {
            QVERIFY(!QFileInfo::exists(snippetPath(i)));
            QVERIFY(!QFileInfo::exists(curOnlyPath(i)));
            QVERIFY2(runningBinary(i).startsWith(QLatin1String("/usr/")), qPrintable(runningBinary(i)));
            QVERIFY(clusterNode(i).value(QStringLiteral("dovecot")).toObject().value(QStringLiteral("prefix")).toString()
                    != kPrefix);
            const auto selected = m_sandbox->imapLoginSelect(i);
            QVERIFY2(selected, selected ? "" : selected.error().message.c_str());
        }
        QVERIFY(masterPid(0) != pids[0]); // restarted twice: on the target, then on the old build
        QCOMPARE(masterPid(2), pids[2]);
    }

    void deployPutsThePatchedBuildOnEveryNode()
    {
        const CtlRun run = ctl({QStringLiteral("deploy-dovecot"), QStringLiteral("--prefix"), kPrefix,
                                QStringLiteral("--check-user"), m_sandbox->node(0).imapUser});
        QVERIFY2(run.exitCode == 0, run.output.constData());
        const QJsonArray nodes = details(run).value(QStringLiteral("nodes")).toArray();
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(runningBinary(i), kPrefix + QStringLiteral("/sbin/dovecot"));
            const QByteArray snippet = readFile(snippetPath(i));
            QVERIFY2(snippet.contains("\nmail_location = maildir:~/Maildir\n"), snippet.constData());
            QVERIFY(snippet.contains("\nmaildir_very_dirty_syncs = no\n"));
            QVERIFY(readFile(curOnlyPath(i)).contains("maildir_cur_only = no"));
            QCOMPARE(doveconf(i, QStringLiteral("maildir_cur_only")), QByteArray("no"));
            const QJsonObject dovecot = clusterNode(i).value(QStringLiteral("dovecot")).toObject();
            QCOMPARE(dovecot.value(QStringLiteral("prefix")).toString(), kPrefix);
            QVERIFY(dovecot.value(QStringLiteral("curOnlyBuild")).toBool());
            QVERIFY(dovecot.value(QStringLiteral("version")).toString().contains(QLatin1String("+mailmesh")));
            QVERIFY(nodes[i].toObject().value(QStringLiteral("imapCapability")).toString().contains(QLatin1String("IMAP4rev1")));
            QVERIFY(nodes[i].toObject().contains(QStringLiteral("checkUserMessages")));
            const auto selected = m_sandbox->imapLoginSelect(i);
            QVERIFY2(selected, selected ? "" : selected.error().message.c_str());
        }
    }

    void aSecondRunChangesNothing()
    {
        QList<qint64> pids;
        QList<QByteArray> snippets;
        for (int i = 0; i < 3; ++i) {
            pids << masterPid(i);
            snippets << readFile(snippetPath(i));
        }
        const CtlRun run = ctl({QStringLiteral("deploy-dovecot"), QStringLiteral("--prefix"), kPrefix});
        QVERIFY2(run.exitCode == 0, run.output.constData());
        for (const QJsonValue &node : details(run).value(QStringLiteral("nodes")).toArray())
            QVERIFY(node.toObject().value(QStringLiteral("unchanged")).toBool());
        QVERIFY(stepDetail(run, QStringLiteral("restart")).contains(QLatin1String("nothing to restart")));
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(masterPid(i), pids[i]);
            QCOMPARE(readFile(snippetPath(i)), snippets[i]);
        }
    }

    void aBrokenTemplateFailsValidationAndIsRolledBack()
    {
        QTemporaryDir templates;
        QFile broken(templates.path() + QStringLiteral("/90-mailmesh-2.3.conf.in"));
        QVERIFY(broken.open(QIODevice::WriteOnly));
        broken.write("mail_location = {{mailLocation}}\nno_such_mailmesh_setting = yes\n");
        broken.close();
        QList<qint64> pids;
        QList<QByteArray> snippets;
        for (int i = 0; i < 3; ++i) {
            pids << masterPid(i);
            snippets << readFile(snippetPath(i));
        }
        const CtlRun run = ctl({QStringLiteral("deploy-dovecot"), QStringLiteral("--prefix"), kPrefix},
                               {{QStringLiteral("MAILMESH_DOVECOT_TEMPLATE_DIR"), templates.path()}});
        QCOMPARE(run.exitCode, 3);
        QVERIFY2(errorMessage(run).contains(QLatin1String("no_such_mailmesh_setting")), run.output.constData());
        QVERIFY2(errorMessage(run).contains(QLatin1String("Rolled back")), run.output.constData());
        QCOMPARE(stepState(run, QStringLiteral("validate")), QStringLiteral("failed"));
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(readFile(snippetPath(i)), snippets[i]);
            QCOMPARE(readFile(snippetPath(i) + QStringLiteral(".mailmesh-previous")), snippets[i]);
            QCOMPARE(masterPid(i), pids[i]); // never restarted
            const auto selected = m_sandbox->imapLoginSelect(i);
            QVERIFY2(selected, selected ? "" : selected.error().message.c_str());
        }
    }

    void migrateWorksAfterTheDeployment()
    {
        const CtlRun paired = ctl({QStringLiteral("pair")});
        QVERIFY2(paired.exitCode == 0, paired.output.constData());
        const CtlRun migrated = ctl({QStringLiteral("migrate")});
        QVERIFY2(migrated.exitCode == 0, migrated.output.constData());
        for (int i = 0; i < 3; ++i) {
            QVERIFY(readFile(curOnlyPath(i)).contains("maildir_cur_only = yes"));
            QCOMPARE(doveconf(i, QStringLiteral("maildir_cur_only")), QByteArray("yes"));
            QVERIFY(QFileInfo(m_sandbox->node(i).maildir + QStringLiteral("/new")).isSymLink());
            const auto selected = m_sandbox->imapLoginSelect(i);
            QVERIFY2(selected, selected ? "" : selected.error().message.c_str());
        }
        // The deployment keeps the setting migrate chose: a rerun leaves the nodes alone.
        const CtlRun again = ctl({QStringLiteral("deploy-dovecot"), QStringLiteral("--prefix"), kPrefix});
        QVERIFY2(again.exitCode == 0, again.output.constData());
        for (int i = 0; i < 3; ++i)
            QVERIFY(readFile(curOnlyPath(i)).contains("maildir_cur_only = yes"));
    }

private:
    CtlRun ctl(const QStringList &arguments, const QList<QPair<QString, QString>> &extraEnvironment = {})
    {
        CtlRun run = runMailmeshctl(m_home.path(), m_clusterFile, arguments, extraEnvironment);
        if (run.exitCode != 0)
            qWarning("mailmeshctl %s exited %d:\n%s", qPrintable(arguments.join(u' ')), run.exitCode, run.output.constData());
        return run;
    }

    QStringList addNodeArguments(int index) const
    {
        const sandbox::NodeInfo &node = m_sandbox->node(index);
        return sandboxAddNodeArguments(node)
               << QStringLiteral("--dovecot-restart") << QStringLiteral("sh ") + node.dir + QStringLiteral("/restart-dovecot.sh")
               << QStringLiteral("--imap-port") << QString::number(node.imapPort)
               << QStringLiteral("--accept-host-key") << node.sshHostKeyFingerprint;
    }

    QJsonObject clusterNode(int index) const
    {
        const QJsonArray nodes = QJsonDocument::fromJson(readFile(m_clusterFile)).object().value(QStringLiteral("nodes")).toArray();
        for (const QJsonValue &node : nodes)
            if (node.toObject().value(QStringLiteral("id")).toString() == m_sandbox->node(index).id)
                return node.toObject();
        return {};
    }

    static QJsonObject details(const CtlRun &run) { return run.report.value(QStringLiteral("details")).toObject(); }

    static QString errorMessage(const CtlRun &run)
    {
        return run.report.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
    }

    static QJsonObject step(const CtlRun &run, const QString &id)
    {
        for (const QJsonValue &value : run.report.value(QStringLiteral("steps")).toArray())
            if (value.toObject().value(QStringLiteral("id")).toString() == id)
                return value.toObject();
        return {};
    }
    static QString stepDetail(const CtlRun &run, const QString &id) { return step(run, id).value(QStringLiteral("detail")).toString(); }
    static QString stepState(const CtlRun &run, const QString &id) { return step(run, id).value(QStringLiteral("state")).toString(); }

    QString snippetPath(int index) const { return m_sandbox->node(index).dovecotConfD + QStringLiteral("/90-mailmesh.conf"); }
    QString curOnlyPath(int index) const
    {
        return m_sandbox->node(index).dovecotConfD + QStringLiteral("/99-mailmesh-cur-only.conf");
    }

    qint64 masterPid(int index) const
    {
        return readFile(m_sandbox->node(index).dovecotBaseDir + QStringLiteral("/master.pid")).trimmed().toLongLong();
    }

    QString runningBinary(int index) const
    {
        return QFileInfo(QStringLiteral("/proc/%1/exe").arg(masterPid(index))).symLinkTarget();
    }

    QByteArray doveconf(int index, const QString &setting) const
    {
        QProcess process;
        process.start(kPrefix + QStringLiteral("/bin/doveconf"),
                      {QStringLiteral("-c"), m_sandbox->node(index).dovecotConfigFile, QStringLiteral("-h"), setting});
        process.waitForFinished(30000);
        return process.readAllStandardOutput().trimmed();
    }

    QTemporaryDir m_home;
    std::unique_ptr<sandbox::Sandbox> m_sandbox;
    QString m_clusterFile;
};

QTEST_GUILESS_MAIN(TestCtlDeployDovecot)
#include "tst_ctldeploydovecot.moc"
