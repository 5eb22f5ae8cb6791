// `mailmesh-agent serve` end to end: the REAL static binary, driven through its stdin/stdout
// with QProcess, the way the app drives it over ssh. Every session is also checked for the
// protocol's core promise: each request gets exactly one final frame, and nothing after it.

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

const QString kAgent = QStringLiteral(MAILMESH_AGENT_BINARY);
constexpr int kWaitMs = 20000; // generous: the machine is shared; never a timing assertion

QByteArray frame(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact) + '\n';
}

QJsonObject request(const QString &id, const QString &command, const QJsonObject &params = {})
{
    return {{QStringLiteral("type"), QStringLiteral("request")},
            {QStringLiteral("id"), id},
            {QStringLiteral("command"), command},
            {QStringLiteral("params"), params}};
}

QJsonObject sleepRequest(const QString &id, int milliseconds, int items = 0)
{
    return request(
        id, QStringLiteral("diag-sleep"),
        {{QStringLiteral("milliseconds"), milliseconds}, {QStringLiteral("items"), items}});
}

QString typeOf(const QJsonObject &object)
{
    return object.value(QStringLiteral("type")).toString();
}

QString codeOf(const QJsonObject &object)
{
    return object.value(QStringLiteral("code")).toString();
}

// One agent process and everything it wrote, with the invariants checked as frames arrive.
class Agent
{
public:
    ~Agent()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished();
        }
    }

    bool start(bool greet = true)
    {
        m_process.start(kAgent, {QStringLiteral("serve")});
        if (!m_process.waitForStarted())
            return false;
        m_hello = next();
        if (m_hello.value(QStringLiteral("type")).toString() != QLatin1String("hello"))
            return false;
        if (greet)
            send(QJsonObject{{QStringLiteral("type"), QStringLiteral("hello")},
                             {QStringLiteral("schemaVersion"), 1},
                             {QStringLiteral("version"), QStringLiteral("test")}});
        return true;
    }

    void send(const QJsonObject &object)
    {
        if (typeOf(object) == QLatin1String("request")) // an id may be reused after its final frame
            m_finished.remove(object.value(QStringLiteral("id")).toString());
        sendRaw(frame(object));
    }
    void sendRaw(const QByteArray &bytes)
    {
        m_process.write(bytes);
        m_process.waitForBytesWritten(kWaitMs);
    }
    void closeInput() { m_process.closeWriteChannel(); }

    // The next frame, or an empty object if none came in time.
    QJsonObject next()
    {
        while (!m_process.canReadLine()) {
            if (!m_process.waitForReadyRead(kWaitMs)) {
                if (!m_process.canReadLine())
                    return {};
            }
        }
        const QByteArray line = m_process.readLine();
        QJsonParseError error{};
        const QJsonDocument document = QJsonDocument::fromJson(line, &error);
        if (error.error != QJsonParseError::NoError || !document.isObject()) {
            m_violations << QStringLiteral("not a JSON object line: ") + QString::fromUtf8(line);
            return {};
        }
        QJsonObject object = document.object();
        check(object);
        m_frames << object;
        return object;
    }

    // Reads until the final frame (result/problem) of `id`; returns it.
    QJsonObject finalOf(const QString &id)
    {
        for (;;) {
            const QJsonObject object = next();
            if (object.isEmpty())
                return {};
            if (object.value(QStringLiteral("id")).toString() == id && isFinal(object))
                return object;
        }
    }

    // Reads until a frame of `type` for `id` (id may be null: pass QString()).
    QJsonObject waitFor(const QString &type, const QString &id)
    {
        for (;;) {
            const QJsonObject object = next();
            if (object.isEmpty())
                return {};
            const QJsonValue frameId = object.value(QStringLiteral("id"));
            const bool sameId = id.isNull() ? frameId.isNull() : frameId.toString() == id;
            if (object.value(QStringLiteral("type")).toString() == type && sameId)
                return object;
        }
    }

    bool finished(int *exitCode)
    {
        if (!m_process.waitForFinished(kWaitMs))
            return false;
        while (m_process.canReadLine() || m_process.bytesAvailable() > 0) {
            if (next().isEmpty())
                break;
        }
        *exitCode = m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
        return true;
    }

    QList<QJsonObject> framesOf(const QString &id) const
    {
        QList<QJsonObject> out;
        for (const auto &object : m_frames)
            if (object.value(QStringLiteral("id")).toString() == id)
                out << object;
        return out;
    }

    const QJsonObject &hello() const { return m_hello; }
    const QStringList &violations() const { return m_violations; }

    static bool isFinal(const QJsonObject &object)
    {
        const QString type = object.value(QStringLiteral("type")).toString();
        return type == QLatin1String("result") || type == QLatin1String("problem");
    }

