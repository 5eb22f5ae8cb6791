// convert and revert on real trees: the move, collisions, quarantine and its journal, skipped
// folders, dry runs that touch nothing, second runs that change nothing, half-done swaps.

#include "mailtreefixture.h"

#include "maildir/convert.h"
#include "maildir/journal.h"
#include "maildir/quarantine.h"
#include "maildir/restore.h"
#include "maildir/revert.h"
#include "maildir/statedir.h"

#include <grp.h>
#include <sys/wait.h>

#include <QtTest>

#include <map>

using namespace mm::maildir;
using namespace mailtree;

class TestConvert : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void movesKeepNames();
    void collisionsAreDeterministic();
    void quarantineIsJournaledAndRestorable();
    void hostileFoldersAreLeftAlone();
    void dryRunTouchesNothing();
    void secondRunChangesNothing();
    void stateDirPlacement();
    void finishesHalfDoneSwaps();
    void aFolderThatLostNewGetsItBack();
    void revertMakesNewARealDirectory();
    void lockedStateDirIsBusy();
    void cancelLeavesAConsistentTree();
    void sparseFileMovesWithoutReading();
    void revertFinishesHalfDoneSwaps();
    void unreadableFolderAsUnprivilegedUser();

private:
    ConvertReport convert(const std::string &root, bool dryRun = false);
    std::unique_ptr<QTemporaryDir> m_dir;
    std::string m_base;
    std::string m_root;
};

void TestConvert::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_base = m_dir->path().toStdString();
    m_root = m_base + "/vmail";
    mkdirs(m_root);
}

ConvertReport TestConvert::convert(const std::string &rootPath, bool dryRun)
{
    auto root = MailRoot::open(rootPath);
    if (!root)
        qFatal("open: %s", root.error().message.c_str());
    ConvertOptions options;
    options.dryRun = dryRun;
    auto report = Convert::run(*root, options);
    if (!report)
        qFatal("convert: %s", report.error().message.c_str());
    return *report;
}

void TestConvert::movesKeepNames()
{
    const std::string u = m_root + "/u";
    makeFolder(u, false);
    makeFolder(u + "/.Sent");
    writeFile(u + "/new/1.M1P1.h", "one");
    writeFile(u + "/new/2.M1P1.h,S=3", "two");
    writeFile(u + "/new/3.M1P1.h:2,S", "three"); // new/ with flags: kept exactly
    writeFile(u + "/cur/0.M1P1.h:2,RS", "zero");
    writeFile(u + "/tmp-not", "x");
    writeFile(u + "/.Sent/new/4.M1.h", "four");

    const ConvertReport report = convert(m_root);
    QVERIFY(report.verified);
    QCOMPARE(report.totals.converted, 2u);
    QCOMPARE(report.totals.moved, 4u);
    QCOMPARE(report.totals.tmpCreated, 1u);
    // A real run's answer counts each folder's moves; the names are in the journal only.
    std::map<std::string, std::uint64_t> movedPerFolder;
    for (const FolderConvertPlan &plan : report.folders) {
        QVERIFY(plan.moves.empty());
        movedPerFolder[plan.relPath] = plan.moved;
    }
    QCOMPARE(movedPerFolder, (std::map<std::string, std::uint64_t>{{"u", 3}, {"u/.Sent", 1}}));
    const nlohmann::json answer = report;
    for (const auto &folder : answer["folders"])
        QVERIFY(!folder.contains("moves") && folder.contains("moved"));
    for (const char *name : {"1.M1P1.h", "2.M1P1.h,S=3", "3.M1P1.h:2,S", "0.M1P1.h:2,RS"})
        QVERIFY2(exists(u + "/cur/" + name), name);
    QCOMPARE(readFile(u + "/cur/1.M1P1.h"), std::string("one"));
    QVERIFY(exists(u + "/.Sent/cur/4.M1.h"));
    struct stat st;
    QCOMPARE(::lstat((u + "/new").c_str(), &st), 0);
    QVERIFY(S_ISLNK(st.st_mode));
    char target[16] = {};
    QCOMPARE(::readlink((u + "/new").c_str(), target, sizeof target), ssize_t(3));
    QCOMPARE(std::string(target), std::string("cur"));
    QVERIFY(exists(u + "/tmp"));
    QVERIFY(!exists(u + "/new.mailmesh-swap"));
    // Journal: begin, one move record per message, end ok.
    auto runs = [&] {
        auto root = MailRoot::open(m_root);
        auto state = StateDir::resolve(*root);
        return Journal::readAll(*state);
    }();
    QVERIFY(runs);
    QCOMPARE(runs->size(), std::size_t(1));
    int moves = 0;
    for (const auto &r : runs->front().records)
        moves += r["type"] == "move";
    QCOMPARE(moves, 4);
    QVERIFY(runs->front().ended);
    QCOMPARE(runs->front().records.back()["status"].get<std::string>(), std::string("ok"));
}

