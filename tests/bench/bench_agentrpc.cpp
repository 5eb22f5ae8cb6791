// What the persistent session buys: an agent RPC round trip over the running `serve` (one
// ssh master, one agent process) against a fresh `ssh node true` per command, measured in the
// same run on a sandbox node. Prints the figures and their ratio (goal: at least 50x); asserts
// nothing about time.

#include "remote/agentcall.h"
#include "remote/agentclient.h"
#include "remote/sshsession.h"
#include "sandbox/sandbox.h"

#include <QElapsedTimer>
#include <QProcess>
#include <QSignalSpy>
#include <QTest>

#include <memory>

using namespace mm;
using namespace mm::remote;

class BenchAgentRpc : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rpcAgainstFreshSsh()
    {
        const int rpcRounds = qEnvironmentVariableIntValue("MAILMESH_BENCH_RPC_ROUNDS") > 0
                                  ? qEnvironmentVariableIntValue("MAILMESH_BENCH_RPC_ROUNDS")
                                  : 500;
        const int sshRounds = qEnvironmentVariableIntValue("MAILMESH_BENCH_SSH_ROUNDS") > 0
                                  ? qEnvironmentVariableIntValue("MAILMESH_BENCH_SSH_ROUNDS")
                                  : 30;

        sandbox::SandboxOptions sandboxOptions;
        sandboxOptions.nodeCount = 1;
        sandbox::Sandbox sandbox(sandboxOptions);
        const Status started = sandbox.start();
        QVERIFY2(started.has_value(), started ? "" : started.error().message.c_str());

        SshOptions o;
        o.configFile = sandbox.sshConfigFile();
        o.knownHostsFile = sandbox.dir() + QStringLiteral("/mailmesh_known_hosts");
        o.readKnownHostsFiles = {sandbox.knownHostsFile()};
        SshSession session(SshAddress::parse(sandbox.node(0).id).value(), o);
        QSignalSpy connected(&session, &SshSession::connected);
        session.connectToHost();
        QVERIFY(connected.wait(30000));

        AgentClient::Options agentOptions;
        agentOptions.agentBinary =
            QStringLiteral(MAILMESH_BUILD_DIR "/app/mailmesh-agent/mailmesh-agent");
        agentOptions.forbiddenRoots = {sandbox.node(0).mailRoot};
        AgentClient agent(&session, agentOptions);
        QSignalSpy ready(&agent, &AgentClient::ready);
        agent.start();
        QVERIFY(ready.wait(120000));

        const auto roundTrip = [&](AgentCall *call) {
            QSignalSpy finished(call, &AgentCall::finished);
            const bool ok = call->isFinished() || finished.wait(30000);
            const bool good = ok && call->result().has_value();
            delete call;
            return good;
        };
        // Warm up both paths once.
        QVERIFY(roundTrip(
            agent.call(QStringLiteral("diag-sleep"), {{QStringLiteral("milliseconds"), 0}})));

        QElapsedTimer timer;
        timer.start();
        for (int i = 0; i < rpcRounds; ++i)
            QVERIFY(roundTrip(
                agent.call(QStringLiteral("diag-sleep"), {{QStringLiteral("milliseconds"), 0}})));
        const double rpcMs = double(timer.nsecsElapsed()) / 1e6 / rpcRounds;

        timer.restart();
        for (int i = 0; i < rpcRounds; ++i)
            QVERIFY(roundTrip(agent.ping()));
        const double pingMs = double(timer.nsecsElapsed()) / 1e6 / rpcRounds;

        const int muxRounds = sshRounds;
        timer.restart();
        for (int i = 0; i < muxRounds; ++i) {
            SshCommand *command = session.run({QStringLiteral("true")});
            QSignalSpy finished(command, &SshCommand::finished);
            QVERIFY(finished.wait(30000));
            QVERIFY(command->result().has_value());
            delete command;
        }
        const double muxMs = double(timer.nsecsElapsed()) / 1e6 / muxRounds;

        // The baseline: what a tool without a persistent session pays per command.
        timer.restart();
        for (int i = 0; i < sshRounds; ++i) {
            QProcess ssh;
            ssh.start(QStringLiteral("ssh"), sandbox.sshArguments(0) << QStringLiteral("true"));
            QVERIFY(ssh.waitForFinished(30000));
            QCOMPARE(ssh.exitCode(), 0);
        }
        const double freshMs = double(timer.nsecsElapsed()) / 1e6 / sshRounds;

        const QByteArray report =
            QStringLiteral("agent RPC round trip (diag-sleep 0, %1 rounds): %2 ms\n"
                           "agent ping frame round trip (%1 rounds):         %3 ms\n"
                           "command over the ssh master (%4 rounds):        %5 ms\n"
                           "fresh `ssh node true` (%6 rounds, baseline):      %7 ms\n"
                           "ratio fresh ssh / agent RPC: %8x (goal >= 50x); fresh ssh / ping: %9x; "
                           "fresh ssh / mux command: %10x\n")
                .arg(rpcRounds)
                .arg(rpcMs, 0, 'f', 3)
                .arg(pingMs, 0, 'f', 3)
                .arg(muxRounds)
                .arg(muxMs, 0, 'f', 3)
                .arg(sshRounds)
                .arg(freshMs, 0, 'f', 3)
                .arg(freshMs / rpcMs, 0, 'f', 1)
                .arg(freshMs / pingMs, 0, 'f', 1)
                .arg(freshMs / muxMs, 0, 'f', 1)
                .toUtf8();
        fputs(report.constData(), stdout);
        fflush(stdout);
        agent.stop();
    }
};

QTEST_GUILESS_MAIN(BenchAgentRpc)
#include "bench_agentrpc.moc"