private:
    void check(const QJsonObject &object)
    {
        const QString type = object.value(QStringLiteral("type")).toString();
        const QJsonValue idValue = object.value(QStringLiteral("id"));
        if (type == QLatin1String("hello") || type == QLatin1String("pong") || idValue.isNull())
            return;
        const QString id = idValue.toString();
        if (m_finished.contains(id))
            m_violations << QStringLiteral("frame after the final frame of ") + id +
                                QStringLiteral(": ") +
                                QString::fromUtf8(
                                    QJsonDocument(object).toJson(QJsonDocument::Compact));
        if (isFinal(object))
            m_finished.insert(id);
    }

    QProcess m_process;
    QJsonObject m_hello;
    QList<QJsonObject> m_frames;
    QSet<QString> m_finished;
    QStringList m_violations;
};

struct OneShot
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

OneShot runOneShot(const QStringList &arguments)
{
    QProcess process;
    process.start(kAgent, arguments);
    process.waitForFinished(kWaitMs);
    return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1,
            process.readAllStandardOutput(), process.readAllStandardError()};
}

// Runs the agent with argv bytes exactly as given; returns its exit code and stdout.
std::pair<int, std::string> runWithRawArguments(const std::vector<std::string> &arguments)
{
    const std::string program = kAgent.toStdString();
    std::vector<std::string> storage{program};
    storage.insert(storage.end(), arguments.begin(), arguments.end());
    std::vector<char *> argv;
    for (auto &word : storage)
        argv.push_back(word.data());
    argv.push_back(nullptr);
    int fds[2];
    if (::pipe(fds) != 0)
        return {-1, {}};
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        ::close(fds[0]);
        ::close(fds[1]);
        ::execv(program.c_str(), argv.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    std::string out;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0)
        out.append(buffer, std::size_t(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

} // namespace

class TestProtocolServe : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void handshakeAndPing();
    void firstFrameMustBeHello();
    void schemaVersionMismatchIsRefused();
    void probeSendsProgressThenResult();
    void itemsComeBeforeTheResult();
    void cancelStopsARequest();
    void cancelOfUnknownIdIsIgnored();
    void oversizedFrameIsSkipped();
    void malformedFramesAreAnsweredAndTheStreamGoesOn();
    void unknownCommandIsBadRequest();
    void badParamsAreBadRequest();
    void duplicateIdInFlightIsRefused();
    void twoRequestsInFlight();
    void stdinClosingMidRequestCancelsAndExits();
    void oneShotJsonMatchesServe();
    void oneShotExitCodesAndNonUtf8Paths();
    void aLargeDedupeAnswerIsStreamed();
    void inventoryRemembersBetweenRequests();
};

void TestProtocolServe::handshakeAndPing()
{
    Agent agent;
    QVERIFY(agent.start());
    const QJsonObject hello = agent.hello();
    QCOMPARE(hello.value(QStringLiteral("schemaVersion")).toInt(), 1);
    QVERIFY(!hello.value(QStringLiteral("version")).toString().isEmpty());
    QCOMPARE(hello.value(QStringLiteral("maxRequestBytes")).toInteger(), 1024 * 1024);
    QCOMPARE(hello.value(QStringLiteral("maxFrameBytes")).toInteger(), 16 * 1024 * 1024);
    const QJsonArray commands = hello.value(QStringLiteral("commands")).toArray();
    QVERIFY(commands.contains(QStringLiteral("probe")));
    QVERIFY(
        hello.value(QStringLiteral("capabilities")).toArray().contains(QStringLiteral("cancel")));

    agent.send({{QStringLiteral("type"), QStringLiteral("ping")},
                {QStringLiteral("id"), QStringLiteral("p1")}});
    const QJsonObject pong = agent.next();
    QCOMPARE(typeOf(pong), QStringLiteral("pong"));
    QCOMPARE(pong.value(QStringLiteral("id")).toString(), QStringLiteral("p1"));
    agent.send({{QStringLiteral("type"), QStringLiteral("ping")}});
    QVERIFY(agent.next().value(QStringLiteral("id")).isNull());

    agent.closeInput();
    int exitCode = -1;
    QVERIFY(agent.finished(&exitCode));
    QCOMPARE(exitCode, 0);
    QVERIFY2(agent.violations().isEmpty(), qPrintable(agent.violations().join(QLatin1Char('\n'))));
}

void TestProtocolServe::firstFrameMustBeHello()
{
    Agent agent;
    QVERIFY(agent.start(/*greet=*/false));
    agent.send(request(QStringLiteral("r1"), QStringLiteral("probe")));
    const QJsonObject problem = agent.next();
    QCOMPARE(typeOf(problem), QStringLiteral("problem"));
    QCOMPARE(codeOf(problem), QStringLiteral("bad-request"));
    QVERIFY(problem.value(QStringLiteral("id")).isNull());
    QVERIFY(problem.value(QStringLiteral("message")).toString().contains(QStringLiteral("hello")));
    int exitCode = -1;
    QVERIFY(agent.finished(&exitCode)); // exits on its own, without stdin closing
    QCOMPARE(exitCode, 2);
}

void TestProtocolServe::schemaVersionMismatchIsRefused()
{
    Agent agent;
    QVERIFY(agent.start(false));
    agent.send(
        {{QStringLiteral("type"), QStringLiteral("hello")}, {QStringLiteral("schemaVersion"), 99}});
    const QJsonObject problem = agent.next();
    QCOMPARE(codeOf(problem), QStringLiteral("unsupported"));
    int exitCode = -1;
    QVERIFY(agent.finished(&exitCode));
    QCOMPARE(exitCode, 2);
}

void TestProtocolServe::probeSendsProgressThenResult()
{
    Agent agent;
    QVERIFY(agent.start());
    agent.send(request(QStringLiteral("probe-1"), QStringLiteral("probe"),
                       {{QStringLiteral("path"), QStringLiteral("/")}}));
    const QJsonObject result = agent.finalOf(QStringLiteral("probe-1"));
    QCOMPARE(typeOf(result), QStringLiteral("result"));
    QCOMPARE(result.value(QStringLiteral("command")).toString(), QStringLiteral("probe"));
    const QJsonObject report = result.value(QStringLiteral("result")).toObject();
    QCOMPARE(report.value(QStringLiteral("schemaVersion")).toInt(), 1);
    QVERIFY(!report.value(QStringLiteral("architecture")).toString().isEmpty());
    QCOMPARE(
        report.value(QStringLiteral("disk")).toObject().value(QStringLiteral("path")).toString(),
        QStringLiteral("/"));
    QVERIFY(report.value(QStringLiteral("inventory")).isNull());

    const QList<QJsonObject> frames = agent.framesOf(QStringLiteral("probe-1"));
    QVERIFY(frames.size() >= 2);
    QCOMPARE(typeOf(frames.first()), QStringLiteral("progress")); // the first report is always sent
    // os, disk, inotify, dovecot, syncthing, inventory ("/" is never inventoried: null)
    QCOMPARE(frames.first().value(QStringLiteral("total")).toInt(), 6);
    for (int i = 0; i + 1 < frames.size(); ++i)
        QCOMPARE(typeOf(frames[i]), QStringLiteral("progress"));
    QCOMPARE(typeOf(frames.last()), QStringLiteral("result"));
    qint64 lastDone = -1;
    for (int i = 0; i + 1 < frames.size(); ++i) {
        const qint64 done = frames[i].value(QStringLiteral("done")).toInteger();
        QVERIFY(done >= lastDone);
        lastDone = done;
    }
    QVERIFY(agent.violations().isEmpty());
}

void TestProtocolServe::itemsComeBeforeTheResult()
{
    Agent agent;
    QVERIFY(agent.start());
    agent.send(sleepRequest(QStringLiteral("items"), 300, 7));
    const QJsonObject result = agent.finalOf(QStringLiteral("items"));
    QCOMPARE(typeOf(result), QStringLiteral("result"));
    QCOMPARE(
        result.value(QStringLiteral("result")).toObject().value(QStringLiteral("items")).toInt(),
        7);
    int expectedSeq = 0;
    for (const auto &object : agent.framesOf(QStringLiteral("items"))) {
        if (typeOf(object) != QLatin1String("item"))
            continue;
        QCOMPARE(object.value(QStringLiteral("seq")).toInt(), expectedSeq);
        QCOMPARE(
            object.value(QStringLiteral("item")).toObject().value(QStringLiteral("index")).toInt(),
            expectedSeq);
        ++expectedSeq;
    }
    QCOMPARE(expectedSeq, 7);
    QVERIFY(agent.violations().isEmpty());
}

void TestProtocolServe::cancelStopsARequest()
{
    Agent agent;
    QVERIFY(agent.start());
    agent.send(sleepRequest(QStringLiteral("long"), 600000));
    QVERIFY(!agent.waitFor(QStringLiteral("progress"), QStringLiteral("long")).isEmpty());
    agent.send({{QStringLiteral("type"), QStringLiteral("cancel")},
                {QStringLiteral("id"), QStringLiteral("long")}});
    const QJsonObject final = agent.finalOf(QStringLiteral("long"));
    QCOMPARE(typeOf(final), QStringLiteral("problem"));
    QCOMPARE(codeOf(final), QStringLiteral("cancelled"));

    // The agent goes on serving, and the id may be reused after its final frame.
    agent.send(sleepRequest(QStringLiteral("after"), 0));
    QCOMPARE(typeOf(agent.finalOf(QStringLiteral("after"))), QStringLiteral("result"));
    QVERIFY(agent.violations().isEmpty());
}

void TestProtocolServe::cancelOfUnknownIdIsIgnored()
{
    Agent agent;
    QVERIFY(agent.start());
    agent.send({{QStringLiteral("type"), QStringLiteral("cancel")},
                {QStringLiteral("id"), QStringLiteral("nobody")}});
    agent.send({{QStringLiteral("type"), QStringLiteral("ping")},
                {QStringLiteral("id"), QStringLiteral("p")}});
    const QJsonObject next = agent.next();
    QCOMPARE(typeOf(next), QStringLiteral("pong")); // nothing came for the cancel
}

void TestProtocolServe::oversizedFrameIsSkipped()
{
    Agent agent;
    QVERIFY(agent.start());
    // A request whose params alone exceed 1 MiB, written in one go, then a normal request.
    QByteArray big = R"({"type":"request","id":"big","command":"probe","params":{"pad":")";
    big += QByteArray(1024 * 1024 + 10, 'x');
    big += "\"}}\n";
    agent.sendRaw(big);
    agent.send(request(QStringLiteral("small"), QStringLiteral("diag-sleep"),
                       {{QStringLiteral("milliseconds"), 0}}));

    const QJsonObject problem = agent.waitFor(QStringLiteral("problem"), QString());
    QCOMPARE(codeOf(problem), QStringLiteral("bad-request"));
    QVERIFY(problem.value(QStringLiteral("message"))
                .toString()
                .contains(QStringLiteral("exceeds the limit")));
    QCOMPARE(typeOf(agent.finalOf(QStringLiteral("small"))), QStringLiteral("result"));
    QVERIFY(
        agent.framesOf(QStringLiteral("big")).isEmpty()); // the oversized frame was never parsed
    QVERIFY(agent.violations().isEmpty());
}