void TestConvert::collisionsAreDeterministic()
{
    // The same tree converted twice ("two nodes") ends with the same names.
    std::vector<std::vector<Entry>> results;
    for (const char *node : {"node1", "node2"}) {
        const std::string root = m_base + "/" + node + "/vmail";
        const std::string u = root + "/u";
        makeFolder(u);
        writeFile(u + "/cur/5.M1.h:2,S", "same bytes");
        writeFile(u + "/new/5.M1.h", "same bytes"); // identical: quarantined
        writeFile(u + "/cur/6.M1.h:2,S", "original six");
        writeFile(u + "/new/6.M1.h", "other six"); // different: renamed
        writeFile(u + "/new/7.M1.h", "seven");
        writeFile(u + "/new/7.M1.h:2,F", "seven flagged, other"); // collides inside new/
        writeFile(u + "/new/7.M1.h:2,S", "seven");                // identical to the first
        const ConvertReport report = convert(root);
        QVERIFY(report.verified);
        QCOMPARE(report.totals.quarantined, 2u);
        QCOMPARE(report.totals.renamed, 2u);
        QCOMPARE(report.totals.moved, 1u);
        std::vector<Entry> cur = listing(u + "/cur");
        for (auto &e : cur)
            e.mtimeNs = 0;
        results.push_back(cur);
        const std::string renamed = u + "/cur/6.M1.h-mm" + sha("other six").substr(0, 16);
        QVERIFY2(exists(renamed), renamed.c_str());
        QCOMPARE(readFile(renamed), std::string("other six"));
        QVERIFY(exists(u + "/cur/7.M1.h-mm" + sha("seven flagged, other").substr(0, 16) + ":2,F"));
        QCOMPARE(readFile(u + "/cur/7.M1.h"), std::string("seven"));
        QCOMPARE(readFile(u + "/cur/6.M1.h:2,S"), std::string("original six"));
    }
    QCOMPARE(results[0].size(), std::size_t(5));
    QVERIFY(results[0] == results[1]);
}

void TestConvert::quarantineIsJournaledAndRestorable()
{
    const std::string u = m_root + "/u";
    makeFolder(u);
    writeFile(u + "/new/.hidden", "dot");
    writeFile(u + "/cur/1.M.h:2,S", "dup");
    writeFile(u + "/new/1.M.h", "dup");
    const ConvertReport report = convert(m_root);
    QCOMPARE(report.totals.quarantined, 2u);
    QVERIFY(!exists(u + "/cur/.hidden"));

    auto root = MailRoot::open(m_root);
    auto state = StateDir::resolve(*root);
    QVERIFY(state);
    QCOMPARE(state->path(), m_base + "/.mailmesh-state/vmail");
    QVERIFY(state->open());
    auto entries = Quarantine::list(*state);
    QVERIFY(entries);
    QCOMPARE(entries->size(), std::size_t(2));
    const QuarantineEntry *dot = nullptr;
    for (const auto &e : *entries) {
        QVERIFY(e.present);
        QVERIFY(!e.id.empty());
        QVERIFY(!e.time.empty());
        QCOMPARE(readFile(state->path() + "/" + e.quarantinedPath).size(), std::size_t(e.size));
        if (e.originalPath == "u/new/.hidden")
            dot = &e;
    }
    QVERIFY(dot);
    QCOMPARE(dot->reason, std::string("dotfile-in-new"));
    QCOMPARE(dot->size, 3u);

    RestoreOptions one;
    one.ids = {dot->id};
    auto restoredReport = Restore::run(*root, one);
    QVERIFY2(restoredReport && restoredReport->problems.empty(),
             restoredReport ? nlohmann::json(*restoredReport).dump().c_str() : restoredReport.error().message.c_str());
    // new/ is the symlink by now: the file comes back in cur/
    QCOMPARE(readFile(u + "/cur/.hidden"), std::string("dot"));
    auto after = Quarantine::list(*state);
    QCOMPARE(after->size(), std::size_t(2)); // the history stays, marked
    int restored = 0;
    for (const auto &e : *after)
        restored += e.restored && !e.present;
    QCOMPARE(restored, 1);
}

