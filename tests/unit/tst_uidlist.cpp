#include "maildir/uidlist.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using mm::maildir::Uidlist;

class TestUidlist : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void header_data();
    void header();
    void records_data();
    void records();
    void brokenHeader_data();
    void brokenHeader();
    void readFile();
    void jsonRoundTrip();
};

void TestUidlist::header_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<int>("version");
    QTest::addColumn<uint>("uidValidity");
    QTest::addColumn<uint>("nextUid");
    QTest::addColumn<QByteArray>("guid");
    QTest::addColumn<QByteArray>("extensions"); // "K=v;K=v" of unknown header keys

    QTest::newRow("v3 2.3") << QByteArray(
                                   "3 V1275660208 N25022 G3085f01b7f11094c501100008c4a11c1\n")
                            << 3 << 1275660208u << 25022u
                            << QByteArray("3085f01b7f11094c501100008c4a11c1") << QByteArray();
    QTest::newRow("v3 keys in any order")
        << QByteArray("3 N7 G0123456789abcdef0123456789ABCDEF V9\n") << 3 << 9u << 7u
        << QByteArray("0123456789abcdef0123456789ABCDEF") << QByteArray();
    QTest::newRow("v3 without guid")
        << QByteArray("3 V1 N2\n") << 3 << 1u << 2u << QByteArray() << QByteArray();
    QTest::newRow("v3 pop3 uidl format") << QByteArray("3 V5 N6 P%08Xu%08Xv\n") << 3 << 5u << 6u
                                         << QByteArray() << QByteArray("P=%08Xu%08Xv");
    QTest::newRow("v3 unknown key kept") << QByteArray("3 V5 N6 Zfuture Xy\n") << 3 << 5u << 6u
                                         << QByteArray() << QByteArray("X=y;Z=future");
    QTest::newRow("v3 extra spaces")
        << QByteArray("3  V5   N6 \n") << 3 << 5u << 6u << QByteArray() << QByteArray();
    QTest::newRow("v3 CRLF") << QByteArray("3 V5 N6\r\n") << 3 << 5u << 6u << QByteArray()
                             << QByteArray();
    QTest::newRow("v1 courier") << QByteArray("1 1100000000 57\n") << 1 << 1100000000u << 57u
                                << QByteArray() << QByteArray();
    QTest::newRow("no newline") << QByteArray("3 V5 N6") << 3 << 5u << 6u << QByteArray()
                                << QByteArray();
    QTest::newRow("max uidvalidity") << QByteArray("3 V4294967295 N1\n") << 3 << 4294967295u << 1u
                                     << QByteArray() << QByteArray();
}

void TestUidlist::header()
{
    QFETCH(QByteArray, text);
    QFETCH(int, version);
    QFETCH(uint, uidValidity);
    QFETCH(uint, nextUid);
    QFETCH(QByteArray, guid);
    QFETCH(QByteArray, extensions);

    const auto parsed = Uidlist::parse(text.toStdString());
    QVERIFY2(parsed, parsed ? "" : parsed.error().message.c_str());
    QCOMPARE(parsed->version, version);
    QCOMPARE(parsed->uidValidity, uidValidity);
    QCOMPARE(parsed->nextUid, nextUid);
    QCOMPARE(QByteArray::fromStdString(parsed->guid), guid);
    QByteArrayList ext;
    for (const auto &[k, v] : parsed->headerExtensions)
        ext << QByteArray(1, k) + '=' + QByteArray::fromStdString(v);
    QCOMPARE(ext.join(';'), extensions);
    QVERIFY(parsed->records.empty());
}