void TestProtocolServe::malformedFramesAreAnsweredAndTheStreamGoesOn()
{
    Agent agent;
    QVERIFY(agent.start());
    const QList<QByteArray> bad{"this is not json\n",
                                "{\"type\":\"request\",\"id\":\"x\"\n",
                                "[1,2,3]\n",
                                "{\"type\":\"ping\",\"id\":\"\xff\"}\n",
                                "{\"id\":\"no-type\"}\n",
                                "{\"type\":\"request\",\"command\":\"probe\"}\n"};
    for (const QByteArray &line : bad) {
        agent.sendRaw(line);
        const QJsonObject problem = agent.next();
        QCOMPARE(typeOf(problem), QStringLiteral("problem"));
        QCOMPARE(codeOf(problem), QStringLiteral("bad-request"));
        QVERIFY(problem.value(QStringLiteral("id")).isNull());
    }
    // Unknown fields are ignored; a request with an id gets its problem addressed to it.
    agent.sendRaw(
        R"({"type":"request","id":"p","command":"diag-sleep","params":{"milliseconds":0,"future":1},"extra":[1]})"
        "\n");
    QCOMPARE(typeOf(agent.finalOf(QStringLiteral("p"))), QStringLiteral("result"));
    agent.sendRaw(R"({"type":"request","id":"q","command":"probe","params":[]})"
                  "\n");
    const QJsonObject addressed = agent.finalOf(QStringLiteral("q"));
    QCOMPARE(codeOf(addressed), QStringLiteral("bad-request"));
    agent.sendRaw("\r\n\n"); // empty lines: nothing
    agent.send(
        {{QStringLiteral("type"), QStringLiteral("hello")}, {QStringLiteral("schemaVersion"), 1}});
    QCOMPARE(codeOf(agent.next()), QStringLiteral("bad-request")); // a second hello
    QVERIFY(agent.violations().isEmpty());
}

