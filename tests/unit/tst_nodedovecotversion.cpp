// node::DovecotVersion, the one reading of `dovecot --version` behind the probe, the sandbox and
// the cluster: every shape seen on nodes (Debian 12 stock, our +mailmeshN builds of 2.3 and 2.4,
// 2.4's Debian revision), what it must refuse, and the helpers the probe and doveconf use.

#include "node/dovecotversion.h"

#include <QTest>

#include <string>
#include <vector>

using mm::node::DovecotVersion;

Q_DECLARE_METATYPE(std::string)
Q_DECLARE_METATYPE(std::vector<int>)

class TestNodeDovecotVersion : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parse_data()
    {
        QTest::addColumn<std::string>("output");
        QTest::addColumn<std::vector<int>>("numbers");
        QTest::addColumn<std::string>("suffix");
        QTest::addColumn<std::string>("word");
        QTest::addColumn<std::string>("text");
        QTest::addColumn<std::string>("line");
        QTest::addColumn<bool>("mailmesh");
        QTest::addColumn<int>("revision");
        QTest::addColumn<bool>("atLeast24");

        QTest::newRow("Debian 12 stock")
            << std::string("2.3.19.1 (9b53102964)\n") << std::vector<int>{2, 3, 19, 1} << std::string()
            << std::string("2.3.19.1") << std::string("2.3.19.1 (9b53102964)") << std::string("2.3")
            << false << 0 << false;
        QTest::newRow("2.3 cur/-only build")
            << std::string("2.3.19.1+mailmesh5 (9b53102964)\n") << std::vector<int>{2, 3, 19, 1}
            << std::string("+mailmesh5") << std::string("2.3.19.1+mailmesh5")
            << std::string("2.3.19.1+mailmesh5 (9b53102964)") << std::string("2.3") << true << 5 << false;
        QTest::newRow("2.4 Debian revision")
            << std::string("2.4.1-4 (7d8c0e5759)") << std::vector<int>{2, 4, 1} << std::string("-4")
            << std::string("2.4.1-4") << std::string("2.4.1-4 (7d8c0e5759)") << std::string("2.4")
            << false << 0 << true;
        QTest::newRow("2.4 cur/-only build on Debian's revision")
            << std::string("2.4.1-4+mailmesh12 (7d8c0e5759)\n") << std::vector<int>{2, 4, 1}
            << std::string("-4+mailmesh12") << std::string("2.4.1-4+mailmesh12")
            << std::string("2.4.1-4+mailmesh12 (7d8c0e5759)") << std::string("2.4") << true << 12 << true;
        QTest::newRow("2.4 upstream build")
            << std::string("2.4.1+mailmesh1 (7bad6a24160e34ce)") << std::vector<int>{2, 4, 1}
            << std::string("+mailmesh1") << std::string("2.4.1+mailmesh1")
            << std::string("2.4.1+mailmesh1 (7bad6a24160e34ce)") << std::string("2.4") << true << 1 << true;
        QTest::newRow("blank around, a second line")
            << std::string("\n  2.3.21 (abc)  \nsecond line\n") << std::vector<int>{2, 3, 21}
            << std::string() << std::string("2.3.21") << std::string("2.3.21 (abc)") << std::string("2.3")
            << false << 0 << false;
        QTest::newRow("git id without a blank")
            << std::string("2.3.19.1+mailmesh3(9b53102964)") << std::vector<int>{2, 3, 19, 1}
            << std::string("+mailmesh3") << std::string("2.3.19.1+mailmesh3")
            << std::string("2.3.19.1+mailmesh3(9b53102964)") << std::string("2.3") << true << 3 << false;
        QTest::newRow("another vendor's suffix")
            << std::string("2.3.21+ubuntu1") << std::vector<int>{2, 3, 21} << std::string("+ubuntu1")
            << std::string("2.3.21+ubuntu1") << std::string("2.3.21+ubuntu1") << std::string("2.3")
            << false << 0 << false;
        QTest::newRow("+mailmesh without a number")
            << std::string("2.3.19.1+mailmesh (x)") << std::vector<int>{2, 3, 19, 1}
            << std::string("+mailmesh") << std::string("2.3.19.1+mailmesh")
            << std::string("2.3.19.1+mailmesh (x)") << std::string("2.3") << true << 0 << false;
        QTest::newRow("+mailmesh with more after the number")
            << std::string("2.3.19.1+mailmesh5~rc1") << std::vector<int>{2, 3, 19, 1}
            << std::string("+mailmesh5~rc1") << std::string("2.3.19.1+mailmesh5~rc1")
            << std::string("2.3.19.1+mailmesh5~rc1") << std::string("2.3") << true << 0 << false;
        QTest::newRow("major only")
            << std::string("3 (x)") << std::vector<int>{3} << std::string() << std::string("3")
            << std::string("3 (x)") << std::string("3.0") << false << 0 << true;
        QTest::newRow("a dot with no digit after it")
            << std::string("2.3.") << std::vector<int>{2, 3} << std::string(".") << std::string("2.3.")
            << std::string("2.3.") << std::string("2.3") << false << 0 << false;
        QTest::newRow("3.0") << std::string("3.0.0") << std::vector<int>{3, 0, 0} << std::string()
                             << std::string("3.0.0") << std::string("3.0.0") << std::string("3.0")
                             << false << 0 << true;
    }
    void parse()
    {
        QFETCH(std::string, output);
        QFETCH(std::vector<int>, numbers);
        QFETCH(std::string, suffix);
        QFETCH(std::string, word);
        QFETCH(std::string, text);
        QFETCH(std::string, line);
        QFETCH(bool, mailmesh);
        QFETCH(int, revision);
        QFETCH(bool, atLeast24);
        const auto version = DovecotVersion::parse(output);
        QVERIFY(version);
        QVERIFY(version->numbers == numbers);
        QCOMPARE(version->suffix, suffix);
        QCOMPARE(version->word, word);
        QCOMPARE(version->text, text);
        QCOMPARE(version->line(), line);
        QCOMPARE(version->isMailmeshBuild(), mailmesh);
        QCOMPARE(version->mailmeshRevision(), revision);
        QCOMPARE(version->isAtLeast24(), atLeast24);
        QCOMPARE(mm::node::isCurOnlyDovecotVersion(output), mailmesh);
    }

    void rejects_data()
    {
        QTest::addColumn<std::string>("output");
        QTest::newRow("nothing") << std::string();
        QTest::newRow("blanks") << std::string(" \n\t\n");
        QTest::newRow("not found") << std::string("sh: 1: dovecot: not found");
        QTest::newRow("doveconf error") << std::string("doveconf: Fatal: Error in configuration file");
        QTest::newRow("leading v") << std::string("v2.3.19.1");
        QTest::newRow("leading dot") << std::string(".2.3");
        QTest::newRow("number too large") << std::string("99999999999999999999.1");
    }
    void rejects()
    {
        QFETCH(std::string, output);
        QVERIFY(!DovecotVersion::parse(output));
        QVERIFY(!mm::node::isCurOnlyDovecotVersion(output));
        QCOMPARE(mm::node::curOnlySettingName(output), std::string("maildir_cur_only"));
    }

    // Versions from old to new; a row holds versions that compare equal (the suffix, the git id
    // and trailing zeros do not count). Every pair is compared both ways.
    void compareOrdersByNumbersOnly()
    {
        const std::vector<std::vector<std::string>> ascending{
            {"1.2.3"},
            {"2.3.9"},
            {"2.3.19", "2.3.19.0", "2.3.19-1 (x)"},
            {"2.3.19.1 (9b53102964)", "2.3.19.1+mailmesh1 (9b53102964)", "2.3.19.1+mailmesh5"},
            {"2.3.21.1"},
            {"2.4.1", "2.4.1-4 (7d8c0e5759)", "2.4.1-4+mailmesh5 (7d8c0e5759)"},
            {"3"},
        };
        for (std::size_t i = 0; i < ascending.size(); ++i)
            for (std::size_t j = 0; j < ascending.size(); ++j)
                for (const std::string &a : ascending[i])
                    for (const std::string &b : ascending[j]) {
                        const auto left = DovecotVersion::parse(a);
                        const auto right = DovecotVersion::parse(b);
                        QVERIFY2(left && right, (a + " / " + b).c_str());
                        const int expected = i < j ? -1 : (i > j ? 1 : 0);
                        QVERIFY2(DovecotVersion::compare(*left, *right) == expected, (a + " vs " + b).c_str());
                    }
    }

    void numericAndNumber()
    {
        const auto version = DovecotVersion::parse("2.4.1-4+mailmesh5 (7d8c0e5759)");
        QVERIFY(version);
        QCOMPARE(version->numeric(), std::string("2.4.1"));
        QCOMPARE(version->major(), 2);
        QCOMPARE(version->minor(), 4);
        QCOMPARE(version->number(2), 1);
        QCOMPARE(version->number(3), 0); // missing parts count as 0
    }

    // What the probe reports and which doveconf name it asks for.
    void probeHelpers()
    {
        QCOMPARE(mm::node::dovecotVersionLine("2.4.1-4 (7d8c0e5759)\nextra\n"),
                 std::string("2.4.1-4 (7d8c0e5759)"));
        QCOMPARE(mm::node::dovecotVersionLine(""), std::string());
        QCOMPARE(mm::node::curOnlySettingName("2.3.19.1+mailmesh5 (9b53102964)"),
                 std::string("maildir_cur_only"));
        QCOMPARE(mm::node::curOnlySettingName("2.4.1-4+mailmesh5 (7d8c0e5759)"),
                 std::string("maildir/maildir_cur_only"));
        // One number says nothing about the line: the bare name, as for no version at all.
        QCOMPARE(mm::node::curOnlySettingName("3"), std::string("maildir_cur_only"));
        QCOMPARE(mm::node::parseCurOnlySetting("yes\n", 0), std::optional<bool>(true));
        QCOMPARE(mm::node::parseCurOnlySetting("no\n", 0), std::optional<bool>(false));
        QCOMPARE(mm::node::parseCurOnlySetting("", 0), std::optional<bool>());
        QCOMPARE(mm::node::parseCurOnlySetting("yes\n", 89), std::optional<bool>());
    }
};

QTEST_GUILESS_MAIN(TestNodeDovecotVersion)
#include "tst_nodedovecotversion.moc"
