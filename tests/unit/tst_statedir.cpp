// The state dir holds the journals that restore and purge act on: it is created 0700, and one
// that another user owns or may read or write is refused with the reason, by every command.

#include "mailtreefixture.h"

#include "maildir/convert.h"
#include "maildir/quarantineadmin.h"
#include "maildir/statedir.h"

#include <QtTest>

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
};

QTEST_GUILESS_MAIN(TestStateDir)
#include "tst_statedir.moc"
