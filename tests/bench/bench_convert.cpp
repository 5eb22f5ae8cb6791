// convert of N messages in new/ (default 200,000) against a bare C loop that renames the same
// number of files new/ -> cur/ in the same run. Prints the ratio (goal: at most 1.2x), in wall
// time and in CPU time (user + system, steadier on a shared machine), per round and as the
// median of the rounds (MAILMESH_BENCH_ROUNDS, default 3; the order alternates each round).
// Never asserts a time: the numbers go to the report.

#include "maildir/convert.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <QtTest>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

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

// Wall and CPU seconds of one side of a round.
struct Cost
{
    double wall = 0;
    double cpu = 0;
};

double cpuSeconds()
{
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval &t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

template <class Fn> Cost measure(Fn &&fn)
{
    const double cpuStart = cpuSeconds();
    const auto start = std::chrono::steady_clock::now();
    fn();
    return {std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
            cpuSeconds() - cpuStart};
}

// The baseline: what any tool must at least do — read new/, rename each entry into cur/.
void bareRenameLoop(const std::string &folder)
{
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
}

ConvertReport mailmeshConvert(const std::string &root)
{
    auto mailRoot = MailRoot::open(root);
    auto result = Convert::run(*mailRoot, {});
    if (!result)
        qFatal("convert failed: %s", result.error().message.c_str());
    return *result;
}

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
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
    auto setting = [](const char *name, int fallback) {
        const int value = qEnvironmentVariableIntValue(name);
        return value > 0 ? value : fallback;
    };
    const int count = setting("MAILMESH_BENCH_MESSAGES", 200000);
    const int rounds = setting("MAILMESH_BENCH_ROUNDS", 3);
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string top = tmp.path().toStdString();
    std::vector<double> wallRatios, cpuRatios;
    for (int round = 0; round < rounds; ++round) {
        const std::string base = top + "/round" + std::to_string(round);
        ::mkdir(base.c_str(), 0755);
        ::mkdir((base + "/bare").c_str(), 0755);
        ::mkdir((base + "/vmail").c_str(), 0755);
        makeTree(base + "/bare/folder", count);
        makeTree(base + "/vmail/folder", count);
        ::sync();
        ConvertReport report;
        Cost bare, ours;
        auto runBare = [&] { bare = measure([&] { bareRenameLoop(base + "/bare/folder"); }); };
        auto runOurs = [&] { ours = measure([&] { report = mailmeshConvert(base + "/vmail"); }); };
        // Alternating, so neither side always gets the warmer cache.
        if (round % 2 == 0) {
            runBare();
            runOurs();
        } else {
            runOurs();
            runBare();
        }
        QVERIFY(report.verified);
        QCOMPARE(report.totals.moved, std::uint64_t(count));
        wallRatios.push_back(ours.wall / bare.wall);
        cpuRatios.push_back(ours.cpu / bare.cpu);
        std::printf("round %d: bare rename loop %.3f s (cpu %.3f s), mailmesh convert %.3f s (cpu "
                    "%.3f s): ratio %.2fx wall, %.2fx cpu\n",
                    round, bare.wall, bare.cpu, ours.wall, ours.cpu, wallRatios.back(),
                    cpuRatios.back());
        QDir(QString::fromStdString(base)).removeRecursively();
    }
    std::printf("bench_convert: %d messages, %d rounds: median ratio %.2fx wall, %.2fx cpu "
                "(goal <= 1.20x)\n",
                count, rounds, median(wallRatios), median(cpuRatios));
}

QTEST_GUILESS_MAIN(BenchConvert)
#include "bench_convert.moc"
