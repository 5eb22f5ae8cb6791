// The state dir lock (core/maildir/statelock.h) that changing agent commands hold: exclusive
// across processes, Busy for the second taker, released by kill -9, and never through a symlink.

#include "maildir/statelock.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using mm::maildir::StateLock;

class TestProtocolStateLock : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void secondTakerIsBusy();
    void releaseLetsTheNextOneIn();
    void killMinusNineReleasesTheLock();
    void missingDirIsNotFound();
    void symlinkedLockFileIsRefused();
};

void TestProtocolStateLock::secondTakerIsBusy()
{
    QTemporaryDir dir;
    auto first = StateLock::acquire(dir.path().toStdString());
    QVERIFY(first.has_value());
    auto second = StateLock::acquire(dir.path().toStdString()); // another open file description
    QVERIFY(!second.has_value());
    QCOMPARE(second.error().code, mm::ErrorCode::Busy);
    QVERIFY(QString::fromStdString(second.error().message).contains(dir.path()));
}

void TestProtocolStateLock::releaseLetsTheNextOneIn()
{
    QTemporaryDir dir;
    {
        auto first = StateLock::acquire(dir.path().toStdString());
        QVERIFY(first.has_value());
        StateLock moved = std::move(*first); // ownership moves, the lock stays held
        QVERIFY(!StateLock::acquire(dir.path().toStdString()).has_value());
    }
    QVERIFY(StateLock::acquire(dir.path().toStdString()).has_value());
}

void TestProtocolStateLock::killMinusNineReleasesTheLock()
{
    QTemporaryDir dir;
    const std::string path = dir.path().toStdString();
    int ready[2];
    QCOMPARE(::pipe(ready), 0);
    const pid_t child = ::fork();
    if (child == 0) {
        auto lock = StateLock::acquire(path);
        const char byte = lock ? '1' : '0';
        (void)::write(ready[1], &byte, 1);
        for (;;)
            ::pause();
    }
    ::close(ready[1]);
    char byte = 0;
    QCOMPARE(::read(ready[0], &byte, 1), ssize_t(1));
    ::close(ready[0]);
    QCOMPARE(byte, '1');
    const auto whileHeld = StateLock::acquire(path);
    QVERIFY(!whileHeld.has_value());
    QCOMPARE(whileHeld.error().code, mm::ErrorCode::Busy);

    QCOMPARE(::kill(child, SIGKILL), 0);
    int status = 0;
    QCOMPARE(::waitpid(child, &status, 0), child);
    QVERIFY(WIFSIGNALED(status));
    QVERIFY(StateLock::acquire(path).has_value()); // the lock file remains, the lock does not
}

void TestProtocolStateLock::missingDirIsNotFound()
{
    const auto lock = StateLock::acquire("/nonexistent/mailmesh-state");
    QVERIFY(!lock.has_value());
    QCOMPARE(lock.error().code, mm::ErrorCode::NotFound);
}

void TestProtocolStateLock::symlinkedLockFileIsRefused()
{
    QTemporaryDir dir;
    QTemporaryDir elsewhere;
    const QString target = elsewhere.filePath(QStringLiteral("victim"));
    QVERIFY(QFile::link(target, dir.filePath(QString::fromLatin1(StateLock::kFileName))));
    const auto lock = StateLock::acquire(dir.path().toStdString());
    QVERIFY(!lock.has_value());
    QCOMPARE(lock.error().code, mm::ErrorCode::UnsafePath);
    QVERIFY(!QFile::exists(target)); // nothing was created through the link
}

QTEST_APPLESS_MAIN(TestProtocolStateLock)
#include "tst_protocolstatelock.moc"
