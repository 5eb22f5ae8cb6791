#pragma once

// The exclusive lock a changing command (convert, revert, dedupe, restore, purge) holds on its
// state dir for as long as it runs, so two agents never write one journal. flock(2) on an open
// descriptor: the kernel drops it when the process dies, kill -9 included, so a crash never
// leaves a stale lock behind (a lock *file* may remain; it means nothing by itself).
// Header-only so core/maildir and the agent's handlers share it without a link dependency.

#include "common/result.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/file.h>
#include <unistd.h>
#include <utility>

namespace mm::maildir {

class StateLock
{
public:
    static constexpr const char *kFileName = ".lock";

    // Takes the lock on `<stateDir>/.lock` without waiting: Busy when another process has it.
    // The state dir must exist (creating it, and refusing unsafe places, is the caller's job).
    static Result<StateLock> acquire(const std::string &stateDir)
    {
        const std::string path = stateDir + "/" + kFileName;
        const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            const int err = errno;
            const ErrorCode code = err == EACCES || err == EPERM ? ErrorCode::AccessDenied
                                   : err == ENOENT               ? ErrorCode::NotFound
                                   : err == ELOOP                ? ErrorCode::UnsafePath
                                                                 : ErrorCode::IoError;
            return fail(code, path + ": cannot open the state lock: " + std::strerror(err), path);
        }
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            const int err = errno;
            ::close(fd);
            if (err == EWOULDBLOCK)
                return fail(ErrorCode::Busy,
                            path + ": another Mailmesh command is working on this state dir", path);
            return fail(ErrorCode::IoError, path + ": flock failed: " + std::strerror(err), path);
        }
        return StateLock(fd, path);
    }

    StateLock(StateLock &&other) noexcept
        : m_fd(std::exchange(other.m_fd, -1))
        , m_path(std::move(other.m_path))
    {
    }
    StateLock &operator=(StateLock &&other) noexcept
    {
        if (this != &other) {
            release();
            m_fd = std::exchange(other.m_fd, -1);
            m_path = std::move(other.m_path);
        }
        return *this;
    }
    StateLock(const StateLock &) = delete;
    StateLock &operator=(const StateLock &) = delete;
    ~StateLock() { release(); }

    const std::string &path() const { return m_path; }

    void release()
    {
        if (m_fd >= 0) {
            ::close(m_fd); // closing the last descriptor drops the flock
            m_fd = -1;
        }
    }

private:
    StateLock(int fd, std::string path)
        : m_fd(fd)
        , m_path(std::move(path))
    {
    }

    int m_fd = -1;
    std::string m_path;
};

} // namespace mm::maildir
