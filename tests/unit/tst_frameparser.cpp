// Parsing of the frames the agent reads (parseIncomingMessage) and cutting a byte stream into
// frames (FrameSplitter): the first line of defence against whatever arrives on stdin.

#include "protocol/framesplitter.h"
#include "protocol/incomingmessage.h"
#include "protocol/version.h"

#include <QTest>

#include <string>
#include <vector>

using mm::protocol::FrameSplitter;
using mm::protocol::IncomingMessage;
using mm::protocol::parseIncomingMessage;

Q_DECLARE_METATYPE(std::string)

class TestFrameParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void acceptsValidFrames_data();
    void acceptsValidFrames();
    void refusesBadFrames_data();
    void refusesBadFrames();
    void unknownFieldsAreIgnored();
    void deepNestingIsRefusedBeforeParsing();
    void oversizedFrameIsRefused();

    void splitsStream_data();
    void splitsStream();
    void skipsOversizedFrameAndRecovers();
    void longOversizedFrameIsReportedOnce();
};

void TestFrameParser::acceptsValidFrames_data()
{
    QTest::addColumn<std::string>("frame");
    QTest::addColumn<int>("type");
    QTest::addColumn<QString>("id");
    QTest::addColumn<QString>("command");

    const int hello = int(IncomingMessage::Type::Hello),
              request = int(IncomingMessage::Type::Request),
              cancel = int(IncomingMessage::Type::Cancel), ping = int(IncomingMessage::Type::Ping);
    QTest::newRow("hello") << std::string(R"({"type":"hello","schemaVersion":1,"version":"0.1.0"})")
                           << hello << QString() << QString();
    QTest::newRow("hello without version")
        << std::string(R"({"type":"hello","schemaVersion":1})") << hello << QString() << QString();
    QTest::newRow("request")
        << std::string(R"({"type":"request","id":"r1","command":"probe","params":{"path":"/"}})")
        << request << QStringLiteral("r1") << QStringLiteral("probe");
    QTest::newRow("request without params")
        << std::string(R"({"type":"request","id":"r2","command":"scan"})") << request
        << QStringLiteral("r2") << QStringLiteral("scan");
    QTest::newRow("request with null params")
        << std::string(R"({"type":"request","id":"r3","command":"scan","params":null})") << request
        << QStringLiteral("r3") << QStringLiteral("scan");
    QTest::newRow("unknown command parses")
        << std::string(R"({"type":"request","id":"x","command":"rm -rf"})") << request
        << QStringLiteral("x") << QStringLiteral("rm -rf");
    QTest::newRow("cancel") << std::string(R"({"type":"cancel","id":"r1"})") << cancel
                            << QStringLiteral("r1") << QString();
    QTest::newRow("ping with id") << std::string(R"({"type":"ping","id":"p"})") << ping
                                  << QStringLiteral("p") << QString();
    QTest::newRow("ping without id")
        << std::string(R"({"type":"ping"})") << ping << QString() << QString();
    QTest::newRow("whitespace around")
        << std::string("  {\"type\":\"ping\"}  ") << ping << QString() << QString();
    QTest::newRow("unicode id") << std::string("{\"type\":\"cancel\",\"id\":\"\xc3\xa9t\xc3\xa9\"}")
                                << cancel << QStringLiteral("été") << QString();
    QTest::newRow("id of 128 bytes") << R"({"type":"cancel","id":")" + std::string(128, 'a') + "\"}"
                                     << cancel << QString(128, QLatin1Char('a')) << QString();
}

void TestFrameParser::acceptsValidFrames()
{
    QFETCH(std::string, frame);
    QFETCH(int, type);
    QFETCH(QString, id);
    QFETCH(QString, command);

    const auto message = parseIncomingMessage(frame);
    QVERIFY2(message.has_value(), message ? "" : message.error().error.message.c_str());
    QCOMPARE(int(message->type), type);
    QCOMPARE(QString::fromStdString(message->id), id);
    QCOMPARE(QString::fromStdString(message->command), command);
    if (message->type == IncomingMessage::Type::Request)
        QVERIFY(message->params.is_object());
    if (message->type == IncomingMessage::Type::Hello)
        QCOMPARE(message->schemaVersion, 1);
}