void TestProtocolServe::unknownCommandIsBadRequest()
{
    Agent agent;
    QVERIFY(agent.start());
    agent.send(request(QStringLiteral("u"), QStringLiteral("format-disk")));
    const QJsonObject unknown = agent.finalOf(QStringLiteral("u"));
    QCOMPARE(codeOf(unknown), QStringLiteral("bad-request"));
    QVERIFY(unknown.value(QStringLiteral("message"))
                .toString()
                .contains(QStringLiteral("format-disk")));

    // (A defined but unregistered command answers not-found: tst_protocolserver checks that
    // in-process, since this agent build may implement every defined command.)
    QVERIFY(agent.violations().isEmpty());
}

void TestProtocolServe::badParamsAreBadRequest()
{
    Agent agent;
    QVERIFY(agent.start());
    agent.send(request(QStringLiteral("b1"), QStringLiteral("diag-sleep"),
                       {{QStringLiteral("milliseconds"), QStringLiteral("ten")}}));
    QCOMPARE(codeOf(agent.finalOf(QStringLiteral("b1"))), QStringLiteral("bad-request"));
    agent.send(request(QStringLiteral("b2"), QStringLiteral("probe"),
                       {{QStringLiteral("path"), QStringLiteral("/nonexistent/mailmesh")}}));
    const QJsonObject notFound = agent.finalOf(QStringLiteral("b2"));
    QCOMPARE(codeOf(notFound), QStringLiteral("not-found"));
    QCOMPARE(notFound.value(QStringLiteral("path")).toString(),
             QStringLiteral("/nonexistent/mailmesh"));
    QVERIFY(notFound.value(QStringLiteral("message"))
                .toString()
                .contains(QStringLiteral("/nonexistent/mailmesh")));
}

