// Paths and other byte strings in JSON (core/maildir/jsonpath.h): UTF-8 validation, the U+FFFD
// display form, base64, and the putPath/readPath round trip that every document relies on.

#include "maildir/jsonpath.h"

#include <QTest>

#include <random>
#include <string>

using namespace mm::maildir;

Q_DECLARE_METATYPE(std::string)

class TestProtocolPaths : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void utf8Validity_data();
    void utf8Validity();
    void displayForm_data();
    void displayForm();
    void base64KnownVectors_data();
    void base64KnownVectors();
    void base64RefusesMalformed_data();
    void base64RefusesMalformed();
    void putPathRoundTrip_data();
    void putPathRoundTrip();
    void randomBytesRoundTripAndDump();
    void readPathRefusesBadShapes();
};

void TestProtocolPaths::utf8Validity_data()
{
    QTest::addColumn<std::string>("bytes");
    QTest::addColumn<bool>("valid");
    QTest::newRow("empty") << std::string() << true;
    QTest::newRow("ascii") << std::string("INBOX/cur/1700000000.M1P2.host:2,S") << true;
    QTest::newRow("two-byte") << std::string("caf\xc3\xa9") << true;
    QTest::newRow("three-byte") << std::string("\xe2\x82\xac") << true;
    QTest::newRow("four-byte") << std::string("\xf0\x9f\x93\xa7") << true;
    QTest::newRow("max code point") << std::string("\xf4\x8f\xbf\xbf") << true;
    QTest::newRow("latin-1 byte") << std::string("caf\xe9") << false;
    QTest::newRow("lone continuation") << std::string("\x80") << false;
    QTest::newRow("overlong slash") << std::string("\xc0\xaf") << false;
    QTest::newRow("overlong three-byte") << std::string("\xe0\x80\xaf") << false;
    QTest::newRow("surrogate") << std::string("\xed\xa0\x80") << false;
    QTest::newRow("above U+10FFFF") << std::string("\xf4\x90\x80\x80") << false;
    QTest::newRow("truncated") << std::string("\xe2\x82") << false;
    QTest::newRow("f5 lead") << std::string("\xf5\x80\x80\x80") << false;
    QTest::newRow("nul is valid") << std::string("a\0b", 3) << true;
}

void TestProtocolPaths::utf8Validity()
{
    QFETCH(std::string, bytes);
    QFETCH(bool, valid);
    QCOMPARE(isValidUtf8(bytes), valid);
    // Qt's decoder agrees on validity for everything we call valid.
    if (valid)
        QCOMPARE(QString::fromUtf8(bytes.data(), qsizetype(bytes.size())).toUtf8(),
                 QByteArray(bytes.data(), qsizetype(bytes.size())));
}

void TestProtocolPaths::displayForm_data()
{
    QTest::addColumn<std::string>("bytes");
    QTest::addColumn<std::string>("text");
    QTest::newRow("valid kept") << std::string("caf\xc3\xa9") << std::string("caf\xc3\xa9");
    QTest::newRow("one bad byte") << std::string("caf\xe9") << std::string("caf\xef\xbf\xbd");
    QTest::newRow("each bad byte replaced")
        << std::string("\xff\xfe") << std::string("\xef\xbf\xbd\xef\xbf\xbd");
    QTest::newRow("truncated then ascii")
        << std::string("\xe2\x82x") << std::string("\xef\xbf\xbd\xef\xbf\xbdx");
}

void TestProtocolPaths::displayForm()
{
    QFETCH(std::string, bytes);
    QFETCH(std::string, text);
    QCOMPARE(toValidUtf8(bytes), text);
    QVERIFY(isValidUtf8(toValidUtf8(bytes)));
}

void TestProtocolPaths::base64KnownVectors_data()
{
    // RFC 4648, section 10.
    QTest::addColumn<std::string>("bytes");
    QTest::addColumn<std::string>("encoded");
    QTest::newRow("empty") << std::string() << std::string();
    QTest::newRow("f") << std::string("f") << std::string("Zg==");
    QTest::newRow("fo") << std::string("fo") << std::string("Zm8=");
    QTest::newRow("foo") << std::string("foo") << std::string("Zm9v");
    QTest::newRow("foob") << std::string("foob") << std::string("Zm9vYg==");
    QTest::newRow("fooba") << std::string("fooba") << std::string("Zm9vYmE=");
    QTest::newRow("foobar") << std::string("foobar") << std::string("Zm9vYmFy");
    QTest::newRow("high bytes") << std::string("\xff\xfe\xfd") << std::string("//79");
}

