// What deploy-dovecot --packages decides from what a Debian node says: Debian version order,
// `apt-cache policy` (recorded on Debian 12 nodes), dpkg-query's list, the install plan, the
// apt command lines that install and roll back, and the .deb control head sent to dpkg-deb.

#include "cluster/dovecot/aptpolicy.h"
#include "cluster/dovecot/debianversion.h"
#include "cluster/dovecot/dovecotpackages.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace mm;
using namespace mm::cluster;
using namespace Qt::StringLiterals;

namespace {

// This machine, stock Debian 12 dovecot from bookworm-security, 2026-11-28.
const QByteArray kStockPolicy = "dovecot-core:\n"
                                "  Installed: 1:2.3.19.1+dfsg1-2.1+deb12u7\n"
                                "  Candidate: 1:2.3.19.1+dfsg1-2.1+deb12u7\n"
                                "  Version table:\n"
                                " *** 1:2.3.19.1+dfsg1-2.1+deb12u7 500\n"
                                "        500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages\n"
                                "        100 /var/lib/dpkg/status\n"
                                "     1:2.3.19.1+dfsg1-2.1+deb12u6 500\n"
                                "        500 http://deb.debian.org/debian bookworm/main amd64 Packages\n";

// A node holding the cur/-only build made from deb12u6 while bookworm-security has deb12u7
// (recorded in tst_ctldeploydovecotpackages' chroot node after the deployment).
const QByteArray kHeldPolicy = "dovecot-core:\n"
                               "  Installed: 1:2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1\n"
                               "  Candidate: 1:2.3.19.1+dfsg1-2.1+deb12u7\n"
                               "  Version table:\n"
                               "     1:2.3.19.1+dfsg1-2.1+deb12u7 500\n"
                               "        500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages\n"
                               " *** 1:2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1 100\n"
                               "        100 /var/lib/dpkg/status\n"
                               "     1:2.3.19.1+dfsg1-2.1+deb12u6 500\n"
                               "        500 http://deb.debian.org/debian bookworm/main amd64 Packages\n";

// The build made from the newest version: apt's candidate is the installed build itself
// (written after the recorded one above, as apt orders the table: newest first).
const QByteArray kCurrentPolicy = "dovecot-core:\n"
                                  "  Installed: 1:2.3.19.1+dfsg1-2.1+deb12u7+mailmesh1\n"
                                  "  Candidate: 1:2.3.19.1+dfsg1-2.1+deb12u7+mailmesh1\n"
                                  "  Version table:\n"
                                  " *** 1:2.3.19.1+dfsg1-2.1+deb12u7+mailmesh1 100\n"
                                  "        100 /var/lib/dpkg/status\n"
                                  "     1:2.3.19.1+dfsg1-2.1+deb12u7 500\n"
                                  "        500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages\n"
                                  "     1:2.3.19.1+dfsg1-2.1+deb12u6 500\n"
                                  "        500 http://deb.debian.org/debian bookworm/main amd64 Packages\n";

const QByteArray kNotInstalledPolicy = "dovecot-core:\n"
                                       "  Installed: (none)\n"
                                       "  Candidate: 1:2.3.19.1+dfsg1-2.1+deb12u7\n"
                                       "  Version table:\n"
                                       "     1:2.3.19.1+dfsg1-2.1+deb12u7 500\n"
                                       "        500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages\n";

DebianVersion version(const QString &text)
{
    const auto parsed = DebianVersion::parse(text);
    if (!parsed)
        qFatal("unparsable test version %s", qPrintable(text));
    return *parsed;
}

} // namespace