void TestProtocolServe::duplicateIdInFlightIsRefused()
{
    Agent agent;
    QVERIFY(agent.start());
    agent.send(sleepRequest(QStringLiteral("dup"), 600000));
    QVERIFY(!agent.waitFor(QStringLiteral("progress"), QStringLiteral("dup")).isEmpty());
    agent.send(sleepRequest(QStringLiteral("dup"), 0));
    const QJsonObject problem = agent.waitFor(QStringLiteral("problem"), QString());
    QVERIFY(problem.value(QStringLiteral("message"))
                .toString()
                .contains(QStringLiteral("already in flight")));
    agent.send({{QStringLiteral("type"), QStringLiteral("cancel")},
                {QStringLiteral("id"), QStringLiteral("dup")}});
    QCOMPARE(codeOf(agent.finalOf(QStringLiteral("dup"))), QStringLiteral("cancelled"));
    QVERIFY(agent.violations().isEmpty());
}

void TestProtocolServe::twoRequestsInFlight()
{
    Agent agent;
    QVERIFY(agent.start());
    // The slow one is sent first and only finishes when cancelled, so the fast one's result can
    // only arrive first if both really run at the same time (no timing involved).
    agent.send(sleepRequest(QStringLiteral("slow"), 600000));
    QVERIFY(!agent.waitFor(QStringLiteral("progress"), QStringLiteral("slow")).isEmpty());
    agent.send(request(QStringLiteral("fast"), QStringLiteral("probe")));
    const QJsonObject fast = agent.finalOf(QStringLiteral("fast"));
    QCOMPARE(typeOf(fast), QStringLiteral("result"));
    QVERIFY(agent.framesOf(QStringLiteral("slow")).size() >= 1);
    for (const auto &object : agent.framesOf(QStringLiteral("slow")))
        QVERIFY(!Agent::isFinal(object)); // still running

    agent.send({{QStringLiteral("type"), QStringLiteral("cancel")},
                {QStringLiteral("id"), QStringLiteral("slow")}});
    QCOMPARE(codeOf(agent.finalOf(QStringLiteral("slow"))), QStringLiteral("cancelled"));

    // Two finite ones side by side: both complete, each with exactly one final frame.
    agent.send(sleepRequest(QStringLiteral("a"), 400, 3));
    agent.send(sleepRequest(QStringLiteral("b"), 200, 2));
    QSet<QString> done;
    while (done.size() < 2) {
        const QJsonObject object = agent.next();
        QVERIFY(!object.isEmpty());
        if (Agent::isFinal(object)) {
            QCOMPARE(typeOf(object), QStringLiteral("result"));
            done.insert(object.value(QStringLiteral("id")).toString());
        }
    }
    QCOMPARE(done, (QSet<QString>{QStringLiteral("a"), QStringLiteral("b")}));
    agent.closeInput();
    int exitCode = -1;
    QVERIFY(agent.finished(&exitCode));
    QCOMPARE(exitCode, 0);
    QVERIFY2(agent.violations().isEmpty(), qPrintable(agent.violations().join(QLatin1Char('\n'))));
}

