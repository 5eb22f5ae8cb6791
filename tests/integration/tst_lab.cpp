// core/lab on this machine: Debian 12 nodes (13 in tst_lab13, label slow) that boot with systemd
// under systemd-nspawn, each in its own network namespace on the lab's bridge, looking like
// production mail servers (Postfix delivering through Dovecot's LMTP into /var/vmail, IMAPS with
// the lab CA's certificate, Syncthing installed but not running), reached from the admin namespace
// by key — as root, or as the sudo user where root may not log in — and gone without a trace after
// teardown.
//
// Needs root, overlayfs and a cgroup hierarchy for systemd; exits 77 (ctest: skipped) without.
// The first run builds the cached root file system (a few minutes, needs a Debian mirror).

#include "labmail.h"

#include "lab/lab.h"
#include "lab/labhost.h"
#include "lab/labresidue.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTest>

#include <cstdio>

using namespace Qt::StringLiterals;
using mm::lab::Lab;

namespace {

QByteArray output(const mm::Result<mm::lab::ProgramOutput> &ran)
{
    return ran ? ran->standardOutput.trimmed()
               : QByteArray("(failed: " + QByteArray::fromStdString(ran.error().message) + ")");
}

} // namespace

class TestLab : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        mm::lab::LabOptions options;
        options.nodeCount = 2;
        options.debianRelease = QStringLiteral(MAILMESH_LAB_DEBIAN);
        options.login = mm::lab::LoginVariant::Mixed; // node1 root, node2 sudo
        m_lab = std::make_unique<Lab>(options);
        const mm::Status started = m_lab->start();
        QVERIFY2(started, started ? "" : started.error().describe().c_str());
        qInfo("2 nodes up in %lld ms (root file system built in %lld ms, 0 = cached); boots %lld "
              "and %lld ms",
              m_lab->startupMs(), m_lab->imageBuildMs(), m_lab->node(0).bootMs,
              m_lab->node(1).bootMs);
        m_tag = m_lab->tag();
        m_dir = m_lab->dir();
        QVERIFY(m_lab->enterAdminNetwork());
    }

    void cleanupTestCase()
    {
        if (!m_lab)
            return;
        m_lab->tearDown();
        for (const mm::lab::LabResidue &residue : mm::lab::LabResidue::onThisMachine())
            QVERIFY2(residue.tag != m_tag || residue.isEmpty(), qPrintable(residue.describe()));
        QVERIFY2(!QFileInfo::exists(m_dir), qPrintable(m_dir));
    }

    void eachNodeBootsDebianWithSystemd()
    {
        for (int i = 0; i < m_lab->nodeCount(); ++i) {
            QCOMPARE(output(m_lab->runInNode(i, {u"systemctl"_s, u"is-system-running"_s})),
                     QByteArray("running"));
            QCOMPARE(output(m_lab->runInNode(i, {u"readlink"_s, u"/proc/1/exe"_s})),
                     QByteArray("/usr/lib/systemd/systemd"));
            QVERIFY(output(m_lab->runInNode(i, {u"cat"_s, u"/etc/os-release"_s}))
                        .contains("VERSION_ID=\"" MAILMESH_LAB_DEBIAN "\""));
            QCOMPARE(output(m_lab->runInNode(i, {u"hostname"_s, u"-f"_s})),
                     m_lab->node(i).hostName.toUtf8());
        }
    }

    void everyNodeHasItsOwnHostKeysAndTheAdminLogsInByKey()
    {
        QVERIFY(m_lab->node(0).sshHostKeyFingerprint != m_lab->node(1).sshHostKeyFingerprint);
        QCOMPARE(ssh(0, u"id -u"_s), QByteArray("0"));
        QCOMPARE(m_lab->node(1).sshUser, u"admin"_s);
        QCOMPARE(ssh(1, u"id -un; sudo -n id -u"_s), QByteArray("admin\n0"));
        // Root may not log in on the sudo node, even with the right key.
        QProcess refused;
        refused.start(u"ssh"_s, {u"-F"_s, m_lab->sshConfigFile(), u"-o"_s, u"User=root"_s, u"-o"_s,
                                 u"BatchMode=yes"_s, u"node2"_s, u"true"_s});
        QVERIFY(refused.waitForFinished(30'000));
        QCOMPARE(refused.exitCode(), 255);
        QVERIFY2(refused.readAllStandardError().contains("Permission denied"),
                 "root was not refused");
    }

    void theNetworkIsPrivate()
    {
        for (int i = 0; i < m_lab->nodeCount(); ++i)
            QVERIFY(!output(m_lab->runInNode(i, {u"ip"_s, u"route"_s})).contains("default"));
        QFile routes(u"/proc/self/net/route"_s); // the admin side's, since initTestCase
        QVERIFY(routes.open(QIODevice::ReadOnly));
        for (const QByteArray &line : routes.readAll().split('\n').mid(1))
            QVERIFY2(line.split('\t').value(1) != "00000000", "the admin side has a default route");
        // Node to node.
        QCOMPARE(output(m_lab->runInNode(
                     0, {u"bash"_s, u"-c"_s,
                         u"exec 3<>/dev/tcp/%1/22 && echo open"_s.arg(m_lab->node(1).address)})),
                 QByteArray("open"));
    }

    void theNodesLookLikeProduction()
    {
        for (int i = 0; i < m_lab->nodeCount(); ++i) {
            QCOMPARE(output(m_lab->runInNode(i, {u"systemctl"_s, u"is-active"_s, u"postfix"_s,
                                                 u"dovecot"_s, u"ssh"_s})),
                     QByteArray("active\nactive\nactive"));
            // Installed, not running, not enabled: `prepare` starts it as the mail user.
            QCOMPARE(output(m_lab->runInNode(i, {u"test"_s, u"-x"_s, u"/usr/bin/syncthing"_s})),
                     QByteArray());
            QCOMPARE(
                output(m_lab->runInNode(i, {u"systemctl"_s, u"is-active"_s, u"syncthing@vmail"_s})),
                QByteArray("inactive"));
            QCOMPARE(output(m_lab->runInNode(i, {u"stat"_s, u"-c"_s, u"%U %G"_s, u"/var/vmail"_s})),
                     QByteArray("vmail vmail"));
            QVERIFY(QFileInfo(m_lab->node(i).rootDir + u"/etc/dovecot/dovecot.conf"_s).isFile());
        }
    }

    void mailSentOverSmtpIsReadOverImaps()
    {
        const QString sent =
            mm::test::sendSmtp(m_lab->node(0).address, "admin@lab.test", {"alice@lab.test"},
                               mm::test::labMessage("lab-smtp-1"));
        QVERIFY2(sent.isEmpty(), qPrintable(sent));
        mm::test::ImapsClient imap;
        const mm::lab::Lab::Account alice = m_lab->accounts().first();
        const QString login =
            imap.login(m_lab->node(0).address, m_lab->node(0).hostName, m_lab->caFile(),
                       alice.login.toUtf8(), alice.password.toUtf8());
        QVERIFY2(login.isEmpty(), qPrintable(login));
        QTRY_VERIFY_WITH_TIMEOUT(imap.messageIds().contains(u"lab-smtp-1@lab.test"_s), 15'000);
        // Written by Dovecot as the mail user, under the virtual user's Maildir.
        QCOMPARE(
            output(m_lab->runInNode(
                0, {u"sh"_s, u"-c"_s, u"stat -c %U /var/vmail/lab.test/alice/Maildir/new/*"_s})),
            QByteArray("vmail"));
        // The certificate is the lab's: a client that trusts another CA refuses it.
        mm::test::ImapsClient untrusting;
        QVERIFY(!untrusting
                     .login(m_lab->node(0).address, m_lab->node(0).hostName,
                            u"/etc/ssl/certs/ca-certificates.crt"_s, alice.login.toUtf8(),
                            alice.password.toUtf8())
                     .isEmpty());
    }

    void aFreshNodeJoinsTheNetwork()
    {
        const mm::Result<int> added = m_lab->addNode();
        QVERIFY2(added, added ? "" : added.error().describe().c_str());
        QCOMPARE(*added, 2);
        QCOMPARE(m_lab->node(2).address, u"10.42.21.13"_s);
        QCOMPARE(ssh(2, u"hostname"_s), QByteArray("node3.lab.test"));
        QVERIFY(m_lab->node(2).sshHostKeyFingerprint != m_lab->node(0).sshHostKeyFingerprint);
    }

private:
    QByteArray ssh(int index, const QString &command)
    {
        QProcess process;
        process.start(u"ssh"_s, {u"-F"_s, m_lab->sshConfigFile(), u"-o"_s, u"BatchMode=yes"_s,
                                 m_lab->node(index).id, command});
        if (!process.waitForFinished(30'000))
            return "(timeout)";
        return process.readAllStandardOutput().trimmed() +
               (process.exitCode() == 0 ? QByteArray()
                                        : " (" + process.readAllStandardError().trimmed() + ")");
    }

    std::unique_ptr<Lab> m_lab;
    QString m_tag;
    QString m_dir;
};

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (const QString why = mm::lab::labhost::whyLabCannotRun(); !why.isEmpty()) {
        std::fprintf(stderr, "SKIP: %s\n", qPrintable(why));
        return 77; // ctest's SKIP_RETURN_CODE for the lab tests
    }
    TestLab test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_lab.moc"
