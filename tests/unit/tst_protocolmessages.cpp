// The frames the agent writes, the registry's answer to unknown commands, the mapping of
// command lines to params, parameter reading, ETA arithmetic and the frame writer.

#include "protocol/commandline.h"
#include "protocol/commandregistry.h"
#include "protocol/etaestimator.h"
#include "protocol/exitcodes.h"
#include "protocol/framewriter.h"
#include "protocol/outgoingframes.h"
#include "protocol/params.h"
#include "protocol/version.h"

#include <QTest>

#include <csignal>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

using namespace mm::protocol;
using nlohmann::json;

// QCOMPARE cannot take nlohmann::json (its implicit conversions make the overloads ambiguous).
#define JCOMPARE(actual, expected) QCOMPARE(json(actual).dump(), json(expected).dump())

Q_DECLARE_METATYPE(std::string)
Q_DECLARE_METATYPE(std::vector<std::string>)

namespace {

Command sampleCommand()
{
    Command command;
    command.name = "dedupe";
    command.summary = "test";
    command.arguments = {{"root", ValueKind::Path, false, false}};
    command.options = {{"--dry-run", "dryRun", ValueKind::Flag, "change nothing"},
                       {"--state-dir", "stateDir", ValueKind::Path, "where the journal lives"},
                       {"--older-than", "olderThan", ValueKind::Integer, "days"},
                       {"--label", "label", ValueKind::Text, "free text"}};
    command.run = [](const json &, const mm::maildir::ProgressSink &,
                     const ItemSink &) -> mm::Result<json> { return json::object(); };
    return command;
}

} // namespace

class TestProtocolMessages : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void helloAnnouncesLimitsAndCommands();
    void finalFramesCarryTheId();
    void problemWithoutRequestHasNullId();
    void progressFrameShape();

    void registryAnswersUnknownAndUnimplemented();
    void registryRefusesDuplicates();

    void commandLineToParams_data();
    void commandLineToParams();
    void commandLineErrors_data();
    void commandLineErrors();
    void repeatedPathArgument();

    void paramReaders();

    void etaArithmetic();
    void exitCodes();

    void writerReplacesInvalidUtf8();
    void writerRefusesOversizedFrame();
    void writerReportsClosedPipe();
};

void TestProtocolMessages::helloAnnouncesLimitsAndCommands()
{
    const json hello = helloFrame({"probe", "scan"});
    JCOMPARE(hello.at("type"), "hello");
    JCOMPARE(hello.at("schemaVersion"), kSchemaVersion);
    JCOMPARE(hello.at("version").get<std::string>(), std::string(mailmeshVersion()));
    JCOMPARE(hello.at("commands"), json({"probe", "scan"}));
    JCOMPARE(hello.at("maxRequestBytes").get<std::size_t>(), kMaxRequestFrameBytes);
    JCOMPARE(hello.at("maxFrameBytes").get<std::size_t>(), kMaxFrameBytes);
    QVERIFY(hello.at("capabilities").is_array());
}

void TestProtocolMessages::finalFramesCarryTheId()
{
    const json result = resultFrame("r1", "probe", json{{"schemaVersion", 1}});
    JCOMPARE(result,
             json::parse(
                 R"({"type":"result","id":"r1","command":"probe","result":{"schemaVersion":1}})"));

    const json problem =
        problemFrame("r2", mm::Error{mm::ErrorCode::UnsafePath, "escapes the root", "/etc/passwd"});
    JCOMPARE(problem.at("type"), "problem");
    JCOMPARE(problem.at("id"), "r2");
    JCOMPARE(problem.at("code"), "unsafe-path");
    JCOMPARE(problem.at("path"), "/etc/passwd");
    JCOMPARE(problem.at("message"), "/etc/passwd: escapes the root"); // the message names the path

    const json item = itemFrame("r3", 4, json{{"folder", "INBOX"}});
    JCOMPARE(item, json::parse(R"({"type":"item","id":"r3","seq":4,"item":{"folder":"INBOX"}})"));
    JCOMPARE(pongFrame("p"), json::parse(R"({"type":"pong","id":"p"})"));
    JCOMPARE(pongFrame(""), json::parse(R"({"type":"pong","id":null})"));
}

