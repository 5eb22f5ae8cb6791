// The cluster workflows end to end, through the real mailmeshctl, on three sandbox nodes that
// run sshd, syncthing and the patched cur/-only Dovecot on 127.0.0.1:
// init → add-node ×3 (host keys pinned) → pair → migrate → an MTA delivery → revert, and a
// failed run that stays frozen and is continued by running it again.

#include "classicmailseed.h"
#include "ctlrunner.h"
#include "nodefiles.h"
#include "sandbox/sandbox.h"

#include <QCryptographicHash>
#include <QDirIterator>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace mm;
using mm::test::treeOf;

namespace {

const QString kPrefix = QStringLiteral(MAILMESH_DOVECOT_PREFIX);

// Message contents only (sha256 -> count), wherever they sit: what "nothing lost" means.
QMap<QString, int> messagesOf(const QString &root)
{
    QMap<QString, int> messages;
    const QMap<QString, QString> tree = treeOf(root);
    for (auto it = tree.begin(); it != tree.end(); ++it) {
        const QString dir = it.key().section(u'/', -2, -2);
        if ((dir == QLatin1String("cur") || dir == QLatin1String("new")) && it.value().startsWith(QLatin1String("file")))
            ++messages[it.value().section(u' ', 2)];
    }
    return messages;
}

} // namespace

