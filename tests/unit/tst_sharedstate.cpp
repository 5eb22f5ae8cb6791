// The keyword and subscription files beside the messages, on real trees: reading the merged
// view the patched Dovecot reads, settling a cluster table into a folder, and folding every
// node's files back into one each (core/maildir/sharedstate.h, docs/mailbox-state.md).

#include "mailtreefixture.h"

#include "maildir/journal.h"
#include "maildir/keywordfiles.h"
#include "maildir/maildirwalker.h"
#include "maildir/mailroot.h"
#include "maildir/quarantine.h"
#include "maildir/sharedstate.h"
#include "maildir/statedir.h"
#include "maildir/subscriptionfiles.h"
#include "maildir/uniquefd.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

using namespace mailtree;
using mm::maildir::Keywords;
using mm::maildir::KeywordSettlement;
using mm::maildir::MailRoot;
using mm::maildir::SharedStateOptions;

namespace {

mm::maildir::UniqueFd openDir(const std::string &path)
{
    return mm::maildir::UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

} // namespace

class TestSharedState : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void keywordFilesMergeLikeThePatch();
    void keywordFilesIgnoreTemporaryAndLockFiles();
    void keywordFilesRefuseSymlinks();
    void subscriptionsLatestChangeWins();
    void subscriptionsVersion1File();
    void reportCountsLettersInUse();
    void settleWritesTableAndRenamesLetters();
    void settleDryRunChangesNothing();
    void foldMergesAndSetsAsideNodeFiles();
    void foldOfAClusterWithoutNodeFilesDoesNothing();
    void foldSetsAsideStaleLocksAndTemporaryFiles();
    void walkerSkipsNodeFileDirectories();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::string m_root;     // the mail root (one Maildir: INBOX with .Work)
    std::string m_work;     // m_root + "/.Work"
};

void TestSharedState::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_root = m_dir->path().toStdString() + "/mail";
    makeFolder(m_root);
    m_work = m_root + "/.Work";
    makeFolder(m_work);
    writeFile(m_work + "/maildirfolder", "");
}

void TestSharedState::keywordFilesMergeLikeThePatch()
{
    writeFile(m_work + "/dovecot-keywords", "0 $Junk\n1 Work\n");
    mkdirs(m_work + "/dovecot-keywords.d");
    // node2's file gives b another name (a clash: dovecot-keywords wins), and $Junk again
    // under another letter (an alias: one keyword).
    writeFile(m_work + "/dovecot-keywords.d/node2", "1 Other\n3 $Node2\n5 $junk\n");
    writeFile(m_work + "/dovecot-keywords.d/node1", "2 $Node1\n3 $Late\n");

    const auto folder = openDir(m_work);
    auto read = mm::maildir::readFolderKeywords(folder.get(), ".Work");
    QVERIFY2(read, read ? "" : read.error().message.c_str());
    QVERIFY(read->hasBaseFile);
    QCOMPARE(read->nodeFiles, (std::vector<std::string>{"node1", "node2"}));
    QCOMPARE(read->merged.names[0], std::string("$Junk"));
    QCOMPARE(read->merged.names[1], std::string("Work"));
    QCOMPARE(read->merged.names[2], std::string("$Node1"));
    // node1 sorts before node2: its name for d wins.
    QCOMPARE(read->merged.names[3], std::string("$Late"));
    QCOMPARE(read->merged.names[5], std::string("$junk"));
    QCOMPARE(read->origin[2], std::string("node1"));
    QCOMPARE(read->origin[0], std::string());
    QCOMPARE(read->clashes.size(), std::size_t(2)); // both in node2's file, in letter order
    QCOMPARE(read->clashes[0].letter, 'b');
    QCOMPARE(read->clashes[0].keptName, std::string("Work"));
    QCOMPARE(read->clashes[0].file, std::string("dovecot-keywords.d/node2"));
    QCOMPARE(read->clashes[1].letter, 'd');
    QCOMPARE(read->clashes[1].otherName, std::string("$Node2"));
    // Looked up by name, an alias resolves to the smallest letter, as in Dovecot.
    QCOMPARE(read->merged.letterOf("$JUNK"), std::optional<char>('a'));
}

