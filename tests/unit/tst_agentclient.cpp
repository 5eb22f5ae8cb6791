// AgentClient without a node: content hashes, the containment rule for the cache, the deploy
// scripts run by the real /bin/sh and coreutils (as they run on a node), and refusals before
// any connection. Deployment and RPC over ssh: tests/integration/tst_remoteagent.

#include "remote/agentcall.h"
#include "remote/agentclient.h"
#include "remote/sshsession.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <unistd.h>

using namespace mm;
using namespace mm::remote;

namespace {

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

Run runScript(const QString &script, const QStringList &args, const QByteArray &input = {},
              const QProcessEnvironment &environment = QProcessEnvironment::systemEnvironment())
{
    QProcess sh;
    sh.setProcessEnvironment(environment);
    sh.start(QStringLiteral("/bin/sh"),
             QStringList{QStringLiteral("-c"), script, QStringLiteral("sh")} + args);
    sh.write(input);
    sh.closeWriteChannel();
    sh.waitForFinished(30000);
    return {sh.exitCode(), sh.readAllStandardOutput(), sh.readAllStandardError()};
}

} // namespace

class TestAgentClient : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

private Q_SLOTS:
    void hashesLikeSha256sum()
    {
        const QString path = m_dir.filePath(QStringLiteral("blob"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(QByteArray(300000, 'x') + "tail");
        file.close();
        QProcess sum;
        sum.start(QStringLiteral("sha256sum"), {path});
        QVERIFY(sum.waitForFinished(10000));
        QCOMPARE(AgentClient::sha256OfFile(path).value(),
                 QString::fromLatin1(sum.readAllStandardOutput().left(64)));
        QCOMPARE(AgentClient::sha256OfFile(m_dir.filePath(QStringLiteral("missing"))).error().code,
                 ErrorCode::NotFound);
    }

    void decidesContainment_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("root");
        QTest::addColumn<bool>("inside");
        QTest::newRow("below") << "/srv/mail/u/.cache/mailmesh"
                               << "/srv/mail" << true;
        QTest::newRow("same") << "/srv/mail"
                              << "/srv/mail" << true;
        QTest::newRow("trailing slash") << "/srv/mail/x"
                                        << "/srv/mail/" << true;
        QTest::newRow("prefix is not parent") << "/srv/mailbox/x"
                                              << "/srv/mail" << false;
        QTest::newRow("elsewhere") << "/home/vmail/.cache/mailmesh"
                                   << "/srv/mail" << false;
        QTest::newRow("root dir") << "/anything"
                                  << "/" << true;
        QTest::newRow("no root") << "/anything"
                                 << "" << false;
    }
    void decidesContainment()
    {
        QFETCH(QString, path);
        QFETCH(QString, root);
        QFETCH(bool, inside);
        QCOMPARE(AgentClient::isInside(path, root), inside);
    }

    void locateResolvesSymlinksWithoutCreating()
    {
        // A home whose .cache is a symlink into the mail root must be seen as inside it.
        const QString home = m_dir.filePath(QStringLiteral("home"));
        const QString mail = m_dir.filePath(QStringLiteral("mail"));
        QVERIFY(QDir().mkpath(home) && QDir().mkpath(mail));
        QVERIFY(QFile::link(mail, home + QStringLiteral("/.cache")));
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("HOME"), home);
        environment.remove(QStringLiteral("XDG_CACHE_HOME"));
        const Run located = runScript(AgentClient::locateScript(), {mail}, {}, environment);
        QCOMPARE(located.exitCode, 0);
        const QStringList lines =
            QString::fromUtf8(located.out).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 3);
        const QString realMail = QFileInfo(mail).canonicalFilePath();
        QCOMPARE(lines[0], realMail + QStringLiteral("/mailmesh"));
        QCOMPARE(lines[1], realMail);
        QVERIFY(AgentClient::isInside(lines[0], lines[1]));
        // Where the agent goes instead: the user's own directory outside every root.
        QCOMPARE(lines[2], QFileInfo(QStringLiteral("/var/tmp")).canonicalFilePath()
                               + QStringLiteral("/mailmesh-agent-%1").arg(::getuid()));
        QVERIFY(!QFileInfo::exists(mail + QStringLiteral("/mailmesh"))); // nothing was created
    }

    void uploadChecksTheHashAndRenamesAtomically()
    {
        const QString cache = m_dir.filePath(QStringLiteral("cache/mailmesh"));
        const QByteArray binary = "#!/bin/sh\necho agent\n";
        QFile local(m_dir.filePath(QStringLiteral("agent")));
        QVERIFY(local.open(QIODevice::WriteOnly));
        local.write(binary);
        local.close();
        const QString hash = AgentClient::sha256OfFile(local.fileName()).value();

        QCOMPARE(runScript(AgentClient::checkScript(), {cache, hash}).out, QByteArray("absent\n"));
        // A corrupted transfer is refused and leaves nothing behind.
        const Run corrupted =
            runScript(AgentClient::uploadScript(), {cache, hash}, binary.left(10));
        QCOMPARE(corrupted.exitCode, 3);
        QVERIFY(corrupted.err.contains("hash mismatch"));
        QCOMPARE(QDir(cache).entryList(QDir::Files | QDir::Hidden | QDir::System), QStringList());

        const Run uploaded = runScript(AgentClient::uploadScript(), {cache, hash}, binary);
        QCOMPARE(uploaded.exitCode, 0);
        QCOMPARE(uploaded.out, QByteArray("uploaded\n"));
        QCOMPARE(QDir(cache).entryList(QDir::Files | QDir::Hidden | QDir::System),
                 QStringList{QStringLiteral("agent-") + hash});
        const QFileInfo placed(cache + QStringLiteral("/agent-") + hash);
        QVERIFY(placed.isExecutable());
        QCOMPARE(placed.permissions() & (QFile::ReadOther | QFile::WriteOther | QFile::WriteGroup),
                 QFile::Permissions());
        QCOMPARE(runScript(AgentClient::checkScript(), {cache, hash}).out, QByteArray("present\n"));

        // A file of the right name but other content is not reused.
        QFile tampered(placed.filePath());
        QVERIFY(tampered.open(QIODevice::Append));
        tampered.write("x");
        tampered.close();
        QCOMPARE(runScript(AgentClient::checkScript(), {cache, hash}).out, QByteArray("absent\n"));
    }

    void uploadRefusesADirectoryOfAnotherUser()
    {
        // The fallback under /var/tmp could have been made by someone else first.
        if (::geteuid() != 0)
            QSKIP("needs root to give the directory to another user");
        const QString cache = m_dir.filePath(QStringLiteral("foreign"));
        QVERIFY(QDir().mkpath(cache));
        QCOMPARE(QProcess::execute(QStringLiteral("chown"), {QStringLiteral("nobody"), cache}), 0);
        const Run uploaded = runScript(AgentClient::uploadScript(), {cache, QStringLiteral("0")}, "x");
        QCOMPARE(uploaded.exitCode, 4);
        QVERIFY(uploaded.err.contains("not the user's own directory"));
        QCOMPARE(runScript(AgentClient::checkScript(), {cache, QStringLiteral("0")}).out, QByteArray("absent\n"));
    }

    void refusesWithoutAConnection()
    {
        SshOptions o;
        o.configFile = QStringLiteral("/dev/null");
        SshSession session(SshAddress::parse(QStringLiteral("nowhere")).value(), o);
        AgentClient::Options options;
        options.agentBinary = m_dir.filePath(QStringLiteral("agent"));
        AgentClient agent(&session, options);
        QSignalSpy failed(&agent, &AgentClient::failed);
        agent.start();
        QVERIFY(failed.wait(5000));
        QCOMPARE(failed.first().first().value<mm::Error>().code, ErrorCode::Unreachable);
        QCOMPARE(agent.state(), AgentClient::State::Idle);

        AgentCall *call = agent.call(QStringLiteral("probe"));
        QSignalSpy finished(call, &AgentCall::finished);
        QVERIFY(finished.wait(5000));
        QCOMPARE(call->result().error().code, ErrorCode::Unreachable);
        call->cancel(); // harmless after the end
    }
};

QTEST_GUILESS_MAIN(TestAgentClient)
#include "tst_agentclient.moc"
