// The serve loop (mm::protocol::Server) in-process, over pipes, with handlers written for the
// test: the paths the real agent's commands cannot reach on purpose — a defined command that is
// not registered, a handler that throws, results and items too large for a frame, the limit on
// requests in flight, and progress throttling.

#include "protocol/server.h"
#include "protocol/version.h"

#include <QTest>

#include <atomic>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <thread>
#include <unistd.h>

using namespace mm::protocol;
using nlohmann::json;

namespace {

constexpr int kWaitMs = 20000;

Command command(std::string name, CommandHandler run)
{
    Command c;
    c.name = std::move(name);
    c.summary = "test";
    c.run = std::move(run);
    return c;
}

// A Server on its own thread, fed and read through pipes.
class Harness
{
public:
    explicit Harness(const CommandRegistry &registry, Server::Options options = {})
    {
        QVERIFY(::pipe2(m_toServer, O_CLOEXEC) == 0);
        QVERIFY(::pipe2(m_fromServer, O_CLOEXEC) == 0);
        m_server = std::make_unique<Server>(registry, m_toServer[0], m_fromServer[1], options);
        m_thread = std::thread([this] { m_exitCode = m_server->run(); });
        m_hello = next();
        send(json{{"type", "hello"}, {"schemaVersion", kSchemaVersion}});
    }

    ~Harness()
    {
        closeInput();
        // Drain so that a server blocked on a full pipe can finish.
        while (!next(200).is_null()) {
        }
        if (m_thread.joinable())
            m_thread.join();
        ::close(m_toServer[0]);
        ::close(m_fromServer[0]);
        ::close(m_fromServer[1]);
    }

    void send(const json &frame)
    {
        const std::string line = frame.dump() + "\n";
        QCOMPARE(::write(m_toServer[1], line.data(), line.size()), ssize_t(line.size()));
    }

    void closeInput()
    {
        if (m_toServer[1] >= 0) {
            ::close(m_toServer[1]);
            m_toServer[1] = -1;
        }
    }

    // The next frame, or null after `timeoutMs` without one.
    json next(int timeoutMs = kWaitMs)
    {
        for (;;) {
            const auto newline = m_buffer.find('\n');
            if (newline != std::string::npos) {
                const std::string line = m_buffer.substr(0, newline);
                m_buffer.erase(0, newline + 1);
                return json::parse(line);
            }
            pollfd pfd{m_fromServer[0], POLLIN, 0};
            if (::poll(&pfd, 1, timeoutMs) <= 0)
                return nullptr;
            char chunk[65536];
            const ssize_t n = ::read(m_fromServer[0], chunk, sizeof chunk);
            if (n <= 0)
                return nullptr;
            m_buffer.append(chunk, std::size_t(n));
        }
    }

    json finalOf(const std::string &id)
    {
        for (;;) {
            json frame = next();
            if (frame.is_null())
                return frame;
            m_seen.push_back(frame);
            if (frame.value("id", json()) == id &&
                (frame["type"] == "result" || frame["type"] == "problem"))
                return frame;
        }
    }

    std::vector<json> framesOf(const std::string &id) const
    {
        std::vector<json> out;
        for (const auto &frame : m_seen)
            if (frame.value("id", json()) == id)
                out.push_back(frame);
        return out;
    }

    int waitForExit()
    {
        closeInput();
        while (!next(200).is_null()) {
        }
        m_thread.join();
        return m_exitCode;
    }

    const json &hello() const { return m_hello; }

private:
    int m_toServer[2] = {-1, -1};
    int m_fromServer[2] = {-1, -1};
    std::unique_ptr<Server> m_server;
    std::thread m_thread;
    std::atomic<int> m_exitCode{-1};
    std::string m_buffer;
    json m_hello;
    std::vector<json> m_seen;
};

json request(const std::string &id, const std::string &command, json params = json::object())
{
    return {{"type", "request"}, {"id", id}, {"command", command}, {"params", std::move(params)}};
}

mm::Result<json> waitForCancel(const json &, const mm::maildir::ProgressSink &progress,
                               const ItemSink &)
{
    while (!progress.cancelled())
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return mm::fail(mm::ErrorCode::Cancelled, "cancelled");
}

} // namespace

#define JCOMPARE(actual, expected) QCOMPARE(json(actual).dump(), json(expected).dump())

class TestProtocolServer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void definedButUnregisteredIsNotFound();
    void exceptionBecomesInternalError();
    void schemaVersionIsAddedToResults();
    void resultTooLargeForAFrame();
    void itemTooLargeStopsTheCommand();
    void busyBeyondTheLimitOfRequestsInFlight();
    void progressIsThrottledButTheLastReportArrives();
    void endOfInputBeforeHelloExitsCleanly();
};

void TestProtocolServer::definedButUnregisteredIsNotFound()
{
    CommandRegistry registry;
    QVERIFY(registry.add(
        command("probe", [](const json &, const auto &, const auto &) -> mm::Result<json> {
            return json::object();
        })));
    Harness server(registry);
    JCOMPARE(server.hello().at("commands"), json({"probe"}));
    server.send(request("a", "manifest"));
    const json notFound = server.finalOf("a");
    JCOMPARE(notFound.at("code"), "not-found");
    QVERIFY(notFound.at("message").get<std::string>().find("manifest") != std::string::npos);
    server.send(request("b", "reformat"));
    JCOMPARE(server.finalOf("b").at("code"), "bad-request");
    QCOMPARE(server.waitForExit(), 0);
}

