// `mailmeshctl sandbox up/down` (persistent daemons that outlive the CLI), and the promise that a
// crashed owner of a (non-persistent) sandbox leaves nothing running.

#include "sandbox/probes.h"
#include "sandbox/processtable.h"
#include "sandbox/sandbox.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <cstdio>
#include <unistd.h>

using namespace Qt::StringLiterals;
using mm::sandbox::ProcessTable;

namespace {

constexpr const char *kCrashHelperVariable = "MAILMESH_TEST_SANDBOX_CRASH_HELPER";

QString mailmeshctl()
{
    return QStringLiteral(MAILMESH_BUILD_DIR "/app/mailmeshctl/mailmeshctl");
}

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

Run runCtl(const QStringList &arguments)
{
    QProcess process;
    process.start(mailmeshctl(), arguments);
    Run run;
    if (!process.waitForFinished(120000))
        return run;
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.out = process.readAllStandardOutput();
    run.err = process.readAllStandardError();
    return run;
}

// The helper: owns a one-node sandbox, says so, and waits to be killed.
int runCrashHelper(const QString &dir)
{
    mm::sandbox::SandboxOptions options;
    options.nodeCount = 1;
    options.dir = dir;
    mm::sandbox::Sandbox sandbox(options);
    if (!sandbox.start())
        return 3;
    std::fputs("ready\n", stdout);
    std::fflush(stdout);
    for (;;)
        ::pause();
}

} // namespace

class TestSandboxCli : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void upThenDownLeavesNothing();
    void unreachableDirIsRefusedClearly();
    void downWithoutSandboxIsAUsageError();
    void crashedOwnerLeavesNothing();
};

void TestSandboxCli::upThenDownLeavesNothing()
{
    QTemporaryDir parent;
    QVERIFY(parent.isValid());
    // As root the daemons run as mailmesh-test, which must be able to reach the sandbox.
    QVERIFY(
        QFile::setPermissions(parent.path(), QFile::permissions(parent.path()) | QFile::ExeOther));
    const QString dir = parent.path() + u"/cluster"_s;

    // Persistent daemons outlive a failed check too: bring them down before the dir goes.
    const auto alwaysDown = qScopeGuard([&] {
        runCtl({u"sandbox"_s, u"down"_s, u"--dir"_s, dir});
    });
    const Run up = runCtl({u"sandbox"_s, u"up"_s, u"2"_s, u"--dir"_s, dir});
    QVERIFY2(up.exitCode == 0, up.err.constData());
    QJsonParseError error{};
    const QJsonObject description = QJsonDocument::fromJson(up.out, &error).object();
    QVERIFY2(error.error == QJsonParseError::NoError, up.out.constData());
    QCOMPARE(description.value(u"dir"_s).toString(), dir);
    QCOMPARE(description.value(u"persistent"_s).toBool(), true);
    const QJsonArray nodes = description.value(u"nodes"_s).toArray();
    QCOMPARE(nodes.size(), 2);

    // The CLI has exited; its daemons are alive and serve, reached only through the description.
    QVERIFY(!ProcessTable::sandboxProcesses(dir).isEmpty());
    for (const QJsonValue &value : nodes) {
        const QJsonObject node = value.toObject();
        const QJsonObject ssh = node.value(u"ssh"_s).toObject();
        QProcess session;
        session.start(u"ssh"_s, {u"-F"_s, ssh.value(u"configFile"_s).toString(),
                                 ssh.value(u"alias"_s).toString(), u"--"_s, u"id -un"_s});
        QVERIFY(session.waitForFinished(30000));
        QVERIFY2(session.exitCode() == 0, session.readAllStandardError().constData());
        QCOMPARE(QString::fromLocal8Bit(session.readAllStandardOutput().trimmed()),
                 description.value(u"mailUser"_s).toString());

        const QJsonObject imap = node.value(u"imap"_s).toObject();
        const auto selected = mm::sandbox::imapLoginSelect(quint16(imap.value(u"port"_s).toInt()),
                                                           imap.value(u"user"_s).toString(),
                                                           imap.value(u"password"_s).toString());
        QVERIFY2(selected, selected ? "" : selected.error().describe().c_str());

        const QJsonObject syncthing = node.value(u"syncthing"_s).toObject();
        const quint16 guiPort =
            quint16(syncthing.value(u"guiAddress"_s).toString().section(u':', -1).toInt());
        const auto ping = mm::sandbox::httpGet(
            guiPort, "/rest/system/ping",
            {{"X-API-Key", syncthing.value(u"apiKey"_s).toString().toLatin1()}}, 5000);
        QVERIFY(ping);
        QCOMPARE(ping->status, 200);
    }

    // A second `up` on a running sandbox is refused and changes nothing.
    const Run again = runCtl({u"sandbox"_s, u"up"_s, u"2"_s, u"--dir"_s, dir});
    QVERIFY(again.exitCode != 0);
    QVERIFY(!ProcessTable::sandboxProcesses(dir).isEmpty());

    const Run down = runCtl({u"sandbox"_s, u"down"_s, u"--dir"_s, dir});
    QVERIFY2(down.exitCode == 0, down.err.constData());
    const QList<ProcessTable::Entry> left = ProcessTable::sandboxProcesses(dir);
    QVERIFY2(left.isEmpty(), qPrintable(ProcessTable::describe(left)));

    // down is safe to repeat, and a stopped sandbox dir can be brought up again.
    QCOMPARE(runCtl({u"sandbox"_s, u"down"_s, u"--dir"_s, dir}).exitCode, 0);
    const Run reused = runCtl({u"sandbox"_s, u"up"_s, u"1"_s, u"--dir"_s, dir});
    QVERIFY2(reused.exitCode == 0, reused.err.constData());
    QCOMPARE(runCtl({u"sandbox"_s, u"down"_s, u"--dir"_s, dir}).exitCode, 0);
    QVERIFY(ProcessTable::sandboxProcesses(dir).isEmpty());
}

