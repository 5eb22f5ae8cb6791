// Inventory: the incremental scan + dupes of the dashboard, on real temporary Maildir trees.
// Every pass is checked twice: by what it says it read (InventoryWork), and by its answer, which
// must equal a fresh Scan::run + DupeFinder::find of the same tree.

#include "mailtreefixture.h"

#include "maildir/dupes.h"
#include "maildir/folderanswer.h"
#include "maildir/folderlisting.h"
#include "maildir/inventory.h"
#include "maildir/inventorysummary.h"
#include "maildir/mailroot.h"
#include "maildir/messagememo.h"
#include "maildir/scan.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <cstdio>
#include <random>
#include <thread>

using namespace mm::maildir;

namespace {

// Above the kernel's timestamp tick (a jiffy, at most 10 ms): folders older than this when a
// pass starts are trusted, so the tests see reuse without waiting 2 s per pass.
constexpr std::int64_t kTestRacyWindowNs = 20'000'000;

void settle()
{
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
}

std::string message(int n, const std::string &body = {})
{
    return "Message-ID: <" + std::to_string(n) + "@example.org>\nSubject: m" + std::to_string(n) +
           "\n\n" + (body.empty() ? "body " + std::to_string(n) + "\n" : body);
}

std::string baseName(int n)
{
    return std::to_string(1700000000 + n) + ".M" + std::to_string(n) + "P1.node1";
}

void removeTree(const std::string &path)
{
    ::nftw(
        path.c_str(), [](const char *p, const struct stat *, int, struct FTW *) { return ::remove(p); },
        16, FTW_DEPTH | FTW_PHYS);
}

void makeCurOnlyFolder(const std::string &dir)
{
    mailtree::mkdirs(dir + "/cur");
    mailtree::mkdirs(dir + "/tmp");
    QCOMPARE(::symlink("cur", (dir + "/new").c_str()), 0);
}

class Tree
{
public:
    Tree()
    {
        QVERIFY(m_dir.isValid());
        root = m_dir.path().toStdString() + "/Maildir";
        memo = m_dir.path().toStdString() + "/state/inventory";
        mailtree::mkdirs(m_dir.path().toStdString() + "/state");
    }

    InventoryReport pass(std::int64_t racyWindowNs = kTestRacyWindowNs)
    {
        auto mailRoot = MailRoot::open(root);
        if (!mailRoot)
            qFatal("cannot open %s", root.c_str());
        InventoryOptions options;
        options.memoDir = memo;
        options.racyWindowNs = racyWindowNs;
        auto report = Inventory::run(*mailRoot, options);
        if (!report)
            qFatal("inventory failed: %s", report.error().describe().c_str());
        return std::move(*report);
    }

    // The answer of a fresh scan and dupes, as JSON, bytesRead left out (it counts reads).
    std::pair<nlohmann::json, nlohmann::json> fresh() const
    {
        auto mailRoot = MailRoot::open(root);
        auto scan = Scan::run(*mailRoot);
        auto dupes = DupeFinder::find(*mailRoot);
        if (!scan || !dupes)
            qFatal("fresh scan failed");
        nlohmann::json d = *dupes;
        d.erase("bytesRead");
        return {nlohmann::json(*scan), d};
    }

    std::string root;
    std::string memo;

private:
    QTemporaryDir m_dir;
};

// The name hashes of a folder's cur/ in the order the directory lists them now.
std::vector<std::uint64_t> listedHashes(const std::string &folderDir)
{
    std::vector<std::uint64_t> hashes;
    if (DIR *dir = ::opendir((folderDir + "/cur").c_str())) {
        while (const dirent *e = ::readdir(dir))
            if (e->d_name[0] != '.')
                hashes.push_back(FolderListing::nameHash(0, e->d_name, e->d_ino));
        ::closedir(dir);
    }
    return hashes;
}

std::string listingPathOf(const Tree &tree, const std::string &folder)
{
    return tree.memo + "/folders/" + FolderListing::fileNameFor(folder);
}

// The name hashes of a folder's listing memo, in its order; empty when it has none.
std::vector<std::uint64_t> memoHashes(const Tree &tree, const std::string &folder)
{
    std::vector<std::uint64_t> hashes;
    if (auto listing = FolderListing::load(listingPathOf(tree, folder), folder))
        for (const FolderListing::Entry &e : listing->entries)
            hashes.push_back(e.nameHash);
    return hashes;
}

bool sameAsFresh(const Tree &tree, const InventoryReport &report)
{
    const auto [scan, dupes] = tree.fresh();
    nlohmann::json d = report.dupes;
    d.erase("bytesRead");
    const nlohmann::json s = report.scan;
    if (s != scan)
        qWarning("scan differs:\n%s\n%s", s.dump().c_str(), scan.dump().c_str());
    if (d != dupes)
        qWarning("dupes differ:\n%s\n%s", d.dump().c_str(), dupes.dump().c_str());
    return s == scan && d == dupes;
}

// A Maildir with INBOX, two Maildir++ folders and a classic one: 5 messages each.
void buildTree(Tree &tree)
{
    makeCurOnlyFolder(tree.root);
    for (const char *name : {"/.Sent", "/.Archive"}) {
        makeCurOnlyFolder(tree.root + name);
        mailtree::writeFile(tree.root + name + "/maildirfolder", {});
    }
    mailtree::makeFolder(tree.root + "/.Classic");
    mailtree::writeFile(tree.root + "/.Classic/maildirfolder", {});
    int n = 0;
    for (const char *folder : {"", "/.Sent", "/.Archive", "/.Classic"})
        for (int i = 0; i < 5; ++i, ++n)
            mailtree::writeFile(tree.root + folder + "/cur/" + baseName(n) + ":2,S", message(n));
}

} // namespace