void TestProtocolServe::stdinClosingMidRequestCancelsAndExits()
{
    Agent agent;
    QVERIFY(agent.start());
    agent.send(sleepRequest(QStringLiteral("r1"), 600000));
    agent.send(sleepRequest(QStringLiteral("r2"), 600000));
    QVERIFY(!agent.waitFor(QStringLiteral("progress"), QStringLiteral("r1")).isEmpty());
    agent.closeInput();
    int exitCode = -1;
    QVERIFY(agent.finished(&exitCode)); // well before the 10 minutes the requests asked for
    QCOMPARE(exitCode, 0);
    for (const QString &id : {QStringLiteral("r1"), QStringLiteral("r2")}) {
        const QList<QJsonObject> frames = agent.framesOf(id);
        QVERIFY(!frames.isEmpty());
        QCOMPARE(typeOf(frames.last()), QStringLiteral("problem"));
        QCOMPARE(codeOf(frames.last()), QStringLiteral("cancelled"));
        int finals = 0;
        for (const auto &object : frames)
            finals += Agent::isFinal(object) ? 1 : 0;
        QCOMPARE(finals, 1);
    }
    QVERIFY(agent.violations().isEmpty());
}

void TestProtocolServe::oneShotJsonMatchesServe()
{
    Agent agent;
    QVERIFY(agent.start());
    agent.send(sleepRequest(QStringLiteral("s"), 0, 0));
    const QJsonObject served =
        agent.finalOf(QStringLiteral("s")).value(QStringLiteral("result")).toObject();
    const OneShot oneShot =
        runOneShot({QStringLiteral("diag-sleep"), QStringLiteral("--milliseconds"),
                    QStringLiteral("0"), QStringLiteral("--json")});
    QCOMPARE(oneShot.exitCode, 0);
    QCOMPARE(oneShot.out, QJsonDocument(served).toJson(QJsonDocument::Compact) + '\n');

    // Streamed items: one line each, then the result document.
    const OneShot items = runOneShot(
        {QStringLiteral("diag-sleep"), QStringLiteral("--milliseconds"), QStringLiteral("50"),
         QStringLiteral("--items"), QStringLiteral("3"), QStringLiteral("--json")});
    QCOMPARE(items.exitCode, 0);
    const QList<QByteArray> lines = items.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 4);
    QCOMPARE(lines[0], QByteArray(R"({"index":0})"));
    QCOMPARE(QJsonDocument::fromJson(lines[3]).object().value(QStringLiteral("items")).toInt(), 3);

    // probe: the same document either way.
    agent.send(request(QStringLiteral("p"), QStringLiteral("probe")));
    QJsonObject servedProbe =
        agent.finalOf(QStringLiteral("p")).value(QStringLiteral("result")).toObject();
    const OneShot probe = runOneShot({QStringLiteral("probe"), QStringLiteral("--json")});
    QCOMPARE(probe.exitCode, 0);
    QJsonObject oneShotProbe = QJsonDocument::fromJson(probe.out).object();
    // Live figures differ between two probes: free space, and the Syncthing processes of
    // tests running beside this one.
    for (QJsonObject *document : {&servedProbe, &oneShotProbe}) {
        document->remove(QStringLiteral("disk"));
        QJsonObject syncthing = document->value(QStringLiteral("syncthing")).toObject();
        syncthing.remove(QStringLiteral("processes"));
        document->insert(QStringLiteral("syncthing"), syncthing);
    }
    QCOMPARE(oneShotProbe, servedProbe);
    QVERIFY(probe.err.contains("probe: ")); // progress went to stderr, not stdout
}