class TestDebianPackages : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void versionsOrderAsDpkg_data()
    {
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("b");
        QTest::addColumn<int>("expected");
        // Each row checked against `dpkg --compare-versions` on Debian 12.
        QTest::newRow("equal") << u"1.0-1"_s << u"1.0-1"_s << 0;
        QTest::newRow("security revision") << u"1:2.3.19.1+dfsg1-2.1+deb12u6"_s << u"1:2.3.19.1+dfsg1-2.1+deb12u7"_s << -1;
        QTest::newRow("mailmesh build over its base") << u"1:2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1"_s
                                                      << u"1:2.3.19.1+dfsg1-2.1+deb12u6"_s << 1;
        QTest::newRow("mailmesh build under the next fix") << u"1:2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1"_s
                                                           << u"1:2.3.19.1+dfsg1-2.1+deb12u7"_s << -1;
        QTest::newRow("epoch wins") << u"1:1.0"_s << u"2.0"_s << 1;
        QTest::newRow("no epoch is 0") << u"0:1.0-1"_s << u"1.0-1"_s << 0;
        QTest::newRow("tilde before end") << u"1.0~rc1"_s << u"1.0"_s << -1;
        QTest::newRow("tilde before tilde") << u"1.0~~"_s << u"1.0~"_s << -1;
        QTest::newRow("numbers not text") << u"2.3.9"_s << u"2.3.19"_s << -1;
        QTest::newRow("leading zeros") << u"1.002"_s << u"1.2"_s << 0;
        QTest::newRow("letters before signs") << u"1.0a"_s << u"1.0+"_s << -1;
        QTest::newRow("end before letters") << u"1.0"_s << u"1.0a"_s << -1;
        QTest::newRow("upstream with hyphen") << u"1.0-2-3"_s << u"1.0-2-4"_s << -1;
        QTest::newRow("2.4 over 2.3") << u"1:2.4.1+dfsg1-6+deb13u7"_s << u"1:2.3.19.1+dfsg1-2.1+deb12u7"_s << 1;
    }
    void versionsOrderAsDpkg()
    {
        QFETCH(QString, a);
        QFETCH(QString, b);
        QFETCH(int, expected);
        QCOMPARE(DebianVersion::compare(version(a), version(b)), expected);
        QCOMPARE(DebianVersion::compare(version(b), version(a)), -expected);
    }

    void versionParts_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<int>("epoch");
        QTest::addColumn<QString>("upstream");
        QTest::addColumn<QString>("revision");
        QTest::addColumn<QString>("base");
        QTest::newRow("mailmesh") << u"1:2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1"_s << true << 1 << u"2.3.19.1+dfsg1"_s
                                  << u"2.1+deb12u6+mailmesh1"_s << u"1:2.3.19.1+dfsg1-2.1+deb12u6"_s;
        QTest::newRow("stock") << u"1:2.3.19.1+dfsg1-2.1+deb12u7"_s << true << 1 << u"2.3.19.1+dfsg1"_s << u"2.1+deb12u7"_s
                               << u"1:2.3.19.1+dfsg1-2.1+deb12u7"_s;
        QTest::newRow("native") << u"2.3+mailmesh2"_s << true << 0 << u"2.3+mailmesh2"_s << QString() << u"2.3"_s;
        QTest::newRow("empty") << QString() << false << 0 << QString() << QString() << QString();
        QTest::newRow("letter first") << u"v1.0"_s << false << 0 << QString() << QString() << QString();
        QTest::newRow("space") << u"1.0 beta"_s << false << 0 << QString() << QString() << QString();
        QTest::newRow("colon without epoch") << u"1.0:2"_s << false << 0 << QString() << QString() << QString();
    }
    void versionParts()
    {
        QFETCH(QString, text);
        QFETCH(bool, ok);
        const auto parsed = DebianVersion::parse(text);
        QCOMPARE(bool(parsed), ok);
        if (!ok)
            return;
        QFETCH(int, epoch);
        QFETCH(QString, upstream);
        QFETCH(QString, revision);
        QFETCH(QString, base);
        QCOMPARE(parsed->epoch(), epoch);
        QCOMPARE(parsed->upstream(), upstream);
        QCOMPARE(parsed->revision(), revision);
        QCOMPARE(parsed->toString(), text);
        QCOMPARE(parsed->withoutMailmeshSuffix().toString(), base);
        QCOMPARE(parsed->isMailmeshBuild(), text.contains(u"+mailmesh"_s));
    }

    void aptPolicyParses()
    {
        const auto stock = AptPolicy::parse(kStockPolicy);
        QVERIFY(stock);
        QCOMPARE(stock->package, u"dovecot-core"_s);
        QCOMPARE(stock->installed, u"1:2.3.19.1+dfsg1-2.1+deb12u7"_s);
        QCOMPARE(stock->candidate, u"1:2.3.19.1+dfsg1-2.1+deb12u7"_s);
        QCOMPARE(stock->versions.size(), 2);
        QVERIFY(stock->versions[0].installed);
        QCOMPARE(stock->versions[0].sources.size(), 2);
        QCOMPARE(stock->versions[0].sources[1], u"/var/lib/dpkg/status"_s);
        QVERIFY(!stock->versions[1].installed);

        const auto held = AptPolicy::parse(kHeldPolicy);
        QVERIFY(held);
        QCOMPARE(held->versions.size(), 3);
        QVERIFY(held->versions[1].installed);
        QVERIFY(!held->versions[1].fromRepository()); // only known to dpkg: our upload
        QCOMPARE(held->newestOffered()->toString(), u"1:2.3.19.1+dfsg1-2.1+deb12u7"_s);

        const auto none = AptPolicy::parse(kNotInstalledPolicy);
        QVERIFY(none);
        QVERIFY(none->installed.isEmpty());

        QVERIFY(!AptPolicy::parse("N: Unable to locate package dovecot-core\n"));
        QVERIFY(!AptPolicy::parse(""));
    }

    void newerDistributionVersionIsFound_data()
    {
        QTest::addColumn<QByteArray>("policy");
        QTest::addColumn<QString>("held");
        QTest::addColumn<QString>("expected"); // empty: none waiting
        QTest::newRow("deb12u7 over a deb12u6 build") << kHeldPolicy << u"1:2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1"_s
                                                      << u"1:2.3.19.1+dfsg1-2.1+deb12u7"_s;
        QTest::newRow("build of the newest") << kCurrentPolicy << u"1:2.3.19.1+dfsg1-2.1+deb12u7+mailmesh1"_s << QString();
        QTest::newRow("packages to deploy, stock node") << kStockPolicy << u"1:2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1"_s
                                                        << u"1:2.3.19.1+dfsg1-2.1+deb12u7"_s;
        QTest::newRow("build newer than offered") << kStockPolicy << u"1:2.3.19.1+dfsg1-2.1+deb12u8+mailmesh1"_s << QString();
    }
    void newerDistributionVersionIsFound()
    {
        QFETCH(QByteArray, policy);
        QFETCH(QString, held);
        QFETCH(QString, expected);
        const auto parsed = AptPolicy::parse(policy);
        QVERIFY(parsed);
        const auto newer = newerDistributionVersion(*parsed, version(held));
        QCOMPARE(newer ? newer->toString() : QString(), expected);
    }

    void installedPackagesParse()
    {
        const auto packages = dovecotpackages::NodePackages::parse(
            "dovecot-core\t1:2.3.19.1+dfsg1-2.1+deb12u7\tii \n"
            "dovecot-imapd\t1:2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1\thi \n"
            "dovecot-pop3d\t1:2.3.19.1+dfsg1-2.1+deb12u7\trc \n"
            "dovecot-lmtpd\t\tun \n");
        QCOMPARE(packages.installed.size(), 2);
        QCOMPARE(packages.installed.value(u"dovecot-core"_s), u"1:2.3.19.1+dfsg1-2.1+deb12u7"_s);
        QCOMPARE(packages.held, QSet<QString>{u"dovecot-imapd"_s});
        QVERIFY(dovecotpackages::NodePackages::parse("").installed.isEmpty());
    }

    void planInstall()
    {
        const QStringList files{u"dovecot-core_2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1_amd64.deb"_s,
                                u"dovecot-imapd_2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1_amd64.deb"_s,
                                u"dovecot-lmtpd_2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1_amd64.deb"_s,
                                u"dovecot-pop3d_2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1_amd64.deb"_s};
        const DebianVersion build = version(u"1:2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1"_s);

        // A stock node with core and lmtpd: core, imapd and lmtpd, not pop3d; a downgrade.
        dovecotpackages::NodePackages stock;
        stock.installed = {{u"dovecot-core"_s, u"1:2.3.19.1+dfsg1-2.1+deb12u7"_s},
                           {u"dovecot-lmtpd"_s, u"1:2.3.19.1+dfsg1-2.1+deb12u7"_s}};
        auto plan = dovecotpackages::planInstall(files, build, stock);
        QVERIFY(plan);
        QCOMPARE(plan->packages, (QStringList{u"dovecot-core"_s, u"dovecot-imapd"_s, u"dovecot-lmtpd"_s}));
        QCOMPARE(plan->files.size(), 3);
        QVERIFY(!plan->unchanged);
        QVERIFY(plan->downgrade);
        QCOMPARE(plan->downgradeFrom, u"1:2.3.19.1+dfsg1-2.1+deb12u7"_s);
        const QString refusal = dovecotpackages::downgradeRefusal(*plan);
        QVERIFY2(refusal.contains(u"gives up the fixes"_s) && refusal.contains(u"--allow-downgrade"_s), qPrintable(refusal));
        QVERIFY2(!refusal.contains(u"index files"_s), qPrintable(refusal)); // same upstream release

        const QStringList install = dovecotpackages::installCommand(u"/tmp/mailmesh-debs.x"_s, *plan, stock);
        QCOMPARE(install.mid(0, 8), (QStringList{u"env"_s, u"DEBIAN_FRONTEND=noninteractive"_s, u"apt-get"_s, u"install"_s,
                                                 u"-y"_s, u"-q"_s, u"-o"_s, u"Dpkg::Options::=--force-confold"_s}));
        QVERIFY(install.contains(u"--allow-downgrades"_s));
        QVERIFY(!install.contains(u"--allow-change-held-packages"_s));
        QVERIFY(install.contains(u"/tmp/mailmesh-debs.x/dovecot-core_2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1_amd64.deb"_s));

        // Rolling back: the older versions again, imapd removed (it was not there), no holds.
        const QStringList restore = dovecotpackages::restoreCommand(stock, *plan);
        QVERIFY(restore.contains(u"--allow-downgrades"_s));
        QCOMPARE(restore.mid(restore.size() - 3),
                 (QStringList{u"dovecot-core=1:2.3.19.1+dfsg1-2.1+deb12u7"_s, u"dovecot-imapd-"_s,
                              u"dovecot-lmtpd=1:2.3.19.1+dfsg1-2.1+deb12u7"_s}));
        QCOMPARE(dovecotpackages::restoreHoldCommands(stock, *plan),
                 (QList<QStringList>{{u"apt-mark"_s, u"unhold"_s, u"dovecot-core"_s, u"dovecot-imapd"_s, u"dovecot-lmtpd"_s}}));
        const QString advice = dovecotpackages::manualRestoreAdvice(stock, *plan);
        QVERIFY2(advice.contains(u"apt-get install"_s) && advice.contains(u"dovecot-core=1:2.3.19.1+dfsg1-2.1+deb12u7"_s)
                     && advice.contains(u"snapshot.debian.org"_s),
                 qPrintable(advice));

        // The same build, held: nothing to do.
        dovecotpackages::NodePackages deployed;
        deployed.installed = {{u"dovecot-core"_s, build.toString()}, {u"dovecot-imapd"_s, build.toString()}};
        deployed.held = {u"dovecot-core"_s, u"dovecot-imapd"_s};
        plan = dovecotpackages::planInstall(files, build, deployed);
        QVERIFY(plan);
        QVERIFY(plan->unchanged);
        QVERIFY(!plan->downgrade);
        // Not held any more (someone ran apt-mark unhold): installed again, and held.
        deployed.held.remove(u"dovecot-imapd"_s);
        QVERIFY(!dovecotpackages::planInstall(files, build, deployed)->unchanged);
        QCOMPARE(dovecotpackages::installCommand(u"/d"_s, *plan, deployed).contains(u"--allow-change-held-packages"_s), true);

        // A node without Dovecot: core and imapd, removed again on rollback.
        plan = dovecotpackages::planInstall(files, build, {});
        QVERIFY(plan);
        QCOMPARE(plan->packages, (QStringList{u"dovecot-core"_s, u"dovecot-imapd"_s}));
        QCOMPARE(dovecotpackages::restoreCommand({}, *plan).mid(8),
                 (QStringList{u"--allow-downgrades"_s, u"--allow-change-held-packages"_s, u"dovecot-core-"_s, u"dovecot-imapd-"_s}));

        // A node with a dovecot package the directory lacks: refused before anything changes.
        dovecotpackages::NodePackages sieve = stock;
        sieve.installed.insert(u"dovecot-sieve"_s, u"1:2.3.19.1+dfsg1-2.1+deb12u7"_s);
        const auto refused = dovecotpackages::planInstall(files, build, sieve);
        QVERIFY(!refused);
        QVERIFY(QString::fromStdString(refused.error().message).contains(u"dovecot-sieve"_s));
    }

    void controlHeadStopsAfterTheControlMember()
    {
        QTemporaryDir dir;
        const auto member = [](const QByteArray &name, const QByteArray &data) {
            QByteArray header = name.leftJustified(16, ' ') + QByteArray("0").leftJustified(12, ' ')
                                + QByteArray("0").leftJustified(6, ' ') + QByteArray("0").leftJustified(6, ' ')
                                + QByteArray("100644").leftJustified(8, ' ')
                                + QByteArray::number(data.size()).leftJustified(10, ' ') + "`\n";
            return header + data + (data.size() % 2 ? QByteArray("\n") : QByteArray());
        };
        const QByteArray head = "!<arch>\n" + member("debian-binary", "2.0\n") + member("control.tar.xz", "abc");
        QFile deb(dir.filePath(u"dovecot-core_1_amd64.deb"_s));
        QVERIFY(deb.open(QIODevice::WriteOnly));
        deb.write(head + member("data.tar.xz", QByteArray(5000, 'x')));
        deb.close();
        const auto read = dovecotpackages::controlHead(deb.fileName());
        QVERIFY(read);
        QCOMPARE(*read, head);

        QFile notADeb(dir.filePath(u"empty.deb"_s));
        QVERIFY(notADeb.open(QIODevice::WriteOnly));
        notADeb.close();
        QVERIFY(!dovecotpackages::controlHead(notADeb.fileName()));
    }
};

QTEST_GUILESS_MAIN(TestDebianPackages)
#include "tst_debianpackages.moc"