class TestInventory : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void coldPassReadsEachMessageOnce();
    void unchangedTreeReadsNothing();
    void eachChangeRereadsOnlyItsFolder_data();
    void eachChangeRereadsOnlyItsFolder();
    void newAndDeletedFolders();
    void racyStampsAreReadAgain();
    void damagedSummaryCostsAFullRead_data();
    void damagedSummaryCostsAFullRead();
    void damagedMessageMemoCostsItsHeaders();
    void groupMembersAreNotHashedAgain();
    void replacedMemberIsHashedAgain_data();
    void replacedMemberIsHashedAgain();
    void damagedAnswerCostsItsFolder_data();
    void damagedAnswerCostsItsFolder();
    void noMemoDirStillAnswers();
    void randomMutationsMatchAFreshScan();
    // A changed folder updated from its listing memo instead of being rebuilt (folderlisting.h).
    void newNamesOnlyUpdateTheFolder();
    void removedNameRebuildsTheFolder();
    void renamedNameUpdatesUnlessGrouped();
    void newDuplicateIsFoundAfterUpdates();
    void damagedListingCostsItsFolder();
    void randomChangesUpdateAndMatchAFreshScan();
    // The listing memo in directory order, compared by a walk (folderlisting.h).
    void listingKeepsDirectoryOrder();
    void listingInAnotherOrderIsStillRight();
    // Rewritten in place instead of through a temporary file, under its checksum.
    void listingIsRewrittenInPlace();
    void tornListingRewriteIsRefused();
};

void TestInventory::coldPassReadsEachMessageOnce()
{
    Tree tree;
    buildTree(tree);
    const InventoryReport first = tree.pass();
    QVERIFY(!first.memoLoaded);
    QCOMPARE(first.work.foldersRead, 4u);
    QCOMPARE(first.work.foldersReused, 0u);
    QCOMPARE(first.work.headersRead, 20u);
    QCOMPARE(first.work.bodiesHashed, 0u);
    QCOMPARE(first.scan.totals.curMessages, 20u);
    QVERIFY(first.memoProblem.empty());
    QVERIFY(sameAsFresh(tree, first));
    // The memo holds a summary and one message file per folder, all private.
    QVERIFY(mailtree::exists(tree.memo + "/summary"));
    struct stat st;
    QCOMPARE(::stat(tree.memo.c_str(), &st), 0);
    QCOMPARE(st.st_mode & 0777, 0700u);
    QCOMPARE(first.work.memoFilesWritten, 5u);
}

void TestInventory::unchangedTreeReadsNothing()
{
    Tree tree;
    buildTree(tree);
    settle();
    tree.pass();
    settle();
    const InventoryReport second = tree.pass();
    QVERIFY(second.memoLoaded);
    QCOMPARE(second.work.foldersReused, 4u);
    QCOMPARE(second.work.foldersRead, 0u);
    QCOMPARE(second.work.headersRead, 0u);
    QCOMPARE(second.work.messagesListed, 0u);
    QCOMPARE(second.work.memoFilesWritten, 0u); // nothing rewritten either
    QVERIFY(sameAsFresh(tree, second));
}

void TestInventory::eachChangeRereadsOnlyItsFolder_data()
{
    QTest::addColumn<QString>("change");
    QTest::addColumn<int>("headersRead");
    QTest::addColumn<int>("groups");
    QTest::newRow("delivery") << QStringLiteral("delivery") << 1 << 0;
    QTest::newRow("expunge") << QStringLiteral("expunge") << 0 << 0;
    QTest::newRow("flag rename") << QStringLiteral("rename") << 0 << 0;
    QTest::newRow("conflict copy") << QStringLiteral("conflict") << 1 << 1;
    QTest::newRow("flag divergence") << QStringLiteral("divergence") << 1 << 1;
    QTest::newRow("same message twice") << QStringLiteral("twice") << 1 << 1;
    QTest::newRow("tmp file") << QStringLiteral("tmp") << 0 << 0;
}

void TestInventory::eachChangeRereadsOnlyItsFolder()
{
    QFETCH(QString, change);
    QFETCH(int, headersRead);
    QFETCH(int, groups);
    Tree tree;
    buildTree(tree);
    settle();
    tree.pass();
    // Every change goes to .Sent, which holds messages 5..9.
    const std::string cur = tree.root + "/.Sent/cur/";
    const std::string existing = cur + baseName(5) + ":2,S";
    if (change == QLatin1String("delivery"))
        mailtree::writeFile(cur + baseName(100) + ":2,", message(100));
    else if (change == QLatin1String("expunge"))
        QCOMPARE(::unlink(existing.c_str()), 0);
    else if (change == QLatin1String("rename"))
        QCOMPARE(::rename(existing.c_str(), (cur + baseName(5) + ":2,RS").c_str()), 0);
    else if (change == QLatin1String("conflict"))
        mailtree::writeFile(cur + std::to_string(1700000005) +
                                ".M5P1.sync-conflict-20240101-120000-ABCDEFG.node1:2,S",
                            message(5));
    else if (change == QLatin1String("divergence"))
        mailtree::writeFile(cur + baseName(5) + ":2,FS", message(5));
    else if (change == QLatin1String("twice"))
        mailtree::writeFile(cur + baseName(105) + ":2,S", message(5));
    else if (change == QLatin1String("tmp"))
        mailtree::writeFile(tree.root + "/.Sent/tmp/" + baseName(106), "half a message");
    settle();
    const InventoryReport after = tree.pass();
    QCOMPARE(after.work.foldersRead, 1u);
    QCOMPARE(after.work.foldersReused, 3u);
    QCOMPARE(after.work.headersRead, std::uint64_t(headersRead));
    QCOMPARE(after.dupes.groups.size(), std::size_t(groups));
    QVERIFY(sameAsFresh(tree, after));
    // And the pass after that reuses everything again.
    settle();
    const InventoryReport again = tree.pass();
    QCOMPARE(again.work.foldersRead, 0u);
    QCOMPARE(again.dupes.groups.size(), std::size_t(groups));
    QVERIFY(sameAsFresh(tree, again));
}