void TestFrameParser::refusesBadFrames_data()
{
    QTest::addColumn<std::string>("frame");
    QTest::addColumn<QString>("expectedId"); // the id the problem is addressed to ("" = null)
    QTest::addColumn<QString>("messagePart");

    QTest::newRow("empty") << std::string() << QString() << QStringLiteral("not valid JSON");
    QTest::newRow("truncated") << std::string(R"({"type":"request","id":"r1")") << QString()
                               << QStringLiteral("not valid JSON");
    QTest::newRow("trailing garbage")
        << std::string(R"({"type":"ping"} x)") << QString() << QStringLiteral("not valid JSON");
    QTest::newRow("two objects") << std::string(R"({"type":"ping"}{"type":"ping"})") << QString()
                                 << QStringLiteral("not valid JSON");
    QTest::newRow("invalid utf-8 in string") << std::string("{\"type\":\"ping\",\"id\":\"\xff\"}")
                                             << QString() << QStringLiteral("not valid JSON");
    QTest::newRow("array") << std::string("[1,2]") << QString()
                           << QStringLiteral("not a JSON object");
    QTest::newRow("string") << std::string("\"hello\"") << QString()
                            << QStringLiteral("not a JSON object");
    QTest::newRow("no type") << std::string(R"({"id":"r1"})") << QString()
                             << QStringLiteral("\"type\"");
    QTest::newRow("numeric type") << std::string(R"({"type":3})") << QString()
                                  << QStringLiteral("\"type\"");
    QTest::newRow("unknown type with id")
        << std::string(R"({"type":"shutdown","id":"r9"})") << QStringLiteral("r9")
        << QStringLiteral("unknown frame type");
    QTest::newRow("request without id") << std::string(R"({"type":"request","command":"probe"})")
                                        << QString() << QStringLiteral("no \"id\"");
    QTest::newRow("request with null id")
        << std::string(R"({"type":"request","id":null,"command":"probe"})") << QString()
        << QStringLiteral("no \"id\"");
    QTest::newRow("numeric id") << std::string(R"({"type":"request","id":7,"command":"probe"})")
                                << QString() << QStringLiteral("must be a string");
    QTest::newRow("empty id") << std::string(R"({"type":"request","id":"","command":"probe"})")
                              << QString() << QStringLiteral("1 to 128");
    QTest::newRow("id of 129 bytes") << R"({"type":"cancel","id":")" + std::string(129, 'a') + "\"}"
                                     << QString() << QStringLiteral("1 to 128");
    QTest::newRow("request without command")
        << std::string(R"({"type":"request","id":"r1"})") << QStringLiteral("r1")
        << QStringLiteral("no \"command\"");
    QTest::newRow("empty command") << std::string(R"({"type":"request","id":"r1","command":""})")
                                   << QStringLiteral("r1") << QStringLiteral("no \"command\"");
    QTest::newRow("params not an object")
        << std::string(R"({"type":"request","id":"r1","command":"scan","params":[1]})")
        << QStringLiteral("r1") << QStringLiteral("\"params\" must be an object");
    QTest::newRow("cancel without id")
        << std::string(R"({"type":"cancel"})") << QString() << QStringLiteral("no \"id\"");
    QTest::newRow("hello without schemaVersion") << std::string(R"({"type":"hello","version":"1"})")
                                                 << QString() << QStringLiteral("schemaVersion");
    QTest::newRow("hello with string schemaVersion")
        << std::string(R"({"type":"hello","schemaVersion":"1"})") << QString()
        << QStringLiteral("schemaVersion");
}

void TestFrameParser::refusesBadFrames()
{
    QFETCH(std::string, frame);
    QFETCH(QString, expectedId);
    QFETCH(QString, messagePart);

    const auto message = parseIncomingMessage(frame);
    QVERIFY(!message.has_value());
    QCOMPARE(message.error().error.code, mm::ErrorCode::BadRequest);
    QCOMPARE(QString::fromStdString(message.error().id), expectedId);
    const QString text = QString::fromStdString(message.error().error.message);
    QVERIFY2(text.contains(messagePart), qPrintable(text));
}

void TestFrameParser::unknownFieldsAreIgnored()
{
    const auto message = parseIncomingMessage(
        R"({"type":"request","id":"r1","command":"probe","params":{"path":"/","future":[1,{"a":2}]},)"
        R"("priority":"high","trace":{"span":1}})");
    QVERIFY(message.has_value());
    QCOMPARE(message->command, std::string("probe"));
    QCOMPARE(message->params.at("path").get<std::string>(), std::string("/"));
    QVERIFY(
        message->params.contains("future")); // handed on: the handler ignores what it does not know
}