class TestCtlMigration : public QObject
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
        options.dovecotPrefix = kPrefix;
        // As prepare makes a real node do; status --check names a node without it.
        options.changeWatcher = QStringLiteral(MAILMESH_AGENT_BINARY);
        m_sandbox = std::make_unique<sandbox::Sandbox>(options);
        QVERIFY2(m_sandbox->start(), "sandbox did not start");
        m_clusterFile = m_home.path() + QStringLiteral("/cluster.json");

        // Node 1 holds classic Maildirs with mail in new/ and cur/, in Maildir++ folders, for two
        // users besides the sandbox's own; nodes 2 and 3 start empty.
        const QString seedError = seedClassicMaildirs(*m_sandbox, 0);
        QVERIFY2(seedError.isEmpty(), qPrintable(seedError));
        m_seeded = messagesOf(m_sandbox->node(0).mailRoot);
        QCOMPARE(m_seeded.size(), 36);
    }

    void cleanupTestCase()
    {
        if (m_sandbox)
            m_sandbox->tearDown();
    }

    void initWritesTheClusterFile()
    {
        const CtlRun run = ctl({QStringLiteral("init"), QStringLiteral("e2e")});
        QCOMPARE(run.exitCode, 0);
        QVERIFY(QFileInfo::exists(m_clusterFile));
        QCOMPARE(ctl({QStringLiteral("init"), QStringLiteral("again")}).exitCode, 2); // never overwritten silently
    }

    void addNodeRefusesAnUnknownHostKey()
    {
        const CtlRun run = ctl(addNodeArguments(0, {}));
        QCOMPARE(run.exitCode, 4);
        QCOMPARE(run.report.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString(),
                 QStringLiteral("unknown-hostkey"));
        QCOMPARE(run.report.value(QStringLiteral("details")).toObject().value(QStringLiteral("offeredHostKey")).toString(),
                 m_sandbox->node(0).sshHostKeyFingerprint);
        QVERIFY(run.report.value(QStringLiteral("nextAction")).toString().contains(QLatin1String("--accept-host-key")));
        QVERIFY(!clusterFileText().contains(QLatin1String("\"node1\""))); // nothing recorded
    }

    void addNodeRefusesAKeyOtherThanTheOneAccepted()
    {
        const CtlRun run = ctl(addNodeArguments(0, m_sandbox->node(1).sshHostKeyFingerprint));
        QCOMPARE(run.exitCode, 4);
        QVERIFY(!clusterFileText().contains(QLatin1String("\"node1\"")));
    }

    void addsThreeNodesWithPinnedKeys()
    {
        for (int i = 0; i < 3; ++i) {
            const CtlRun run = ctl(addNodeArguments(i, m_sandbox->node(i).sshHostKeyFingerprint));
            QVERIFY2(run.exitCode == 0, run.output.constData());
            const QJsonObject node = run.report.value(QStringLiteral("details")).toObject().value(QStringLiteral("node")).toObject();
            QCOMPARE(node.value(QStringLiteral("hostKey")).toString(), m_sandbox->node(i).sshHostKeyFingerprint);
            QVERIFY(node.value(QStringLiteral("dovecot")).toObject().value(QStringLiteral("curOnlyBuild")).toBool());
        }
        const QJsonArray nodes = QJsonDocument::fromJson(clusterFileText().toUtf8()).object().value(QStringLiteral("nodes")).toArray();
        QCOMPARE(nodes.size(), 3);
    }

    void prepareFindsASandboxNodeReady()
    {
        const CtlRun run = ctl({QStringLiteral("prepare"), QStringLiteral("node1")});
        QVERIFY2(run.exitCode == 0, run.output.constData());
        for (const QJsonValue &step : run.report.value(QStringLiteral("steps")).toArray())
            QCOMPARE(step.toObject().value(QStringLiteral("state")).toString(), QStringLiteral("done"));
    }

    void prepareGivesTheCommandWhenSyncthingIsNotRunning()
    {
        QVERIFY(m_sandbox->stopSyncthing(1));
        const CtlRun run = ctl({QStringLiteral("prepare"), QStringLiteral("node2")});
        QVERIFY(m_sandbox->startSyncthing(1));
        QVERIFY2(run.exitCode == 1, run.output.constData()); // no systemd here: a manual action
        const QJsonArray actions = run.report.value(QStringLiteral("details")).toObject().value(QStringLiteral("manualActions")).toArray();
        QCOMPARE(actions.size(), 1);
        QVERIFY(actions[0].toObject().value(QStringLiteral("commands")).toArray()[0].toString().contains(
            QLatin1String("syncthing serve")));
    }

    void pairCarriesTheMailToEveryNode()
    {
        const CtlRun run = ctl({QStringLiteral("pair")});
        QVERIFY2(run.exitCode == 0, run.output.constData());
        const QMap<QString, QString> reference = treeOf(m_sandbox->node(0).mailRoot);
        for (int i = 1; i < 3; ++i)
            QCOMPARE(treeOf(m_sandbox->node(i).mailRoot), reference);
    }

    void statusSeesAHealthyCluster()
    {
        const CtlRun check = ctl({QStringLiteral("status"), QStringLiteral("--check")});
        QVERIFY2(check.exitCode == 0, check.output.constData());
        QVERIFY2(check.output.startsWith("MAILMESH OK - 3/3 nodes reachable, 6/6 peer links in sync"), check.output.constData());

        const CtlRun json = ctl({QStringLiteral("status")});
        QCOMPARE(json.exitCode, 0);
        const QJsonObject state = QJsonDocument::fromJson(json.output.split('\n').first()).object();
        QVERIFY(state.value(QStringLiteral("settled")).toBool());
        QCOMPARE(state.value(QStringLiteral("nodes")).toArray().size(), 3);
        for (const QJsonValue &node : state.value(QStringLiteral("nodes")).toArray())
            QCOMPARE(node.toObject().value(QStringLiteral("health")).toString(), QStringLiteral("ok"));
        const QJsonArray mailboxes = state.value(QStringLiteral("mailboxes")).toArray();
        QCOMPARE(mailboxes.size(), 7);
        for (const QJsonValue &mailbox : mailboxes)
            QVERIFY(mailbox.toObject().value(QStringLiteral("agrees")).toBool());
    }

    void statusCheckWarnsWhenANodesSyncthingIsDown()
    {
        QVERIFY(m_sandbox->stopSyncthing(2));
        const CtlRun check = ctl({QStringLiteral("status"), QStringLiteral("--check"), QStringLiteral("--timeout"), QStringLiteral("30")});
        QVERIFY(m_sandbox->startSyncthing(2));
        QVERIFY2(check.exitCode == 1 || check.exitCode == 2, check.output.constData());
        QVERIFY2(check.output.startsWith("MAILMESH WARNING") || check.output.startsWith("MAILMESH CRITICAL"), check.output.constData());
        QVERIFY2(check.output.contains("node3"), check.output.constData());
    }

    void dryRunChangesNothing()
    {
        QList<QMap<QString, QString>> before;
        for (int i = 0; i < 3; ++i)
            before << treeOf(m_sandbox->node(i).dir);
        const CtlRun run = ctl({QStringLiteral("migrate"), QStringLiteral("--dry-run")});
        QVERIFY2(run.exitCode == 0, run.output.constData());
        QVERIFY(run.report.value(QStringLiteral("dryRun")).toBool());
        const QJsonArray nodes = run.report.value(QStringLiteral("details")).toObject().value(QStringLiteral("nodes")).toArray();
        QCOMPARE(nodes.size(), 3);
        for (const QJsonValue &node : nodes)
            QCOMPARE(node.toObject().value(QStringLiteral("plan")).toObject().value(QStringLiteral("moved")).toInt(), 18);
        for (int i = 0; i < 3; ++i) {
            QMap<QString, QString> after = treeOf(m_sandbox->node(i).dir);
            // Syncthing and the daemons write their own files; the mail, state and Dovecot
            // configuration must be exactly as they were.
            const auto mine = [](const QMap<QString, QString> &tree) {
                QMap<QString, QString> kept;
                for (auto it = tree.begin(); it != tree.end(); ++it)
                    if (it.key().startsWith(QLatin1String("mail/")) || it.key().startsWith(QLatin1String("mailmesh-state"))
                        || it.key().startsWith(QLatin1String("dovecot/conf.d")))
                        kept.insert(it.key(), it.value());
                return kept;
            };
            QCOMPARE(mine(after), mine(before[i]));
        }
    }

    void migrateMakesEveryNodeCurOnlyAndIdentical()
    {
        const CtlRun run = ctl({QStringLiteral("migrate")});
        QVERIFY2(run.exitCode == 0, run.output.constData());
        const QMap<QString, QString> reference = treeOf(m_sandbox->node(0).mailRoot);
        for (int i = 0; i < 3; ++i) {
            const QString root = m_sandbox->node(i).mailRoot;
            const QStringList folders = test::maildirFolders(root);
            QCOMPARE(folders.size(), 7); // 2 users × 3 folders + the sandbox's own INBOX
            for (const QString &folder : folders) {
                const QFileInfo newDir(folder + QStringLiteral("/new"));
                QVERIFY2(newDir.isSymLink() && newDir.symLinkTarget() == folder + QStringLiteral("/cur"), qPrintable(folder));
            }
            QCOMPARE(treeOf(root), reference);
            QCOMPARE(messagesOf(root), m_seeded);
            QFile snippet(m_sandbox->node(i).dovecotConfD + QStringLiteral("/99-mailmesh-cur-only.conf"));
            QVERIFY(snippet.open(QIODevice::ReadOnly));
            QVERIFY(snippet.readAll().contains("maildir_cur_only = yes"));
        }
        // The patched Dovecot serves the converted Maildir after the reload.
        const auto selected = m_sandbox->imapLoginSelect(1);
        QVERIFY2(selected, selected ? "" : selected.error().message.c_str());
    }

    void migrateAgainChangesNothing()
    {
        const CtlRun run = ctl({QStringLiteral("migrate")});
        QVERIFY2(run.exitCode == 0, run.output.constData());
        for (const QJsonValue &node : run.report.value(QStringLiteral("details")).toObject().value(QStringLiteral("nodes")).toArray())
            QCOMPARE(node.toObject().value(QStringLiteral("plan")).toObject().value(QStringLiteral("converted")).toInt(), 0);
    }

    void deliveryIntoNewReachesCurEverywhere()
    {
        // As an MTA does: write into tmp/, then rename into new/ — which is now cur/.
        const QString maildir = m_sandbox->node(0).mailRoot + QStringLiteral("/example.org/alice/Maildir");
        const auto delivered = m_sandbox->runOnNode(0, QStringLiteral(
            "set -e; printf 'Message-ID: <mta1@example.org>\\r\\nSubject: delivered\\r\\n\\r\\nhello\\r\\n' > '%1/tmp/1800000000.M1P9.mx'; "
            "mv '%1/tmp/1800000000.M1P9.mx' '%1/new/1800000000.M1P9.mx'").arg(maildir));
        QVERIFY2(delivered && delivered->exitCode == 0, delivered ? delivered->standardError.constData() : "ssh failed");
        QVERIFY(QFileInfo::exists(maildir + QStringLiteral("/cur/1800000000.M1P9.mx")));
        for (int i = 1; i < 3; ++i)
            QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(m_sandbox->node(i).mailRoot
                                                       + QStringLiteral("/example.org/alice/Maildir/cur/1800000000.M1P9.mx")),
                                     60000);
    }

    void syncthingsOwnFilesStayOnTheirNodeAfterMigrate()
    {
        // migrate sets every node's ignores again on resuming: they must still keep a Syncthing
        // home that sits in the mail root (vmail's home is the mail root on many servers) on its
        // node, or one node's keys and API key would overwrite every other's.
        const QString root = m_sandbox->node(0).mailRoot;
        const auto written = m_sandbox->runOnNode(0, QStringLiteral(
            "set -e; mkdir -p '%1/.config/syncthing'; echo node1 > '%1/.config/syncthing/config.xml'; "
            "echo node1 > '%1/.config/syncthing/key.pem'; echo node1 > '%1/https-key.pem'; "
            "printf 'Message-ID: <after-secrets@example.org>\\r\\n\\r\\nhello\\r\\n' > "
            "'%1/example.org/alice/Maildir/cur/1800000001.M2P9.mx'").arg(root));
        QVERIFY2(written && written->exitCode == 0, written ? written->standardError.constData() : "ssh failed");
        for (int i = 1; i < 3; ++i) {
            const QString peerRoot = m_sandbox->node(i).mailRoot;
            QTRY_VERIFY_WITH_TIMEOUT(
                QFileInfo::exists(peerRoot + QStringLiteral("/example.org/alice/Maildir/cur/1800000001.M2P9.mx")), 60000);
            QVERIFY(!QFileInfo::exists(peerRoot + QStringLiteral("/.config/syncthing/config.xml")));
            QVERIFY(!QFileInfo::exists(peerRoot + QStringLiteral("/.config/syncthing/key.pem")));
            QVERIFY(!QFileInfo::exists(peerRoot + QStringLiteral("/https-key.pem")));
        }
        QVERIFY(m_sandbox->runOnNode(0, QStringLiteral("rm -rf '%1/.config' '%1/https-key.pem'").arg(root)).has_value());
    }

    void revertTurnsEveryNodeClassicAndLosesNothing()
    {
        const QMap<QString, int> before = messagesOf(m_sandbox->node(0).mailRoot);
        QCOMPARE(before.size(), m_seeded.size() + 2); // the two delivered after migrate
        const CtlRun run = ctl({QStringLiteral("revert")});
        QVERIFY2(run.exitCode == 0, run.output.constData());
        for (int i = 0; i < 3; ++i) {
            const QString root = m_sandbox->node(i).mailRoot;
            for (const QString &folder : test::maildirFolders(root)) {
                const QFileInfo newDir(folder + QStringLiteral("/new"));
                QVERIFY2(newDir.isDir() && !newDir.isSymLink(), qPrintable(folder));
            }
            QCOMPARE(messagesOf(root), before);
            QFile snippet(m_sandbox->node(i).dovecotConfD + QStringLiteral("/99-mailmesh-cur-only.conf"));
            QVERIFY(snippet.open(QIODevice::ReadOnly));
            QVERIFY(snippet.readAll().contains("maildir_cur_only = no"));
        }
    }

    void aFailedRunStaysFrozenAndARerunContinues()
    {
        // Node 3's hold command fails until a flag file exists, as a stuck MTA would.
        const QString flag = m_sandbox->node(2).dir + QStringLiteral("/mailmesh-state/hold-ok");
        QStringList readd = addNodeArguments(2, {});
        readd << QStringLiteral("--hold-command") << QStringLiteral("test -e ") + flag
              << QStringLiteral("--resume-command") << QStringLiteral("true");
        const CtlRun readded = ctl(readd);
        QVERIFY2(readded.exitCode == 0, readded.output.constData());
        // The report describes the node re-added, not the last one in the file.
        const QJsonObject readdedNode = readded.report.value(QStringLiteral("details")).toObject().value(QStringLiteral("node")).toObject();
        QCOMPARE(readdedNode.value(QStringLiteral("id")).toString(), QStringLiteral("node3"));
        QCOMPARE(readdedNode.value(QStringLiteral("holdCommands")).toArray().size(), 1);

        const CtlRun failed = ctl({QStringLiteral("migrate")});
        QCOMPARE(failed.exitCode, 3);
        QVERIFY(failed.report.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString().startsWith(
            QLatin1String("node3:")));
        QVERIFY(failed.report.value(QStringLiteral("nextAction")).toString().contains(QLatin1String("mailmeshctl migrate")));
        // Frozen: nothing was converted yet, and replication is paused, so a rerun continues.
        const auto configured = m_sandbox->runOnNode(0, QStringLiteral("grep -c 'paused>true' '%1/config.xml' || true")
                                                            .arg(m_sandbox->node(0).syncthingHome));
        QVERIFY(configured && configured->standardOutput.trimmed().toInt() >= 1);

        const auto touched = m_sandbox->runOnNode(2, QStringLiteral("touch '%1'").arg(flag));
        QVERIFY(touched && touched->exitCode == 0);
        const CtlRun continued = ctl({QStringLiteral("migrate")});
        QVERIFY2(continued.exitCode == 0, continued.output.constData());
        const QJsonArray steps = continued.report.value(QStringLiteral("steps")).toArray();
        QVERIFY(steps[2].toObject().value(QStringLiteral("detail")).toString().contains(QLatin1String("interrupted run")));
        for (int i = 0; i < 3; ++i)
            QCOMPARE(messagesOf(m_sandbox->node(i).mailRoot), messagesOf(m_sandbox->node(0).mailRoot));
    }

    void duplicatesAreFoundSettledOnOneNodeAndRestored()
    {
        // One message under two names (flag divergence), planted on node 1 and replicated.
        const QString cur = QStringLiteral("/example.org/bob/Maildir/cur/");
        const QString original = cur + QStringLiteral("1700001001.M1P2.mx:2,S");
        const QString variant = cur + QStringLiteral("1700001001.M1P2.mx:2,RS");
        const auto planted = m_sandbox->runOnNode(0, QStringLiteral("cp -p '%1%2' '%1%3'")
                                                          .arg(m_sandbox->node(0).mailRoot, original, variant));
        QVERIFY(planted && planted->exitCode == 0);
        for (int i = 1; i < 3; ++i)
            QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(m_sandbox->node(i).mailRoot + variant), 60000);

        const CtlRun dupes = ctl({QStringLiteral("dupes")});
        QVERIFY2(dupes.exitCode == 0, dupes.output.constData());
        const QJsonObject details = dupes.report.value(QStringLiteral("details")).toObject();
        const QJsonArray groups = details.value(QStringLiteral("groups")).toArray();
        QCOMPARE(groups.size(), 1);
        const QJsonObject group = groups[0].toObject();
        QCOMPARE(group.value(QStringLiteral("kind")).toString(), QStringLiteral("flag-divergence"));
        QCOMPARE(group.value(QStringLiteral("presentOn")).toArray().size(), 3);
        QVERIFY(details.value(QStringLiteral("diff")).toObject().value(QStringLiteral("uidConflicts")).toArray().isEmpty());

        const CtlRun dryRun = ctl({QStringLiteral("dedupe"), QStringLiteral("--dry-run")});
        QVERIFY2(dryRun.exitCode == 0, dryRun.output.constData());
        QVERIFY(QFileInfo::exists(m_sandbox->node(0).mailRoot + original));

        const CtlRun dedupe = ctl({QStringLiteral("dedupe")});
        QVERIFY2(dedupe.exitCode == 0, qPrintable(stepsOf(dedupe)));
        QCOMPARE(dedupe.report.value(QStringLiteral("details")).toObject().value(QStringLiteral("resolver")).toString(),
                 QStringLiteral("node1"));
        for (int i = 0; i < 3; ++i) {
            QTRY_VERIFY_WITH_TIMEOUT(!QFileInfo::exists(m_sandbox->node(i).mailRoot + original), 60000);
            QVERIFY(QFileInfo::exists(m_sandbox->node(i).mailRoot + variant));
        }

        const CtlRun listed = ctl({QStringLiteral("quarantine"), QStringLiteral("list")});
        QVERIFY2(listed.exitCode == 0, listed.output.constData());
        const QJsonArray nodes = listed.report.value(QStringLiteral("details")).toObject().value(QStringLiteral("nodes")).toArray();
        QCOMPARE(nodes[0].toObject().value(QStringLiteral("result")).toObject().value(QStringLiteral("count")).toInt(), 1);
        QCOMPARE(nodes[1].toObject().value(QStringLiteral("result")).toObject().value(QStringLiteral("count")).toInt(), 0);

        const CtlRun restored = ctl({QStringLiteral("quarantine"), QStringLiteral("restore"), QStringLiteral("--node"),
                                     QStringLiteral("node1"), QStringLiteral("--all")});
        QVERIFY2(restored.exitCode == 0, restored.output.constData());
        for (int i = 0; i < 3; ++i)
            QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(m_sandbox->node(i).mailRoot + original), 60000);
    }

    void statusCheckReportsAUidConflict()
    {
        // Two nodes that gave UID 1 of one folder to different messages under one uidvalidity,
        // as a replicated uidlist with concurrent deliveries would. Under the per-node policy
        // Syncthing leaves dovecot-uidlist alone, so each node keeps its own.
        const QString sent = QStringLiteral("/example.org/bob/Maildir/.Sent/dovecot-uidlist");
        for (int i = 0; i < 2; ++i) {
            QFile uidlist(m_sandbox->node(i).mailRoot + sent);
            QVERIFY(uidlist.open(QIODevice::WriteOnly));
            uidlist.write("3 V1700000000 N3 G0123456789abcdef0123456789abcdef\n");
            uidlist.write(i == 0 ? "1 :1700000001.M1P1.mx\n" : "1 :1700000002.M2P1.mx\n");
            uidlist.write("2 :1700001001.M1P2.mx\n");
        }
        const CtlRun check = ctl({QStringLiteral("status"), QStringLiteral("--check")});
        QVERIFY2(check.exitCode == 2, check.output.constData());
        QVERIFY2(check.output.contains("1 UID conflict (example.org/bob/Maildir/.Sent: UID 1 is"), check.output.constData());
        for (int i = 0; i < 2; ++i)
            QVERIFY(QFile::remove(m_sandbox->node(i).mailRoot + sent));
    }