void TestInventory::newAndDeletedFolders()
{
    Tree tree;
    buildTree(tree);
    settle();
    tree.pass();
    makeCurOnlyFolder(tree.root + "/.New");
    mailtree::writeFile(tree.root + "/.New/maildirfolder", {});
    for (int n = 200; n < 203; ++n)
        mailtree::writeFile(tree.root + "/.New/cur/" + baseName(n) + ":2,S", message(n));
    settle();
    InventoryReport report = tree.pass();
    QCOMPARE(report.work.foldersRead, 1u);
    QCOMPARE(report.work.headersRead, 3u);
    QCOMPARE(report.scan.totals.folders, 5u);
    QVERIFY(sameAsFresh(tree, report));

    const std::string memoFile =
        tree.memo + "/folders/" + MessageMemo::fileNameFor(".Archive");
    QVERIFY(mailtree::exists(memoFile));
    removeTree(tree.root + "/.Archive");
    settle();
    report = tree.pass();
    QCOMPARE(report.work.foldersRead, 0u);
    QCOMPARE(report.work.foldersReused, 4u);
    QCOMPARE(report.work.memoFilesRemoved, 1u);
    QVERIFY(!mailtree::exists(memoFile));
    QCOMPARE(report.scan.totals.folders, 4u);
    QVERIFY(sameAsFresh(tree, report));
}

