// Runs after every integration test of the ctest run (FIXTURES_CLEANUP, see tests/sandbox.cmake)
// and fails if any sandbox daemon of that run is still alive. ctest gives every test the same
// MAILMESH_SANDBOX_RUN tag, and every sandbox daemon, Dovecot child and ssh session inherits it.

#include "sandbox/processtable.h"

#include <QTest>

using mm::sandbox::ProcessTable;

class TestSandboxLeftovers : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void noSandboxDaemonSurvivedTheRun();
};

void TestSandboxLeftovers::noSandboxDaemonSurvivedTheRun()
{
    const QString tag = qEnvironmentVariable(ProcessTable::kRunVariable);
    if (tag.isEmpty())
        QSKIP("run through ctest: it sets MAILMESH_SANDBOX_RUN for every test");
    const QList<ProcessTable::Entry> left = ProcessTable::runProcesses(tag);
    QVERIFY2(left.isEmpty(),
             qPrintable(QStringLiteral("still running:\n") + ProcessTable::describe(left)));
}

QTEST_GUILESS_MAIN(TestSandboxLeftovers)
#include "tst_sandboxleftovers.moc"
