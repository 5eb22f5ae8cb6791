#pragma once

// Builds throw-away mail trees for the maildir tests and describes them for comparison.
// Header-only, test code only; names are raw bytes (std::string) since the tests feed hostile ones.

#include "maildir/sha256.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <QtTest>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace mailtree {

inline void mkdirs(const std::string &path)
{
    for (std::size_t pos = 1; pos <= path.size(); ++pos)
        if (pos == path.size() || path[pos] == '/')
            ::mkdir(path.substr(0, pos).c_str(), 0755);
}

inline void writeFile(const std::string &path, const std::string &content)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    QVERIFY2(fd >= 0, path.c_str());
    QCOMPARE(::write(fd, content.data(), content.size()), ssize_t(content.size()));
    ::close(fd);
}

inline std::string readFile(const std::string &path)
{
    std::string out;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return out;
    char buffer[65536];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof buffer)) > 0)
        out.append(buffer, std::size_t(n));
    ::close(fd);
    return out;
}

// A classic Maildir folder: cur/, new/ and (unless told) tmp/.
inline void makeFolder(const std::string &path, bool withTmp = true)
{
    mkdirs(path + "/cur");
    mkdirs(path + "/new");
    if (withTmp)
        mkdirs(path + "/tmp");
}

struct Entry
{
    std::string path; // relative
    char type = '?';  // f d l
    long long size = 0;
    long long mtimeNs = 0;
    unsigned mode = 0;
    std::string target; // symlink target
    bool operator==(const Entry &) const = default;
};

// Every entry below root (not following symlinks), sorted: a full listing with mtimes.
inline void listInto(const std::string &root, const std::string &rel, std::vector<Entry> &out)
{
    const std::string dirPath = rel.empty() ? root : root + "/" + rel;
    DIR *dir = ::opendir(dirPath.c_str());
    if (!dir)
        return;
    while (dirent *e = ::readdir(dir)) {
        const std::string name = e->d_name;
        if (name == "." || name == "..")
            continue;
        const std::string childRel = rel.empty() ? name : rel + "/" + name;
        struct stat st;
        if (::lstat((root + "/" + childRel).c_str(), &st) != 0)
            continue;
        Entry entry;
        entry.path = childRel;
        entry.mode = st.st_mode & 07777;
        entry.mtimeNs = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
        if (S_ISDIR(st.st_mode)) {
            entry.type = 'd';
            out.push_back(entry);
            listInto(root, childRel, out);
            continue;
        }
        if (S_ISLNK(st.st_mode)) {
            entry.type = 'l';
            char target[4096];
            const ssize_t n = ::readlink((root + "/" + childRel).c_str(), target, sizeof target);
            entry.target.assign(target, n > 0 ? std::size_t(n) : 0);
        } else {
            entry.type = 'f';
            entry.size = st.st_size;
        }
        out.push_back(entry);
    }
    ::closedir(dir);
}

inline std::vector<Entry> listing(const std::string &root)
{
    std::vector<Entry> out;
    listInto(root, {}, out);
    std::sort(out.begin(), out.end(),
              [](const Entry &a, const Entry &b) { return a.path < b.path; });
    return out;
}

inline bool exists(const std::string &path)
{
    struct stat st;
    return ::lstat(path.c_str(), &st) == 0;
}

inline std::string sha(const std::string &bytes)
{
    return mm::maildir::Sha256::toHex(mm::maildir::Sha256::hash(bytes));
}

} // namespace mailtree