void TestUidlist::records_data()
{
    QTest::addColumn<QByteArray>("text");
    // "uid=base[=fileName][{K:v,...}]" per record, ';'-joined
    QTest::addColumn<QByteArray>("expected");
    QTest::addColumn<int>("problems");

    const QByteArray h = "3 V1275660208 N25022 G3085f01b7f11094c501100008c4a11c1\n";
    QTest::newRow("2.3 base only")
        << h + "25006 :1276528487.M364837P9451.kurkku,S=1355,W=1394\n"
        << QByteArray("25006=1276528487.M364837P9451.kurkku,S=1355,W=1394") << 0;
    QTest::newRow("2.2 with :2, and flags")
        << h + "25006 :1276528487.M364837P9451.kurkku,S=1355,W=1394:2,\n"
               "25017 W2481 :1276533073.M242911P3632.kurkku:2,F\n"
        << QByteArray(
               "25006=1276528487.M364837P9451.kurkku,S=1355,W=1394="
               "1276528487.M364837P9451.kurkku,S=1355,W=1394:2,;"
               "25017=1276533073.M242911P3632.kurkku=1276533073.M242911P3632.kurkku:2,F{W:2481}")
        << 0;
    // Recorded from Dovecot 2.3.19.1 (doveadm save, flags add, move, expunge): the header may lag
    // behind the records (N1 with a record for UID 1), names are BASEs with ,S= and ,W=.
    QTest::newRow("dovecot 2.3.19.1 INBOX")
        << QByteArray("3 V1795889890 N4 G4a836e12e21a0b6b6f47000083ecc375\n"
                      "2 :1795889890.M338375P18290.vm,S=43,W=47\n")
        << QByteArray("2=1795889890.M338375P18290.vm,S=43,W=47") << 0;
    QTest::newRow("dovecot 2.3.19.1 moved-to folder")
        << QByteArray("3 V1795889891 N1 G8a755a19e21a0b6b7947000083ecc375\n"
                      "1 :1795889890.M374895P18293.vm,S=43,W=47\n")
        << QByteArray("1=1795889890.M374895P18293.vm,S=43,W=47") << 0;
    QTest::newRow("all record keys")
        << h + "7 S1355 W1394 Pabc O3 G0123abcd :1.M1P1.h\n"
        << QByteArray("7=1.M1P1.h{G:0123abcd,O:3,P:abc,S:1355,W:1394}") << 0;
    QTest::newRow("unknown capital key kept") << h + "7 Xq :1.M1P1.h\n"
                                              << QByteArray("7=1.M1P1.h{X:q}") << 0;
    QTest::newRow("lowercase key is a problem") << h + "7 x1 :1.M1P1.h\n"
                                                << QByteArray("7=1.M1P1.h") << 1;
    QTest::newRow("name with colons") << h + "9 ::weird:2,S\n" << QByteArray("9==:weird:2,S") << 0;
    QTest::newRow("CRLF lines") << h + "1 :a\r\n2 :b\r\n" << QByteArray("1=a;2=b") << 0;
    QTest::newRow("unordered uid skipped") << h + "5 :a\n3 :b\n6 :c\n"
                                           << QByteArray("5=a;6=c") << 1;
    QTest::newRow("equal uid skipped") << h + "5 :a\n5 :b\n" << QByteArray("5=a") << 1;
    QTest::newRow("uid 0") << h + "0 :a\n" << QByteArray() << 1;
    QTest::newRow("uid too large") << h + "4294967296 :a\n" << QByteArray() << 1;
    QTest::newRow("uid max-1 ok") << h + "4294967294 :a\n" << QByteArray("4294967294=a") << 0;
    QTest::newRow("no separator space") << h + "5:a\n" << QByteArray() << 1;
    QTest::newRow("no colon") << h + "5 S12\n" << QByteArray() << 1;
    QTest::newRow("empty name") << h + "5 :\n" << QByteArray() << 1;
    QTest::newRow("slash in name") << h + "5 :../etc\n" << QByteArray() << 1;
    QTest::newRow("empty line") << h + "\n1 :a\n" << QByteArray("1=a") << 1;
    QTest::newRow("incomplete last line") << h + "1 :a\n2 :b" << QByteArray("1=a") << 1;
    QTest::newRow("same base twice: later uid wins") << h + "1 :a\n2 :b\n3 :a:2,S\n"
                                                     << QByteArray("2=b;3=a=a:2,S") << 1;
    QTest::newRow("v1 records") << QByteArray("1 1100000000 57\n3 1.M1P1.h:2,S\n4 2.M2P2.h\n")
                                << QByteArray("3=1.M1P1.h=1.M1P1.h:2,S;4=2.M2P2.h") << 0;
    QTest::newRow("v2 records skip flags")
        << QByteArray("2 10 20\n3 0 1.M1P1.h:2,S\n") << QByteArray("3=1.M1P1.h=1.M1P1.h:2,S") << 0;
    QTest::newRow("v1 colon not special")
        << QByteArray("1 10 20\n3 :x\n") << QByteArray("3==:x") << 0;
}