void TestSandboxCli::unreachableDirIsRefusedClearly()
{
    if (::geteuid() != 0)
        QSKIP("only root hands the sandbox to another user");
    QTemporaryDir parent; // 0700: mailmesh-test cannot search it
    QVERIFY(parent.isValid());
    const Run up = runCtl({u"sandbox"_s, u"up"_s, u"1"_s, u"--dir"_s, parent.path() + u"/x"_s});
    QCOMPARE(up.exitCode, 3);
    QVERIFY2(up.err.contains("not searchable by others"), up.err.constData());
    QVERIFY(ProcessTable::sandboxProcesses(parent.path() + u"/x"_s).isEmpty());
}

void TestSandboxCli::downWithoutSandboxIsAUsageError()
{
    QTemporaryDir empty;
    QCOMPARE(runCtl({u"sandbox"_s, u"down"_s, u"--dir"_s, empty.path()}).exitCode, 2);
    QCOMPARE(runCtl({u"sandbox"_s, u"up"_s}).exitCode, 2);
    QCOMPARE(runCtl({u"sandbox"_s, u"up"_s, u"zero"_s}).exitCode, 2);
}

void TestSandboxCli::crashedOwnerLeavesNothing()
{
    QTemporaryDir parent;
    QVERIFY(parent.isValid());
    // As root the daemons run as mailmesh-test, which must be able to reach the sandbox.
    QVERIFY(
        QFile::setPermissions(parent.path(), QFile::permissions(parent.path()) | QFile::ExeOther));
    const QString dir = parent.path() + u"/crash"_s;
    QProcess helper;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QString::fromLatin1(kCrashHelperVariable), dir);
    helper.setProcessEnvironment(environment);
    helper.start(QCoreApplication::applicationFilePath(), {});
    QVERIFY(helper.waitForStarted());
    QByteArray said; // QTRY_* evaluates its expression again at the end: accumulate
    QTRY_VERIFY_WITH_TIMEOUT((said += helper.readAllStandardOutput()).contains("ready") ||
                                 helper.state() == QProcess::NotRunning,
                             60000);
    QVERIFY2(helper.state() == QProcess::Running, helper.readAllStandardError().constData());
    const QList<ProcessTable::Entry> running = ProcessTable::sandboxProcesses(dir);
    QVERIFY2(running.size() >= 3, qPrintable(ProcessTable::describe(running)));

    // No teardown runs: only the parent-death signal and the daemons' own reactions remain.
    ::kill(static_cast<pid_t>(helper.processId()), SIGKILL);
    QVERIFY(helper.waitForFinished(10000));
    QTRY_VERIFY_WITH_TIMEOUT(ProcessTable::sandboxProcesses(dir).isEmpty(), 20000);
}

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (const QString dir = qEnvironmentVariable(kCrashHelperVariable); !dir.isEmpty())
        return runCrashHelper(dir);
    TestSandboxCli test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_sandboxcli.moc"
