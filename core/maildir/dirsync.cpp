#include "maildir/dirsync.h"

#include "maildir/fsutil.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace mm::maildir {

void DirSync::add(int dirFd)
{
    if (m_wholeFilesystem.valid())
        return; // one syncfs covers it
    struct stat st;
    if (::fstat(dirFd, &st) != 0)
        return;
    for (const auto &known : m_dirs)
        if (known.first == std::make_pair(st.st_dev, st.st_ino))
            return;
    UniqueFd copy(::fcntl(dirFd, F_DUPFD_CLOEXEC, 0));
    if (!copy.valid())
        return;
    if (m_dirs.size() < kMaxSeparate) {
        m_dirs.emplace_back(std::make_pair(st.st_dev, st.st_ino), std::move(copy));
        return;
    }
    // Every directory of a convert or dedupe is on the mail root's filesystem (the state dir too).
    m_wholeFilesystem = std::move(copy);
    m_dirs.clear();
}

Status DirSync::sync(const std::string &displayPath)
{
    Status status;
    if (m_wholeFilesystem.valid()) {
        if (::syncfs(m_wholeFilesystem.get()) != 0)
            status = fail(errnoError(errno, "syncfs", displayPath));
        m_wholeFilesystem.reset();
        return status;
    }
    for (auto &[id, fd] : m_dirs)
        if (::fsync(fd.get()) != 0 && errno != EINVAL && status)
            status = fail(errnoError(errno, "fsync of a directory", displayPath));
    m_dirs.clear();
    return status;
}

} // namespace mm::maildir