private:
    CtlRun ctl(const QStringList &arguments) { return runMailmeshctl(m_home.path(), m_clusterFile, arguments); }

    // "id: state detail" per step and the error: what a failed workflow says, in one line each.
    static QString stepsOf(const CtlRun &run)
    {
        QStringList lines;
        for (const QJsonValue &value : run.report.value(QStringLiteral("steps")).toArray()) {
            const QJsonObject step = value.toObject();
            lines << QStringLiteral("%1: %2 %3").arg(step.value(QStringLiteral("id")).toString(),
                                                   step.value(QStringLiteral("state")).toString(),
                                                   step.value(QStringLiteral("detail")).toString());
        }
        lines << run.report.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString();
        return lines.join(u'\n');
    }

    QStringList addNodeArguments(int index, const QString &acceptedKey) const
    {
        QStringList arguments = sandboxAddNodeArguments(m_sandbox->node(index));
        if (!acceptedKey.isEmpty())
            arguments << QStringLiteral("--accept-host-key") << acceptedKey;
        return arguments;
    }

    QString clusterFileText() const
    {
        QFile file(m_clusterFile);
        return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
    }

    QTemporaryDir m_home;
    std::unique_ptr<sandbox::Sandbox> m_sandbox;
    QString m_clusterFile;
    QMap<QString, int> m_seeded;
};

QTEST_GUILESS_MAIN(TestCtlMigration)
#include "tst_ctlmigration.moc"