void TestProtocolMessages::problemWithoutRequestHasNullId()
{
    const json problem = problemFrame("", mm::Error{mm::ErrorCode::BadRequest, "not JSON", {}});
    QVERIFY(problem.at("id").is_null());
    QVERIFY(!problem.contains("path"));
    // A non-UTF-8 path in a problem survives as base64 and the frame still serialises.
    const json bad = problemFrame("x", mm::Error{mm::ErrorCode::NotFound, "gone", "caf\xe9"});
    JCOMPARE(bad.at("pathBase64"), "Y2Fm6Q==");
    QVERIFY(!bad.dump().empty());
}

void TestProtocolMessages::progressFrameShape()
{
    const json unknown = progressFrame("r", 0, 0, "", std::nullopt);
    JCOMPARE(unknown,
             json::parse(R"({"type":"progress","id":"r","done":0,"total":0,"etaSeconds":null})"));
    const json known = progressFrame("r", 10, 40, "INBOX/cur", 12.6);
    JCOMPARE(known.at("etaSeconds"), 13);
    JCOMPARE(known.at("current"), "INBOX/cur");
}

void TestProtocolMessages::registryAnswersUnknownAndUnimplemented()
{
    CommandRegistry registry;
    QVERIFY(registry.add(sampleCommand()));
    QVERIFY(registry.find("dedupe"));
    QVERIFY(!registry.find("scan"));
    QVERIFY(registry.isDefined("scan"));
    QVERIFY(!registry.isDefined("format-disk"));
    QCOMPARE(CommandRegistry::missingCommandError("scan", true).code, mm::ErrorCode::NotFound);
    QCOMPARE(CommandRegistry::missingCommandError("format-disk", false).code,
             mm::ErrorCode::BadRequest);
    for (const auto name : CommandRegistry::definedCommands())
        QVERIFY(registry.isDefined(name));
}

void TestProtocolMessages::registryRefusesDuplicates()
{
    CommandRegistry registry;
    QVERIFY(registry.add(sampleCommand()));
    QVERIFY(!registry.add(sampleCommand()));
    Command nameless = sampleCommand();
    nameless.name.clear();
    QVERIFY(!registry.add(nameless));
    Command noHandler = sampleCommand();
    noHandler.name = "x";
    noHandler.run = nullptr;
    QVERIFY(!registry.add(noHandler));
    QCOMPARE(registry.commands().size(), std::size_t(1));
}

void TestProtocolMessages::commandLineToParams_data()
{
    QTest::addColumn<std::vector<std::string>>("words");
    QTest::addColumn<std::string>("params");
    using W = std::vector<std::string>;
    QTest::newRow("root only") << W{"/srv/mail"} << std::string(R"({"root":"/srv/mail"})");
    QTest::newRow("flag before root")
        << W{"--dry-run", "/srv/mail"} << std::string(R"({"root":"/srv/mail","dryRun":true})");
    QTest::newRow("all options")
        << W{"/m", "--state-dir", "/s", "--older-than", "30", "--label", "x y"}
        << std::string(R"({"root":"/m","stateDir":"/s","olderThan":30,"label":"x y"})");
    QTest::newRow("negative integer")
        << W{"/m", "--older-than", "-3"} << std::string(R"({"root":"/m","olderThan":-3})");
    QTest::newRow("dash dash") << W{"--", "--weird-root"}
                               << std::string(R"({"root":"--weird-root"})");
    QTest::newRow("non-utf8 root")
        << W{"/m/caf\xe9"} << std::string(R"({"root":"/m/caf\ufffd","rootBase64":"L20vY2Fm6Q=="})");
}

