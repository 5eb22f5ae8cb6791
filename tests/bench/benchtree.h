#pragma once

// Shared by the part-2 benchmarks: builds throw-away Maildir trees fast (plain open/write), runs
// a program and measures its wall time and peak RSS (wait4), and removes the tree afterwards.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <ftw.h>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace bench {

inline void die(const std::string &what)
{
    std::fprintf(stderr, "bench: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(2);
}

inline void writeFile(const std::string &path, const std::string &bytes)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
        die(path);
    ::close(fd);
}

inline void makeFolder(const std::string &dir)
{
    ::mkdir(dir.c_str(), 0700);
    if (::mkdir((dir + "/cur").c_str(), 0700) != 0 && errno != EEXIST)
        die(dir + "/cur");
    ::mkdir((dir + "/tmp").c_str(), 0700);
    if (::symlink("cur", (dir + "/new").c_str()) != 0 && errno != EEXIST)
        die(dir + "/new");
}

struct Measure
{
    double seconds = 0;
    double cpuSeconds = 0; // the child's user + system time (getrusage through wait4)
    long maxRssKb = 0;
    int status = 0;
};

// Runs argv with stdout to `out` (default /dev/null); wait4 gives the child's own peak RSS.
inline Measure run(const std::vector<std::string> &argv, const std::string &out = "/dev/null")
{
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int devnull = ::open("/dev/null", O_WRONLY);
        const int stdoutFd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(stdoutFd, 1);
        ::dup2(devnull, 2);
        std::vector<char *> args;
        for (const auto &a : argv)
            args.push_back(const_cast<char *>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    Measure m;
    struct rusage usage
    {
    };
    if (::wait4(pid, &m.status, 0, &usage) < 0)
        die("wait4");
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    m.maxRssKb = usage.ru_maxrss;
    m.cpuSeconds = double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                   double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
    return m;
}

// How often `needle` occurs in the file at `path`.
inline long countIn(const std::string &path, const std::string &needle)
{
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f)
        return -1;
    std::string text;
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0)
        text.append(buf, n);
    std::fclose(f);
    long count = 0;
    for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        ++count;
    return count;
}

inline void removeTree(const std::string &root)
{
    ::nftw(
        root.c_str(),
        [](const char *path, const struct stat *, int, struct FTW *) { return ::remove(path); }, 64,
        FTW_DEPTH | FTW_PHYS);
}

inline std::string agentPath()
{
    if (const char *env = std::getenv("MAILMESH_AGENT"))
        return env;
    return std::string(MAILMESH_BUILD_DIR) + "/app/mailmesh-agent/mailmesh-agent";
}

inline std::string scratchDir(const char *tag)
{
    const char *base = std::getenv("MAILMESH_BENCH_DIR");
    std::string dir = std::string(base ? base : "/tmp") + "/mailmesh-" + tag + "-XXXXXX";
    if (!::mkdtemp(dir.data()))
        die("mkdtemp");
    return dir;
}

} // namespace bench