void TestProtocolPaths::base64KnownVectors()
{
    QFETCH(std::string, bytes);
    QFETCH(std::string, encoded);
    QCOMPARE(base64Encode(bytes), encoded);
    QCOMPARE(base64Decode(encoded), std::optional<std::string>(bytes));
    QCOMPARE(QByteArray::fromStdString(encoded), QByteArray::fromStdString(bytes).toBase64());
}

void TestProtocolPaths::base64RefusesMalformed_data()
{
    QTest::addColumn<std::string>("text");
    QTest::newRow("length") << std::string("Zm9");
    QTest::newRow("bad char") << std::string("Zm9*");
    QTest::newRow("whitespace") << std::string("Zm9v Zg==");
    QTest::newRow("padding inside") << std::string("Zg==Zm9v");
    QTest::newRow("x=y=") << std::string("Zm=v");
    QTest::newRow("url alphabet") << std::string("__79");
}

void TestProtocolPaths::base64RefusesMalformed()
{
    QFETCH(std::string, text);
    QVERIFY(!base64Decode(text).has_value());
}

void TestProtocolPaths::putPathRoundTrip_data()
{
    QTest::addColumn<std::string>("bytes");
    QTest::addColumn<bool>("hasBase64");
    QTest::newRow("ascii") << std::string("INBOX/cur/a:2,S") << false;
    QTest::newRow("utf-8") << std::string(".Entw\xc3\xbcrfe/cur/x") << false;
    QTest::newRow("latin-1") << std::string(".Entw\xfcrfe/cur/x") << true;
    QTest::newRow("newline in name") << std::string("cur/a\nb:2,") << false;
    QTest::newRow("empty") << std::string() << false;
}

void TestProtocolPaths::putPathRoundTrip()
{
    QFETCH(std::string, bytes);
    QFETCH(bool, hasBase64);
    nlohmann::json object = nlohmann::json::object();
    putPath(object, "path", bytes);
    QCOMPARE(object.contains("pathBase64"), hasBase64);
    const std::string wire = object.dump(); // must not throw
    const auto back = nlohmann::json::parse(wire);
    QCOMPARE(readPath(back, "path"), std::optional<std::string>(bytes));

    const nlohmann::json array = nlohmann::json::array({pathValue(bytes)});
    const auto arrayBack = nlohmann::json::parse(array.dump());
    QCOMPARE(readPath(nlohmann::json{{"p", arrayBack[0]}}, "p"), std::optional<std::string>(bytes));
}

void TestProtocolPaths::randomBytesRoundTripAndDump()
{
    std::mt19937 random(20261128);
    for (int i = 0; i < 2000; ++i) {
        std::string bytes(random() % 40, '\0');
        for (auto &c : bytes)
            c = static_cast<char>(random() % 256);
        nlohmann::json object;
        putPath(object, "name", bytes);
        const auto back = nlohmann::json::parse(object.dump());
        QCOMPARE(readPath(back, "name"), std::optional<std::string>(bytes));
        QCOMPARE(back.contains("nameBase64"), !isValidUtf8(bytes));
    }
}

void TestProtocolPaths::readPathRefusesBadShapes()
{
    QVERIFY(!readPath(nlohmann::json::object(), "path"));
    QVERIFY(!readPath(nlohmann::json{{"path", 3}}, "path"));
    QVERIFY(!readPath(nlohmann::json{{"path", "x"}, {"pathBase64", "***"}}, "path"));
    QVERIFY(!readPath(nlohmann::json{{"path", "x"}, {"pathBase64", 5}}, "path"));
    QVERIFY(!readPath(nlohmann::json::array(), "path"));
    // Base64 wins over the display text.
    QCOMPARE(readPath(nlohmann::json{{"path", "shown"}, {"pathBase64", "Zm9v"}}, "path"),
             std::optional<std::string>("foo"));
}

QTEST_APPLESS_MAIN(TestProtocolPaths)
#include "tst_protocolpaths.moc"
