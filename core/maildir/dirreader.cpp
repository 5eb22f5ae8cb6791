#include "maildir/dirreader.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace mm::maildir {

namespace {

// Large enough that a 200,000-entry cur/ is read in a few hundred system calls.
constexpr std::size_t kBufferSize = 256 * 1024;

// The kernel's record layout for getdents64 (struct linux_dirent64).
struct KernelDirent64
{
    std::uint64_t d_ino;
    std::int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[1];
};

unsigned char typeFromMode(mode_t mode)
{
    if (S_ISREG(mode))
        return DT_REG;
    if (S_ISDIR(mode))
        return DT_DIR;
    if (S_ISLNK(mode))
        return DT_LNK;
    if (S_ISFIFO(mode))
        return DT_FIFO;
    if (S_ISSOCK(mode))
        return DT_SOCK;
    if (S_ISCHR(mode))
        return DT_CHR;
    if (S_ISBLK(mode))
        return DT_BLK;
    return DT_UNKNOWN;
}

} // namespace

DirReader::DirReader(int dirfd)
    : m_dirfd(dirfd)
    , m_buffer(new char[kBufferSize])
{
}

DirReader::~DirReader() = default;

bool DirReader::next(DirEntry &entry)
{
    for (;;) {
        if (m_offset >= m_filled) {
            const ssize_t n = ::getdents64(m_dirfd, m_buffer.get(), kBufferSize);
            if (n < 0) {
                m_error = errno;
                return false;
            }
            if (n == 0)
                return false;
            m_filled = n;
            m_offset = 0;
        }
        auto *raw = reinterpret_cast<KernelDirent64 *>(m_buffer.get() + m_offset);
        m_offset += raw->d_reclen;
        const char *name =
            m_buffer.get() + m_offset - raw->d_reclen + offsetof(KernelDirent64, d_name);
        if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
            continue;
        entry.name = std::string_view(name);
        entry.inode = raw->d_ino;
        entry.type = raw->d_type;
        if (entry.type == DT_UNKNOWN) {
            struct stat st;
            if (::fstatat(m_dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                entry.type = typeFromMode(st.st_mode);
        }
        return true;
    }
}

} // namespace mm::maildir
