// convert of N messages in new/ (default 200,000) against a bare C loop that renames the same
// number of files new/ -> cur/ in the same run. Prints the ratio (goal: at most 1.2x).
// Never asserts a time: the numbers go to the report.

#include "maildir/convert.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <QtTest>

#include <chrono>
#include <cstdio>
#include <string>

using namespace mm::maildir;

namespace {

void makeTree(const std::string &folder, int count)
{
    for (const char *sub : {"", "/cur", "/new", "/tmp"})
        ::mkdir((folder + sub).c_str(), 0755);
    char name[128];
    const int dirFd = ::open((folder + "/new").c_str(), O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < count; ++i) {
        const int n = std::snprintf(name, sizeof name, "%d.M%dP4242.bench.example.org,S=%d",
                                    1700000000 + i, i, 40);
        (void)n;
        const int fd = ::openat(dirFd, name, O_WRONLY | O_CREAT | O_EXCL, 0644);
        const char body[] = "Subject: bench\n\nbody of a bench message\n";
        if (::write(fd, body, sizeof body - 1) < 0)
            qFatal("write failed");
        ::close(fd);
    }
    ::close(dirFd);
}

// The baseline: what any tool must at least do — read new/, rename each entry into cur/.
double bareRenameLoop(const std::string &folder)
{
    const auto start = std::chrono::steady_clock::now();
    const int newFd = ::open((folder + "/new").c_str(), O_RDONLY | O_DIRECTORY);
    const int curFd = ::open((folder + "/cur").c_str(), O_RDONLY | O_DIRECTORY);
    DIR *dir = ::fdopendir(::dup(newFd));
    while (dirent *e = ::readdir(dir)) {
        if (e->d_name[0] == '.')
            continue;
        if (::renameat(newFd, e->d_name, curFd, e->d_name) != 0)
            qFatal("rename failed");
    }
    ::closedir(dir);
    ::close(newFd);
    ::close(curFd);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double mailmeshConvert(const std::string &root, ConvertReport &report)
{
    const auto start = std::chrono::steady_clock::now();
    auto mailRoot = MailRoot::open(root);
    auto result = Convert::run(*mailRoot, {});
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!result)
        qFatal("convert failed: %s", result.error().message.c_str());
    report = *result;
    return seconds;
}

} // namespace

class BenchConvert : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void convertVersusRenameLoop();
};

void BenchConvert::convertVersusRenameLoop()
{
    const int count = qEnvironmentVariableIntValue("MAILMESH_BENCH_MESSAGES") > 0
                          ? qEnvironmentVariableIntValue("MAILMESH_BENCH_MESSAGES")
                          : 200000;
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string top = tmp.path().toStdString();
    // Two rounds with the order swapped, so neither side always gets the warmer cache.
    double baseline = 1e9, ours = 1e9;
    for (int round = 0; round < 2; ++round) {
        const std::string base = top + "/round" + std::to_string(round);
        ::mkdir(base.c_str(), 0755);
        ::mkdir((base + "/bare").c_str(), 0755);
        ::mkdir((base + "/vmail").c_str(), 0755);
        makeTree(base + "/bare/folder", count);
        makeTree(base + "/vmail/folder", count);
        ::sync();
        ConvertReport report;
        double b, o;
        if (round == 0) {
            b = bareRenameLoop(base + "/bare/folder");
            o = mailmeshConvert(base + "/vmail", report);
        } else {
            o = mailmeshConvert(base + "/vmail", report);
            b = bareRenameLoop(base + "/bare/folder");
        }
        QVERIFY(report.verified);
        QCOMPARE(report.totals.moved, std::uint64_t(count));
        std::printf("round %d: bare rename loop %.3f s, mailmesh convert %.3f s, ratio %.2fx\n",
                    round, b, o, o / b);
        baseline = std::min(baseline, b);
        ours = std::min(ours, o);
        QDir(QString::fromStdString(base)).removeRecursively();
    }
    std::printf("bench_convert: %d messages: bare rename loop %.3f s, convert %.3f s: ratio %.2fx "
                "(goal <= 1.20x)\n",
                count, baseline, ours, ours / baseline);
}

QTEST_GUILESS_MAIN(BenchConvert)
#include "bench_convert.moc"
