// Process hygiene of sandbox daemons, with plain programs (sh, sleep, id) standing in for the
// daemons: group kill, SIGKILL after the grace period, parent-death signal, persistence, and the
// switch to the sandbox user when run as root.

#include "sandbox/daemonprocess.h"
#include "sandbox/processtable.h"
#include "sandbox/sandboxuser.h"

#include <QCoreApplication>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <cstdio>
#include <unistd.h>

using namespace Qt::StringLiterals;
using mm::sandbox::DaemonProcess;
using mm::sandbox::ProcessTable;

namespace {

constexpr const char *kOrphanHelperVariable = "MAILMESH_TEST_DAEMON_PARENT_HELPER";

DaemonProcess::Spec shellSpec(const QString &marker, const QString &script, const QString &log)
{
    DaemonProcess::Spec spec;
    spec.name = u"test/sh"_s;
    spec.program = u"/bin/sh"_s;
    spec.arguments = {u"-c"_s, script};
    spec.environment = QProcessEnvironment::systemEnvironment();
    spec.environment.insert(QString::fromLatin1(ProcessTable::kDirVariable), marker);
    spec.logFile = log;
    return spec;
}

// Starts a group of sleepers with the marker, says "ready", waits to be killed.
int runParentHelper(const QString &marker)
{
    DaemonProcess daemon(shellSpec(marker, u"sleep 300 & sleep 300"_s, u"/dev/null"_s));
    if (!daemon.start())
        return 3;
    std::fputs("ready\n", stdout);
    std::fflush(stdout);
    for (;;)
        ::pause();
}

} // namespace

class TestSandboxDaemonProcess : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void stopKillsTheWholeGroup();
    void stopEscalatesToSigkill();
    void outputGoesToTheLogFile();
    void parentDeathKillsTheDaemon();
    void persistentDaemonOutlivesItsObject();
    void runsAsTheSandboxUserWhenRoot();

private:
    // One marker per test function, so that a failed test's processes do not confuse the next.
    QString marker() const
    {
        return m_dir.path() + u'/' + QString::fromLatin1(QTest::currentTestFunction());
    }
    QTemporaryDir m_dir;
};

void TestSandboxDaemonProcess::init()
{
    QVERIFY(m_dir.isValid());
}

void TestSandboxDaemonProcess::cleanup()
{
    // A failed test must not leave its sleepers to the end-of-run leftover check.
    for (const ProcessTable::Entry &entry : ProcessTable::sandboxProcesses(marker()))
        ::kill(static_cast<pid_t>(entry.pid), SIGKILL);
}

void TestSandboxDaemonProcess::stopKillsTheWholeGroup()
{
    DaemonProcess daemon(shellSpec(marker(), u"sleep 300 & sleep 300 & wait"_s, u"/dev/null"_s));
    QVERIFY(daemon.start());
    // sh and two sleeps; generous: the machine may be busy building beside the tests.
    QTRY_COMPARE_WITH_TIMEOUT(ProcessTable::sandboxProcesses(marker()).size(), 3, 60000);
    for (const ProcessTable::Entry &entry : ProcessTable::sandboxProcesses(marker()))
        QCOMPARE(entry.pgid, daemon.pgid());
    QVERIFY(daemon.isRunning());
    const qint64 group = daemon.pgid();
    daemon.stop();
    QVERIFY(!daemon.isRunning());
    QVERIFY(::kill(-static_cast<pid_t>(group), 0) != 0);
    QVERIFY(ProcessTable::sandboxProcesses(marker()).isEmpty());
}

void TestSandboxDaemonProcess::stopEscalatesToSigkill()
{
    // An ignored SIGTERM is inherited: neither sh nor sleep will go on SIGTERM.
    DaemonProcess daemon(shellSpec(marker(), u"trap '' TERM; sleep 300 & wait"_s, u"/dev/null"_s));
    QVERIFY(daemon.start());
    QTRY_COMPARE_WITH_TIMEOUT(ProcessTable::sandboxProcesses(marker()).size(), 2, 60000);
    daemon.stop(200);
    QVERIFY(ProcessTable::sandboxProcesses(marker()).isEmpty());
}