void TestSharedState::keywordFilesIgnoreTemporaryAndLockFiles()
{
    mkdirs(m_work + "/dovecot-keywords.d");
    writeFile(m_work + "/dovecot-keywords.d/node1", "0 $Node1\n");
    writeFile(m_work + "/dovecot-keywords.d/node1.lock", "0 $Half\n");
    writeFile(m_work + "/dovecot-keywords.d/.syncthing.node2.tmp", "0 $Transfer\n");
    const auto folder = openDir(m_work);
    auto read = mm::maildir::readFolderKeywords(folder.get(), ".Work");
    QVERIFY(read);
    QCOMPARE(read->nodeFiles, std::vector<std::string>{"node1"});
    QCOMPARE(read->merged.names[0], std::string("$Node1"));
    QVERIFY(read->clashes.empty());
}

void TestSharedState::keywordFilesRefuseSymlinks()
{
    writeFile(m_dir->path().toStdString() + "/outside", "0 $Outside\n");
    QCOMPARE(::symlink((m_dir->path().toStdString() + "/outside").c_str(), (m_work + "/dovecot-keywords").c_str()), 0);
    const auto folder = openDir(m_work);
    auto read = mm::maildir::readFolderKeywords(folder.get(), ".Work");
    QVERIFY(!read);
    QVERIFY(read.error().message.find(".Work/dovecot-keywords") != std::string::npos);
}

void TestSharedState::subscriptionsLatestChangeWins()
{
    writeFile(m_root + "/subscriptions", "V\t2\n\nWork\nOld\tSub\n");
    mkdirs(m_root + "/subscriptions.d");
    writeFile(m_root + "/subscriptions.d/node1",
              "mailmesh-subscriptions 1\n+1700000010.000000000 Node1Folder\n-1700000020.000000000 Old\tSub\n");
    writeFile(m_root + "/subscriptions.d/node2",
              "mailmesh-subscriptions 1\n+1700000015.000000000 Old\tSub\n-1700000005.000000000 Node1Folder\n"
              "garbage line\n");
    const auto maildir = openDir(m_root);
    auto subs = mm::maildir::readSubscriptions(maildir.get(), "", '.');
    QVERIFY(subs);
    // Node1Folder: subscribed at 10, the unsubscribe at 5 is older. Old.Sub: unsubscribed at 20.
    QCOMPARE(subs->subscribed(), (std::vector<std::string>{"Node1Folder", "Work"}));
    QCOMPARE(subs->problems.size(), std::size_t(1));
    QCOMPARE(subs->nodeFiles.size(), std::size_t(2));
}

void TestSharedState::subscriptionsVersion1File()
{
    // Before Dovecot 2.2's version 2: plain names with the hierarchy separator.
    writeFile(m_root + "/subscriptions", "Work\nWork.Sub\n");
    const auto maildir = openDir(m_root);
    auto subs = mm::maildir::readSubscriptions(maildir.get(), "", '.');
    QVERIFY(subs);
    QCOMPARE(subs->subscribed(), (std::vector<std::string>{"Work", "Work\tSub"}));
    QCOMPARE(mm::maildir::escapeSubscriptionName("a\tb.c", '.'), std::string("a\001tb\tc"));
    QCOMPARE(mm::maildir::renderSubscriptionsFile({"A", "B\tC"}), std::string("V\t2\n\nA\nB\tC\n"));
}

void TestSharedState::reportCountsLettersInUse()
{
    writeFile(m_work + "/dovecot-keywords", "0 $Junk\n");
    writeFile(m_work + "/cur/1700000000.M1P1.h:2,Sa", "x");
    writeFile(m_work + "/cur/1700000000.M2P1.h:2,ab", "x");
    writeFile(m_root + "/cur/1700000000.M3P1.h:2,S", "x");
    auto root = MailRoot::open(m_root);
    QVERIFY(root);
    auto report = mm::maildir::reportKeywords(*root);
    QVERIFY(report);
    QCOMPARE(report->folders.size(), std::size_t(1)); // INBOX has neither table nor letters
    QCOMPARE(report->folders[0].folder, std::string(".Work"));
    QCOMPARE(report->folders[0].letterUse[0], std::uint64_t(2));
    QCOMPARE(report->folders[0].letterUse[1], std::uint64_t(1));
}