// git's racy-index rule: stamps too close to the pass are not trusted, so a change later in the
// same timestamp tick (which would leave them as they are) cannot hide.
void TestInventory::racyStampsAreReadAgain()
{
    Tree tree;
    buildTree(tree);
    // Just written: within the default 2 s window, nothing is trusted...
    InventoryReport report = tree.pass(2'000'000'000);
    QCOMPARE(report.work.foldersUntrusted, 4u);
    // ...so the next pass lists every folder again, but opens no message: the message memo
    // does not depend on time.
    report = tree.pass(2'000'000'000);
    QCOMPARE(report.work.foldersRead, 4u);
    QCOMPARE(report.work.headersRead, 0u);
    QCOMPARE(report.work.headersRemembered, 20u);

    // The danger it guards against, made certain: a change that keeps the stamps as they were
    // (here set back by hand, as a change in the same tick would) is seen because the folder
    // was never trusted.
    const std::string cur = tree.root + "/.Sent/cur";
    struct stat before;
    QCOMPARE(::stat(cur.c_str(), &before), 0);
    mailtree::writeFile(cur + "/" + baseName(300) + ":2,S", message(300));
    const timespec times[2] = {before.st_atim, before.st_mtim};
    QCOMPARE(::utimensat(AT_FDCWD, cur.c_str(), times, 0), 0);
    report = tree.pass(2'000'000'000);
    QCOMPARE(report.scan.totals.curMessages, 21u);
    QVERIFY(sameAsFresh(tree, report));

    // Once the stamps are older than the window, the folders are trusted and reused.
    settle();
    report = tree.pass(kTestRacyWindowNs);
    QCOMPARE(report.work.foldersUntrusted, 0u);
    settle();
    report = tree.pass(kTestRacyWindowNs);
    QCOMPARE(report.work.foldersReused, 4u);
}

void TestInventory::damagedSummaryCostsAFullRead_data()
{
    QTest::addColumn<QString>("damage");
    QTest::newRow("truncated") << QStringLiteral("truncate");
    QTest::newRow("byte flipped") << QStringLiteral("flip");
    QTest::newRow("empty") << QStringLiteral("empty");
    QTest::newRow("another version") << QStringLiteral("version");
    QTest::newRow("garbage") << QStringLiteral("garbage");
}

void TestInventory::damagedSummaryCostsAFullRead()
{
    QFETCH(QString, damage);
    Tree tree;
    buildTree(tree);
    settle();
    tree.pass();
    // A change the damaged memo must not hide: a new message in .Sent.
    mailtree::writeFile(tree.root + "/.Sent/cur/" + baseName(400) + ":2,S", message(400));
    const std::string path = InventorySummary::filePath(tree.memo);
    std::string text = mailtree::readFile(path);
    if (damage == QLatin1String("truncate"))
        text.resize(text.size() / 2);
    else if (damage == QLatin1String("flip"))
        text[text.size() / 3] ^= 0x01;
    else if (damage == QLatin1String("empty"))
        text.clear();
    else if (damage == QLatin1String("version"))
        text.replace(text.find("mailmesh-inventory-summary 2"), 28, "mailmesh-inventory-summary 9");
    else
        text = "mailmesh-inventory-summary";
    mailtree::writeFile(path, text);
    settle();
    const InventoryReport report = tree.pass();
    QVERIFY(!report.memoLoaded);
    QCOMPARE(report.work.foldersRead, 4u);
    QCOMPARE(report.scan.totals.curMessages, 21u);
    QVERIFY(sameAsFresh(tree, report));
    // It wrote a good one again.
    settle();
    QCOMPARE(tree.pass().work.foldersReused, 4u);
}

void TestInventory::damagedMessageMemoCostsItsHeaders()
{
    Tree tree;
    buildTree(tree);
    settle();
    tree.pass();
    const std::string path = tree.memo + "/folders/" + MessageMemo::fileNameFor(".Sent");
    std::string text = mailtree::readFile(path);
    QVERIFY(!text.empty());
    // The first record's size changed: without the checksum it would be believed.
    const std::size_t firstRecord = sizeof(MessageMemo::Header) + 8; // ".Sent" padded to 8 bytes
    text[firstRecord + offsetof(MessageMemo::Record, size)] ^= 0x01;
    mailtree::writeFile(path, text);
    mailtree::writeFile(tree.root + "/.Sent/cur/" + baseName(500) + ":2,S", message(500));
    settle();
    const InventoryReport report = tree.pass();
    QCOMPARE(report.work.foldersRead, 1u);
    QCOMPARE(report.work.headersRead, 6u); // every message of .Sent, none of the others
    QVERIFY(sameAsFresh(tree, report));

    // A memo of another folder under this folder's name is not believed either.
    const std::string other = mailtree::readFile(tree.memo + "/folders/" + MessageMemo::fileNameFor(".Archive"));
    mailtree::writeFile(path, other);
    mailtree::writeFile(tree.root + "/.Sent/cur/" + baseName(501) + ":2,S", message(501));
    settle();
    QCOMPARE(tree.pass().work.headersRead, 7u);
}

// A flag divergence of message `n` in `folder`: two names of one BASE, both hashed to compare.
void addDivergence(Tree &tree, const std::string &folder, int n)
{
    mailtree::writeFile(tree.root + folder + "/cur/" + baseName(n) + ":2,FS", message(n));
}

void TestInventory::groupMembersAreNotHashedAgain()
{
    Tree tree;
    buildTree(tree);
    addDivergence(tree, "/.Sent", 5);
    settle();
    const InventoryReport first = tree.pass();
    QCOMPARE(first.work.bodiesHashed, 2u);
    QCOMPARE(first.dupes.groups.size(), std::size_t(1));
    // A delivery makes .Sent be read again: its group is confirmed from the memo, not the disk.
    mailtree::writeFile(tree.root + "/.Sent/cur/" + baseName(100) + ":2,", message(100));
    settle();
    const InventoryReport after = tree.pass();
    QCOMPARE(after.work.foldersRead, 1u);
    QCOMPARE(after.work.headersRead, 1u);
    QCOMPARE(after.work.bodiesHashed, 0u);
    QCOMPARE(after.work.bodiesRemembered, 2u);
    QCOMPARE(after.work.bytesHashed, 0u);
    QCOMPARE(after.dupes.groups.size(), std::size_t(1));
    QVERIFY(sameAsFresh(tree, after));
}

void TestInventory::replacedMemberIsHashedAgain_data()
{
    QTest::addColumn<QString>("change");
    QTest::addColumn<int>("headersRead");
    QTest::addColumn<bool>("removable");
    // A writer's rename over the name: another inode, so read as a new message.
    QTest::newRow("replaced under the same name") << QStringLiteral("replace") << 1 << false;
    // Same inode and bytes, another mtime: the digest is not believed, the file is read again.
    QTest::newRow("mtime moved") << QStringLiteral("mtime") << 1 << true;
}

void TestInventory::replacedMemberIsHashedAgain()
{
    QFETCH(QString, change);
    QFETCH(int, headersRead);
    QFETCH(bool, removable);
    Tree tree;
    buildTree(tree);
    addDivergence(tree, "/.Sent", 5);
    settle();
    tree.pass();
    const std::string member = tree.root + "/.Sent/cur/" + baseName(5) + ":2,FS";
    if (change == QLatin1String("replace")) {
        const std::string staged = tree.root + "/.Sent/tmp/" + baseName(5);
        mailtree::writeFile(staged, message(5, "another body, same Message-ID\n"));
        QCOMPARE(::rename(staged.c_str(), member.c_str()), 0);
    } else {
        const timespec times[2] = {{0, UTIME_OMIT}, {1600000000, 0}};
        QCOMPARE(::utimensat(AT_FDCWD, member.c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
        // A file's mtime shows in no directory stamp: a delivery makes the folder be read.
        mailtree::writeFile(tree.root + "/.Sent/cur/" + baseName(100) + ":2,", message(100));
    }
    settle();
    const InventoryReport after = tree.pass();
    QCOMPARE(after.work.foldersRead, 1u);
    QCOMPARE(after.work.headersRead, std::uint64_t(headersRead));
    QCOMPARE(after.work.bodiesHashed, 1u);     // the changed member
    QCOMPARE(after.work.bodiesRemembered, 1u); // the other one
    QCOMPARE(after.dupes.groups.size(), std::size_t(1));
    QCOMPARE(after.dupes.groups.front().removable, removable);
    QVERIFY(sameAsFresh(tree, after));
}

void TestInventory::damagedAnswerCostsItsFolder_data()
{
    QTest::addColumn<QString>("damage");
    QTest::newRow("byte flipped") << QStringLiteral("flip");
    QTest::newRow("truncated") << QStringLiteral("truncate");
    QTest::newRow("missing") << QStringLiteral("missing");
    QTest::newRow("another folder's") << QStringLiteral("other");
}

void TestInventory::damagedAnswerCostsItsFolder()
{
    QFETCH(QString, damage);
    Tree tree;
    buildTree(tree);
    addDivergence(tree, "/.Sent", 5);
    addDivergence(tree, "/.Archive", 10);
    settle();
    tree.pass();
    const std::string folders = tree.memo + "/folders/";
    const std::string path = folders + FolderAnswer::fileNameFor(".Sent");
    std::string text = mailtree::readFile(path);
    QVERIFY(!text.empty());
    if (damage == QLatin1String("flip"))
        text[text.size() / 2] ^= 0x01;
    else if (damage == QLatin1String("truncate"))
        text.resize(text.size() / 2);
    else if (damage == QLatin1String("other"))
        text = mailtree::readFile(folders + FolderAnswer::fileNameFor(".Archive"));
    if (damage == QLatin1String("missing"))
        QCOMPARE(::unlink(path.c_str()), 0);
    else
        mailtree::writeFile(path, text);
    settle();
    const InventoryReport report = tree.pass();
    QVERIFY(report.memoLoaded);
    QCOMPARE(report.work.foldersRead, 1u); // .Sent only, and from its message memo
    QCOMPARE(report.work.foldersReused, 3u);
    QCOMPARE(report.work.headersRead, 0u);
    QCOMPARE(report.work.bodiesHashed, 0u);
    QCOMPARE(report.dupes.groups.size(), std::size_t(2));
    QVERIFY(sameAsFresh(tree, report));
    // The answer was written again.
    settle();
    QCOMPARE(tree.pass().work.foldersReused, 4u);
}

void TestInventory::noMemoDirStillAnswers()
{
    Tree tree;
    buildTree(tree);
    auto mailRoot = MailRoot::open(tree.root);
    QVERIFY(mailRoot.has_value());
    for (int i = 0; i < 2; ++i) {
        auto report = Inventory::run(*mailRoot, InventoryOptions{});
        QVERIFY(report.has_value());
        QCOMPARE(report->work.headersRead, 20u);
        QVERIFY(report->memoDir.empty());
        QVERIFY(sameAsFresh(tree, *report));
    }
    // A memo dir that cannot be made: said so, and the answer is still right.
    InventoryOptions options;
    options.memoDir = "/proc/mailmesh-cannot-be-here";
    auto report = Inventory::run(*mailRoot, options);
    QVERIFY(report.has_value());
    QVERIFY(!report->memoProblem.empty());
    QVERIFY(sameAsFresh(tree, *report));
}

// The incremental answer after random changes equals a fresh scan + dupes of the same tree.
void TestInventory::randomMutationsMatchAFreshScan()
{
    Tree tree;
    buildTree(tree);
    std::mt19937 random(20240624);
    const auto pick = [&](int n) { return int(random() % unsigned(n)); };
    std::vector<std::string> folders{"", "/.Sent", "/.Archive", "/.Classic"};
    int next = 1000;
    std::uint64_t reused = 0, untouched = 0;
    for (int round = 0; round < 40; ++round) {
        const int changes = pick(4); // 0: a round that changes nothing
        untouched += changes == 0;
        for (int c = 0; c < changes; ++c) {
            const std::string folder = tree.root + folders[std::size_t(pick(int(folders.size())))];
            if (!mailtree::exists(folder + "/cur"))
                continue;
            std::vector<std::string> names;
            if (DIR *dir = ::opendir((folder + "/cur").c_str())) {
                while (dirent *e = ::readdir(dir))
                    if (e->d_name[0] != '.')
                        names.emplace_back(e->d_name);
                ::closedir(dir);
            }
            std::sort(names.begin(), names.end());
            const std::string some = names.empty() ? std::string() : folder + "/cur/" + names[std::size_t(pick(int(names.size())))];
            const std::string someBase = some.substr(0, some.find(':', some.rfind('/')));
            switch (pick(10)) {
            case 0:
            case 1: // delivery
                mailtree::writeFile(folder + "/cur/" + baseName(next) + ":2,", message(next));
                ++next;
                break;
            case 2: // expunge
                if (!some.empty())
                    ::unlink(some.c_str());
                break;
            case 3: // flag change
                if (!some.empty())
                    ::rename(some.c_str(), (someBase + ":2," + "FRST"[pick(4)]).c_str());
                break;
            case 4: // flag divergence: a second name of one BASE, sometimes with other bytes
                if (!some.empty())
                    mailtree::writeFile(someBase + ":2,D", pick(2) ? mailtree::readFile(some) : message(next++));
                break;
            case 5: // Syncthing conflict copy
                if (!some.empty()) {
                    const std::string name = some.substr(some.rfind('/') + 1);
                    const std::size_t dot = name.rfind('.');
                    mailtree::writeFile(folder + "/cur/" + name.substr(0, dot) + ".sync-conflict-20240101-120000-ABCDEFG" + name.substr(dot),
                                        mailtree::readFile(some));
                }
                break;
            case 6: // the same message delivered twice, or a message without Message-ID
                if (!some.empty())
                    mailtree::writeFile(folder + "/cur/" + baseName(next++) + ":2,S", mailtree::readFile(some));
                else
                    mailtree::writeFile(folder + "/cur/" + baseName(next++) + ":2,S", "Subject: x\n\nno id\n");
                break;
            case 7: // a new folder, or one removed
                if (pick(2)) {
                    const std::string name = "/.F" + std::to_string(next++);
                    makeCurOnlyFolder(tree.root + name);
                    mailtree::writeFile(tree.root + name + "/maildirfolder", {});
                    mailtree::writeFile(tree.root + name + "/cur/" + baseName(next) + ":2,S", message(next));
                    ++next;
                    folders.push_back(name);
                } else if (folders.size() > 4) {
                    removeTree(tree.root + folders.back());
                    folders.pop_back();
                }
                break;
            case 8: // a file in tmp/, or in a classic folder's new/
                if (mailtree::exists(folder + "/tmp"))
                    mailtree::writeFile(folder + "/tmp/t" + std::to_string(next++), "x");
                if (mailtree::exists(tree.root + "/.Classic/new")) {
                    mailtree::writeFile(tree.root + "/.Classic/new/" + baseName(next), message(next));
                    ++next;
                }
                break;
            case 9: // a name that is not a message
                mailtree::writeFile(folder + "/cur/.dotfile" + std::to_string(next++), "x");
                break;
            }
        }
        if (pick(2))
            settle(); // sometimes old enough to be trusted, sometimes not
        const InventoryReport report = tree.pass();
        reused += report.work.foldersReused;
        QVERIFY2(sameAsFresh(tree, report), qPrintable(QStringLiteral("round %1").arg(round)));
    }
    QVERIFY(reused > 0); // the memo was used, not only rebuilt
    QVERIFY(untouched > 0);
}

void TestInventory::newNamesOnlyUpdateTheFolder()
{
    Tree tree;
    buildTree(tree);
    settle();
    QCOMPARE(tree.pass().work.listingsWritten, 4u); // every folder of the tree is plain
    const std::string cur = tree.root + "/.Sent/cur/";
    mailtree::writeFile(cur + baseName(100) + ":2,", message(100));
    mailtree::writeFile(cur + baseName(101) + ":2,S", message(101));
    settle();
    const InventoryReport after = tree.pass();
    QCOMPARE(after.work.foldersRead, 1u);
    QCOMPARE(after.work.foldersUpdated, 1u);
    QCOMPARE(after.work.messagesListed, 7u);
    QCOMPARE(after.work.headersRead, 2u); // the new ones only
    QCOMPARE(after.work.listingsWritten, 1u);
    QCOMPARE(after.work.memoFilesWritten, 1u); // the summary; the message memo is left as it was
    QCOMPARE(after.scan.totals.curMessages, 22u);
    QVERIFY(sameAsFresh(tree, after));
    // A classic folder's new/ too, and the pass after that reuses everything again.
    mailtree::writeFile(tree.root + "/.Classic/new/" + baseName(102), message(102));
    settle();
    const InventoryReport classic = tree.pass();
    QCOMPARE(classic.work.foldersUpdated, 1u);
    QCOMPARE(classic.scan.totals.newMessages, 1u);
    QVERIFY(sameAsFresh(tree, classic));
    settle();
    const InventoryReport again = tree.pass();
    QCOMPARE(again.work.foldersRead, 0u);
    QVERIFY(sameAsFresh(tree, again));
}

void TestInventory::removedNameRebuildsTheFolder()
{
    Tree tree;
    buildTree(tree);
    settle();
    tree.pass();
    const std::string cur = tree.root + "/.Sent/cur/";
    QCOMPARE(::unlink((cur + baseName(6) + ":2,S").c_str()), 0);
    mailtree::writeFile(cur + baseName(100) + ":2,", message(100)); // and one new
    settle();
    const InventoryReport after = tree.pass();
    QCOMPARE(after.work.foldersRead, 1u);
    QCOMPARE(after.work.foldersUpdated, 0u);
    QCOMPARE(after.work.headersRead, 1u); // the rebuild opens only what its message memo lacks
    QCOMPARE(after.scan.totals.curMessages, 20u);
    QVERIFY(sameAsFresh(tree, after));
    // A message moved to another folder: gone from one (rebuilt), new in the other (updated).
    QCOMPARE(::rename((cur + baseName(7) + ":2,S").c_str(),
                      (tree.root + "/.Archive/cur/" + baseName(7) + ":2,S").c_str()),
             0);
    settle();
    const InventoryReport moved = tree.pass();
    QCOMPARE(moved.work.foldersRead, 2u);
    QCOMPARE(moved.work.foldersUpdated, 1u);
    QVERIFY(sameAsFresh(tree, moved));
}

void TestInventory::renamedNameUpdatesUnlessGrouped()
{
    Tree tree;
    buildTree(tree);
    addDivergence(tree, "/.Sent", 5); // 5 has two names: a group
    settle();
    QCOMPARE(tree.pass().dupes.groups.size(), std::size_t(1));
    const std::string cur = tree.root + "/.Sent/cur/";
    // A flag change of a message in no group: the same inode and BASE under another name.
    QCOMPARE(::rename((cur + baseName(6) + ":2,S").c_str(), (cur + baseName(6) + ":2,RS").c_str()), 0);
    settle();
    const InventoryReport flagged = tree.pass();
    QCOMPARE(flagged.work.foldersUpdated, 1u);
    QCOMPARE(flagged.work.headersRead, 0u);
    QCOMPARE(flagged.work.bodiesRemembered, 2u); // the group's members still checked by lstat
    QCOMPARE(flagged.dupes.groups.size(), std::size_t(1));
    QVERIFY(sameAsFresh(tree, flagged));
    // Dovecot moving a message from new/ to cur/ with its flags is a rename too.
    const std::string classic = tree.root + "/.Classic/";
    mailtree::writeFile(classic + "new/" + baseName(103), message(103));
    settle();
    QCOMPARE(tree.pass().work.foldersUpdated, 1u);
    QCOMPARE(::rename((classic + "new/" + baseName(103)).c_str(),
                      (classic + "cur/" + baseName(103) + ":2,S").c_str()),
             0);
    settle();
    const InventoryReport seen = tree.pass();
    QCOMPARE(seen.work.foldersUpdated, 1u);
    QCOMPARE(seen.scan.totals.newMessages, 0u);
    QVERIFY(sameAsFresh(tree, seen));
    // A flag change of a group member changes the group: the folder is rebuilt.
    QCOMPARE(::rename((cur + baseName(5) + ":2,FS").c_str(), (cur + baseName(5) + ":2,FRS").c_str()), 0);
    settle();
    const InventoryReport member = tree.pass();
    QCOMPARE(member.work.foldersRead, 1u);
    QCOMPARE(member.work.foldersUpdated, 0u);
    QCOMPARE(member.dupes.groups.size(), std::size_t(1));
    QVERIFY(sameAsFresh(tree, member));
}

void TestInventory::newDuplicateIsFoundAfterUpdates()
{
    Tree tree;
    buildTree(tree);
    settle();
    tree.pass();
    // A message delivered to .Sent (an update), then the same message into .Archive: another
    // folder, so no group (duplicates are looked for within a folder), and .Archive is updated.
    const std::string sent = tree.root + "/.Sent/cur/", archive = tree.root + "/.Archive/cur/";
    mailtree::writeFile(sent + baseName(200) + ":2,", message(200));
    settle();
    QCOMPARE(tree.pass().work.foldersUpdated, 1u);
    mailtree::writeFile(archive + baseName(201) + ":2,S", message(200));
    settle();
    const InventoryReport across = tree.pass();
    QCOMPARE(across.work.foldersUpdated, 1u);
    QCOMPARE(across.dupes.groups.size(), std::size_t(0));
    QVERIFY(sameAsFresh(tree, across));
    // The same message again in .Sent, whose first copy only the listing memo knows: the
    // folder is rebuilt and the group shows on this very pass.
    mailtree::writeFile(sent + baseName(202) + ":2,S", message(200));
    settle();
    const InventoryReport twice = tree.pass();
    QCOMPARE(twice.work.foldersUpdated, 0u);
    QCOMPARE(twice.work.foldersRead, 1u);
    QCOMPARE(twice.dupes.groups.size(), std::size_t(1));
    QVERIFY(sameAsFresh(tree, twice));
    // Two copies arriving together in a folder, and a second name of an old message's BASE.
    mailtree::writeFile(archive + baseName(203) + ":2,", message(300));
    mailtree::writeFile(archive + baseName(204) + ":2,", message(300));
    mailtree::writeFile(tree.root + "/cur/" + baseName(1) + ":2,F", message(1));
    settle();
    const InventoryReport both = tree.pass();
    QCOMPARE(both.work.foldersUpdated, 0u);
    QCOMPARE(both.dupes.groups.size(), std::size_t(3));
    QVERIFY(sameAsFresh(tree, both));
}

void TestInventory::damagedListingCostsItsFolder()
{
    Tree tree;
    buildTree(tree);
    settle();
    tree.pass();
    const std::string path = tree.memo + "/folders/" + FolderListing::fileNameFor(".Sent");
    std::string bytes = mailtree::readFile(path);
    QVERIFY(bytes.size() > 200);
    bytes[bytes.size() - 20] ^= 0x01; // an entry's byte: only the checksum tells
    mailtree::writeFile(path, bytes);
    mailtree::writeFile(tree.root + "/.Sent/cur/" + baseName(100) + ":2,", message(100));
    settle();
    const InventoryReport after = tree.pass();
    QCOMPARE(after.work.foldersRead, 1u);
    QCOMPARE(after.work.foldersUpdated, 0u);
    QVERIFY(sameAsFresh(tree, after));
    // Another folder's listing under this name is not believed either.
    mailtree::writeFile(path, mailtree::readFile(tree.memo + "/folders/" + FolderListing::fileNameFor(".Archive")));
    mailtree::writeFile(tree.root + "/.Sent/cur/" + baseName(101) + ":2,", message(101));
    settle();
    const InventoryReport other = tree.pass();
    QCOMPARE(other.work.foldersUpdated, 0u);
    QVERIFY(sameAsFresh(tree, other));
}

// Deliveries, flag changes, copies and expunges at random: whether a folder is updated or
// rebuilt, the answer is a fresh scan's, and most passes update.
void TestInventory::randomChangesUpdateAndMatchAFreshScan()
{
    Tree tree;
    buildTree(tree);
    settle();
    tree.pass();
    std::mt19937 random(24);
    const std::vector<std::string> folders{"/cur/", "/.Sent/cur/", "/.Archive/cur/", "/.Classic/cur/"};
    int next = 1000;
    std::uint64_t updated = 0;
    for (int round = 0; round < 30; ++round) {
        const std::string dir = tree.root + folders[random() % folders.size()];
        std::vector<std::string> names;
        if (DIR *d = ::opendir(dir.c_str())) {
            while (dirent *e = ::readdir(d))
                if (e->d_name[0] != '.')
                    names.emplace_back(e->d_name);
            ::closedir(d);
        }
        std::sort(names.begin(), names.end());
        const std::string some = names.empty() ? std::string() : names[random() % names.size()];
        const std::string someBase = some.substr(0, some.find(':'));
        switch (random() % 8) {
        case 0: // expunge
            if (!some.empty())
                ::unlink((dir + some).c_str());
            break;
        case 1: // flag change
            if (!some.empty())
                ::rename((dir + some).c_str(), (dir + someBase + ":2," + "FRST"[random() % 4]).c_str());
            break;
        case 2: // the same message again, under a new BASE
            if (!some.empty())
                mailtree::writeFile(dir + baseName(next++) + ":2,S", mailtree::readFile(dir + some));
            break;
        default: // deliveries
            for (int i = 0; i < 3; ++i, ++next)
                mailtree::writeFile(dir + baseName(next) + ":2,", message(next));
        }
        if (random() % 2)
            settle();
        const InventoryReport report = tree.pass();
        updated += report.work.foldersUpdated;
        QVERIFY2(sameAsFresh(tree, report), qPrintable(QStringLiteral("round %1").arg(round)));
    }
    QVERIFY(updated > 5);
}

// A full read writes the listing in the order the directory gave, and an update puts new and
// renamed names where the directory lists them, so the next update walks it in step.
void TestInventory::listingKeepsDirectoryOrder()
{
    Tree tree;
    buildTree(tree);
    const std::string sent = tree.root + "/.Sent";
    for (int n = 100; n < 140; ++n)
        mailtree::writeFile(sent + "/cur/" + baseName(n) + ":2,S", message(n));
    settle();
    tree.pass();
    const std::vector<std::uint64_t> first = memoHashes(tree, ".Sent");
    QCOMPARE(first.size(), std::size_t(45));
    QCOMPARE(first, listedHashes(sent));
    std::vector<std::uint64_t> sorted = first;
    std::sort(sorted.begin(), sorted.end());
    QVERIFY(sorted != first); // 45 names in hash order by chance: the check above would say nothing

    for (int n = 200; n < 205; ++n)
        mailtree::writeFile(sent + "/cur/" + baseName(n) + ":2,", message(n));
    QCOMPARE(::rename((sent + "/cur/" + baseName(120) + ":2,S").c_str(),
                      (sent + "/cur/" + baseName(120) + ":2,RS").c_str()),
             0);
    settle();
    const InventoryReport after = tree.pass();
    QCOMPARE(after.work.foldersUpdated, 1u);
    QCOMPARE(after.work.headersRead, 5u);
    QVERIFY(sameAsFresh(tree, after));
    QCOMPARE(memoHashes(tree, ".Sent"), listedHashes(sent));
}

// A directory that lists its names in another order than the memo (copied, restored from a
// backup, another file system): the walk matches little, and the answer is still exact.
void TestInventory::listingInAnotherOrderIsStillRight()
{
    Tree tree;
    buildTree(tree);
    addDivergence(tree, "/.Sent", 5);
    settle();
    tree.pass();
    for (const std::string &folder : {std::string(), std::string(".Sent")}) {
        auto listing = FolderListing::load(listingPathOf(tree, folder), folder);
        QVERIFY(listing.has_value());
        std::reverse(listing->entries.begin(), listing->entries.end());
        mailtree::writeFile(listingPathOf(tree, folder), listing->toBytes(folder));
    }
    mailtree::writeFile(tree.root + "/cur/" + baseName(100) + ":2,", message(100));
    mailtree::writeFile(tree.root + "/.Sent/cur/" + baseName(101) + ":2,", message(101));
    settle();
    const InventoryReport after = tree.pass();
    QCOMPARE(after.work.foldersRead, 2u);
    QCOMPARE(after.dupes.groups.size(), std::size_t(1));
    QVERIFY(sameAsFresh(tree, after));
    QCOMPARE(memoHashes(tree, ""), listedHashes(tree.root));
    QCOMPARE(memoHashes(tree, ".Sent"), listedHashes(tree.root + "/.Sent"));
    // And the walk is in step again on the pass after.
    mailtree::writeFile(tree.root + "/.Sent/cur/" + baseName(102) + ":2,", message(102));
    settle();
    const InventoryReport next = tree.pass();
    QCOMPARE(next.work.foldersUpdated, 1u);
    QVERIFY(sameAsFresh(tree, next));
}

// An update writes its folder's listing over the old one: same inode, no temporary file.
void TestInventory::listingIsRewrittenInPlace()
{
    Tree tree;
    buildTree(tree);
    settle();
    tree.pass();
    const std::string path = listingPathOf(tree, ".Sent");
    struct stat before
    {
    };
    QCOMPARE(::stat(path.c_str(), &before), 0);
    mailtree::writeFile(tree.root + "/.Sent/cur/" + baseName(100) + ":2,", message(100));
    settle();
    const InventoryReport grown = tree.pass();
    QCOMPARE(grown.work.foldersUpdated, 1u);
    QCOMPARE(grown.work.listingsWritten, 1u);
    struct stat after
    {
    };
    QCOMPARE(::stat(path.c_str(), &after), 0);
    QCOMPARE(after.st_ino, before.st_ino);
    QCOMPARE(std::size_t(after.st_size), std::size_t(before.st_size) + sizeof(FolderListing::Entry));
    QCOMPARE(memoHashes(tree, ".Sent"), listedHashes(tree.root + "/.Sent"));
    // Shorter: a full read after a message went away truncates it to its new size.
    QCOMPARE(::unlink((tree.root + "/.Sent/cur/" + baseName(100) + ":2,").c_str()), 0);
    QCOMPARE(::unlink((tree.root + "/.Sent/cur/" + baseName(5) + ":2,S").c_str()), 0);
    settle();
    const InventoryReport shrunk = tree.pass();
    QCOMPARE(shrunk.work.foldersUpdated, 0u);
    QVERIFY(sameAsFresh(tree, shrunk));
    QCOMPARE(::stat(path.c_str(), &after), 0);
    QCOMPARE(after.st_ino, before.st_ino);
    QCOMPARE(std::size_t(after.st_size), std::size_t(before.st_size) - sizeof(FolderListing::Entry));
    QCOMPARE(memoHashes(tree, ".Sent"), listedHashes(tree.root + "/.Sent"));
    // No temporary file was left behind (nor made: the inode says so).
    if (DIR *dir = ::opendir((tree.memo + "/folders").c_str())) {
        while (const dirent *e = ::readdir(dir))
            QVERIFY2(std::strstr(e->d_name, ".tmp") == nullptr, e->d_name);
        ::closedir(dir);
    }
}

// A rewrite in place cut short (a crash, or a pass reading while another writes) leaves the
// new file's first bytes over the old one's last ones. Every such cut is refused by the
// checksum, and the folder is read in full, right.
void TestInventory::tornListingRewriteIsRefused()
{
    Tree tree;
    buildTree(tree);
    settle();
    tree.pass();
    const std::string path = listingPathOf(tree, ".Sent");
    const std::string cur = tree.root + "/.Sent/cur/";
    const std::string old = mailtree::readFile(path);
    // A flag change: the same number of entries, so both files have the same size, and only the
    // checksum can tell a cut (the sizes in the header still add up).
    QCOMPARE(::rename((cur + baseName(6) + ":2,S").c_str(), (cur + baseName(6) + ":2,RS").c_str()), 0);
    settle();
    QCOMPARE(tree.pass().work.foldersUpdated, 1u);
    const std::string rewritten = mailtree::readFile(path);
    QCOMPARE(rewritten.size(), old.size());
    QVERIFY(FolderListing::load(path, ".Sent").has_value());
    std::size_t cuts = 0;
    for (std::size_t cut = 8; cut < old.size(); cut += 8) {
        const std::string torn = rewritten.substr(0, cut) + old.substr(cut);
        if (torn == rewritten || torn == old)
            continue; // the same as a whole file: nothing torn
        ++cuts;
        mailtree::writeFile(path, torn);
        QVERIFY2(!FolderListing::load(path, ".Sent").has_value(), qPrintable(QString::number(cut)));
    }
    QVERIFY(cuts > old.size() / 16); // most cuts tear something

    // With a torn listing on disk, the next change of the folder costs a full read.
    mailtree::writeFile(path, rewritten.substr(0, rewritten.size() / 2) + old.substr(old.size() / 2));
    mailtree::writeFile(cur + baseName(100) + ":2,", message(100));
    settle();
    const InventoryReport after = tree.pass();
    QCOMPARE(after.work.foldersRead, 1u);
    QCOMPARE(after.work.foldersUpdated, 0u);
    QVERIFY(sameAsFresh(tree, after));
    QVERIFY(FolderListing::load(path, ".Sent").has_value()); // written again, whole
}

QTEST_GUILESS_MAIN(TestInventory)
#include "tst_inventory.moc"