void TestConvert::hostileFoldersAreLeftAlone()
{
    const std::string a = m_root + "/a", b = m_root + "/b", c = m_root + "/c", d = m_root + "/d";
    makeFolder(a);
    writeFile(a + "/new/1.M.h", "a1");
    QCOMPARE(::symlink("/etc", (a + "/new/etc").c_str()), 0);
    makeFolder(b);
    writeFile(b + "/new/2.M.h", "b2");
    mkdirs(b + "/new/sub");
    makeFolder(c);
    writeFile(c + "/new/3.M.h\nwith newline", "c3"); // odd names move like any other
    writeFile(c + "/new/4.M.h-\xff", "c4");
    makeFolder(d);
    QCOMPARE(::symlink("/etc", (d + "/cur/etc").c_str()), 0); // symlink in cur/: not followed
    writeFile(d + "/new/5.M.h", "d5");
    const auto etcBefore = listing("/etc/ssl");

    const ConvertReport report = convert(m_root);
    QCOMPARE(report.totals.skipped, 2u);
    QVERIFY(exists(a + "/new/1.M.h"));
    QVERIFY(exists(b + "/new/2.M.h"));
    struct stat st;
    QVERIFY(::lstat((a + "/new").c_str(), &st) == 0 && S_ISDIR(st.st_mode));
    QVERIFY(exists(c + "/cur/3.M.h\nwith newline"));
    QVERIFY(exists(c + "/cur/4.M.h-\xff"));
    QVERIFY(exists(d + "/cur/5.M.h"));
    QVERIFY(::lstat((d + "/cur/etc").c_str(), &st) == 0 && S_ISLNK(st.st_mode));
    QVERIFY(listing("/etc/ssl") == etcBefore);
    int skippedProblems = 0;
    for (const auto &p : report.problems)
        skippedProblems += p.kind == ProblemKind::FolderSkipped;
    QCOMPARE(skippedProblems, 2);
    const nlohmann::json json = report;
    QVERIFY(!json.dump().empty());
}

void TestConvert::dryRunTouchesNothing()
{
    const std::string u = m_root + "/u";
    makeFolder(u, false);
    writeFile(u + "/new/1.M.h", "1");
    writeFile(u + "/new/.dot", "d");
    writeFile(u + "/cur/2.M.h:2,S", "2");
    writeFile(u + "/new/2.M.h", "2 other");
    const auto before = listing(m_base);
    const ConvertReport report = convert(m_root, true);
    QVERIFY(report.dryRun);
    QCOMPARE(report.folders.size(), std::size_t(1));
    const auto &plan = report.folders.front();
    QCOMPARE(plan.moves, std::vector<std::string>{"1.M.h"});
    QCOMPARE(plan.renames.size(), std::size_t(1));
    QCOMPARE(plan.renames.front().to, "2.M.h-mm" + sha("2 other").substr(0, 16));
    QCOMPARE(plan.quarantines.size(), std::size_t(1));
    QVERIFY(plan.createTmp);
    QVERIFY(plan.swapNew);
    QCOMPARE(report.totals.moved, 1u);
    QVERIFY(listing(m_base) == before); // names, sizes, modes, mtimes
    QVERIFY(!exists(m_base + "/.mailmesh-state"));

    // The same for revert on a cur-only tree.
    convert(m_root);
    const auto converted = listing(m_base);
    auto root = MailRoot::open(m_root);
    RevertOptions options;
    options.dryRun = true;
    auto reverted = Revert::run(*root, options);
    QVERIFY(reverted);
    QCOMPARE(reverted->reverted, std::vector<std::string>{"u"});
    QVERIFY(listing(m_base) == converted);
}

