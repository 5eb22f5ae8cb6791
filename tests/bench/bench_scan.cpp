// scan of N messages (default 200,000, in 100 folders) against `find ROOT -type f | wc -l` in the
// same run. Prints the ratios (goal: at most 1.5x), for the library in-process and for the agent
// binary as a process (like find). Never asserts a time.

#include "maildir/scan.h"

#include <fcntl.h>
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

const std::string kAgent = MAILMESH_BUILD_DIR "/app/mailmesh-agent/mailmesh-agent";

double timeShell(const std::string &command, std::string *output = nullptr)
{
    const auto start = std::chrono::steady_clock::now();
    FILE *pipe = ::popen(command.c_str(), "r");
    std::string out;
    char buffer[4096];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0)
        out.append(buffer, n);
    ::pclose(pipe);
    if (output)
        *output = out;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

} // namespace

class BenchScan : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void scanVersusFind();
};

void BenchScan::scanVersusFind()
{
    const int count = qEnvironmentVariableIntValue("MAILMESH_BENCH_MESSAGES") > 0
                          ? qEnvironmentVariableIntValue("MAILMESH_BENCH_MESSAGES")
                          : 200000;
    const int folders = 100;
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string root = tmp.path().toStdString() + "/vmail";
    ::mkdir(root.c_str(), 0755);
    char name[160];
    for (int f = 0; f < folders; ++f) {
        const std::string folder = root + "/user" + std::to_string(f);
        for (const char *sub : {"", "/cur", "/new", "/tmp"})
            ::mkdir((folder + sub).c_str(), 0755);
        const int dirFd = ::open((folder + "/cur").c_str(), O_RDONLY | O_DIRECTORY);
        for (int i = 0; i < count / folders; ++i) {
            std::snprintf(name, sizeof name, "%d.M%dP77.bench.example.org,S=20:2,S", 1700000000 + i,
                          i);
            const int fd = ::openat(dirFd, name, O_WRONLY | O_CREAT | O_EXCL, 0644);
            if (::write(fd, "Subject: x\n\nbody\n", 17) < 0)
                qFatal("write");
            ::close(fd);
        }
        ::close(dirFd);
    }
    std::string found;
    timeShell("find '" + root + "' -type f | wc -l", &found); // warm the caches
    QCOMPARE(std::stoi(found), count);
    auto mailRoot = MailRoot::open(root);
    QVERIFY(mailRoot);

    std::vector<double> findTimes, libTimes, agentTimes;
    for (int i = 0; i < 5; ++i) {
        findTimes.push_back(timeShell("find '" + root + "' -type f | wc -l"));
        const auto start = std::chrono::steady_clock::now();
        auto report = Scan::run(*mailRoot);
        libTimes.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        QVERIFY(report);
        QCOMPARE(report->totals.curMessages, std::uint64_t(count));
        agentTimes.push_back(
            timeShell(kAgent + " scan '" + root + "' --json 2>/dev/null >/dev/null"));
    }
    const double f = median(findTimes), l = median(libTimes), a = median(agentTimes);
    std::printf(
        "bench_scan: %d messages in %d folders: find|wc %.3f s, Scan::run %.3f s (ratio %.2fx), "
        "agent scan --json %.3f s (ratio %.2fx); goal <= 1.50x\n",
        count, folders, f, l, l / f, a, a / f);
}

QTEST_GUILESS_MAIN(BenchScan)
#include "bench_scan.moc"
