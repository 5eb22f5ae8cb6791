// Skips in initTestCase, the way an end-to-end test does without its Dovecot prefix: run by
// check_skips.cmake to prove that ctest then reports "Skipped", not "Passed".

#include <QTest>

class SkippingTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QSKIP("MAILMESH_DOVECOT_PREFIX is not configured (on purpose)"); }
    void wouldRun() { QFAIL("a skipped initTestCase runs nothing"); }
};

QTEST_GUILESS_MAIN(SkippingTest)
#include "skipping_test.moc"
