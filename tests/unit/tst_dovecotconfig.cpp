// What deploy-dovecot decides before it touches a node: the snippet rendered for each Dovecot
// line, version comparison (downgrades), and which .deb files fit a node's distribution.

#include "cluster/dovecot/dovecotcontrol.h"
#include "cluster/dovecot/dovecotpackages.h"
#include "cluster/dovecot/dovecotsnippet.h"
#include "cluster/dovecot/dovecotversion.h"

#include <QTemporaryDir>
#include <QTest>

using namespace mm;
using namespace mm::cluster;
using namespace Qt::StringLiterals;

class TestDovecotConfig : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void renderReplacesPlaceholders_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("plain") << QByteArray("a = b\n") << true << QByteArray("a = b\n");
        QTest::newRow("one") << QByteArray("x = {{name}}\n") << true << QByteArray("x = value\n");
        QTest::newRow("spaces") << QByteArray("x = {{ name }}{{name}}") << true << QByteArray("x = valuevalue");
        QTest::newRow("unknown") << QByteArray("x = {{nmae}}\n") << false << QByteArray();
        QTest::newRow("unclosed") << QByteArray("x = {{name\n") << false << QByteArray();
        QTest::newRow("empty name") << QByteArray("x = {{}}\n") << false << QByteArray();
    }
    void renderReplacesPlaceholders()
    {
        QFETCH(QByteArray, text);
        QFETCH(bool, ok);
        QFETCH(QByteArray, expected);
        const auto rendered = dovecotsnippet::render(text, {{QStringLiteral("name"), QStringLiteral("value")}});
        QCOMPARE(bool(rendered), ok);
        if (ok)
            QCOMPARE(*rendered, expected);
        else
            QVERIFY(!rendered.error().message.empty());
    }

    void curOnlySettingIsReadWhereTheLineKeepsIt_data()
    {
        QTest::addColumn<QString>("version");
        QTest::addColumn<QString>("name");
        QTest::newRow("2.3") << u"2.3.19.1+mailmesh3 (9b53102964)"_s << u"maildir_cur_only"_s;
        QTest::newRow("2.4") << u"2.4.1-4+mailmesh3 (7d8c0e5759)"_s << u"maildir/maildir_cur_only"_s;
        QTest::newRow("not probed yet") << QString() << u"maildir_cur_only"_s;
    }
    void curOnlySettingIsReadWhereTheLineKeepsIt()
    {
        QFETCH(QString, version);
        QFETCH(QString, name);
        mm::cluster::DovecotFacts facts;
        facts.version = version;
        facts.configFile = u"/etc/dovecot/dovecot.conf"_s;
        QCOMPARE(mm::cluster::dovecotcontrol::readCurOnlySetting(facts),
                 (QStringList{u"doveconf"_s, u"-c"_s, u"/etc/dovecot/dovecot.conf"_s, u"-h"_s, name}));
    }

    void mailLocationParses_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<QString>("driver");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("index");
        QTest::newRow("home") << u"maildir:~/Maildir"_s << true << u"maildir"_s << u"~/Maildir"_s << QString();
        QTest::newRow("index") << u"maildir:/var/vmail/%d/%n/Maildir:INDEX=/var/idx/%u"_s << true << u"maildir"_s
                               << u"/var/vmail/%d/%n/Maildir"_s << u"/var/idx/%u"_s;
        QTest::newRow("layout+index") << u"maildir:~/Mail:LAYOUT=fs:INDEX=MEMORY"_s << true << u"maildir"_s << u"~/Mail"_s
                                      << u"MEMORY"_s;
        QTest::newRow("escaped colon") << u"maildir:~/a::b:INDEX=/i"_s << true << u"maildir"_s << u"~/a::b"_s << u"/i"_s;
        QTest::newRow("empty") << u""_s << false << QString() << QString() << QString();
        QTest::newRow("no path") << u"maildir:"_s << false << QString() << QString() << QString();
    }
    void mailLocationParses()
    {
        QFETCH(QString, text);
        QFETCH(bool, ok);
        const auto location = dovecotsnippet::MailLocation::parse(text);
        QCOMPARE(location.has_value(), ok);
        if (!ok)
            return;
        QFETCH(QString, driver);
        QFETCH(QString, path);
        QFETCH(QString, index);
        QCOMPARE(location->driver, driver);
        QCOMPARE(location->path, path);
        QCOMPARE(location->options.value(QStringLiteral("INDEX")), index);
        QCOMPARE(location->hasSeparateIndexes(), !index.isEmpty());
    }

    void snippetForEachLine_data()
    {
        QTest::addColumn<QString>("line");
        QTest::addColumn<QString>("location");
        QTest::addColumn<QStringList>("wanted");
        QTest::addColumn<QStringList>("unwanted");
        QTest::newRow("2.3 home") << u"2.3"_s << u"maildir:~/Maildir"_s
                                  << QStringList{u"\nmail_location = maildir:~/Maildir\n"_s, u"\nmaildir_very_dirty_syncs = no\n"_s,
                                                 u"indexes stay in the Maildir"_s}
                                  << QStringList{u"mail_driver"_s, u"\nmaildir_cur_only"_s, u"{{"_s};
        QTest::newRow("2.3 index kept") << u"2.3"_s << u"maildir:/srv/%u:INDEX=/var/idx/%u"_s
                                        << QStringList{u"\nmail_location = maildir:/srv/%u:INDEX=/var/idx/%u\n"_s,
                                                       u"indexes under /var/idx/%u"_s}
                                        << QStringList{u"mail_path"_s};
        QTest::newRow("2.4 home") << u"2.4"_s << u"maildir:~/Maildir"_s
                                  << QStringList{u"\nmail_driver = maildir\n"_s, u"\nmail_path = ~/Maildir\n"_s,
                                                 u"\nmaildir_very_dirty_syncs = no\n"_s}
                                  << QStringList{u"mail_location"_s, u"mail_index_path"_s, u"{{"_s};
        QTest::newRow("2.4 index+layout") << u"2.4"_s << u"maildir:~/Mail:LAYOUT=fs:INDEX=/var/idx/%u"_s
                                          << QStringList{u"\nmail_path = ~/Mail\n"_s, u"\nmail_index_path = /var/idx/%u\n"_s,
                                                         u"\nmailbox_list_layout = fs\n"_s}
                                          << QStringList{u"mail_location"_s, u"INDEX="_s};
    }
    void snippetForEachLine()
    {
        QFETCH(QString, line);
        QFETCH(QString, location);
        QFETCH(QStringList, wanted);
        QFETCH(QStringList, unwanted);
        const auto snippet = dovecotsnippet::renderFor(line, location);
        QVERIFY2(snippet, snippet ? "" : snippet.error().message.c_str());
        const QString text = QString::fromUtf8(*snippet);
        for (const QString &part : wanted)
            QVERIFY2(text.contains(part), qPrintable(part + QStringLiteral(" missing in:\n") + text));
        for (const QString &part : unwanted)
            QVERIFY2(!text.contains(part), qPrintable(part + QStringLiteral(" found in:\n") + text));
        // Rendering is deterministic: a second deploy compares equal and changes nothing.
        QCOMPARE(*dovecotsnippet::renderFor(line, location), *snippet);
    }

    // A Debian 13 node's own 2.4 settings (doveconf NAME... prints "name = value"; unset ones
    // empty) make the location its snippet keeps, with a ':' in a path kept as it is.
    void mailLocationFromA24Configuration()
    {
        QCOMPARE(dovecotsnippet::settingNames24().first(), u"mail_driver"_s);
        QVERIFY(dovecotsnippet::settingNames24().contains(u"mail_index_path"_s));
        const QMap<QString, QString> settings{
            {u"mail_driver"_s, u"maildir"_s},
            {u"mail_path"_s, u"/var/vmail/%{user|domain}/%{user|username}/Maildir"_s},
            {u"mail_index_path"_s, u"/var/idx/a:b"_s},
            {u"mail_control_path"_s, QString()},
            {u"mailbox_list_layout"_s, u"fs"_s}};
        const QString location = dovecotsnippet::mailLocationFrom24(settings);
        // The layout doveconf prints is its global default, not the driver's: never carried over.
        QVERIFY(!dovecotsnippet::settingNames24().contains(u"mailbox_list_layout"_s));
        QCOMPARE(location, u"maildir:/var/vmail/%{user|domain}/%{user|username}/Maildir:INDEX=/var/idx/a::b"_s);
        const auto snippet = dovecotsnippet::renderFor(u"2.4"_s, location);
        QVERIFY2(snippet, snippet ? "" : snippet.error().message.c_str());
        QVERIFY(snippet->contains("\nmail_path = /var/vmail/%{user|domain}/%{user|username}/Maildir\n"));
        QVERIFY(snippet->contains("\nmail_index_path = /var/idx/a:b\n"));
        QVERIFY(!snippet->contains("mailbox_list_layout"));
        QVERIFY(!snippet->contains("mail_control_path"));
        // No mail_driver: no location (deploy-dovecot then says mail_location is not DRIVER:PATH).
        QCOMPARE(dovecotsnippet::mailLocationFrom24({{u"mail_path"_s, u"~/Maildir"_s}}), QString());
    }

    void snippetKeepsTheNodesRuntimeDirs()
    {
        // A prefix build deployed over Debian's packages keeps /run/dovecot and /var/lib/dovecot
        // (found on the lab: it used <prefix>/var/run, read-only there, and unknown to Postfix).
        for (const QString &line : {u"2.3"_s, u"2.4"_s}) {
            const auto snippet = dovecotsnippet::renderFor(
                line, u"maildir:~/Maildir"_s, {{u"base_dir"_s, u"/run/dovecot"_s}, {u"state_dir"_s, u"/var/lib/dovecot"_s}});
            QVERIFY2(snippet, snippet ? "" : snippet.error().message.c_str());
            QVERIFY(snippet->contains("\nbase_dir = /run/dovecot\nstate_dir = /var/lib/dovecot\n"));
            QVERIFY(snippet->endsWith('\n'));
            // Unknown: nothing pinned, the file ends as before.
            const auto bare = dovecotsnippet::renderFor(line, u"maildir:~/Maildir"_s);
            QVERIFY(!bare->contains("base_dir"));
            QVERIFY(bare->endsWith("99-mailmesh-cur-only.conf.\n"));
        }
    }

    void snippetRefuses_data()
    {
        QTest::addColumn<QString>("line");
        QTest::addColumn<QString>("location");
        QTest::addColumn<int>("code");
        QTest::newRow("mbox") << u"2.3"_s << u"mbox:~/mail:INBOX=/var/mail/%u"_s << int(ErrorCode::Unsupported);
        QTest::newRow("empty") << u"2.3"_s << u""_s << int(ErrorCode::Unsupported);
        QTest::newRow("2.2") << u"2.2"_s << u"maildir:~/Maildir"_s << int(ErrorCode::Unsupported);
        QTest::newRow("2.4 unknown option") << u"2.4"_s << u"maildir:~/M:FULLDIRNAME=x"_s << int(ErrorCode::Unsupported);
    }
    void snippetRefuses()
    {
        QFETCH(QString, line);
        QFETCH(QString, location);
        QFETCH(int, code);
        const auto snippet = dovecotsnippet::renderFor(line, location);
        QVERIFY(!snippet);
        QCOMPARE(int(snippet.error().code), code);
    }

    void templateDirOverrides()
    {
        QTemporaryDir dir;
        QFile file(dir.path() + QStringLiteral("/90-mailmesh-2.3.conf.in"));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("mail_location = {{mailLocation}}\nbroken = {{noSuchValue}}\n");
        file.close();
        qputenv(dovecotsnippet::kTemplateDirVariable, dir.path().toUtf8());
        const auto snippet = dovecotsnippet::renderFor(QStringLiteral("2.3"), QStringLiteral("maildir:~/Maildir"));
        qunsetenv(dovecotsnippet::kTemplateDirVariable);
        QVERIFY(!snippet);
        QVERIFY(QString::fromStdString(snippet.error().message).contains(QLatin1String("{{noSuchValue}}")));
    }

    void diffShowsChangedLines()
    {
        QCOMPARE(dovecotsnippet::lineDiff("a\nb\nc\n", "a\nB\nc\n"), QStringLiteral("-b\n+B"));
        QCOMPARE(dovecotsnippet::lineDiff("", "x\ny\n"), QStringLiteral("+x\n+y"));
        QCOMPARE(dovecotsnippet::lineDiff("x\n", "x\ny"), QStringLiteral("+y"));
        QCOMPARE(dovecotsnippet::lineDiff("same\n", "same\n"), QString());
    }

    void versionsCompare_data()
    {
        QTest::addColumn<QString>("a");
        QTest::addColumn<QString>("b");
        QTest::addColumn<int>("order");
        QTest::newRow("equal, suffix ignored") << u"2.3.19.1+mailmesh1 (9b53102964)"_s << u"2.3.19.1 (9b53102964)"_s << 0;
        QTest::newRow("trailing zero") << u"2.3.19"_s << u"2.3.19.0"_s << 0;
        QTest::newRow("older fourth") << u"2.3.19"_s << u"2.3.19.1"_s << -1;
        QTest::newRow("newer minor") << u"2.4.1"_s << u"2.3.21.1"_s << 1;
        QTest::newRow("numeric not text") << u"2.3.9"_s << u"2.3.19.1"_s << -1;
        QTest::newRow("older major") << u"1.2.3"_s << u"2.0"_s << -1;
    }
    void versionsCompare()
    {
        QFETCH(QString, a);
        QFETCH(QString, b);
        QFETCH(int, order);
        const auto left = DovecotVersion::parse(a);
        const auto right = DovecotVersion::parse(b);
        QVERIFY(left && right);
        QCOMPARE(DovecotVersion::compare(*left, *right), order);
        QCOMPARE(DovecotVersion::compare(*right, *left), -order);
    }

    void versionParses_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<QString>("numeric");
        QTest::addColumn<QString>("line");
        QTest::addColumn<bool>("mailmesh");
        QTest::addColumn<int>("revision");
        QTest::newRow("patched") << u"2.3.19.1+mailmesh1 (9b53102964)\n"_s << true << u"2.3.19.1"_s << u"2.3"_s << true << 1;
        QTest::newRow("current") << u"2.3.19.1+mailmesh6 (9b53102964)"_s << true << u"2.3.19.1"_s << u"2.3"_s << true
                                 << int(DovecotVersion::kRequiredRevision);
        QTest::newRow("stock") << u"2.3.19.1 (9b53102964)"_s << true << u"2.3.19.1"_s << u"2.3"_s << false << 0;
        QTest::newRow("2.4") << u"2.4.1+mailmesh1 (7bad6a24160e34ce)"_s << true << u"2.4.1"_s << u"2.4"_s << true << 1;
        QTest::newRow("2.4 Debian") << u"2.4.1-4+mailmesh3 (7d8c0e5759)"_s << true << u"2.4.1"_s << u"2.4"_s << true << 3;
        QTest::newRow("other suffix") << u"2.3.21+ubuntu1"_s << true << u"2.3.21"_s << u"2.3"_s << false << 0;
        QTest::newRow("garbage") << u"sh: dovecot: not found"_s << false << QString() << QString() << false << 0;
    }
    void versionParses()
    {
        QFETCH(QString, text);
        QFETCH(bool, ok);
        const auto version = DovecotVersion::parse(text);
        QCOMPARE(version.has_value(), ok);
        if (!ok)
            return;
        QFETCH(QString, numeric);
        QFETCH(QString, line);
        QFETCH(bool, mailmesh);
        QCOMPARE(version->numeric(), numeric);
        QCOMPARE(version->line(), line);
        QCOMPARE(version->isMailmeshBuild(), mailmesh);
        QFETCH(int, revision);
        QCOMPARE(version->mailmeshRevision(), revision);
    }

    // What deploy-dovecot refuses without --allow-downgrade: target older than the node's.
    void downgradeIsRecognised_data()
    {
        QTest::addColumn<QString>("current");
        QTest::addColumn<QString>("target");
        QTest::addColumn<bool>("downgrade");
        QTest::newRow("same upstream") << u"2.3.19.1 (9b53102964)"_s << u"2.3.19.1+mailmesh1 (9b53102964)"_s << false;
        QTest::newRow("newer node") << u"2.3.21.1 (d492236fa0)"_s << u"2.3.19.1+mailmesh1 (9b53102964)"_s << true;
        QTest::newRow("upgrade to 2.4") << u"2.3.19.1"_s << u"2.4.1+mailmesh1"_s << false;
        QTest::newRow("2.4 back to 2.3") << u"2.4.1"_s << u"2.3.19.1+mailmesh1"_s << true;
    }
    void downgradeIsRecognised()
    {
        QFETCH(QString, current);
        QFETCH(QString, target);
        QFETCH(bool, downgrade);
        QCOMPARE(DovecotVersion::compare(*DovecotVersion::parse(target), *DovecotVersion::parse(current)) < 0, downgrade);
    }

    void packagesBySystem_data()
    {
        const QStringList both{
            u"dovecot-core_2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1_amd64.deb"_s,
            u"dovecot-imapd_2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1_amd64.deb"_s,
            u"dovecot-core-dbgsym_2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1_amd64.deb"_s,
            u"dovecot-core_2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1_arm64.deb"_s,
            u"dovecot-core_2.4.1+dfsg1-6+deb13u7+mailmesh1_amd64.deb"_s,
            u"dovecot-imapd_2.4.1+dfsg1-6+deb13u7+mailmesh1_amd64.deb"_s,
            u"dovecot-core_2.3.19.1+dfsg1-2.1+deb12u7_amd64.deb"_s, // stock: never picked
            u"README.txt"_s,
        };
        QTest::addColumn<QStringList>("files");
        QTest::addColumn<QString>("osId");
        QTest::addColumn<QString>("versionId");
        QTest::addColumn<QString>("arch");
        QTest::addColumn<QStringList>("selected");
        QTest::addColumn<QString>("refusal");
        QTest::newRow("debian 12 amd64") << both << u"debian"_s << u"12"_s << u"x86_64"_s
                                         << QStringList{u"dovecot-core_2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1_amd64.deb"_s,
                                                        u"dovecot-imapd_2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1_amd64.deb"_s}
                                         << QString();
        QTest::newRow("debian 13 amd64") << both << u"debian"_s << u"13"_s << u"x86_64"_s
                                         << QStringList{u"dovecot-core_2.4.1+dfsg1-6+deb13u7+mailmesh1_amd64.deb"_s,
                                                        u"dovecot-imapd_2.4.1+dfsg1-6+deb13u7+mailmesh1_amd64.deb"_s}
                                         << QString();
        QTest::newRow("debian 12 arm64") << both << u"debian"_s << u"12"_s << u"aarch64"_s
                                         << QStringList{u"dovecot-core_2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1_arm64.deb"_s}
                                         << QString();
        QTest::newRow("debian 11") << both << u"debian"_s << u"11"_s << u"x86_64"_s << QStringList() << u"Debian 11"_s;
        QTest::newRow("ubuntu") << both << u"ubuntu"_s << u"24.04"_s << u"x86_64"_s << QStringList() << u"ubuntu"_s;
        QTest::newRow("only stock") << QStringList{u"dovecot-core_2.3.19.1+dfsg1-2.1+deb12u7_amd64.deb"_s} << u"debian"_s << u"12"_s
                                    << u"x86_64"_s << QStringList() << u"build-debs.sh 12"_s;
        QTest::newRow("imapd without core")
            << QStringList{u"dovecot-imapd_2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1_amd64.deb"_s} << u"debian"_s << u"12"_s << u"x86_64"_s
            << QStringList() << u"dovecot-core"_s;
        QTest::newRow("two builds") << QStringList{u"dovecot-core_2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1_amd64.deb"_s,
                                                   u"dovecot-core_2.3.19.1+dfsg1-2.1+deb12u7+mailmesh1_amd64.deb"_s}
                                    << u"debian"_s << u"12"_s << u"x86_64"_s << QStringList() << u"several builds"_s;
    }
    void packagesBySystem()
    {
        QFETCH(QStringList, files);
        QFETCH(QString, osId);
        QFETCH(QString, versionId);
        QFETCH(QString, arch);
        QFETCH(QStringList, selected);
        QFETCH(QString, refusal);
        const auto selection = dovecotpackages::select(files, osId, versionId, arch);
        if (refusal.isEmpty()) {
            QVERIFY2(selection, selection ? "" : selection.error().message.c_str());
            QCOMPARE(selection->files, selected);
        } else {
            QVERIFY(!selection);
            QVERIFY2(QString::fromStdString(selection.error().message).contains(refusal), selection.error().message.c_str());
        }
    }

    void debianReleaseOfVersion_data()
    {
        QTest::addColumn<QString>("version");
        QTest::addColumn<QString>("release");
        QTest::newRow("deb12u6") << u"2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1"_s << u"12"_s;
        QTest::newRow("epoch") << u"1:2.4.1+dfsg1-6+deb13u7+mailmesh1"_s << u"13"_s;
        QTest::newRow("no tag 2.3") << u"2.3.19.1+dfsg1-2.1+mailmesh1"_s << u"12"_s;
        QTest::newRow("no tag 2.4") << u"1:2.4.1+dfsg1-6+mailmesh1"_s << u"13"_s;
        QTest::newRow("unknown") << u"2.2.36-1+mailmesh1"_s << u""_s;
    }
    void debianReleaseOfVersion()
    {
        QFETCH(QString, version);
        QFETCH(QString, release);
        QCOMPARE(dovecotpackages::debianReleaseOf(version), release);
    }
};

QTEST_GUILESS_MAIN(TestDovecotConfig)
#include "tst_dovecotconfig.moc"