void TestFrameParser::deepNestingIsRefusedBeforeParsing()
{
    const int depth = mm::protocol::kMaxRequestDepth;
    std::string okay = R"({"type":"request","id":"r","command":"c","params":{"x":)" +
                       std::string(depth - 2, '[') + std::string(depth - 2, ']') + "}}";
    QVERIFY(parseIncomingMessage(okay).has_value());

    std::string deep(200000, '[');
    auto message = parseIncomingMessage(deep);
    QVERIFY(!message.has_value());
    QVERIFY(QString::fromStdString(message.error().error.message)
                .contains(QStringLiteral("nests deeper")));

    // Brackets inside strings do not count.
    std::string inString = R"({"type":"request","id":"r","command":"c","params":{"x":")" +
                           std::string(1000, '[') + "\"}}";
    QVERIFY(parseIncomingMessage(inString).has_value());
}

void TestFrameParser::oversizedFrameIsRefused()
{
    std::string big = R"({"type":"request","id":"r","command":"c","params":{"x":")";
    big += std::string(mm::protocol::kMaxRequestFrameBytes, 'a');
    big += "\"}}";
    const auto message = parseIncomingMessage(big);
    QVERIFY(!message.has_value());
    QVERIFY(
        QString::fromStdString(message.error().error.message).contains(QStringLiteral("exceeds")));
}

void TestFrameParser::splitsStream_data()
{
    QTest::addColumn<std::vector<std::string>>("chunks");
    QTest::addColumn<std::vector<std::string>>("frames");
    using V = std::vector<std::string>;
    QTest::newRow("one frame") << V{"abc\n"} << V{"abc"};
    QTest::newRow("two frames in one chunk") << V{"a\nb\n"} << V{"a", "b"};
    QTest::newRow("frame across chunks") << V{"ab", "c", "d\ne"} << V{"abcd"};
    QTest::newRow("crlf") << V{"abc\r\n"} << V{"abc"};
    QTest::newRow("empty lines ignored") << V{"\n\n\r\na\n\n"} << V{"a"};
    QTest::newRow("byte by byte") << V{"x", "y", "\n", "z", "\n"} << V{"xy", "z"};
    QTest::newRow("exactly the limit") << V{std::string(16, 'q') + "\n"} << V{std::string(16, 'q')};
    QTest::newRow("limit plus cr") << V{std::string(16, 'q') + "\r\n"} << V{std::string(16, 'q')};
}

void TestFrameParser::splitsStream()
{
    QFETCH(std::vector<std::string>, chunks);
    QFETCH(std::vector<std::string>, frames);
    FrameSplitter splitter(16);
    std::vector<std::string> seen;
    int oversized = 0;
    const FrameSplitter::Handler handler{[&](std::string_view f) { seen.emplace_back(f); },
                                         [&](std::size_t) { ++oversized; }};
    for (const auto &chunk : chunks)
        splitter.feed(chunk, handler);
    QCOMPARE(seen, frames);
    QCOMPARE(oversized, 0);
}

void TestFrameParser::skipsOversizedFrameAndRecovers()
{
    FrameSplitter splitter(8);
    std::vector<std::string> seen;
    std::vector<std::size_t> skipped;
    const FrameSplitter::Handler handler{[&](std::string_view f) { seen.emplace_back(f); },
                                         [&](std::size_t n) { skipped.push_back(n); }};
    splitter.feed("ok\n0123456", handler);
    splitter.feed("789abcdef", handler);
    splitter.feed("ghi\nafter\n123456789\n", handler);
    splitter.feed("tail-without-newline-too-long", handler);
    splitter.finish(handler);
    QCOMPARE(seen, (std::vector<std::string>{"ok", "after"}));
    QCOMPARE(skipped, (std::vector<std::size_t>{19, 9, 29}));

    FrameSplitter second(8);
    seen.clear();
    second.feed("last", handler);
    second.finish(handler);
    QCOMPARE(seen, (std::vector<std::string>{"last"}));
}

void TestFrameParser::longOversizedFrameIsReportedOnce()
{
    // 64 MiB without a newline through a 1 KiB limit: one report with the full count.
    FrameSplitter splitter(1024);
    int oversized = 0;
    const FrameSplitter::Handler handler{[](std::string_view) {},
                                         [&](std::size_t n) {
                                             ++oversized;
                                             QCOMPARE(n, std::size_t(64) * 1024 * 1024);
                                         }};
    const std::string chunk(1024 * 1024, 'x');
    for (int i = 0; i < 64; ++i)
        splitter.feed(chunk, handler);
    splitter.feed("\n", handler);
    QCOMPARE(oversized, 1);
}

QTEST_APPLESS_MAIN(TestFrameParser)
#include "tst_frameparser.moc"
