#include "maildir/statedir.h"

#include "maildir/fsutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

namespace mm::maildir {

bool StateDir::isMountPoint(const std::string &absoluteRoot)
{
    struct stat root;
    struct stat parent;
    if (::stat(absoluteRoot.c_str(), &root) != 0 || ::stat(joinRel(absoluteRoot, "..").c_str(), &parent) != 0)
        return false;
    return root.st_dev != parent.st_dev || root.st_ino == parent.st_ino;
}

std::string StateDir::defaultPathFor(const std::string &absoluteRoot)
{
    if (isMountPoint(absoluteRoot))
        return joinRel(absoluteRoot, kInRootName);
    const std::size_t slash = absoluteRoot.rfind('/');
    const std::string parent = slash == 0 ? std::string("/") : absoluteRoot.substr(0, slash);
    return joinRel(joinRel(parent, ".mailmesh-state"), absoluteRoot.substr(slash + 1));
}

namespace {

std::string absolutePath(const std::string &path)
{
    if (!path.empty() && path.front() == '/')
        return path;
    char cwd[4096];
    if (!::getcwd(cwd, sizeof cwd))
        return path;
    return joinRel(cwd, path);
}

struct NearestExisting
{
    UniqueFd fd;
    std::string missing; // the part of the path below it that does not exist yet ("" or "a/b")
};

// The deepest existing ancestor of path (or path itself), opened.
Result<NearestExisting> openNearestExisting(const std::string &wanted)
{
    std::string path = wanted;
    for (;;) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            std::string missing = wanted.substr(std::min(path.size(), wanted.size()));
            while (!missing.empty() && missing.front() == '/')
                missing.erase(0, 1);
            return NearestExisting{UniqueFd(fd), std::move(missing)};
        }
        if (errno != ENOENT)
            return fail(errnoError(errno, "cannot open", path));
        const std::size_t slash = path.rfind('/');
        if (slash == std::string::npos || path == "/")
            return fail(ErrorCode::NotFound, "no existing parent", path);
        path = slash == 0 ? std::string("/") : path.substr(0, slash);
    }
}

} // namespace

Status StateDir::checkPlacement(int fd, std::string_view missing) const
{
    struct stat st;
    if (::fstat(fd, &st) != 0)
        return fail(errnoError(errno, "fstat", m_path));
    if (st.st_dev != m_rootDevice)
        return fail(ErrorCode::UnsafePath,
                    m_path + ": the state dir must be on the same filesystem as the mail root "
                             "(quarantine moves files by rename)",
                    m_path);
    // Walk up with ".." comparing inodes: catches every alias (symlinks, bind mounts of the same
    // filesystem) that a textual prefix test would miss.
    UniqueFd current(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
    struct stat below = {}; // the directory the walk came up from
    for (int depth = 0; depth < 4096; ++depth) {
        if (::fstat(current.get(), &st) != 0)
            return fail(errnoError(errno, "fstat", m_path));
        if (st.st_dev == m_rootDevice && st.st_ino == m_rootInode) {
            // ROOT/.mailmesh-state (and below) is the one place inside the root allowed: reached
            // from it, or about to be created there.
            struct stat inRoot;
            if (depth > 0 && ::fstatat(current.get(), kInRootName, &inRoot, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISDIR(inRoot.st_mode) && inRoot.st_dev == below.st_dev && inRoot.st_ino == below.st_ino)
                return {};
            if (depth == 0 && missing.substr(0, missing.find('/')) == kInRootName)
                return {};
            return fail(ErrorCode::UnsafePath,
                        m_path + ": the state dir may not be inside the mail root, except as ROOT/" +
                            kInRootName,
                        m_path);
        }
        below = st;
        UniqueFd parent(::openat(current.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!parent.valid())
            return fail(errnoError(errno, "cannot open parent", m_path));
        struct stat pst;
        if (::fstat(parent.get(), &pst) != 0)
            return fail(errnoError(errno, "fstat", m_path));
        if (pst.st_dev == st.st_dev && pst.st_ino == st.st_ino)
            return {}; // reached "/"
        current = std::move(parent);
    }
    return {};
}

Result<StateDir> StateDir::resolve(const MailRoot &root, const std::string &requested)
{
    StateDir state;
    state.m_path = requested.empty() ? defaultPathFor(root.path()) : absolutePath(requested);
    while (state.m_path.size() > 1 && state.m_path.back() == '/')
        state.m_path.pop_back();
    state.m_rootDevice = root.device();
    state.m_rootInode = root.inode();
    auto nearest = openNearestExisting(state.m_path);
    if (!nearest)
        return fail(nearest.error());
    if (auto status = state.checkPlacement(nearest->fd.get(), nearest->missing); !status)
        return fail(status.error());
    return state;
}

bool StateDir::exists() const
{
    struct stat st;
    return ::stat(m_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status StateDir::create()
{
    // mkdir -p, each new level 0700: journals name every mail file.
    for (std::size_t pos = 1; pos <= m_path.size(); ++pos) {
        if (pos != m_path.size() && m_path[pos] != '/')
            continue;
        const std::string prefix = m_path.substr(0, pos);
        if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST)
            return fail(errnoError(errno, "cannot create state dir", prefix));
    }
    if (auto status = open(); !status)
        return status;
    for (const char *sub : {"journal", "quarantine"})
        if (::mkdirat(m_fd.get(), sub, 0700) != 0 && errno != EEXIST)
            return fail(errnoError(errno, "cannot create", joinRel(m_path, sub)));
    return {};
}

Status StateDir::open()
{
    const int fd = ::open(m_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fail(errnoError(errno, "cannot open state dir", m_path));
    m_fd.reset(fd);
    if (auto status = checkOwnership(m_fd.get()); !status)
        return status;
    return checkPlacement(m_fd.get());
}

Status StateDir::checkOwnership(int fd) const
{
    // Journals name every mail file, and restore and purge act on what they read there: nobody
    // but the agent's own user may be able to write (or read) them.
    struct stat st;
    if (::fstat(fd, &st) != 0)
        return fail(errnoError(errno, "fstat", m_path));
    if (st.st_uid != ::geteuid())
        return fail(ErrorCode::UnsafePath,
                    m_path + ": the state dir belongs to uid " + std::to_string(st.st_uid) +
                        ", not to the user the agent runs as (uid " + std::to_string(::geteuid()) +
                        "): refused; give it to that user (chown) or use another --state dir",
                    m_path);
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
        return fail(ErrorCode::UnsafePath,
                    m_path + ": the state dir has mode " + mode +
                        ": refused, other users could read or change its journals; run chmod 700 " +
                        m_path,
                    m_path);
    }
    return {};
}

} // namespace mm::maildir
