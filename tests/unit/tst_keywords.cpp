#include "maildir/keywords.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using mm::maildir::Keywords;

class TestKeywords : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
    void lookups();
    void readFile();
    void jsonRoundTrip();
};

void TestKeywords::parse_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QByteArray>("expected"); // "a=$Junk;b=..." in letter order
    QTest::addColumn<int>("problems");

    QTest::newRow("dovecot docs") << QByteArray("0 $Junk\n1 $NonJunk\n")
                                  << QByteArray("a=$Junk;b=$NonJunk") << 0;
    // Recorded from Dovecot 2.3.19.1 after `doveadm flags add '\\Seen $Junk $Label1'`.
    QTest::newRow("dovecot 2.3.19.1")
        << QByteArray("0 $Junk\n1 $Label1\n") << QByteArray("a=$Junk;b=$Label1") << 0;
    QTest::newRow("gaps") << QByteArray("0 $Label1\n12 $Label2\n25 last\n")
                          << QByteArray("a=$Label1;m=$Label2;z=last") << 0;
    QTest::newRow("CRLF") << QByteArray("0 $Junk\r\n1 x\r\n") << QByteArray("a=$Junk;b=x") << 0;
    QTest::newRow("no trailing newline") << QByteArray("3 d") << QByteArray("d=d") << 0;
    QTest::newRow("empty file") << QByteArray() << QByteArray() << 0;
    QTest::newRow("blank lines ignored") << QByteArray("\n\n0 a\n") << QByteArray("a=a") << 0;
    QTest::newRow("index 26 ignored") << QByteArray("26 over\n0 ok\n") << QByteArray("a=ok") << 1;
    QTest::newRow("huge index") << QByteArray("99999999999999999999 x\n") << QByteArray() << 1;
    QTest::newRow("negative index") << QByteArray("-1 x\n") << QByteArray() << 1;
    QTest::newRow("no space (old .customflags first line)")
        << QByteArray("customflags\n1 b\n") << QByteArray("b=b") << 1;
    QTest::newRow("empty name") << QByteArray("0 \n") << QByteArray() << 1;
    QTest::newRow("name with space kept whole")
        << QByteArray("0 two words\n") << QByteArray("a=two words") << 0;
    QTest::newRow("index redefined: later wins")
        << QByteArray("0 x\n0 y\n") << QByteArray("a=y") << 1;
    QTest::newRow("one name two letters")
        << QByteArray("0 $Junk\n1 $junk\n") << QByteArray("a=$Junk;b=$junk") << 1;
    QTest::newRow("leading zeros") << QByteArray("007 h\n") << QByteArray("h=h") << 0;
}

void TestKeywords::parse()
{
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, expected);
    QFETCH(int, problems);
    const Keywords k = Keywords::parse(text.toStdString());
    QByteArrayList got;
    for (char c = 'a'; c <= 'z'; ++c)
        if (const auto name = k.nameOf(c))
            got << QByteArray(1, c) + '=' + QByteArray::fromStdString(*name);
    QCOMPARE(got.join(';'), expected);
    QCOMPARE(int(k.problems.size()), problems);
    QCOMPARE(k.empty(), expected.isEmpty());
}

void TestKeywords::lookups()
{
    const Keywords k = Keywords::parse("0 $Junk\n2 $Label1\n");
    QCOMPARE(k.letterOf("$junk"), std::optional<char>('a'));
    QCOMPARE(k.letterOf("$LABEL1"), std::optional<char>('c'));
    QCOMPARE(k.letterOf("nope"), std::optional<char>());
    QCOMPARE(k.nameOf('b'), std::optional<std::string>());
    QCOMPARE(k.nameOf('A'), std::optional<std::string>());
}

void TestKeywords::readFile()
{
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("dovecot-keywords")).toStdString();
    QCOMPARE(Keywords::read(path).error().code, mm::ErrorCode::NotFound);
    {
        std::ofstream out(path);
        out << "0 $Junk\n1 $NonJunk\n";
    }
    const auto k = Keywords::read(path);
    QVERIFY(k);
    QCOMPARE(*k->nameOf('b'), std::string("$NonJunk"));
    QCOMPARE(Keywords::read(dir.path().toStdString()).error().code, mm::ErrorCode::UnsafePath);
}

void TestKeywords::jsonRoundTrip()
{
    const Keywords k = Keywords::parse("0 $Junk\n4 caf\xe9\n30 x\n");
    const nlohmann::json j = k;
    QCOMPARE(j["schemaVersion"].get<int>(), 1);
    QCOMPARE(j["keywords"]["a"].get<std::string>(), std::string("$Junk"));
    QCOMPARE(j["problems"].size(), std::size_t(1));
    const std::string text = j.dump(); // invalid UTF-8 must not throw
    const Keywords back = nlohmann::json::parse(text).get<Keywords>();
    QCOMPARE(*back.nameOf('a'), std::string("$Junk"));
    QVERIFY(back.nameOf('e').has_value());
}

QTEST_GUILESS_MAIN(TestKeywords)
#include "tst_keywords.moc"
