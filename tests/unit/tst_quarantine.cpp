// Quarantine trusts nothing it reads back from a journal (issue #20): a record whose "to" points
// outside the state dir, whose "from" leaves the mail root, whose id does not match its seq, a
// journal file that is not named like a run, a symlink planted in the quarantine — none of them
// makes restore or purge touch anything but the quarantined files Mailmesh put there.

#include "mailtreefixture.h"

#include "maildir/dedupe.h"
#include "maildir/dircache.h"
#include "maildir/journal.h"
#include "maildir/quarantine.h"
#include "maildir/quarantineadmin.h"
#include "maildir/restore.h"
#include "maildir/statedir.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mm::maildir;
using namespace mailtree;

namespace {

// The only run file in <state>/journal.
std::string runFile(const std::string &state)
{
    DIR *dir = ::opendir((state + "/journal").c_str());
    std::string found;
    while (dirent *e = dir ? ::readdir(dir) : nullptr)
        if (std::string(e->d_name).ends_with(".jsonl"))
            found = state + "/journal/" + e->d_name;
    if (dir)
        ::closedir(dir);
    return found;
}

// Rewrites every record of a journal file through `edit`.
void editJournal(const std::string &path, const std::function<void(nlohmann::json &)> &edit)
{
    std::string out;
    std::string text = readFile(path);
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string::npos)
            eol = text.size();
        auto record = nlohmann::json::parse(text.substr(pos, eol - pos), nullptr, false);
        pos = eol + 1;
        if (record.is_discarded())
            continue;
        edit(record);
        out += record.dump() + "\n";
    }
    writeFile(path, out);
}

} // namespace

class TestQuarantine : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    std::string m_base, m_root, m_state, m_outside;

    // One flag-divergence group, deduped: cur/1.M1P1.h:2,S is quarantined, :2,F renamed :2,FS.
    void dedupeOneGroup()
    {
        makeFolder(m_root);
        writeFile(m_root + "/cur/1.M1P1.h:2,S", "Message-ID: <a@x>\n\nbody\n");
        writeFile(m_root + "/cur/1.M1P1.h:2,F", "Message-ID: <a@x>\n\nbody\n");
        auto root = MailRoot::open(m_root);
        QVERIFY(root);
        DedupeOptions options;
        options.stateDir = m_state;
        auto deduped = Dedupe::run(*root, options);
        QVERIFY2(deduped, deduped ? "" : deduped.error().message.c_str());
        QCOMPARE(deduped->groupsResolved, 1u);
        QVERIFY(!exists(m_root + "/cur/1.M1P1.h:2,S"));
    }

    mm::Result<RestoreReport> restoreAll()
    {
        auto root = MailRoot::open(m_root);
        RestoreOptions all;
        all.all = true;
        all.stateDir = m_state;
        return Restore::run(*root, all);
    }

