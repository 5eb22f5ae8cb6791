// What durable journals cost: convert (one large folder, and many small folders), dedupe and
// restore --all, each timed in-process against a bare loop that does the same renames with no
// journal at all (measured in the same run). The figures of two builds (before and after a
// change to the journal) are compared by running this program on each; nothing here asserts a
// time. Trees go to $MAILMESH_BENCH_DIR (default /tmp): put it on a real disk, since fsync on
// tmpfs costs nothing.
//
//   MAILMESH_BENCH_MESSAGES   messages in the one large folder      (default 100,000)
//   MAILMESH_BENCH_FOLDERS    small folders of 20 messages each      (default 2,000)
//   MAILMESH_BENCH_GROUPS     flag-divergence groups for dedupe      (default 10,000, 100 folders)

#include "benchtree.h"

#include "maildir/convert.h"
#include "maildir/dedupe.h"
#include "maildir/mailroot.h"
#include "maildir/restore.h"

#include <dirent.h>

#include <QtTest>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace mm::maildir;

namespace {

int envInt(const char *name, int fallback)
{
    const int value = qEnvironmentVariableIntValue(name);
    return value > 0 ? value : fallback;
}

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void classicFolder(const std::string &folder, int messages, int firstId)
{
    for (const char *sub : {"", "/cur", "/new", "/tmp"})
        if (::mkdir((folder + sub).c_str(), 0700) != 0 && errno != EEXIST)
            bench::die(folder + sub);
    char name[128];
    for (int i = 0; i < messages; ++i) {
        std::snprintf(name, sizeof name, "/new/%d.M%dP4242.bench.example.org,S=40",
                      1700000000 + firstId + i, firstId + i);
        bench::writeFile(folder + name, "Subject: bench\n\nbody of a bench message\n");
    }
}

// Each group: one message under two names of one BASE, so dedupe renames one to the union of
// the flags and quarantines the other.
void divergentFolder(const std::string &folder, int groups, int firstId)
{
    for (const char *sub : {"", "/cur", "/new", "/tmp"})
        if (::mkdir((folder + sub).c_str(), 0700) != 0 && errno != EEXIST)
            bench::die(folder + sub);
    char name[128];
    for (int i = 0; i < groups; ++i) {
        for (const char *flags : {"S", "F"}) {
            std::snprintf(name, sizeof name, "/cur/%d.M%dP4242.bench.example.org:2,%s",
                          1700000000 + firstId + i, firstId + i, flags);
            // Distinct bodies: identical ones would also make same-message groups.
            bench::writeFile(folder + name,
                             "Subject: bench\n\nbody of bench message " +
                                 std::to_string(firstId + i) + "\n");
        }
    }
}

// The baseline: every file of `from` renamed into `to`, nothing else.
void bareRenames(const std::string &from, const std::string &to)
{
    const int fromFd = ::open(from.c_str(), O_RDONLY | O_DIRECTORY);
    const int toFd = ::open(to.c_str(), O_RDONLY | O_DIRECTORY);
    DIR *dir = ::fdopendir(::dup(fromFd));
    while (dirent *e = ::readdir(dir)) {
        if (e->d_name[0] == '.')
            continue;
        if (::renameat(fromFd, e->d_name, toFd, e->d_name) != 0)
            bench::die(std::string("rename ") + e->d_name);
    }
    ::closedir(dir);
    ::close(fromFd);
    ::close(toFd);
}

struct Timing
{
    double bare = 1e9;
    double ours = 1e9;
    void take(double b, double o)
    {
        bare = std::min(bare, b);
        ours = std::min(ours, o);
    }
};

void print(const char *what, const Timing &t)
{
    std::printf("bench_durability: %-34s bare %.3f s, mailmesh %.3f s, ratio %.2fx\n", what,
                t.bare, t.ours, t.ours / t.bare);
}

} // namespace

class BenchDurability : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void convertOneLargeFolder();
    void convertManySmallFolders();
    void dedupeAndRestore();
};

void BenchDurability::convertOneLargeFolder()
{
    const int messages = envInt("MAILMESH_BENCH_MESSAGES", 100000);
    Timing timing;
    for (int round = 0; round < 2; ++round) {
        const std::string base = bench::scratchDir("durability-convert");
        ::mkdir((base + "/vmail").c_str(), 0700);
        classicFolder(base + "/bare", messages, 0);
        classicFolder(base + "/vmail/folder", messages, 0);
        ::sync();
        auto start = std::chrono::steady_clock::now();
        bareRenames(base + "/bare/new", base + "/bare/cur");
        const double bare = secondsSince(start);
        ::sync();
        start = std::chrono::steady_clock::now();
        auto root = MailRoot::open(base + "/vmail");
        QVERIFY(root.has_value());
        auto report = Convert::run(*root, {});
        const double ours = secondsSince(start);
        QVERIFY2(report.has_value(), report ? "" : report.error().message.c_str());
        QVERIFY(report->verified);
        QCOMPARE(report->totals.moved, std::uint64_t(messages));
        timing.take(bare, ours);
        bench::removeTree(base);
    }
    print(qPrintable(QStringLiteral("convert, 1 folder x %1").arg(messages)), timing);
}