void TestSharedState::settleWritesTableAndRenamesLetters()
{
    writeFile(m_work + "/dovecot-keywords", "1 $Junk\n");
    writeFile(m_work + "/cur/1700000000.M1P1.h:2,Sb", "one");
    writeFile(m_work + "/cur/1700000000.M2P1.h:2,ab", "two");
    writeFile(m_work + "/cur/1700000000.M3P1.h:2,", "three");
    KeywordSettlement s;
    s.folder = ".Work";
    s.table.names[0] = "$Junk";
    s.renameTo[1] = 'a';
    auto root = MailRoot::open(m_root);
    QVERIFY(root);
    auto report = mm::maildir::settleKeywordTables(*root, {s}, SharedStateOptions{});
    QVERIFY2(report, report ? "" : report.error().message.c_str());
    QCOMPARE(report->renamed, std::uint64_t(2));
    QCOMPARE(report->written, std::uint64_t(1));
    QVERIFY(report->problems.empty());
    QCOMPARE(readFile(m_work + "/dovecot-keywords"), std::string("0 $Junk\n"));
    QVERIFY(exists(m_work + "/cur/1700000000.M1P1.h:2,Sa"));
    QVERIFY(exists(m_work + "/cur/1700000000.M2P1.h:2,a"));
    QCOMPARE(readFile(m_work + "/cur/1700000000.M2P1.h:2,a"), std::string("two"));
    QVERIFY(exists(m_work + "/cur/1700000000.M3P1.h:2,"));

    // The replaced table waits in the quarantine; the journal names every change.
    auto state = mm::maildir::StateDir::resolve(*root);
    QVERIFY(state);
    QVERIFY(state->open());
    auto quarantined = mm::maildir::Quarantine::list(*state);
    QVERIFY(quarantined);
    QCOMPARE(quarantined->size(), std::size_t(1));
    QCOMPARE(quarantined->front().originalPath, std::string(".Work/dovecot-keywords"));
    QCOMPARE(readFile(state->path() + "/" + quarantined->front().quarantinedPath), std::string("1 $Junk\n"));
    auto runs = mm::maildir::Journal::readAll(*state);
    QVERIFY(runs);
    QCOMPARE(runs->size(), std::size_t(1));
    QVERIFY(runs->front().ended);
    int moves = 0, writes = 0;
    for (const auto &record : runs->front().records) {
        moves += record.value("type", std::string()) == "move";
        writes += record.value("type", std::string()) == "write";
    }
    QCOMPARE(moves, 2);
    QCOMPARE(writes, 1);

    // A second run finds nothing to do and leaves no journal behind.
    const auto before = listing(m_dir->path().toStdString());
    auto again = mm::maildir::settleKeywordTables(*root, {s}, SharedStateOptions{});
    QVERIFY(again);
    QCOMPARE(again->renamed + again->written, std::uint64_t(0));
    QVERIFY(again->runId.empty());
    QCOMPARE(listing(m_dir->path().toStdString()), before);
}

void TestSharedState::settleDryRunChangesNothing()
{
    writeFile(m_work + "/dovecot-keywords", "1 $Junk\n");
    writeFile(m_work + "/cur/1700000000.M1P1.h:2,Sb", "one");
    KeywordSettlement s;
    s.folder = ".Work";
    s.table.names[0] = "$Junk";
    s.renameTo[1] = 'a';
    auto root = MailRoot::open(m_root);
    QVERIFY(root);
    const auto before = listing(m_dir->path().toStdString());
    SharedStateOptions options;
    options.dryRun = true;
    auto report = mm::maildir::settleKeywordTables(*root, {s}, options);
    QVERIFY(report);
    QCOMPARE(report->renamed, std::uint64_t(1));
    QCOMPARE(report->written, std::uint64_t(1));
    QCOMPARE(report->actions.size(), std::size_t(2));
    QCOMPARE(listing(m_dir->path().toStdString()), before);
}

void TestSharedState::foldMergesAndSetsAsideNodeFiles()
{
    writeFile(m_work + "/dovecot-keywords", "0 $Junk\n");
    mkdirs(m_work + "/dovecot-keywords.d");
    writeFile(m_work + "/dovecot-keywords.d/node1", "2 $Node1\n");
    writeFile(m_work + "/dovecot-keywords.d/node2", "3 $Node2\n");
    writeFile(m_root + "/subscriptions", "V\t2\n\nWork\n");
    mkdirs(m_root + "/subscriptions.d");
    writeFile(m_root + "/subscriptions.d/node1", "mailmesh-subscriptions 1\n+1700000010.000000000 New\n");
    writeFile(m_root + "/subscriptions.d/node2", "mailmesh-subscriptions 1\n-1700000020.000000000 Work\n");

    auto root = MailRoot::open(m_root);
    QVERIFY(root);
    SharedStateOptions dry;
    dry.dryRun = true;
    const auto before = listing(m_dir->path().toStdString());
    auto planned = mm::maildir::foldSharedState(*root, dry);
    QVERIFY(planned);
    QCOMPARE(planned->written, std::uint64_t(2));
    QCOMPARE(planned->setAside, std::uint64_t(4));
    QCOMPARE(listing(m_dir->path().toStdString()), before);

    auto report = mm::maildir::foldSharedState(*root, SharedStateOptions{});
    QVERIFY2(report, report ? "" : report.error().message.c_str());
    QCOMPARE(report->written, std::uint64_t(2));
    QCOMPARE(report->setAside, std::uint64_t(4));
    QVERIFY(report->problems.empty());
    QCOMPARE(readFile(m_work + "/dovecot-keywords"), std::string("0 $Junk\n2 $Node1\n3 $Node2\n"));
    QCOMPARE(readFile(m_root + "/subscriptions"), std::string("V\t2\n\nNew\n"));
    QVERIFY(!exists(m_work + "/dovecot-keywords.d"));
    QVERIFY(!exists(m_root + "/subscriptions.d"));

    // Nothing is deleted: the node files and the replaced files are in the quarantine.
    auto state = mm::maildir::StateDir::resolve(*root);
    QVERIFY(state && state->open());
    auto quarantined = mm::maildir::Quarantine::list(*state);
    QVERIFY(quarantined);
    QCOMPARE(quarantined->size(), std::size_t(6));

    auto again = mm::maildir::foldSharedState(*root, SharedStateOptions{});
    QVERIFY(again);
    QCOMPARE(again->written + again->setAside, std::uint64_t(0));
}

