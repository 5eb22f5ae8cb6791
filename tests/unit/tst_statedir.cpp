// The state dir holds the journals that restore and purge act on: it is created 0700, and one
// that another user owns or may read or write is refused with the reason, by every command.
// A mail root that is a mount point (a mail disk of its own) keeps it in ROOT/.mailmesh-state,
// the one place inside a root allowed; anywhere else inside is refused.

#include "mailtreefixture.h"

#include "maildir/convert.h"
#include "maildir/quarantineadmin.h"
#include "maildir/statedir.h"

#include <QtTest>

#include <sys/mount.h>

using namespace mm::maildir;
using namespace mailtree;

class TestStateDir : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    std::string m_root, m_state;

private Q_SLOTS:
    void init()
    {
        const std::string base = m_tmp.path().toStdString() + "/" + QTest::currentTestFunction();
        m_root = base + "/vmail";
        m_state = base + "/state";
        makeFolder(m_root + "/u");
        writeFile(m_root + "/u/new/1.M1P1.h", "x");
    }

    void isCreatedPrivate()
    {
        auto root = MailRoot::open(m_root);
        ConvertOptions options;
        options.stateDir = m_state;
        QVERIFY(Convert::run(*root, options));
        struct stat st;
        QCOMPARE(::stat(m_state.c_str(), &st), 0);
        QCOMPARE(int(st.st_mode & 0777), 0700);
        QCOMPARE(st.st_uid, ::geteuid());
    }

    void aReadableStateDirIsRefused()
    {
        mkdirs(m_state);
        QCOMPARE(::chmod(m_state.c_str(), 0755), 0);
        auto root = MailRoot::open(m_root);
        ConvertOptions options;
        options.stateDir = m_state;
        auto converted = Convert::run(*root, options);
        QVERIFY(!converted);
        QCOMPARE(converted.error().code, mm::ErrorCode::UnsafePath);
        QVERIFY2(converted.error().message.find("mode 0755") != std::string::npos, converted.error().message.c_str());
        QVERIFY2(converted.error().message.find("chmod 700") != std::string::npos, converted.error().message.c_str());
        QVERIFY(exists(m_root + "/u/new/1.M1P1.h")); // nothing was touched
        // Readers refuse it too.
        auto listed = QuarantineAdmin::list(*root, m_state);
        QVERIFY(!listed);
        QCOMPARE(listed.error().code, mm::ErrorCode::UnsafePath);
    }

    void anotherUsersStateDirIsRefused()
    {
        if (::geteuid() != 0)
            QSKIP("giving a directory to another user needs root");
        mkdirs(m_state);
        QCOMPARE(::chmod(m_state.c_str(), 0700), 0);
        QCOMPARE(::chown(m_state.c_str(), 65534, 65534), 0);
        auto root = MailRoot::open(m_root);
        ConvertOptions options;
        options.stateDir = m_state;
        auto converted = Convert::run(*root, options);
        QVERIFY(!converted);
        QCOMPARE(converted.error().code, mm::ErrorCode::UnsafePath);
        QVERIFY2(converted.error().message.find("belongs to uid 65534") != std::string::npos,
                 converted.error().message.c_str());
        QVERIFY(exists(m_root + "/u/new/1.M1P1.h"));
    }

    void aPlainRootKeepsItsStateBeside()
    {
        QVERIFY(!StateDir::isMountPoint(m_root));
        const std::string base = m_root.substr(0, m_root.rfind('/'));
        QCOMPARE(StateDir::defaultPathFor(m_root), base + "/.mailmesh-state/vmail");
        QVERIFY(!StateDir::isMountPoint(m_root + "/does-not-exist"));
    }

    void aMountedRootKeepsItsStateInside()
    {
        if (::geteuid() != 0)
            QSKIP("mounting a file system needs root");
        const std::string mounted = m_tmp.path().toStdString() + "/mounted-vmail";
        mkdirs(mounted);
        QVERIFY2(::mount("mailmesh-test", mounted.c_str(), "tmpfs", 0, "mode=0700") == 0, std::strerror(errno));
        struct Unmount
        {
            std::string path;
            ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
        } unmount{mounted};
        makeFolder(mounted + "/u");
        writeFile(mounted + "/u/new/1.M1P1.h", "x");
        QVERIFY(StateDir::isMountPoint(mounted));
        QCOMPARE(StateDir::defaultPathFor(mounted), mounted + "/.mailmesh-state");

        // The default: convert works, journals inside the root, and the walk never counts it.
        auto root = MailRoot::open(mounted);
        QVERIFY(root);
        auto converted = Convert::run(*root, ConvertOptions{});
        QVERIFY2(converted, converted ? "" : converted.error().message.c_str());
        QCOMPARE(converted->stateDir, mounted + "/.mailmesh-state");
        QCOMPARE(converted->totals.folders, std::uint64_t{1});
        struct stat st;
        QCOMPARE(::stat((mounted + "/.mailmesh-state").c_str(), &st), 0);
        QCOMPARE(int(st.st_mode & 0777), 0700);
        QVERIFY(QDir(QString::fromStdString(mounted + "/.mailmesh-state/journal")).entryList(QDir::Files).size() == 1);
        QCOMPARE(::stat(mounted.c_str(), &st), 0);
        QCOMPARE(int(st.st_mode & 0777), 0700); // the root itself untouched

        // Below it is fine; anywhere else inside the root is not.
        QVERIFY(StateDir::resolve(*root, mounted + "/.mailmesh-state/elsewhere"));
        for (const std::string &inside : {mounted + "/state", mounted + "/u/.mailmesh-state", mounted + "/u"}) {
            auto refused = StateDir::resolve(*root, inside);
            QVERIFY2(!refused, inside.c_str());
            QCOMPARE(refused.error().code, mm::ErrorCode::UnsafePath);
        }
        // And beside it, on the other file system, neither.
        auto beside = StateDir::resolve(*root, m_tmp.path().toStdString() + "/state-beside");
        QVERIFY(!beside);
        QCOMPARE(beside.error().code, mm::ErrorCode::UnsafePath);
    }
};

QTEST_GUILESS_MAIN(TestStateDir)
#include "tst_statedir.moc"