void TestConvert::secondRunChangesNothing()
{
    const std::string u = m_root + "/u";
    makeFolder(u);
    writeFile(u + "/new/1.M.h", "1");
    writeFile(u + "/new/.dot", "d");
    convert(m_root);
    const auto before = listing(m_base);
    const ConvertReport again = convert(m_root);
    QVERIFY(again.verified);
    QCOMPARE(again.totals.alreadyCurOnly, 1u);
    QCOMPARE(again.totals.moved + again.totals.quarantined + again.totals.converted, 0u);
    QVERIFY(again.journalPath.empty());
    QVERIFY(listing(m_base) == before);
}

void TestConvert::stateDirPlacement()
{
    makeFolder(m_root + "/u");
    auto root = MailRoot::open(m_root);
    QVERIFY(root);
    QCOMPARE(StateDir::defaultPathFor("/var/vmail"), std::string("/var/.mailmesh-state/vmail"));

    auto inside = StateDir::resolve(*root, m_root + "/u/state");
    QVERIFY(!inside);
    QCOMPARE(inside.error().code, mm::ErrorCode::UnsafePath);
    QVERIFY(!StateDir::resolve(*root, m_root));
    // An alias of ROOT through a symlink is still inside.
    const std::string alias = m_base + "/alias";
    QCOMPARE(::symlink(m_root.c_str(), alias.c_str()), 0);
    QVERIFY(!StateDir::resolve(*root, alias + "/state"));
    // Convert refuses before touching anything.
    const auto before = listing(m_base);
    ConvertOptions options;
    options.stateDir = m_root + "/state";
    QVERIFY(!Convert::run(*root, options));
    QVERIFY(listing(m_base) == before);

    // Another filesystem: /dev/shm or /proc is never the one the temp dir lives on.
    struct stat tmpSt, shmSt;
    ::stat(m_base.c_str(), &tmpSt);
    if (::stat("/dev/shm", &shmSt) == 0 && shmSt.st_dev != tmpSt.st_dev) {
        auto other = StateDir::resolve(*root, "/dev/shm/mailmesh-test-state");
        QVERIFY(!other);
        QVERIFY(other.error().message.find("same filesystem") != std::string::npos);
    }
    QVERIFY(StateDir::resolve(*root, m_base + "/elsewhere/state"));
}

void TestConvert::finishesHalfDoneSwaps()
{
    // Killed after the exchange: new is the symlink, the old new/ (still holding a message
    // delivered in between) sits at the swap name.
    const std::string a = m_root + "/a";
    mkdirs(a + "/cur");
    mkdirs(a + "/tmp");
    mkdirs(a + "/new.mailmesh-swap");
    writeFile(a + "/new.mailmesh-swap/9.M.h", "late");
    QCOMPARE(::symlink("cur", (a + "/new").c_str()), 0);
    // Killed after creating the swap symlink, before the exchange.
    const std::string b = m_root + "/b";
    makeFolder(b);
    writeFile(b + "/new/8.M.h", "eight");
    QCOMPARE(::symlink("cur", (b + "/new.mailmesh-swap").c_str()), 0);

    const ConvertReport report = convert(m_root);
    QVERIFY(report.verified);
    QCOMPARE(readFile(a + "/cur/9.M.h"), std::string("late"));
    QVERIFY(!exists(a + "/new.mailmesh-swap"));
    QCOMPARE(readFile(b + "/cur/8.M.h"), std::string("eight"));
    QVERIFY(!exists(b + "/new.mailmesh-swap"));
    struct stat st;
    QVERIFY(::lstat((b + "/new").c_str(), &st) == 0 && S_ISLNK(st.st_mode));
}