void TestProtocolMessages::commandLineToParams()
{
    QFETCH(std::vector<std::string>, words);
    QFETCH(std::string, params);
    const auto parsed = paramsFromCommandLine(sampleCommand(), words);
    QVERIFY2(parsed.has_value(), parsed ? "" : parsed.error().message.c_str());
    JCOMPARE(*parsed, json::parse(params));
}

void TestProtocolMessages::commandLineErrors_data()
{
    QTest::addColumn<std::vector<std::string>>("words");
    QTest::addColumn<QString>("messagePart");
    using W = std::vector<std::string>;
    QTest::newRow("missing root") << W{} << QStringLiteral("missing ROOT");
    QTest::newRow("unknown option")
        << W{"/m", "--force"} << QStringLiteral("unknown option --force");
    QTest::newRow("option without value")
        << W{"/m", "--state-dir"} << QStringLiteral("--state-dir needs a value");
    QTest::newRow("not an integer")
        << W{"/m", "--older-than", "3d"} << QStringLiteral("not an integer");
    QTest::newRow("extra argument") << W{"/m", "/n"} << QStringLiteral("unexpected argument /n");
}

void TestProtocolMessages::commandLineErrors()
{
    QFETCH(std::vector<std::string>, words);
    QFETCH(QString, messagePart);
    const auto parsed = paramsFromCommandLine(sampleCommand(), words);
    QVERIFY(!parsed.has_value());
    QCOMPARE(parsed.error().code, mm::ErrorCode::BadRequest);
    const QString message = QString::fromStdString(parsed.error().message);
    QVERIFY2(message.contains(messagePart), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("usage: dedupe ROOT [--dry-run]")),
             qPrintable(message));
}

void TestProtocolMessages::repeatedPathArgument()
{
    Command diff = sampleCommand();
    diff.name = "diff";
    diff.options.clear();
    diff.arguments = {{"manifests", ValueKind::Path, false, true}};
    const auto parsed =
        paramsFromCommandLine(diff, std::vector<std::string>{"a.json", "b\xff.json"});
    QVERIFY(parsed.has_value());
    const auto paths = requirePathList(*parsed, "manifests");
    QVERIFY(paths.has_value());
    QCOMPARE(*paths, (std::vector<std::string>{"a.json", "b\xff.json"}));
    QVERIFY(!paramsFromCommandLine(diff, std::vector<std::string>{}).has_value());
}

void TestProtocolMessages::paramReaders()
{
    const json params =
        json::parse(R"({"root":"/m","odd":"x","oddBase64":"/w==","flag":true,"n":5,)"
                    R"("big":18446744073709551615,"text":"t","nothing":null,"list":[]})");
    QCOMPARE(*requirePath(params, "root"), std::string("/m"));
    QCOMPARE(*requirePath(params, "odd"), std::string("\xff"));
    QCOMPARE(requirePath(params, "absent").error().code, mm::ErrorCode::BadRequest);
    QCOMPARE(requirePath(params, "n").error().code, mm::ErrorCode::BadRequest);
    QVERIFY(!optionalPath(params, "absent")->has_value());
    QVERIFY(!optionalPath(params, "nothing")->has_value()); // null counts as absent
    QCOMPARE(*optionalBool(params, "flag", false), true);
    QCOMPARE(*optionalBool(params, "absent", true), true);
    QVERIFY(!optionalBool(params, "n", false).has_value());
    QCOMPARE(*optionalInteger(params, "n", 0), std::int64_t(5));
    QCOMPARE(*optionalInteger(params, "absent", 7), std::int64_t(7));
    QVERIFY(!optionalInteger(params, "big", 0).has_value());
    QVERIFY(!optionalInteger(params, "text", 0).has_value());
    QCOMPARE(*requireText(params, "text"), std::string("t"));
    QVERIFY(!requireText(params, "n").has_value());
    QVERIFY(!requirePathList(params, "list").has_value());
    const QString message = QString::fromStdString(requirePath(params, "absent").error().message);
    QVERIFY(message.contains(QStringLiteral("'absent'")));
}