void TestSharedState::foldOfAClusterWithoutNodeFilesDoesNothing()
{
    writeFile(m_work + "/dovecot-keywords", "0 $Junk\n");
    writeFile(m_root + "/subscriptions", "V\t2\n\nWork\n");
    auto root = MailRoot::open(m_root);
    QVERIFY(root);
    const auto before = listing(m_dir->path().toStdString());
    auto report = mm::maildir::foldSharedState(*root, SharedStateOptions{});
    QVERIFY(report);
    QCOMPARE(report->written + report->setAside, std::uint64_t(0));
    QVERIFY(report->runId.empty());
    QCOMPARE(listing(m_dir->path().toStdString()), before);
}

// An IMAP process ended mid-write (the hold before a revert ends them) leaves its dotlock or
// temporary file beside the node files; the fold must still take the directory away.
void TestSharedState::foldSetsAsideStaleLocksAndTemporaryFiles()
{
    mkdirs(m_work + "/dovecot-keywords.d");
    writeFile(m_work + "/dovecot-keywords.d/node1", "2 $Node1\n");
    writeFile(m_work + "/dovecot-keywords.d/node1.lock", "");
    writeFile(m_work + "/dovecot-keywords.d/.temp.node1.4242.5d1e", "2 $Node1\n3 $Half\n");
    mkdirs(m_root + "/subscriptions.d");
    writeFile(m_root + "/subscriptions.d/node2", "mailmesh-subscriptions 1\n+1700000010.000000000 New\n");
    writeFile(m_root + "/subscriptions.d/node2.lock", "");

    auto root = MailRoot::open(m_root);
    QVERIFY(root);
    auto report = mm::maildir::foldSharedState(*root, SharedStateOptions{});
    QVERIFY2(report, report ? "" : report.error().message.c_str());
    QVERIFY(report->problems.empty());
    QCOMPARE(report->setAside, std::uint64_t(5));
    QCOMPARE(readFile(m_work + "/dovecot-keywords"), std::string("2 $Node1\n"));
    QVERIFY(!exists(m_work + "/dovecot-keywords.d"));
    QVERIFY(!exists(m_root + "/subscriptions.d"));
    auto state = mm::maildir::StateDir::resolve(*root);
    QVERIFY(state && state->open());
    auto quarantined = mm::maildir::Quarantine::list(*state);
    QVERIFY(quarantined);
    QVERIFY(quarantined->size() >= std::size_t(5)); // and the files the fold replaced
}

void TestSharedState::walkerSkipsNodeFileDirectories()
{
    // LAYOUT=fs: a directory below the Maildir is a folder when it holds cur/ or new/; the node
    // file directories must never be taken for one, even when someone made a cur/ inside.
    mkdirs(m_root + "/subscriptions.d/cur");
    mkdirs(m_work + "/dovecot-keywords.d/cur");
    auto root = MailRoot::open(m_root);
    QVERIFY(root);
    auto report = mm::maildir::reportKeywords(*root);
    QVERIFY(report);
    auto tree = mm::maildir::MaildirWalker::walk(*root);
    QVERIFY(tree);
    for (const auto &folder : tree->folders)
        QVERIFY2(folder.relPath.find(".d") == std::string::npos, folder.relPath.c_str());
}

QTEST_GUILESS_MAIN(TestSharedState)
#include "tst_sharedstate.moc"