void TestConvert::aFolderThatLostNewGetsItBack()
{
    // What a cur/-only cluster is left with when one node deletes a folder while another adds a
    // message to it: Syncthing keeps cur/ with the new message, `new` (and here tmp/) are gone.
    const std::string u = m_root + "/u";
    makeFolder(u);
    QCOMPARE(::rmdir((u + "/new").c_str()), 0);
    QCOMPARE(::symlink("cur", (u + "/new").c_str()), 0);
    const std::string lost = u + "/.Lost";
    mkdirs(lost + "/cur");
    writeFile(lost + "/cur/7.M.h:2,S", "kept");
    const auto curBefore = listing(lost + "/cur");

    const auto before = listing(m_base);
    const ConvertReport dry = convert(m_root, true);
    QCOMPARE(dry.folders.size(), std::size_t(1));
    QCOMPARE(dry.folders.front().relPath, std::string("u/.Lost"));
    QVERIFY(dry.folders.front().linkNew);
    QVERIFY(dry.folders.front().createTmp);
    QVERIFY(!dry.folders.front().skipped);
    QVERIFY(listing(m_base) == before);

    const ConvertReport report = convert(m_root);
    QVERIFY(report.verified);
    QCOMPARE(report.totals.converted, 1u);
    QCOMPARE(report.totals.skipped, 0u);
    struct stat st;
    QVERIFY(::lstat((lost + "/new").c_str(), &st) == 0 && S_ISLNK(st.st_mode));
    QVERIFY(::stat((lost + "/tmp").c_str(), &st) == 0 && S_ISDIR(st.st_mode));
    QVERIFY(listing(lost + "/cur") == curBefore); // nothing moved
    QCOMPARE(convert(m_root).totals.alreadyCurOnly, 2u);

    // revert: the same folder with its `new` lost again gets an empty new/ directory.
    QCOMPARE(::unlink((lost + "/new").c_str()), 0);
    auto root = MailRoot::open(m_root);
    auto reverted = Revert::run(*root, {});
    QVERIFY2(reverted, reverted ? "" : reverted.error().message.c_str());
    QCOMPARE(reverted->reverted, (std::vector<std::string>{"u", "u/.Lost"}));
    QVERIFY(::lstat((lost + "/new").c_str(), &st) == 0 && S_ISDIR(st.st_mode));
    QVERIFY(listing(lost + "/new").empty());
    QVERIFY(listing(lost + "/cur") == curBefore);
}

void TestConvert::revertMakesNewARealDirectory()
{
    const std::string u = m_root + "/u";
    makeFolder(u);
    makeFolder(u + "/.Sent");
    writeFile(u + "/new/1.M.h", "1");
    writeFile(u + "/cur/2.M.h:2,S", "2");
    convert(m_root);
    auto curBefore = listing(u + "/cur");

    auto root = MailRoot::open(m_root);
    auto report = Revert::run(*root, {});
    QVERIFY(report);
    QCOMPARE(report->reverted, (std::vector<std::string>{"u", "u/.Sent"}));
    struct stat st;
    QVERIFY(::lstat((u + "/new").c_str(), &st) == 0 && S_ISDIR(st.st_mode));
    QVERIFY(listing(u + "/new").empty());
    QVERIFY(listing(u + "/cur") == curBefore); // no message moved
    QVERIFY(!exists(u + "/new.mailmesh-swap"));
    // A second revert changes nothing; convert again works.
    auto again = Revert::run(*root, {});
    QVERIFY2(again, again ? "" : again.error().message.c_str());
    QCOMPARE(again->reverted.size(), std::size_t(0));
    QCOMPARE(again->alreadyClassic, 2u);
    QVERIFY(convert(m_root).verified);
    QVERIFY(::lstat((u + "/new").c_str(), &st) == 0 && S_ISLNK(st.st_mode));
}