void TestUidlist::records()
{
    QFETCH(QByteArray, text);
    QFETCH(QByteArray, expected);
    QFETCH(int, problems);

    const auto parsed = Uidlist::parse(text.toStdString());
    QVERIFY2(parsed, parsed ? "" : parsed.error().message.c_str());
    QByteArrayList got;
    for (const auto &r : parsed->records) {
        QByteArray s = QByteArray::number(r.uid) + '=' + QByteArray::fromStdString(r.base);
        if (r.fileName != r.base)
            s += '=' + QByteArray::fromStdString(r.fileName);
        if (!r.extensions.empty()) {
            QByteArrayList ext;
            for (const auto &[k, v] : r.extensions)
                ext << QByteArray(1, k) + ':' + QByteArray::fromStdString(v);
            s += '{' + ext.join(',') + '}';
        }
        got << s;
    }
    QCOMPARE(got.join(';'), expected);
    QCOMPARE(int(parsed->problems.size()), problems);
    for (const auto &p : parsed->problems)
        QVERIFY(p.line >= 2);
}

void TestUidlist::brokenHeader_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("no version") << QByteArray("V1 N2\n");
    QTest::newRow("version 4") << QByteArray("4 V1 N2\n");
    QTest::newRow("uidvalidity 0") << QByteArray("3 V0 N2\n");
    QTest::newRow("next uid missing") << QByteArray("3 V5\n");
    QTest::newRow("bad uidvalidity") << QByteArray("3 Vx N2\n");
    QTest::newRow("uidvalidity overflow") << QByteArray("3 V4294967296 N2\n");
    QTest::newRow("bad guid") << QByteArray("3 V1 N2 Gxyz\n");
    QTest::newRow("v1 one number") << QByteArray("1 5\n");
    QTest::newRow("version glued") << QByteArray("3V1 N2\n");
}

void TestUidlist::brokenHeader()
{
    QFETCH(QByteArray, text);
    const auto parsed = Uidlist::parse(text.toStdString());
    QVERIFY(!parsed);
    QVERIFY(!parsed.error().message.empty());
}

void TestUidlist::readFile()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::string path = dir.filePath(QStringLiteral("dovecot-uidlist")).toStdString();
    QCOMPARE(Uidlist::read(path).error().code, mm::ErrorCode::NotFound);
    {
        std::ofstream out(path, std::ios::binary);
        out << "3 V10 N4 G3085f01b7f11094c501100008c4a11c1\n1 :a,S=5\n2 W7 :b:2,S\n3 :c";
    }
    const auto parsed = Uidlist::read(path);
    QVERIFY(parsed);
    QCOMPARE(parsed->records.size(), std::size_t(2));
    QCOMPARE(parsed->records[1].base, std::string("b"));
    QCOMPARE(parsed->problems.size(), std::size_t(1)); // the unfinished line 3
    QCOMPARE(parsed->findUid(2)->base, std::string("b"));
    QVERIFY(parsed->findUid(3) == nullptr);
    // Same answer as parsing the text.
    const auto fromText =
        Uidlist::parse("3 V10 N4 G3085f01b7f11094c501100008c4a11c1\n1 :a,S=5\n2 W7 :b:2,S\n3 :c");
    QCOMPARE(nlohmann::json(*parsed).dump(), nlohmann::json(*fromText).dump());
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << "garbage\n";
    }
    const auto broken = Uidlist::read(path);
    QVERIFY(!broken);
    QCOMPARE(broken.error().code, mm::ErrorCode::InvalidData);
    QVERIFY(broken.error().message.find(path) != std::string::npos);
}

void TestUidlist::jsonRoundTrip()
{
    const auto parsed = Uidlist::parse("3 V10 N4 G3085f01b7f11094c501100008c4a11c1 Pfmt\n"
                                       "1 :a,S=5\n2 W7 G1 :b:2,S\n3 :caf\xe9\xff\n");
    QVERIFY(parsed);
    const nlohmann::json j = *parsed;
    QCOMPARE(j["schemaVersion"].get<int>(), 1);
    QCOMPARE(j["uidValidity"].get<unsigned>(), 10u);
    QCOMPARE(j["records"][1]["extensions"]["W"].get<std::string>(), std::string("7"));
    QVERIFY(j["records"][2].contains("baseBase64")); // not UTF-8: raw bytes beside
    const std::string text = j.dump();               // must not throw
    const auto back = nlohmann::json::parse(text).get<Uidlist>();
    QCOMPARE(back.records.size(), std::size_t(3));
    QCOMPARE(back.records[2].base, std::string("caf\xe9\xff"));
    QCOMPARE(back.records[1].fileName, std::string("b:2,S"));
    QCOMPARE(back.guid, parsed->guid);
    QCOMPARE(back.headerExtensions.at('P'), std::string("fmt"));
    QCOMPARE(nlohmann::json(back).dump(), text);
}

QTEST_GUILESS_MAIN(TestUidlist)
#include "tst_uidlist.moc"