void TestProtocolServe::oneShotExitCodesAndNonUtf8Paths()
{
    QCOMPARE(runOneShot({QStringLiteral("no-such-command")}).exitCode, 2);
    QCOMPARE(runOneShot({QStringLiteral("diag-sleep"), QStringLiteral("--bogus")}).exitCode, 2);
    QCOMPARE(runOneShot({}).exitCode, 2);
    QCOMPARE(runOneShot({QStringLiteral("--help")}).exitCode, 0);
    const OneShot help = runOneShot({QStringLiteral("probe"), QStringLiteral("--help")});
    QCOMPARE(help.exitCode, 0);
    QVERIFY(help.out.contains("usage: mailmesh-agent probe [PATH]"));

    // A non-UTF-8 path travels as bytes (argv is bytes; QProcess would re-encode it, so the
    // agent is started directly): the problem names it with its exact bytes in base64.
    const std::string raw("/nonexistent/caf\xe9");
    const auto [exitCode, out] = runWithRawArguments({"probe", raw, "--json"});
    QCOMPARE(exitCode, 2);
    const QJsonObject problem = QJsonDocument::fromJson(QByteArray::fromStdString(out)).object();
    QCOMPARE(codeOf(problem), QStringLiteral("not-found"));
    QCOMPARE(
        QByteArray::fromBase64(problem.value(QStringLiteral("pathBase64")).toString().toLatin1()),
        QByteArray::fromStdString(raw));
    QVERIFY(problem.value(QStringLiteral("path")).toString().endsWith(QStringLiteral("caf\uFFFD")));
}

// Issue #20: a dedupe whose answer is larger than a frame has done its work before it answers;
// the answer must still get through. Its actions arrive as items, each within the frame limit,
// and the result says what was streamed; nothing is lost and the exit code stays honest.
void TestProtocolServe::aLargeDedupeAnswerIsStreamed()
{
    QTemporaryDir dir;
    const QString root = dir.filePath(QStringLiteral("Maildir"));
    for (const char *sub : {"/cur", "/tmp"})
        QVERIFY(QDir().mkpath(root + QLatin1String(sub)));
    QVERIFY(QFile::link(QStringLiteral("cur"), root + QStringLiteral("/new")));
    // Long names make long actions: about 9,000 groups give more than 8 MiB of answer.
    const QString padding(220, QLatin1Char('x'));
    const int groups = 9000;
    for (int i = 0; i < groups; ++i) {
        const QByteArray body = "Message-ID: <" + QByteArray::number(i) + "@x>\n\nbody\n";
        for (const char *flags : {"S", "F"}) {
            QFile file(root + QStringLiteral("/cur/%1.M%1P1.%2:2,%3").arg(1700000000 + i).arg(padding, QLatin1String(flags)));
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(body);
        }
    }
    Agent agent;
    QVERIFY(agent.start());
    agent.send(request(QStringLiteral("big"), QStringLiteral("dedupe"),
                       {{QStringLiteral("root"), root}, {QStringLiteral("stateDir"), dir.filePath(QStringLiteral("state"))}}));
    const QJsonObject final = agent.finalOf(QStringLiteral("big"));
    QCOMPARE(typeOf(final), QStringLiteral("result"));
    const QJsonObject result = final.value(QStringLiteral("result")).toObject();
    QCOMPARE(result.value(QStringLiteral("groupsResolved")).toInt(), groups);
    QVERIFY(!result.contains(QStringLiteral("actions")));
    const QJsonObject streamed = result.value(QStringLiteral("streamed")).toObject();
    QCOMPARE(streamed.value(QStringLiteral("actionItems")).toInt(), 2 * groups);
    QCOMPARE(streamed.value(QStringLiteral("lists")).toObject().value(QStringLiteral("action")).toString(),
             QStringLiteral("actions"));
    int actions = 0;
    for (const QJsonObject &object : agent.framesOf(QStringLiteral("big")))
        if (typeOf(object) == QLatin1String("item") &&
            object.value(QStringLiteral("item")).toObject().value(QStringLiteral("action")).toObject().value(QStringLiteral("done")).toBool())
            ++actions;
    QCOMPARE(actions, 2 * groups);
    QVERIFY(agent.violations().isEmpty());
    // The one-shot form streams the same way (items as lines, then the result) and exits 0.
    const OneShot again = runOneShot({QStringLiteral("dupes"), root, QStringLiteral("--json")});
    QCOMPARE(again.exitCode, 0);
}