void TestConvert::lockedStateDirIsBusy()
{
    makeFolder(m_root + "/u");
    writeFile(m_root + "/u/new/1.M.h", "1");
    auto root = MailRoot::open(m_root);
    auto state = StateDir::resolve(*root);
    QVERIFY(state->create());
    auto held = state->lock();
    QVERIFY(held);
    // flock locks belong to the open file description: a child process sees the lock.
    const pid_t pid = ::fork();
    if (pid == 0) {
        auto r = Convert::run(*root, {});
        ::_exit(!r && r.error().code == mm::ErrorCode::Busy ? 0 : 1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    QCOMPARE(WEXITSTATUS(status), 0);
    QVERIFY(exists(m_root + "/u/new/1.M.h"));
}

void TestConvert::cancelLeavesAConsistentTree()
{
    const std::string u = m_root + "/u";
    makeFolder(u);
    for (int i = 0; i < 10000; ++i)
        writeFile(u + "/new/" + std::to_string(i) + ".M.h", std::to_string(i));
    std::atomic<bool> cancel{false};
    ProgressSink progress(
        [&](std::uint64_t done, std::uint64_t, std::string_view) {
            if (done >= 1000)
                cancel = true;
        },
        &cancel);
    auto root = MailRoot::open(m_root);
    auto report = Convert::run(*root, {}, progress);
    QVERIFY(report);
    QVERIFY(report->cancelled);
    const std::size_t inCur = listing(u + "/cur").size();
    const std::size_t inNew = listing(u + "/new").size();
    QVERIFY(inCur > 0 && inNew > 0);
    QCOMPARE(inCur + inNew, std::size_t(10000));
    const ConvertReport finished = convert(m_root);
    QVERIFY(finished.verified);
    QCOMPARE(listing(u + "/cur").size(), std::size_t(10000));
}

void TestConvert::revertFinishesHalfDoneSwaps()
{
    // Killed after creating the directory, before the exchange.
    const std::string a = m_root + "/a";
    mkdirs(a + "/cur");
    mkdirs(a + "/tmp");
    mkdirs(a + "/new.mailmesh-swap");
    QCOMPARE(::symlink("cur", (a + "/new").c_str()), 0);
    writeFile(a + "/cur/1.M.h", "1");
    // Killed after the exchange, before removing the symlink.
    const std::string b = m_root + "/b";
    makeFolder(b);
    QCOMPARE(::symlink("cur", (b + "/new.mailmesh-swap").c_str()), 0);

    auto root = MailRoot::open(m_root);
    auto report = Revert::run(*root, {});
    QVERIFY(report);
    QCOMPARE(report->reverted, std::vector<std::string>{"a"});
    QCOMPARE(report->alreadyClassic, 1u);
    struct stat st;
    for (const std::string &folder : {a, b}) {
        QVERIFY(::lstat((folder + "/new").c_str(), &st) == 0 && S_ISDIR(st.st_mode));
        QVERIFY(!exists(folder + "/new.mailmesh-swap"));
    }
    QCOMPARE(readFile(a + "/cur/1.M.h"), std::string("1"));
}

void TestConvert::sparseFileMovesWithoutReading()
{
    const std::string u = m_root + "/u";
    makeFolder(u);
    const std::string name = "1.M1.h,S=6442450944";
    const int fd = ::open((u + "/new/" + name).c_str(), O_WRONLY | O_CREAT, 0644);
    QVERIFY(fd >= 0);
    QCOMPARE(::ftruncate(fd, 6LL * 1024 * 1024 * 1024), 0); // 6 GB, sparse
    ::close(fd);
    const ConvertReport report = convert(m_root);
    QVERIFY(report.verified);
    struct stat st;
    QCOMPARE(::stat((u + "/cur/" + name).c_str(), &st), 0);
    QCOMPARE(qlonglong(st.st_size), 6LL * 1024 * 1024 * 1024);
}

void TestConvert::unreadableFolderAsUnprivilegedUser()
{
    if (::getuid() != 0)
        QSKIP("needs root to hand the tree to the unprivileged user 'nobody' (65534)");
    ::chmod(m_base.c_str(), 0755);
    for (const char *user : {"ok", "locked"}) {
        makeFolder(m_root + "/" + user);
        writeFile(m_root + "/" + user + "/new/1.M.h", user);
    }
    // The tree and the state dir's parent belong to nobody, as mail belongs to vmail on a node.
    for (const Entry &e : listing(m_base))
        QCOMPARE(::lchown((m_base + "/" + e.path).c_str(), 65534, 65534), 0);
    QCOMPARE(::chown(m_base.c_str(), 65534, 65534), 0);
    ::chmod((m_root + "/locked/new").c_str(), 0);

    const pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)
            ::_exit(99);
        auto root = MailRoot::open(m_root);
        if (!root)
            ::_exit(98);
        auto report = Convert::run(*root, {});
        if (!report)
            ::_exit(97);
        const bool ok = report->totals.converted == 1 && report->totals.skipped == 1;
        ::_exit(ok ? 0 : 1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::chmod((m_root + "/locked/new").c_str(), 0755);
    QCOMPARE(WEXITSTATUS(status), 0);
    QVERIFY(exists(m_root + "/ok/cur/1.M.h"));
    QVERIFY(exists(m_root + "/locked/new/1.M.h"));
    struct stat st;
    QVERIFY(::lstat((m_root + "/locked/new").c_str(), &st) == 0 && S_ISDIR(st.st_mode));
}

QTEST_GUILESS_MAIN(TestConvert)
#include "tst_convert.moc"
