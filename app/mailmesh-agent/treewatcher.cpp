#include "treewatcher.h"

#include "maildir/fsutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace mm::agent {

namespace {

constexpr std::uint32_t kDirMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB
                                   | IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW
                                   | IN_EXCL_UNLINK;

bool isDirectory(int dirfd, const dirent *entry)
{
    if (entry->d_type == DT_DIR)
        return true;
    if (entry->d_type != DT_UNKNOWN)
        return false;
    struct stat st{};
    return ::fstatat(dirfd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

bool isBelow(const std::string &path, const std::string &dir)
{
    return path == dir || dir.empty() || (path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/');
}

} // namespace

TreeWatcher::TreeWatcher(std::string root, Filter filter)
    : m_root(std::move(root))
    , m_filter(std::move(filter))
{
}

std::string TreeWatcher::absolute(const std::string &relPath) const
{
    return relPath.empty() ? m_root : m_root + '/' + relPath;
}

std::string TreeWatcher::start()
{
    m_inotify.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (!m_inotify.valid())
        return std::string("inotify_init1: ") + std::strerror(errno);
    struct stat st{};
    if (::lstat(m_root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return m_root + ": not a directory";
    watchTree({}, nullptr);
    if (m_pathOfWatch.empty())
        return m_root + ": " + m_watchError;
    return {};
}

void TreeWatcher::watchTree(const std::string &relPath, Changes *report)
{
    const std::string path = absolute(relPath);
    const int wd = ::inotify_add_watch(m_inotify.get(), path.c_str(), kDirMask);
    if (wd < 0) {
        // ENOENT/ENOTDIR: gone again already (its deletion is its own event). ENOSPC is the
        // watch limit: remembered, so the caller can say so and fall back to full scans.
        if (errno != ENOENT && errno != ENOTDIR && m_watchError.empty())
            m_watchError = path + ": " + std::strerror(errno)
                           + (errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
        return;
    }
    m_pathOfWatch[wd] = relPath;
    // Listed after the watch exists: whatever was written before it is reported here, whatever
    // comes after arrives as an event (some names twice, which costs one more stat in the scan).
    const int dirfd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirfd < 0)
        return;
    DIR *dir = ::fdopendir(dirfd);
    if (!dir) {
        ::close(dirfd);
        return;
    }
    std::vector<std::string> subdirs;
    while (const dirent *entry = ::readdir(dir)) {
        const std::string_view name = entry->d_name;
        if (name == "." || name == "..")
            continue;
        const std::string childRel = maildir::joinRel(relPath, name);
        const bool directory = isDirectory(dirfd, entry);
        if (directory && m_filter.pruneDir && m_filter.pruneDir(childRel))
            continue;
        if (report && !(m_filter.ignoreName && m_filter.ignoreName(std::string(name))))
            report->paths.insert(childRel);
        if (directory)
            subdirs.push_back(childRel);
    }
    ::closedir(dir);
    for (const std::string &sub : subdirs)
        watchTree(sub, report);
}

void TreeWatcher::forgetTree(const std::string &relPath)
{
    for (auto it = m_pathOfWatch.begin(); it != m_pathOfWatch.end();) {
        if (isBelow(it->second, relPath)) {
            ::inotify_rm_watch(m_inotify.get(), it->first);
            it = m_pathOfWatch.erase(it);
        } else {
            ++it;
        }
    }
}

void TreeWatcher::rewatchAfterOverflow(Changes &changes)
{
    // The lost events may have made directories (never watched then), renamed some (their watches
    // would go on reporting the old path) or deleted some. The caller's full scan does not mend
    // the watches, so without this the watch stayed blind there until the agent restarted
    // (tst_treewatcher, overflow). The tree is walked again: inotify_add_watch on a directory
    // already watched returns its watch, now under its current path; a watch no longer met (moved
    // out of the tree, or deleted with its IN_IGNORED lost) is removed.
    const std::map<int, std::string> before = std::exchange(m_pathOfWatch, {});
    watchTree({}, nullptr);
    for (const auto &[wd, relPath] : before)
        if (!m_pathOfWatch.contains(wd))
            ::inotify_rm_watch(m_inotify.get(), wd);
    if (m_pathOfWatch.empty())
        changes.rootGone = true;
}

void TreeWatcher::readEvents(Changes &changes)
{
    alignas(inotify_event) char buffer[64 * 1024];
    for (;;) {
        const ssize_t length = ::read(m_inotify.get(), buffer, sizeof buffer);
        if (length <= 0)
            return; // EAGAIN: nothing more pending
        for (ssize_t offset = 0; offset < length;) {
            const auto *event = reinterpret_cast<const inotify_event *>(buffer + offset);
            offset += ssize_t(sizeof(inotify_event) + event->len);
            if (event->mask & IN_Q_OVERFLOW) {
                changes.overflowed = true;
                rewatchAfterOverflow(changes);
                continue;
            }
            const auto watch = m_pathOfWatch.find(event->wd);
            if (watch == m_pathOfWatch.end())
                continue; // a watch already forgotten (moved away, deleted)
            const std::string dirRel = watch->second;
            if (event->mask & IN_IGNORED) {
                m_pathOfWatch.erase(watch);
                if (dirRel.empty())
                    changes.rootGone = true;
                continue;
            }
            if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
                if (dirRel.empty())
                    changes.rootGone = true;
                continue; // the parent's watch reports the name
            }
            if (event->len == 0 || event->name[0] == '\0')
                continue;
            const std::string name = event->name;
            const std::string rel = maildir::joinRel(dirRel, name);
            if (event->mask & IN_ISDIR) {
                if (m_filter.pruneDir && m_filter.pruneDir(rel))
                    continue;
                changes.paths.insert(rel);
                if (event->mask & (IN_CREATE | IN_MOVED_TO))
                    watchTree(rel, &changes);
                else if (event->mask & IN_MOVED_FROM)
                    forgetTree(rel); // its watches would report under the old name
                continue;
            }
            if (m_filter.ignoreName && m_filter.ignoreName(name))
                continue;
            changes.paths.insert(rel);
        }
    }
}

} // namespace mm::agent
