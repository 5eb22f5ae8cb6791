// Runs after every lab test of the ctest run (FIXTURES_CLEANUP, see tests/lab.cmake) and fails
// if a lab of that run left anything on this machine: its registration, network namespaces,
// cgroups, overlay mounts or processes. ctest gives every test the same MAILMESH_SANDBOX_RUN tag,
// and every lab records the tag of the process that made it.

#include "lab/labresidue.h"

#include <QTest>

using mm::lab::LabResidue;

class TestLabLeftovers : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void noLabOfThisRunLeftAnythingBehind()
    {
        const QString run = qEnvironmentVariable("MAILMESH_SANDBOX_RUN");
        if (run.isEmpty())
            QSKIP("run through ctest: it sets MAILMESH_SANDBOX_RUN for every test");
        QStringList left;
        for (const LabResidue &residue : LabResidue::onThisMachine()) {
            if (residue.run == run)
                left << residue.describe();
            else if (!residue.registered) // a lab whose maker died before it registered: not ours
                                          // to judge
                qWarning("unregistered lab residue: %s", qPrintable(residue.describe()));
        }
        QVERIFY2(left.isEmpty(), qPrintable(left.join(u'\n')));
    }
};

QTEST_GUILESS_MAIN(TestLabLeftovers)
#include "tst_lableftovers.moc"