void BenchDurability::convertManySmallFolders()
{
    const int folders = envInt("MAILMESH_BENCH_FOLDERS", 2000);
    const int perFolder = 20;
    Timing timing;
    for (int round = 0; round < 2; ++round) {
        const std::string base = bench::scratchDir("durability-folders");
        ::mkdir((base + "/vmail").c_str(), 0700);
        ::mkdir((base + "/bare").c_str(), 0700);
        // Maildir++ folders of one Maildir: the INBOX and .F<n>.
        classicFolder(base + "/vmail/m", perFolder, 0);
        std::vector<std::string> bareFolders;
        for (int f = 1; f < folders; ++f) {
            classicFolder(base + "/vmail/m/.F" + std::to_string(f), perFolder, f * perFolder);
            ::close(::open((base + "/vmail/m/.F" + std::to_string(f) + "/maildirfolder").c_str(),
                           O_WRONLY | O_CREAT, 0600));
        }
        for (int f = 0; f < folders; ++f) {
            bareFolders.push_back(base + "/bare/F" + std::to_string(f));
            classicFolder(bareFolders.back(), perFolder, f * perFolder);
        }
        ::sync();
        auto start = std::chrono::steady_clock::now();
        for (const std::string &folder : bareFolders)
            bareRenames(folder + "/new", folder + "/cur");
        const double bare = secondsSince(start);
        ::sync();
        start = std::chrono::steady_clock::now();
        auto root = MailRoot::open(base + "/vmail");
        QVERIFY(root.has_value());
        auto report = Convert::run(*root, {});
        const double ours = secondsSince(start);
        QVERIFY2(report.has_value(), report ? "" : report.error().message.c_str());
        QVERIFY(report->verified);
        QCOMPARE(report->totals.converted, std::uint64_t(folders));
        QCOMPARE(report->totals.moved, std::uint64_t(folders) * perFolder);
        timing.take(bare, ours);
        bench::removeTree(base);
    }
    print(qPrintable(QStringLiteral("convert, %1 folders x %2").arg(folders).arg(perFolder)),
          timing);
}

void BenchDurability::dedupeAndRestore()
{
    const int groups = envInt("MAILMESH_BENCH_GROUPS", 10000);
    const int folders = 100;
    const int perFolder = std::max(1, groups / folders);
    Timing dedupeTiming, restoreTiming;
    for (int round = 0; round < 2; ++round) {
        const std::string base = bench::scratchDir("durability-dedupe");
        ::mkdir((base + "/vmail").c_str(), 0700);
        ::mkdir((base + "/bare").c_str(), 0700);
        divergentFolder(base + "/vmail/m", perFolder, 0);
        for (int f = 1; f < folders; ++f) {
            divergentFolder(base + "/vmail/m/.F" + std::to_string(f), perFolder, f * perFolder);
            ::close(::open((base + "/vmail/m/.F" + std::to_string(f) + "/maildirfolder").c_str(),
                           O_WRONLY | O_CREAT, 0600));
        }
        // The bare loop moves as many files (one per group) out and back in.
        for (int f = 0; f < folders; ++f)
            divergentFolder(base + "/bare/F" + std::to_string(f), perFolder, f * perFolder);
        ::mkdir((base + "/bare/aside").c_str(), 0700);
        ::sync();
        auto start = std::chrono::steady_clock::now();
        for (int f = 0; f < folders; ++f)
            bareRenames(base + "/bare/F" + std::to_string(f) + "/cur", base + "/bare/aside");
        const double bareOut = secondsSince(start);
        start = std::chrono::steady_clock::now();
        bareRenames(base + "/bare/aside", base + "/bare/F0/cur");
        const double bareIn = secondsSince(start);
        ::sync();

        auto root = MailRoot::open(base + "/vmail");
        QVERIFY(root.has_value());
        start = std::chrono::steady_clock::now();
        auto deduped = Dedupe::run(*root, {});
        const double dedupe = secondsSince(start);
        QVERIFY2(deduped.has_value(), deduped ? "" : deduped.error().message.c_str());
        QCOMPARE(deduped->groupsResolved, std::uint64_t(folders) * perFolder);
        ::sync();
        start = std::chrono::steady_clock::now();
        RestoreOptions all;
        all.all = true;
        auto restored = Restore::run(*root, all);
        const double restore = secondsSince(start);
        QVERIFY2(restored.has_value(), restored ? "" : restored.error().message.c_str());
        QVERIFY(restored->problems.empty());
        QCOMPARE(restored->items.size(), std::size_t(2) * folders * perFolder);
        dedupeTiming.take(bareOut, dedupe);
        restoreTiming.take(bareIn, restore);
        bench::removeTree(base);
    }
    print(qPrintable(QStringLiteral("dedupe, %1 groups").arg(folders * perFolder)), dedupeTiming);
    print(qPrintable(QStringLiteral("restore --all, %1 groups").arg(folders * perFolder)),
          restoreTiming);
}

QTEST_GUILESS_MAIN(BenchDurability)
#include "bench_durability.moc"
