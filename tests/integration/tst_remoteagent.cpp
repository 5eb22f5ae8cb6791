// AgentClient against sandbox nodes: the build tree's mailmesh-agent deployed over real ssh,
// started with `serve`, and driven through the protocol (probe, scan, progress, cancel), plus
// the refusals (architecture, cache inside the mail root, wrong version) and a master killed in
// the middle of a long call.

#include "remote/agentcall.h"
#include "remote/agentclient.h"
#include "remote/sshsession.h"
#include "sandbox/sandbox.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTest>

#include <csignal>
#include <memory>

using namespace mm;
using namespace mm::remote;

namespace {

const QString kAgent = QStringLiteral(MAILMESH_BUILD_DIR "/app/mailmesh-agent/mailmesh-agent");

} // namespace

class TestRemoteAgent : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<sandbox::Sandbox> m_sandbox;
    std::vector<std::unique_ptr<SshSession>> m_sessions;

    AgentClient::Options agentOptions(int index) const
    {
        AgentClient::Options o;
        o.agentBinary = kAgent;
        o.runAs = m_sandbox->node(index).mailUser;
        o.forbiddenRoots = {m_sandbox->node(index).mailRoot};
        return o;
    }

    static Error startExpectingFailure(AgentClient &agent)
    {
        QSignalSpy failed(&agent, &AgentClient::failed);
        QSignalSpy ready(&agent, &AgentClient::ready);
        agent.start();
        if (!failed.wait(120000))
            return Error{
                ErrorCode::InternalError, ready.isEmpty() ? "no answer" : "it started", {}};
        return failed.first().first().value<mm::Error>();
    }

    static bool start(AgentClient &agent)
    {
        QSignalSpy ready(&agent, &AgentClient::ready);
        QSignalSpy failed(&agent, &AgentClient::failed);
        agent.start();
        if (!ready.wait(120000)) {
            if (!failed.isEmpty())
                qWarning("%s", failed.first().first().value<mm::Error>().message.c_str());
            return false;
        }
        return true;
    }

    static Result<QJsonObject> finish(AgentCall *call)
    {
        QSignalSpy finished(call, &AgentCall::finished);
        if (!call->isFinished() && !finished.wait(120000))
            return fail(ErrorCode::Timeout, "the call did not finish");
        Result<QJsonObject> result = call->result();
        call->deleteLater();
        return result;
    }

    Result<SshCommand::Output> run(int index, const QStringList &argv)
    {
        SshCommand *command = m_sessions[index]->run(argv);
        QSignalSpy finished(command, &SshCommand::finished);
        if (!finished.wait(30000))
            return fail(ErrorCode::Timeout, "command did not finish");
        Result<SshCommand::Output> result = command->result();
        delete command;
        return result;
    }

    bool connect(int index)
    {
        QSignalSpy connected(m_sessions[index].get(), &SshSession::connected);
        m_sessions[index]->connectToHost();
        return connected.wait(30000);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(QFileInfo(kAgent).isExecutable(), qPrintable(kAgent));
        m_sandbox = std::make_unique<sandbox::Sandbox>();
        const Status started = m_sandbox->start();
        QVERIFY2(started.has_value(), started ? "" : started.error().message.c_str());
        for (int i = 0; i < 3; ++i) {
            SshOptions o;
            o.configFile = m_sandbox->sshConfigFile();
            o.knownHostsFile = m_sandbox->dir() + QStringLiteral("/mailmesh_known_hosts");
            o.readKnownHostsFiles = {m_sandbox->knownHostsFile()}; // the admin's, already trusted
            m_sessions.push_back(
                std::make_unique<SshSession>(SshAddress::parse(m_sandbox->node(i).id).value(), o));
            QVERIFY(connect(i));
        }
    }

    void deploysOnceThenReuses()
    {
        // The sandbox nodes share one local account, so its cache may hold an agent from an
        // earlier run: start from nothing.
        QVERIFY(run(0, {QStringLiteral("sh"), QStringLiteral("-c"),
                        QStringLiteral("rm -rf \"$HOME/.cache/mailmesh\"")})
                    .has_value());
        const QString hash = AgentClient::sha256OfFile(kAgent).value();
        {
            AgentClient agent(m_sessions[0].get(), agentOptions(0));
            QVERIFY(start(agent));
            QVERIFY(agent.uploaded());
            QVERIFY2(agent.remotePath().endsWith(QStringLiteral("/.cache/mailmesh/agent-") + hash),
                     qPrintable(agent.remotePath()));
            QCOMPARE(agent.architecture(), QStringLiteral("x86_64"));
            QVERIFY(agent.hello()
                        .value(QLatin1String("commands"))
                        .toArray()
                        .contains(QStringLiteral("probe")));
            // Checked on the node: the hash of what landed, and no temporary upload left over.
            const auto listing = run(
                0, {QStringLiteral("sh"), QStringLiteral("-c"),
                    QStringLiteral("cd \"$HOME/.cache/mailmesh\" && ls -A && sha256sum agent-*")});
            QVERIFY(listing.has_value());
            QCOMPARE(QString::fromUtf8(listing->standardOutput),
                     QStringLiteral("agent-%1\n%1  agent-%1\n").arg(hash));
            agent.stop();
        }
        AgentClient again(m_sessions[0].get(), agentOptions(0));
        QVERIFY(start(again));
        QVERIFY(!again.uploaded());
        QVERIFY(finish(again.ping()).has_value());
    }

    void probeAndScanThroughRpcOnThreeNodes()
    {
        for (int i = 0; i < 3; ++i) {
            AgentClient agent(m_sessions[i].get(), agentOptions(i));
            QVERIFY(start(agent));
            AgentCall *probe = agent.call(QStringLiteral("probe"),
                                          {{QStringLiteral("path"), m_sandbox->node(i).mailRoot}});
            QSignalSpy progress(probe, &AgentCall::progress);
            const auto report = finish(probe);
            QVERIFY2(report.has_value(), report ? "" : report.error().message.c_str());
            QCOMPARE(report->value(QLatin1String("architecture")).toString(),
                     QStringLiteral("x86_64"));
            QCOMPARE(report->value(QLatin1String("disk"))
                         .toObject()
                         .value(QLatin1String("path"))
                         .toString(),
                     m_sandbox->node(i).mailRoot);
            QVERIFY(report->value(QLatin1String("syncthing"))
                        .toObject()
                        .value(QLatin1String("found"))
                        .toBool());
            QVERIFY(progress.count() >= 1);

            const auto scan = finish(agent.call(
                QStringLiteral("scan"), {{QStringLiteral("root"), m_sandbox->node(i).mailRoot}}));
            QVERIFY2(scan.has_value(), scan ? "" : scan.error().message.c_str());
            QCOMPARE(scan->value(QLatin1String("schemaVersion")).toInt(), 1);

            const auto missing =
                finish(agent.call(QStringLiteral("probe"),
                                  {{QStringLiteral("path"), QStringLiteral("/no/such/dir")}}));
            QCOMPARE(missing.error().code, ErrorCode::NotFound);
            agent.stop();
        }
    }

    void progressThenCancel()
    {
        AgentClient agent(m_sessions[1].get(), agentOptions(1));
        QVERIFY(start(agent));
        AgentCall *call =
            agent.call(QStringLiteral("diag-sleep"), {{QStringLiteral("milliseconds"), 60000}});
        QSignalSpy progress(call, &AgentCall::progress);
        QVERIFY(progress.wait(10000));
        QCOMPARE(progress.first().at(1).toLongLong(), 60000);
        call->cancel();
        const auto result = finish(call);
        QCOMPARE(result.error().code, ErrorCode::Cancelled);
        QVERIFY(finish(agent.ping()).has_value()); // the agent is still there
    }

    void killingTheMasterMidCallGivesACleanErrorAndReconnectWorks()
    {
        AgentClient agent(m_sessions[2].get(), agentOptions(2));
        QVERIFY(start(agent));
        QSignalSpy disconnected(&agent, &AgentClient::disconnected);
        AgentCall *call =
            agent.call(QStringLiteral("diag-sleep"), {{QStringLiteral("milliseconds"), 60000}});
        QSignalSpy progress(call, &AgentCall::progress);
        QVERIFY(progress.wait(10000));
        ::kill(static_cast<pid_t>(m_sessions[2]->masterProcessId()), SIGKILL);
        const auto result = finish(call);
        QVERIFY(!result.has_value());
        QCOMPARE(result.error().code, ErrorCode::Unreachable);
        QVERIFY(disconnected.count() == 1 || disconnected.wait(10000));
        QCOMPARE(agent.state(), AgentClient::State::Idle);
        QVERIFY(!finish(agent.call(QStringLiteral("probe"))).has_value());

        QTRY_COMPARE(m_sessions[2]->state(), SshSession::State::Disconnected);
        QVERIFY(connect(2));
        QVERIFY(start(agent));
        QVERIFY(!agent.uploaded());
        QVERIFY(finish(agent.call(QStringLiteral("probe"))).has_value());
    }

    // A cache that would be replicated (the user's home inside the mail root, as vmail's is on
    // real virtual-user nodes) moves to the user's own /var/tmp/mailmesh-agent-<uid>; when that
    // is replicated too, the agent is refused.
    void aCacheInsideTheMailRootMovesOrIsRefused()
    {
        const auto home = run(
            0, {QStringLiteral("sh"), QStringLiteral("-c"), QStringLiteral("printf %s \"$HOME\"")});
        QVERIFY(home.has_value());
        const QString homeDir = QString::fromUtf8(home->standardOutput);
        {
            AgentClient::Options o = agentOptions(0);
            o.forbiddenRoots << homeDir; // as if the home were replicated
            AgentClient agent(m_sessions[0].get(), o);
            QVERIFY(start(agent));
            QVERIFY2(agent.remotePath().startsWith(QStringLiteral("/var/tmp/mailmesh-agent-")),
                     qPrintable(agent.remotePath()));
            QVERIFY(finish(agent.call(QStringLiteral("probe"))).has_value());
        }
        AgentClient::Options o = agentOptions(0);
        o.forbiddenRoots << homeDir << QStringLiteral("/var/tmp");
        AgentClient agent(m_sessions[0].get(), o);
        const Error error = startExpectingFailure(agent);
        QCOMPARE(error.code, ErrorCode::UnsafePath);
        QVERIFY2(QString::fromStdString(error.message).contains(QStringLiteral("/var/tmp")), error.message.c_str());
    }

    void refusesAnArchitectureWeDoNotShip()
    {
        AgentClient::Options o = agentOptions(0);
        o.architectures = {QStringLiteral("riscv64")};
        AgentClient agent(m_sessions[0].get(), o);
        const Error error = startExpectingFailure(agent);
        QCOMPARE(error.code, ErrorCode::Unsupported);
        QVERIFY2(QString::fromStdString(error.message).contains(QLatin1String("x86_64")),
                 error.message.c_str());
    }

    void aVersionMismatchRedeploysOnce()
    {
        AgentClient::Options o = agentOptions(0);
        o.expectedVersion = QStringLiteral("99.0.0");
        AgentClient agent(m_sessions[0].get(), o);
        const Error error = startExpectingFailure(agent);
        QCOMPARE(error.code, ErrorCode::Unsupported);
        QVERIFY(agent.uploaded()); // it removed and uploaded the binary again before giving up
        const QString message = QString::fromStdString(error.message);
        QVERIFY2(message.contains(QLatin1String("99.0.0")) &&
                     message.contains(QLatin1String(MAILMESH_VERSION)),
                 qPrintable(message));
    }

    void cleanupTestCase()
    {
        m_sessions.clear();
        m_sandbox.reset();
    }
};

QTEST_GUILESS_MAIN(TestRemoteAgent)
#include "tst_remoteagent.moc"
