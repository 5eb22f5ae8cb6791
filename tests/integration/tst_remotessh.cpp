// SshSession against the real sshd of three sandbox nodes (core/sandbox): host keys from
// unknown to accepted to changed, commands, run-as refusals, cancel, the master going away.

#include "remote/sshsession.h"
#include "sandbox/sandbox.h"

#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <memory>

using namespace mm;
using namespace mm::remote;

class TestRemoteSsh : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<sandbox::Sandbox> m_sandbox;
    QTemporaryDir m_dir;

    SshOptions options() const
    {
        SshOptions o;
        o.configFile = m_sandbox->sshConfigFile();
        o.knownHostsFile =
            m_dir.filePath(QStringLiteral("known_hosts")); // Mailmesh's own, empty at first
        o.connectTimeoutSeconds = 10;
        return o;
    }

    std::unique_ptr<SshSession> session(int index) const
    {
        return std::make_unique<SshSession>(SshAddress::parse(m_sandbox->node(index).id).value(),
                                            options());
    }

    static Error connectExpectingFailure(SshSession &session)
    {
        QSignalSpy failed(&session, &SshSession::connectFailed);
        QSignalSpy connected(&session, &SshSession::connected);
        session.connectToHost();
        if (!failed.wait(30000))
            return Error{
                ErrorCode::InternalError, connected.isEmpty() ? "no answer" : "connected", {}};
        return failed.first().first().value<mm::Error>();
    }

    static bool connect(SshSession &session)
    {
        QSignalSpy connected(&session, &SshSession::connected);
        QSignalSpy failed(&session, &SshSession::connectFailed);
        session.connectToHost();
        if (!connected.wait(30000)) {
            if (!failed.isEmpty())
                qWarning("%s", failed.first().first().value<mm::Error>().message.c_str());
            return false;
        }
        return true;
    }

    static Result<SshCommand::Output> run(SshSession &session, const QStringList &argv,
                                          SshCommand::Options o = {})
    {
        SshCommand *command = session.run(argv, std::move(o));
        QSignalSpy finished(command, &SshCommand::finished);
        if (!finished.wait(30000))
            return fail(ErrorCode::Timeout, "command did not finish");
        Result<SshCommand::Output> result = command->result();
        delete command;
        return result;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_sandbox = std::make_unique<sandbox::Sandbox>();
        const Status started = m_sandbox->start();
        QVERIFY2(started.has_value(), started ? "" : started.error().message.c_str());
    }

    void unknownKeysAreShownThenAcceptedOnThreeNodes()
    {
        for (int i = 0; i < 3; ++i) {
            auto s = session(i);
            const Error error = connectExpectingFailure(*s);
            QCOMPARE(error.code, ErrorCode::UnknownHostKey);
            QVERIFY(s->offeredHostKey().has_value());
            const HostKey key = *s->offeredHostKey();
            // The key the server really offered, as ssh-keygen -l prints it on the node.
            QCOMPARE(key.fingerprint(), m_sandbox->node(i).sshHostKeyFingerprint);
            QVERIFY2(QString::fromStdString(error.message).contains(key.fingerprint()),
                     error.message.c_str());
            QCOMPARE(key.hostName,
                     QStringLiteral("[127.0.0.1]:%1").arg(m_sandbox->node(i).sshPort));
            QVERIFY(s->acceptHostKey(key).has_value());
            QVERIFY(connect(*s));
            QCOMPARE(s->state(), SshSession::State::Connected);
            QCOMPARE(s->loginUser(), m_sandbox->node(i).sshUser);
        }
    }

    void commandsKeepTheirArguments()
    {
        auto s = session(1);
        QVERIFY(connect(*s));
        const auto echoed =
            run(*s, {QStringLiteral("printf"), QStringLiteral("%s|"), QStringLiteral("a b"),
                     QStringLiteral("$HOME"), QStringLiteral("it's"), QStringLiteral(";id")});
        QVERIFY2(echoed.has_value(), echoed ? "" : echoed.error().message.c_str());
        QCOMPARE(echoed->standardOutput, QByteArray("a b|$HOME|it's|;id|"));
        const auto failing = run(*s, {QStringLiteral("sh"), QStringLiteral("-c"),
                                      QStringLiteral("echo oops >&2; exit 7")});
        QVERIFY(failing.has_value());
        QCOMPARE(failing->exitCode, 7);
        QCOMPARE(failing->standardError, QByteArray("oops\n"));
        const auto input = [&] {
            SshCommand::Options o;
            o.input = "through stdin";
            return run(*s, {QStringLiteral("cat")}, o);
        }();
        QCOMPARE(input->standardOutput, QByteArray("through stdin"));
    }

    void runAsWithoutPermissionIsAClearError()
    {
        auto s = session(0);
        QVERIFY(connect(*s));
        SshCommand::Options asRoot;
        asRoot.runAs = QStringLiteral("root");
        const auto refused = run(*s, {QStringLiteral("id")}, asRoot);
        QVERIFY(!refused.has_value());
        // No sudo on the node, or sudo asking for a password: either way a clear refusal.
        QVERIFY2(refused.error().code == ErrorCode::Unsupported ||
                     refused.error().code == ErrorCode::AccessDenied,
                 refused.error().message.c_str());
        SshCommand::Options asSelf;
        asSelf.runAs = s->loginUser(); // running as oneself needs no sudo at all
        const auto self = run(*s, {QStringLiteral("id"), QStringLiteral("-un")}, asSelf);
        QVERIFY(self.has_value());
        QCOMPARE(QString::fromUtf8(self->standardOutput.trimmed()), s->loginUser());
    }

    void commandsCanBeCancelled()
    {
        auto s = session(0);
        QVERIFY(connect(*s));
        SshCommand *command = s->run({QStringLiteral("sleep"), QStringLiteral("60")});
        QSignalSpy started(command, &SshCommand::started);
        QVERIFY(started.wait(10000));
        QSignalSpy finished(command, &SshCommand::finished);
        command->cancel();
        QVERIFY(finished.count() == 1 || finished.wait(10000));
        QCOMPARE(command->result().error().code, ErrorCode::Cancelled);
        // The session is unaffected.
        QVERIFY(run(*s, {QStringLiteral("true")}).has_value());
    }

    void losingTheMasterIsReportedAndReconnectWorks()
    {
        auto s = session(2);
        QVERIFY(connect(*s));
        QSignalSpy disconnected(s.get(), &SshSession::disconnected);
        SshCommand *longCommand = s->run({QStringLiteral("sleep"), QStringLiteral("60")});
        QSignalSpy longFinished(longCommand, &SshCommand::finished);
        QTest::qWait(300);
        ::kill(static_cast<pid_t>(s->masterProcessId()), SIGKILL);
        QVERIFY(disconnected.wait(10000));
        QCOMPARE(disconnected.first().first().value<mm::Error>().code, ErrorCode::Unreachable);
        QVERIFY(longFinished.count() == 1 || longFinished.wait(10000));
        QVERIFY(!longCommand->result().has_value());
        QCOMPARE(s->state(), SshSession::State::Disconnected);
        QVERIFY(
            !run(*s, {QStringLiteral("true")}).has_value()); // fails fast, no silent new connection
        QVERIFY(connect(*s)); // the stale socket of the killed master is cleared
        QVERIFY(run(*s, {QStringLiteral("true")}).has_value());
    }

    void tunnelsAreAddedAndRemoved()
    {
        auto s = session(0);
        QVERIFY(connect(*s));
        quint16 port = 0;
        s->addForward(QStringLiteral("127.0.0.1"), m_sandbox->node(0).syncthingGuiPort, this,
                      [&](Result<quint16> local) { port = local ? *local : 1; });
        QTRY_VERIFY(port != 0);
        QVERIFY(port != 1);
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, port);
        QVERIFY(socket.waitForConnected(5000));
        socket.write("GET /rest/system/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: "
                     "close\r\nX-API-Key: " +
                     m_sandbox->node(0).syncthingApiKey.toUtf8() + "\r\n\r\n");
        QByteArray answer;
        QTRY_VERIFY((answer += socket.readAll()).contains("pong"));
        s->removeForward(port);
        QTRY_VERIFY_WITH_TIMEOUT(
            [&] {
                QTcpSocket probe;
                probe.connectToHost(QHostAddress::LocalHost, port);
                return !probe.waitForConnected(500);
            }(),
            10000);
    }

    // A key with a passphrase and no agent: refused with a message that says what to do, then
    // accepted through the app's askpass helper (SSH_ASKPASS_REQUIRE=force).
    void passphraseKeysGoThroughAskpass()
    {
        const sandbox::NodeInfo node = m_sandbox->node(1);
        const QString key = m_dir.filePath(QStringLiteral("passphrase_key"));
        QProcess keygen;
        keygen.start(QStringLiteral("ssh-keygen"),
                     {QStringLiteral("-q"), QStringLiteral("-t"), QStringLiteral("ed25519"),
                      QStringLiteral("-N"), QStringLiteral("two words"), QStringLiteral("-f"),
                      key});
        QVERIFY(keygen.waitForFinished(10000) && keygen.exitCode() == 0);
        QFile publicKey(key + QStringLiteral(".pub"));
        QVERIFY(publicKey.open(QIODevice::ReadOnly));
        QFile authorized(QFileInfo(node.sshdConfigFile).absolutePath() +
                         QStringLiteral("/authorized_keys"));
        QVERIFY2(authorized.open(QIODevice::Append), qPrintable(authorized.fileName()));
        authorized.write(publicKey.readAll());
        authorized.close();

        QFile config(m_dir.filePath(QStringLiteral("passphrase_config")));
        QVERIFY(config.open(QIODevice::WriteOnly));
        config.write(
            QStringLiteral(
                "Host pass\n  HostName 127.0.0.1\n  Port %1\n  User %2\n  IdentityFile %3\n"
                "  IdentitiesOnly yes\n  IdentityAgent none\n")
                .arg(node.sshPort)
                .arg(node.sshUser, key)
                .toUtf8());
        config.close();
        SshOptions o;
        o.configFile = config.fileName();
        o.knownHostsFile = m_dir.filePath(QStringLiteral("known_hosts"));
        o.readKnownHostsFiles = {m_sandbox->knownHostsFile()};

        SshSession withoutHelper(SshAddress::parse(QStringLiteral("pass")).value(), o);
        const Error refused = connectExpectingFailure(withoutHelper);
        QCOMPARE(refused.code, ErrorCode::AccessDenied);
        QVERIFY2(QString::fromStdString(refused.message).contains(QLatin1String("askpass")),
                 refused.message.c_str());

        QFile askpass(m_dir.filePath(QStringLiteral("askpass")));
        QVERIFY(askpass.open(QIODevice::WriteOnly));
        askpass.write("#!/bin/sh\necho 'two words'\n");
        askpass.close();
        askpass.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        o.askpassProgram = askpass.fileName();
        SshSession withHelper(SshAddress::parse(QStringLiteral("pass")).value(), o);
        QVERIFY(connect(withHelper));
        QVERIFY(run(withHelper, {QStringLiteral("true")}).has_value());
    }

    // The admin's own setup keeps working: node3 reached through node1 with ProxyJump, its key
    // captured as offered by node3 itself (which ssh-keyscan could not do), then accepted.
    // A ProxyJump hop's host key as a known_hosts entry, read from the sandbox node.
    HostKey hopKey(int index) const
    {
        const sandbox::NodeInfo hop = m_sandbox->node(index);
        QFile file(hop.sshHostKeyFile);
        if (!file.open(QIODevice::ReadOnly))
            return {};
        const auto key = HostKey::fromKnownHostsLine(
            QStringLiteral("[127.0.0.1]:%1 ").arg(hop.sshPort) + QString::fromUtf8(file.readAll()));
        return key ? *key : HostKey();
    }

    // An admin config that reaches node 3 through node 1 and asks every host for a LocalCommand.
    QString jumpConfig(const QString &marker) const
    {
        const sandbox::NodeInfo target = m_sandbox->node(2);
        QFile config(m_dir.filePath(QStringLiteral("jump_config")));
        if (!config.open(QIODevice::WriteOnly))
            return {};
        // The Include comes first: inside a Host block it would only apply to that host.
        config.write(QStringLiteral(
                         "Include %5\n\nHost viajump\n  HostName 127.0.0.1\n  Port %1\n  User %2\n"
                         "  IdentityFile %3\n  IdentitiesOnly yes\n  ProxyJump %4\n\n"
                         "Host *\n  PermitLocalCommand yes\n  LocalCommand touch %6\n")
                         .arg(target.sshPort)
                         .arg(target.sshUser, m_sandbox->identityFile(), m_sandbox->node(0).id,
                              m_sandbox->sshConfigFile(), marker)
                         .toUtf8());
        return config.fileName();
    }

    void proxyJumpKeepsWorking()
    {
        const sandbox::NodeInfo target = m_sandbox->node(2);
        const QString marker = m_dir.filePath(QStringLiteral("local-command-ran"));
        SshOptions o;
        o.configFile = jumpConfig(marker);
        o.knownHostsFile = m_dir.filePath(QStringLiteral("jump_known_hosts"));
        SshSession session(SshAddress::parse(QStringLiteral("viajump")).value(), o);
        // The hop's key is checked against Mailmesh's known_hosts too, though the admin's config
        // points the jump host at another file: unknown, refused.
        const Error hopUnknown = connectExpectingFailure(session);
        QVERIFY2(hopUnknown.code == ErrorCode::UnknownHostKey, hopUnknown.message.c_str());
        QVERIFY(!session.offeredHostKey().has_value()); // the node itself was never reached
        QVERIFY(session.acceptHostKey(hopKey(0)).has_value());
        const Error unknown = connectExpectingFailure(session);
        QVERIFY2(unknown.code == ErrorCode::UnknownHostKey, unknown.message.c_str());
        QCOMPARE(session.offeredHostKey()->fingerprint(), target.sshHostKeyFingerprint);
        QVERIFY(session.acceptHostKey(*session.offeredHostKey()).has_value());
        QVERIFY(connect(session));
        // The key ssh used is the node's (behind the hop), not the hop's.
        QCOMPARE(session.connectedHostKey()->fingerprint(), target.sshHostKeyFingerprint);
        const auto where = run(session, {QStringLiteral("sh"), QStringLiteral("-c"),
                                         QStringLiteral("echo $SSH_CONNECTION")});
        QVERIFY(where.has_value());
        QVERIFY2(where->standardOutput.trimmed().endsWith(QByteArray::number(target.sshPort)),
                 where->standardOutput.constData());
        // Neither the master nor the hop's ssh ran the config's LocalCommand.
        QVERIFY(!QFile::exists(marker));

        // The same config with plain ssh runs it: the check above can see it happen.
        QProcess plain;
        plain.start(QStringLiteral("ssh"),
                    {QStringLiteral("-F"), o.configFile, QStringLiteral("-o"),
                     QStringLiteral("UserKnownHostsFile=") + o.knownHostsFile,
                     QStringLiteral("viajump"), QStringLiteral("true")});
        QVERIFY(plain.waitForFinished(30000));
        QVERIFY2(QFile::exists(marker), plain.readAllStandardError().constData());
    }

    // The pin is the key the node offers, whatever known_hosts file vouched for it.
    void aKeyOtherThanThePinnedOneIsRefused()
    {
        // Node 2's key is trusted through the admin's known_hosts (read-only for Mailmesh)...
        SshOptions o = options();
        o.knownHostsFile = m_dir.filePath(QStringLiteral("pin_known_hosts"));
        o.readKnownHostsFiles = {m_sandbox->knownHostsFile()};
        const QString wrong = QStringLiteral("SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        o.pinnedHostKey = wrong;
        SshSession pinned(SshAddress::parse(m_sandbox->node(1).id).value(), o);
        const Error refused = connectExpectingFailure(pinned);
        QVERIFY2(refused.code == ErrorCode::ChangedHostKey, refused.message.c_str());
        const QString message = QString::fromStdString(refused.message);
        QVERIFY2(message.contains(wrong), refused.message.c_str());
        QVERIFY2(message.contains(m_sandbox->node(1).sshHostKeyFingerprint),
                 refused.message.c_str());
        QCOMPARE(pinned.state(), SshSession::State::Disconnected);

        // ...and with the right pin, the same connection is fine and reports that key.
        o.pinnedHostKey = m_sandbox->node(1).sshHostKeyFingerprint;
        SshSession right(SshAddress::parse(m_sandbox->node(1).id).value(), o);
        QVERIFY(connect(right));
        QCOMPARE(right.connectedHostKey()->fingerprint(), m_sandbox->node(1).sshHostKeyFingerprint);
    }

    void disconnectStopsTheMasterAndItsTunnels()
    {
        auto s = session(1);
        QVERIFY(connect(*s));
        quint16 port = 0;
        s->addForward(QStringLiteral("127.0.0.1"), m_sandbox->node(1).syncthingGuiPort, this,
                      [&](Result<quint16> local) { port = local ? *local : 1; });
        QTRY_VERIFY(port != 0 && port != 1);
        const qint64 master = s->masterProcessId();
        QVERIFY(master > 0);
        QSignalSpy disconnected(s.get(), &SshSession::disconnected);
        s->disconnectFromHost();
        QCOMPARE(s->state(), SshSession::State::Disconnected);
        QTRY_VERIFY(::kill(static_cast<pid_t>(master), 0) != 0); // the master process is gone
        QTcpSocket probe;
        probe.connectToHost(QHostAddress::LocalHost, port);
        QVERIFY(!probe.waitForConnected(1000));
        QCOMPARE(disconnected.count(), 0); // asked for: not reported as a loss
        QVERIFY(connect(*s));
    }

    // Destroying a connected session hands its master to the reaper instead of waiting for it
    // on this thread; the master must still go away.
    void destroyingASessionEndsItsMaster()
    {
        auto s = session(1);
        QVERIFY(connect(*s));
        const qint64 master = s->masterProcessId();
        QVERIFY(master > 0);
        s.reset();
        QTRY_VERIFY(::kill(static_cast<pid_t>(master), 0) != 0);
    }

    // Last: it replaces node1's key, and every connection to node1 with it.
    void aChangedKeyIsRefusedNamingBothFingerprints()
    {
        const QString oldFingerprint = m_sandbox->node(0).sshHostKeyFingerprint;
        const Status restarted = m_sandbox->restartSshdWithNewHostKey(0);
        QVERIFY2(restarted.has_value(), restarted ? "" : restarted.error().message.c_str());
        const QString newFingerprint = m_sandbox->node(0).sshHostKeyFingerprint;
        QVERIFY(oldFingerprint != newFingerprint);
        auto s = session(0);
        const Error error = connectExpectingFailure(*s);
        QCOMPARE(error.code, ErrorCode::ChangedHostKey);
        const QString message = QString::fromStdString(error.message);
        QVERIFY2(message.contains(oldFingerprint) && message.contains(newFingerprint),
                 qPrintable(message));
        QCOMPARE(s->offeredHostKey()->fingerprint(), newFingerprint);
        // Accepting the new key beside the pinned one is refused: a change is never silent.
        QCOMPARE(s->acceptHostKey(*s->offeredHostKey()).error().code, ErrorCode::Conflict);
        QCOMPARE(connectExpectingFailure(*s).code, ErrorCode::ChangedHostKey);
    }

    void cleanupTestCase() { m_sandbox.reset(); }
};

QTEST_GUILESS_MAIN(TestRemoteSsh)
#include "tst_remotessh.moc"