void TestSandboxDaemonProcess::outputGoesToTheLogFile()
{
    const QString log = m_dir.path() + u"/out.log"_s;
    DaemonProcess daemon(shellSpec(marker(), u"echo to-stdout; echo to-stderr >&2"_s, log));
    QVERIFY(daemon.start());
    QTRY_VERIFY_WITH_TIMEOUT(!daemon.isRunning(), 60000);
    QFile file(log);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray content = file.readAll();
    QVERIFY(content.contains("to-stdout"));
    QVERIFY(content.contains("to-stderr"));
}

void TestSandboxDaemonProcess::parentDeathKillsTheDaemon()
{
    QProcess helper;
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QString::fromLatin1(kOrphanHelperVariable), marker());
    helper.setProcessEnvironment(environment);
    helper.start(QCoreApplication::applicationFilePath(), {});
    QVERIFY(helper.waitForStarted());
    QByteArray said; // QTRY_* evaluates its expression again at the end: accumulate
    QTRY_VERIFY_WITH_TIMEOUT((said += helper.readAllStandardOutput()).contains("ready"), 20000);
    QTRY_VERIFY_WITH_TIMEOUT(ProcessTable::sandboxProcesses(marker()).size() >= 2, 60000);

    ::kill(static_cast<pid_t>(helper.processId()), SIGKILL);
    QVERIFY(helper.waitForFinished());
    // sh dies of the parent-death signal; the sleeps are its children, in its group, and get
    // nothing: this is why Sandbox::tearDown also sweeps by marker. Here the test cleans up.
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            for (const ProcessTable::Entry &entry : ProcessTable::sandboxProcesses(marker()))
                if (entry.commandLine.startsWith("/bin/sh"))
                    return false;
            return true;
        }(),
        10000);
    for (const ProcessTable::Entry &entry : ProcessTable::sandboxProcesses(marker()))
        ::kill(static_cast<pid_t>(entry.pid), SIGKILL);
    QTRY_VERIFY_WITH_TIMEOUT(ProcessTable::sandboxProcesses(marker()).isEmpty(), 60000);
}

void TestSandboxDaemonProcess::persistentDaemonOutlivesItsObject()
{
    qint64 group = 0;
    {
        DaemonProcess::Spec spec = shellSpec(marker(), u"sleep 300"_s, u"/dev/null"_s);
        spec.program = u"/bin/sleep"_s;
        spec.arguments = {u"300"_s};
        spec.persistent = true;
        DaemonProcess daemon(spec);
        QVERIFY(daemon.start());
        group = daemon.pgid();
    }
    QTRY_COMPARE_WITH_TIMEOUT(ProcessTable::sandboxProcesses(marker()).size(), 1, 60000);
    // Its own session: a terminal hang-up of the starting shell does not reach it.
    QCOMPARE(::getsid(static_cast<pid_t>(group)), static_cast<pid_t>(group));
    DaemonProcess::killGroup(group, 1000);
    QTRY_VERIFY_WITH_TIMEOUT(ProcessTable::sandboxProcesses(marker()).isEmpty(), 60000);
}

void TestSandboxDaemonProcess::runsAsTheSandboxUserWhenRoot()
{
    if (::geteuid() != 0)
        QSKIP("the user switch happens only when run as root");
    const auto user = mm::sandbox::SandboxUser::ensure();
    QVERIFY2(user, user ? "" : user.error().describe().c_str());
    QVERIFY(user->needsSwitch());
    const QString log = m_dir.path() + u"/id.log"_s;
    DaemonProcess::Spec spec = shellSpec(marker(), u"id -u; id -g; id -G"_s, log);
    spec.switchUser = true;
    spec.uid = user->uid();
    spec.gid = user->gid();
    DaemonProcess daemon(spec);
    QVERIFY(daemon.start());
    QTRY_VERIFY_WITH_TIMEOUT(!daemon.isRunning(), 60000);
    QFile file(log);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = file.readAll().trimmed().split('\n');
    QCOMPARE(lines.size(), 3);
    QCOMPARE(lines[0].toUInt(), user->uid());
    QCOMPARE(lines[1].toUInt(), user->gid());
    QCOMPARE(lines[2].trimmed().toUInt(), user->gid()); // no supplementary group of root's left
}

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (const QString marker = qEnvironmentVariable(kOrphanHelperVariable); !marker.isEmpty())
        return runParentHelper(marker);
    TestSandboxDaemonProcess test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_sandboxdaemonprocess.moc"