// Issue #24: the monitor's one call. Its answer is scan's folders and dupes' groups; a second
// request reuses the memo in the state dir (and writes nothing else, nowhere else), and a
// delivery costs one folder listing and one header read.
void TestProtocolServe::inventoryRemembersBetweenRequests()
{
    QTemporaryDir dir;
    const QString root = dir.filePath(QStringLiteral("Maildir"));
    const QString state = dir.filePath(QStringLiteral("state"));
    for (const QString &folder : {root, root + QStringLiteral("/.Sent"), root + QStringLiteral("/.Archive")}) {
        for (const char *sub : {"/cur", "/tmp"})
            QVERIFY(QDir().mkpath(folder + QLatin1String(sub)));
        QVERIFY(QFile::link(QStringLiteral("cur"), folder + QStringLiteral("/new")));
        if (folder != root) {
            QFile marker(folder + QStringLiteral("/maildirfolder"));
            QVERIFY(marker.open(QIODevice::WriteOnly));
        }
        for (int i = 0; i < 3; ++i) {
            QFile file(folder + QStringLiteral("/cur/%1.M%1P1.h:2,S").arg(1700000000 + i));
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write("Message-ID: <" + QByteArray::number(i) + "@x>\n\nbody\n");
        }
    }
    // A flag-divergent copy: one duplicate group.
    QVERIFY(QFile::copy(root + QStringLiteral("/cur/1700000000.M1700000000P1.h:2,S"),
                        root + QStringLiteral("/cur/1700000000.M1700000000P1.h:2,FS")));
    // Directory stamps younger than 2 s are not trusted (the racy rule): let them age once.
    QTest::qWait(2100);

    Agent agent;
    QVERIFY(agent.start());
    const QJsonObject params{{QStringLiteral("root"), root}, {QStringLiteral("stateDir"), state}};
    const auto inventory = [&](const QString &id) {
        agent.send(request(id, QStringLiteral("inventory"), params));
        const QJsonObject final = agent.finalOf(id);
        if (typeOf(final) != QLatin1String("result"))
            qWarning("%s", QJsonDocument(final).toJson().constData());
        return final.value(QStringLiteral("result")).toObject();
    };
    const auto work = [](const QJsonObject &result, const char *key) {
        return result.value(QStringLiteral("work")).toObject().value(QLatin1String(key)).toInt(-1);
    };
    const QJsonObject first = inventory(QStringLiteral("i1"));
    QCOMPARE(work(first, "foldersRead"), 3);
    QCOMPARE(work(first, "headersRead"), 10);
    QCOMPARE(first.value(QStringLiteral("groups")).toArray().size(), 1);
    QVERIFY(QFile::exists(state + QStringLiteral("/inventory/summary")));

    // The same folders and groups as scan and dupes.
    const QJsonObject scan = QJsonDocument::fromJson(runOneShot({QStringLiteral("scan"), root, QStringLiteral("--json")}).out).object();
    const QJsonObject dupes = QJsonDocument::fromJson(runOneShot({QStringLiteral("dupes"), root, QStringLiteral("--json")}).out).object();
    QCOMPARE(first.value(QStringLiteral("folders")), scan.value(QStringLiteral("folders")));
    QCOMPARE(first.value(QStringLiteral("totals")), scan.value(QStringLiteral("totals")));
    // dupes also describes each group by its first copy's header (protocol.md); the rest is equal.
    QJsonArray dupesGroups;
    for (const QJsonValue &group : dupes.value(QStringLiteral("groups")).toArray()) {
        QJsonObject withoutHeaders = group.toObject();
        QVERIFY(withoutHeaders.value(QStringLiteral("headers")).isObject());
        withoutHeaders.remove(QStringLiteral("headers"));
        dupesGroups.append(withoutHeaders);
    }
    QCOMPARE(first.value(QStringLiteral("groups")).toArray(), dupesGroups);

    const QJsonObject second = inventory(QStringLiteral("i2"));
    QCOMPARE(work(second, "foldersReused"), 3);
    QCOMPARE(work(second, "foldersRead"), 0);
    QCOMPARE(work(second, "headersRead"), 0);
    QCOMPARE(work(second, "memoFilesWritten"), 0);
    QCOMPARE(second.value(QStringLiteral("folders")), first.value(QStringLiteral("folders")));
    QCOMPARE(second.value(QStringLiteral("groups")), first.value(QStringLiteral("groups")));

    QFile delivered(root + QStringLiteral("/.Sent/cur/1700000100.M100P1.h:2,"));
    QVERIFY(delivered.open(QIODevice::WriteOnly));
    delivered.write("Message-ID: <100@x>\n\nnew\n");
    delivered.close();
    const QJsonObject third = inventory(QStringLiteral("i3"));
    QCOMPARE(work(third, "foldersRead"), 1);
    QCOMPARE(work(third, "headersRead"), 1);
    QCOMPARE(third.value(QStringLiteral("totals")).toObject().value(QStringLiteral("curMessages")).toInt(), 11);
    QVERIFY(agent.violations().isEmpty());

    // Nothing below ROOT but the mail itself.
    QDirIterator it(root, QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QVERIFY2(!path.contains(QStringLiteral("inventory")) && !path.contains(QStringLiteral(".memo")), qPrintable(path));
    }
}

QTEST_GUILESS_MAIN(TestProtocolServe)
#include "tst_protocolserve.moc"