void TestProtocolMessages::etaArithmetic()
{
    using namespace std::chrono_literals;
    const EtaEstimator::Clock::time_point start{};
    const EtaEstimator eta(start);
    QVERIFY(!eta.secondsLeft(0, 100, start + 10s).has_value());    // nothing done
    QVERIFY(!eta.secondsLeft(10, 0, start + 10s).has_value());     // total unknown
    QVERIFY(!eta.secondsLeft(10, 100, start + 100ms).has_value()); // too early
    QCOMPARE(*eta.secondsLeft(25, 100, start + 10s), 30.0);
    QCOMPARE(*eta.secondsLeft(100, 100, start + 10s), 0.0);
    QCOMPARE(*eta.secondsLeft(150, 100, start + 10s), 0.0);
}

void TestProtocolMessages::exitCodes()
{
    QCOMPARE(exitCodeFor(mm::ErrorCode::BadRequest), 2);
    QCOMPARE(exitCodeFor(mm::ErrorCode::NotFound), 2);
    QCOMPARE(exitCodeFor(mm::ErrorCode::UnsafePath), 2);
    QCOMPARE(exitCodeFor(mm::ErrorCode::IoError), 3);
    QCOMPARE(exitCodeFor(mm::ErrorCode::Cancelled), 3);
    QCOMPARE(exitCodeFor(mm::ErrorCode::Busy), 3);
    QCOMPARE(exitCodeFor(mm::ErrorCode::Unreachable), 4);
    QCOMPARE(exitCodeFor(mm::ErrorCode::Timeout), 4);
}

namespace {
std::string readAll(int fd)
{
    std::string out;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
        out.append(buffer, std::size_t(n));
    return out;
}
} // namespace

void TestProtocolMessages::writerReplacesInvalidUtf8()
{
    int fds[2];
    QCOMPARE(::pipe(fds), 0);
    {
        FrameWriter writer(fds[1], 1024);
        QVERIFY(writer.write(json{{"a", std::string("caf\xe9")}}).has_value());
        QVERIFY(writer.write(json{{"b", 1}}).has_value());
    }
    ::close(fds[1]);
    const std::string written = readAll(fds[0]);
    ::close(fds[0]);
    QCOMPARE(written, std::string("{\"a\":\"caf\xef\xbf\xbd\"}\n{\"b\":1}\n"));
}

void TestProtocolMessages::writerRefusesOversizedFrame()
{
    int fds[2];
    QCOMPARE(::pipe(fds), 0);
    FrameWriter writer(fds[1], 64);
    const auto refused = writer.write(json{{"x", std::string(100, 'y')}});
    QVERIFY(!refused.has_value());
    QCOMPARE(refused.error().code, mm::ErrorCode::InvalidData);
    QVERIFY(writer.write(json{{"x", 1}}).has_value()); // the writer stays usable
    ::close(fds[1]);
    QCOMPARE(readAll(fds[0]), std::string("{\"x\":1}\n"));
    ::close(fds[0]);
}

void TestProtocolMessages::writerReportsClosedPipe()
{
    std::signal(SIGPIPE, SIG_IGN);
    int fds[2];
    QCOMPARE(::pipe(fds), 0);
    ::close(fds[0]);
    FrameWriter writer(fds[1], 1024);
    const auto failed = writer.write(json{{"x", 1}});
    QVERIFY(!failed.has_value());
    QCOMPARE(failed.error().code, mm::ErrorCode::IoError);
    QVERIFY(writer.broken());
    QVERIFY(!writer.write(json{{"x", 2}}).has_value());
    ::close(fds[1]);
}

QTEST_APPLESS_MAIN(TestProtocolMessages)
#include "tst_protocolmessages.moc"