private Q_SLOTS:
    void init()
    {
        m_base = m_tmp.path().toStdString() + "/" + QTest::currentTestFunction() +
                 (QTest::currentDataTag() ? std::string("-") + QTest::currentDataTag() : std::string());
        m_root = m_base + "/vmail";
        m_state = m_base + "/state";
        m_outside = m_base + "/outside-file";
        mkdirs(m_base);
        writeFile(m_outside, "not mail, not Mailmesh's");
    }

    // The trigger of issue #20: "to" pointing at a file outside the state dir.
    void restoreIgnoresTheRecordsDestination()
    {
        dedupeOneGroup();
        editJournal(runFile(m_state), [&](nlohmann::json &r) {
            if (r.value("type", "") == "quarantine")
                r["to"] = m_outside;
        });
        auto restored = restoreAll();
        QVERIFY2(restored, restored ? "" : restored.error().message.c_str());
        QVERIFY2(restored->problems.empty(), nlohmann::json(restored->problems).dump().c_str());
        // The outside file is where it was; the quarantined one is back.
        QCOMPARE(readFile(m_outside), std::string("not mail, not Mailmesh's"));
        QCOMPARE(readFile(m_root + "/cur/1.M1P1.h:2,S"), std::string("Message-ID: <a@x>\n\nbody\n"));
        QVERIFY(exists(m_root + "/cur/1.M1P1.h:2,F"));
    }

    void anOriginalPathOutsideTheRootIsRejected_data()
    {
        QTest::addColumn<QString>("from");
        QTest::newRow("absolute") << QStringLiteral("/etc/cron.d/evil");
        QTest::newRow("up") << QStringLiteral("../outside-restored");
        QTest::newRow("up inside") << QStringLiteral("cur/../../outside-restored");
        QTest::newRow("empty component") << QStringLiteral("cur//x");
        QTest::newRow("empty") << QString();
    }
    void anOriginalPathOutsideTheRootIsRejected()
    {
        QFETCH(QString, from);
        dedupeOneGroup();
        editJournal(runFile(m_state), [&](nlohmann::json &r) {
            if (r.value("type", "") == "quarantine")
                r["from"] = from.toStdString();
        });
        auto root = MailRoot::open(m_root);
        auto state = StateDir::resolve(*root, m_state);
        QVERIFY(state && state->open());
        std::vector<std::string> rejected;
        auto entries = Quarantine::list(*state, &rejected);
        QVERIFY(entries);
        QVERIFY(entries->empty());
        QCOMPARE(rejected.size(), std::size_t(1));
        QVERIFY2(rejected.front().find("outside the mail root") != std::string::npos, rejected.front().c_str());

        auto restored = restoreAll();
        QVERIFY(restored);
        QVERIFY(!restored->problems.empty());
        QVERIFY(!exists(m_base + "/outside-restored"));
        // The file stays in the quarantine, untouched.
        QCOMPARE(listing(m_state + "/quarantine").size(), std::size_t(2)); // run dir + file
    }

    void anIdThatIsNotItsSeqIsRejected()
    {
        dedupeOneGroup();
        editJournal(runFile(m_state), [&](nlohmann::json &r) {
            if (r.value("type", "") == "quarantine")
                r["id"] = "20200101T000000.000000Z-1/00000001";
        });
        auto restored = restoreAll();
        QVERIFY(restored);
        QVERIFY(!restored->problems.empty());
        QVERIFY(!exists(m_root + "/cur/1.M1P1.h:2,S"));
    }

    // A journal file that is not named like a run is not read at all.
    void foreignJournalFilesAreNotRead()
    {
        dedupeOneGroup();
        const std::string forged = m_state + "/journal/evil.jsonl";
        writeFile(forged, R"({"type":"quarantine","seq":1,"id":"evil/00000001","from":"cur/x","to":"/etc/passwd"})"
                          "\n");
        auto root = MailRoot::open(m_root);
        auto listed = QuarantineAdmin::list(*root, m_state);
        QVERIFY(listed);
        QCOMPARE(listed->entries.size(), std::size_t(1));
        QVERIFY(listed->entries.front().id != "evil/00000001");
    }

    // Purge deletes what Mailmesh quarantined, never what a record points at.
    void purgeDeletesOnlyRebuiltPaths()
    {
        dedupeOneGroup();
        editJournal(runFile(m_state), [&](nlohmann::json &r) {
            if (r.value("type", "") == "quarantine")
                r["to"] = m_outside;
        });
        auto root = MailRoot::open(m_root);
        auto purged = QuarantineAdmin::purge(*root, 0, false, m_state, std::time(nullptr) + 86400);
        QVERIFY2(purged, purged ? "" : purged.error().message.c_str());
        QCOMPARE(purged->purged.size(), std::size_t(1));
        QVERIFY(exists(m_outside));
        QVERIFY(listing(m_state + "/quarantine").size() <= 1); // the file gone (its run dir may stay)
    }

    // Only mail goes back into the replicated tree: not a symlink planted in the quarantine.
    void aSymlinkInTheQuarantineIsNotRestored()
    {
        dedupeOneGroup();
        const auto files = listing(m_state + "/quarantine");
        std::string quarantined;
        for (const auto &e : files)
            if (e.type == 'f')
                quarantined = m_state + "/quarantine/" + e.path;
        QVERIFY(!quarantined.empty());
        QCOMPARE(::unlink(quarantined.c_str()), 0);
        QCOMPARE(::symlink(m_outside.c_str(), quarantined.c_str()), 0);
        auto restored = restoreAll();
        QVERIFY(restored);
        QVERIFY(!restored->problems.empty());
        QVERIFY(!exists(m_root + "/cur/1.M1P1.h:2,S"));
        QCOMPARE(readFile(m_outside), std::string("not mail, not Mailmesh's"));
    }

    // A folder swapped for a symlink out of ROOT after the dedupe: restore walks below ROOT one
    // component at a time (through its per-batch directory cache) and puts nothing outside.
    void aFolderSwappedForASymlinkIsNotFollowed()
    {
        makeFolder(m_root);
        makeFolder(m_root + "/.F");
        writeFile(m_root + "/.F/maildirfolder", "");
        writeFile(m_root + "/.F/cur/1.M1P1.h:2,S", "Message-ID: <a@x>\n\nbody\n");
        writeFile(m_root + "/.F/cur/1.M1P1.h:2,F", "Message-ID: <a@x>\n\nbody\n");
        auto root = MailRoot::open(m_root);
        QVERIFY(root);
        DedupeOptions options;
        options.stateDir = m_state;
        auto deduped = Dedupe::run(*root, options);
        QVERIFY2(deduped, deduped ? "" : deduped.error().message.c_str());
        QCOMPARE(deduped->groupsResolved, 1u);
        const std::string elsewhere = m_base + "/elsewhere";
        QCOMPARE(::rename((m_root + "/.F").c_str(), elsewhere.c_str()), 0);
        QCOMPARE(::symlink(elsewhere.c_str(), (m_root + "/.F").c_str()), 0);
        auto restored = restoreAll();
        QVERIFY2(restored, restored ? "" : restored.error().message.c_str());
        QVERIFY(!restored->problems.empty());
        QVERIFY(!exists(elsewhere + "/cur/1.M1P1.h:2,S"));
        QVERIFY(exists(elsewhere + "/cur/1.M1P1.h:2,FS"));
        QVERIFY(!exists(elsewhere + "/cur/1.M1P1.h:2,F"));
        // The quarantined file stays in the quarantine.
        QCOMPARE(listing(m_state + "/quarantine").size(), std::size_t(2)); // run dir + file
    }

    void dirCacheWalksBeneathOnly()
    {
        makeFolder(m_root + "/.F");
        QCOMPARE(::symlink(m_base.c_str(), (m_root + "/link").c_str()), 0);
        const int rootFd = ::open(m_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        QVERIFY(rootFd >= 0);
        {
            DirCache dirs(rootFd, m_root, 2);
            auto cur = dirs.open(".F/cur");
            QVERIFY(cur);
            auto again = dirs.open(".F//cur/");
            QVERIFY(again);
            QCOMPARE((*again)->get(), (*cur)->get()); // one walk, one descriptor
            QVERIFY(!dirs.open("link"));
            QVERIFY(!dirs.open("link/vmail"));
            QVERIFY(!dirs.open(".F/../.."));
            QVERIFY(!dirs.open(".."));
            QVERIFY(dirs.size() <= 2); // bounded
            // A descriptor handed out stays open when the cache starts over.
            QVERIFY(!dirs.open("new")); // no such directory
            dirs.clear();
            struct stat st;
            QCOMPARE(::fstat((*cur)->get(), &st), 0);
            QVERIFY(S_ISDIR(st.st_mode));
        }
        ::close(rootFd);
    }
};

QTEST_GUILESS_MAIN(TestQuarantine)
#include "tst_quarantine.moc"