void TestProtocolServer::exceptionBecomesInternalError()
{
    CommandRegistry registry;
    QVERIFY(registry.add(
        command("scan", [](const json &, const auto &, const auto &) -> mm::Result<json> {
            throw std::runtime_error("disk on fire");
        })));
    Harness server(registry);
    server.send(request("x", "scan"));
    const json problem = server.finalOf("x");
    JCOMPARE(problem.at("code"), "internal-error");
    QVERIFY(problem.at("message").get<std::string>().find("disk on fire") != std::string::npos);
    server.send(request("y", "scan")); // the server survived
    JCOMPARE(server.finalOf("y").at("code"), "internal-error");
}

void TestProtocolServer::schemaVersionIsAddedToResults()
{
    CommandRegistry registry;
    QVERIFY(registry.add(
        command("dupes", [](const json &params, const auto &, const auto &) -> mm::Result<json> {
            return json{{"echo", params.value("x", 0)}};
        })));
    Harness server(registry);
    server.send(request("r", "dupes", {{"x", 5}, {"unknown", true}}));
    const json result = server.finalOf("r");
    JCOMPARE(result.at("result"), json({{"echo", 5}, {"schemaVersion", kSchemaVersion}}));
    JCOMPARE(result.at("command"), "dupes");
}

void TestProtocolServer::resultTooLargeForAFrame()
{
    CommandRegistry registry;
    QVERIFY(registry.add(
        command("manifest", [](const json &, const auto &, const auto &) -> mm::Result<json> {
            return json{{"blob", std::string(kMaxFrameBytes, 'x')}};
        })));
    Harness server(registry);
    server.send(request("big", "manifest"));
    const json problem = server.finalOf("big");
    JCOMPARE(problem.at("type"), "problem");
    JCOMPARE(problem.at("code"), "internal-error");
    QVERIFY(problem.at("message").get<std::string>().find("too large") != std::string::npos);
}

void TestProtocolServer::itemTooLargeStopsTheCommand()
{
    std::atomic<bool> sawCancel{false};
    CommandRegistry registry;
    QVERIFY(registry.add(command(
        "manifest", [&](const json &, const auto &progress, const auto &items) -> mm::Result<json> {
            items.emit(json{{"folder", "INBOX"}});
            items.emit(json{{"folder", std::string(kMaxFrameBytes, 'x')}});
            for (int i = 0; i < 2000 && !progress.cancelled(); ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            sawCancel = progress.cancelled();
            items.emit(json{{"folder", "after"}}); // dropped: the answer is already broken
            return json{{"folders", 3}};
        })));
    Harness server(registry);
    server.send(request("m", "manifest"));
    const json problem = server.finalOf("m");
    JCOMPARE(problem.at("code"), "internal-error");
    QVERIFY(sawCancel);
    int items = 0;
    for (const auto &frame : server.framesOf("m"))
        items += frame.at("type") == "item" ? 1 : 0;
    QCOMPARE(items, 1);
}

void TestProtocolServer::busyBeyondTheLimitOfRequestsInFlight()
{
    CommandRegistry registry;
    QVERIFY(registry.add(command("scan", waitForCancel)));
    Server::Options options;
    options.maxConcurrentRequests = 2;
    Harness server(registry, options);
    server.send(request("1", "scan"));
    server.send(request("2", "scan"));
    server.send(request("3", "scan"));
    JCOMPARE(server.finalOf("3").at("code"), "busy");
    server.send(json{{"type", "cancel"}, {"id", "1"}});
    JCOMPARE(server.finalOf("1").at("code"), "cancelled");
    server.send(request("4", "scan")); // room again
    server.send(json{{"type", "ping"}, {"id", "p"}});
    server.closeInput(); // cancels 2 and 4
    QStringList finals;
    for (json frame = server.next(); !frame.is_null(); frame = server.next(2000))
        if (frame.at("type") == "problem")
            finals << QString::fromStdString(frame.at("id").get<std::string>() + ":" +
                                             frame.at("code").get<std::string>());
    finals.sort();
    QCOMPARE(finals, (QStringList{QStringLiteral("2:cancelled"), QStringLiteral("4:cancelled")}));
}

void TestProtocolServer::progressIsThrottledButTheLastReportArrives()
{
    CommandRegistry registry;
    QVERIFY(registry.add(
        command("scan", [](const json &, const auto &progress, const auto &) -> mm::Result<json> {
            for (std::uint64_t i = 0; i <= 1000; ++i)
                progress.report(i, 1000, "folder");
            return json::object();
        })));
    Harness server(registry);
    server.send(request("p", "scan"));
    JCOMPARE(server.finalOf("p").at("type"), "result");
    const auto frames = server.framesOf("p");
    QVERIFY(frames.size() >= 3); // first report, last report, result
    QVERIFY(frames.size() < 1000);
    JCOMPARE(frames.front().at("done"), 0);
    JCOMPARE(frames[frames.size() - 2].at("done"), 1000);
    JCOMPARE(frames[frames.size() - 2].at("etaSeconds"), 0);
}

void TestProtocolServer::endOfInputBeforeHelloExitsCleanly()
{
    CommandRegistry registry;
    int toServer[2], fromServer[2];
    QVERIFY(::pipe(toServer) == 0 && ::pipe(fromServer) == 0);
    ::close(toServer[1]);
    Server server(registry, toServer[0], fromServer[1]);
    QCOMPARE(server.run(), 0);
    char buffer[4096];
    const ssize_t n = ::read(fromServer[0], buffer, sizeof buffer);
    QVERIFY(n > 0);
    QVERIFY(std::string(buffer, std::size_t(n)).find("\"hello\"") != std::string::npos);
    for (int fd : {toServer[0], fromServer[0], fromServer[1]})
        ::close(fd);
}

QTEST_APPLESS_MAIN(TestProtocolServer)
#include "tst_protocolserver.moc"
