// SshSession with the real ssh client, in the cases that need no server: the policy it passes
// to ssh, refusals before any network, an unreachable node, a missing ssh, and how accepted
// host keys are pinned. Connections to real sshd nodes are in tests/integration/tst_remotessh.

#include "remote/sshsession.h"

#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

using namespace mm;
using namespace mm::remote;

class TestSshSession : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    SshOptions options() const
    {
        SshOptions o;
        o.configFile = QStringLiteral("/dev/null"); // the test machine's ~/.ssh/config stays out
        o.knownHostsFile = m_dir.filePath(QStringLiteral("known_hosts"));
        o.readKnownHostsFiles << m_dir.filePath(QStringLiteral("user known_hosts"));
        o.connectTimeoutSeconds = 5;
        return o;
    }

    static quint16 closedPort()
    {
        QTcpServer server;
        server.listen(QHostAddress::LocalHost, 0);
        return server.serverPort(); // closed again when server goes out of scope
    }

private Q_SLOTS:
    void passesAStrictPolicy()
    {
        SshSession session(SshAddress::parse(QStringLiteral("ssh://u@127.0.0.1:2222")).value(),
                           options());
        const QString config = session.sessionConfigText();
        for (const char *line : {"StrictHostKeyChecking yes", "BatchMode yes", "UpdateHostKeys no",
                                 "ForwardAgent no", "ClearAllForwardings yes",
                                 "PermitLocalCommand no", "ForwardX11 no", "ControlPath none"})
            QVERIFY2(config.contains(QLatin1String(line)), line);
        // Both files, quoted so that a path with a space stays one path.
        QVERIFY(config.contains(
            QStringLiteral("UserKnownHostsFile \"%1\" \"%2\"")
                .arg(options().knownHostsFile, options().readKnownHostsFiles.first())));
        // /dev/null as the admin's config: nothing is included.
        QVERIFY(!config.contains(QLatin1String("Include")));
        const QString args = session.commonArguments().join(QLatin1Char('\n'));
        QVERIFY(args.startsWith(QLatin1String("-F\n")));

        SshOptions withAskpass = options();
        withAskpass.askpassProgram = QStringLiteral("/usr/bin/true");
        SshSession askpass(SshAddress::parse(QStringLiteral("h")).value(), withAskpass);
        QVERIFY(askpass.sessionConfigText().contains(QLatin1String("BatchMode no")));
    }

    // The real ssh client, given the session's config in front of an admin config that asks for
    // everything dangerous, resolves to the forced policy: for the node and for any other host
    // (a ProxyJump hop runs "ssh -F <the same file> hop").
    void forcedPolicyWinsOverTheAdminsConfig()
    {
        const QString adminConfig = m_dir.filePath(QStringLiteral("admin_config"));
        QFile admin(adminConfig);
        QVERIFY(admin.open(QIODevice::WriteOnly));
        admin.write("Host *\n"
                    "    ForwardAgent yes\n"
                    "    ForwardX11 yes\n"
                    "    PermitLocalCommand yes\n"
                    "    LocalCommand touch /tmp/mailmesh-should-never-exist\n"
                    "    LocalForward 5999 127.0.0.1:22\n"
                    "    RemoteForward 5998 127.0.0.1:22\n"
                    "    StrictHostKeyChecking no\n"
                    "    UserKnownHostsFile /dev/null\n"
                    "    Port 2200\n");
        admin.close();
        SshOptions o = options();
        o.configFile = adminConfig;
        SshSession session(SshAddress::parse(QStringLiteral("node")).value(), o);
        const QString sessionConfig = m_dir.filePath(QStringLiteral("session_config"));
        QFile file(sessionConfig);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(session.sessionConfigText().toUtf8());
        file.close();
        for (const QString &host : {QStringLiteral("node"), QStringLiteral("jumphost")}) {
            QProcess ssh;
            ssh.start(QStringLiteral("ssh"), {QStringLiteral("-G"), QStringLiteral("-F"),
                                              sessionConfig, host});
            QVERIFY(ssh.waitForFinished(10000));
            QCOMPARE(ssh.exitCode(), 0);
            const QString effective = QString::fromUtf8(ssh.readAllStandardOutput());
            for (const char *line :
                 {"forwardagent no", "forwardx11 no", "permitlocalcommand no",
                  "clearallforwardings yes", "stricthostkeychecking true", "batchmode yes"})
                QVERIFY2(effective.contains(QLatin1String(line)), line);
            QVERIFY(effective.contains(QStringLiteral("userknownhostsfile %1").arg(o.knownHostsFile)));
            // What is not forced still comes from the admin's config.
            QVERIFY(effective.contains(QLatin1String("port 2200")));
        }
    }

    // A session whose options include something a cluster file may not set refuses before any
    // ssh runs: the "ssh" here does not exist, and the error is not that it is missing.
    void refusesDisallowedOptionsBeforeRunningSsh()
    {
        SshOptions o = options();
        o.program = m_dir.filePath(QStringLiteral("no-such-ssh"));
        o.extraOptions = {QStringLiteral("IdentitiesOnly=yes"),
                          QStringLiteral("ProxyCommand=sh -c 'touch MARKER'")};
        SshSession session(SshAddress::parse(QStringLiteral("h")).value(), o);
        QSignalSpy failed(&session, &SshSession::connectFailed);
        session.connectToHost();
        QVERIFY(failed.count() == 1 || failed.wait(5000));
        const auto error = failed.first().first().value<mm::Error>();
        QCOMPARE(error.code, ErrorCode::BadRequest);
        QVERIFY2(QString::fromStdString(error.message).contains(QLatin1String("ProxyCommand")),
                 error.message.c_str());
        QCOMPARE(session.state(), SshSession::State::Disconnected);
    }

    void unreachableNodeFailsCleanly()
    {
        const quint16 port = closedPort();
        SshSession session(
            SshAddress::parse(QStringLiteral("ssh://127.0.0.1:%1").arg(port)).value(), options());
        QSignalSpy failed(&session, &SshSession::connectFailed);
        QSignalSpy connected(&session, &SshSession::connected);
        session.connectToHost();
        QCOMPARE(session.state(), SshSession::State::Connecting);
        // The control socket directory is private and short enough for a unix socket path.
        const QFileInfo dir(session.controlDirectory());
        QVERIFY(dir.isDir());
        QCOMPARE(dir.permissions() & (QFile::ReadGroup | QFile::ReadOther | QFile::WriteOther),
                 QFile::Permissions());
        QVERIFY(session.controlDirectory().size() + 30 < 104);
        QVERIFY(failed.wait(20000));
        QCOMPARE(connected.count(), 0);
        const auto error = failed.first().first().value<mm::Error>();
        QVERIFY2(error.code == ErrorCode::Unreachable, error.message.c_str());
        QVERIFY2(
            QString::fromStdString(error.message).contains(QLatin1String("Connection refused")),
            error.message.c_str());
        QCOMPARE(session.state(), SshSession::State::Disconnected);
        QVERIFY(!session.offeredHostKey().has_value());
    }

    void missingSshIsNamed()
    {
        SshOptions o = options();
        o.program = m_dir.filePath(QStringLiteral("no-such-ssh"));
        SshSession session(SshAddress::parse(QStringLiteral("h")).value(), o);
        QSignalSpy failed(&session, &SshSession::connectFailed);
        session.connectToHost();
        QVERIFY(failed.count() == 1 || failed.wait(5000));
        const auto error = failed.first().first().value<mm::Error>();
        QCOMPARE(error.code, ErrorCode::NotFound);
        QVERIFY(QString::fromStdString(error.message).contains(QLatin1String("no-such-ssh")));
    }

    void commandsNeedAConnection()
    {
        SshSession session(SshAddress::parse(QStringLiteral("h")).value(), options());
        SshCommand *command = session.run({QStringLiteral("true")});
        QSignalSpy finished(command, &SshCommand::finished);
        QVERIFY(finished.wait(5000));
        QVERIFY(!command->result().has_value());
        QCOMPARE(command->result().error().code, ErrorCode::Unreachable);

        bool called = false;
        session.addForward(QStringLiteral("127.0.0.1"), 8384, this, [&](Result<quint16> port) {
            called = true;
            QVERIFY(!port.has_value());
        });
        QTRY_VERIFY(called);
    }

    void pinsAcceptedKeysButNeverReplacesOne()
    {
        QFile::remove(options().knownHostsFile);
        SshSession session(SshAddress::parse(QStringLiteral("h")).value(), options());
        const HostKey key{
            QStringLiteral("[127.0.0.1]:2222"), QStringLiteral("ssh-ed25519"),
            QStringLiteral("AAAAC3NzaC1lZDI1NTE5AAAAIFQMr1m9zmkgylxhq+gKskFl8dX0q2gq++1PLY2wlqnd")};
        QVERIFY(session.acceptHostKey(key).has_value());
        QVERIFY(session.acceptHostKey(key).has_value()); // idempotent
        QFile file(options().knownHostsFile);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), key.knownHostsLine().toUtf8() + '\n');
        QCOMPARE(file.permissions() & (QFile::ReadOther | QFile::ReadGroup), QFile::Permissions());

        HostKey other = key;
        other.keyBase64 =
            QStringLiteral("AAAAC3NzaC1lZDI1NTE5AAAAIKs0qlCEfGl0Y3Bzbm2gXmZG0Cc0lRvMs/ZwNWHhBxA3");
        const auto refused = session.acceptHostKey(other);
        QVERIFY(!refused.has_value());
        QCOMPARE(refused.error().code, ErrorCode::Conflict);

        HostKey injected = key;
        injected.hostName = QStringLiteral("a b");
        QVERIFY(!session.acceptHostKey(injected).has_value());
    }
};

QTEST_GUILESS_MAIN(TestSshSession)
#include "tst_sshsession.moc"
