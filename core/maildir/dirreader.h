#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

namespace mm::maildir {

// One entry of a directory listing. `name` points into the reader's buffer and is valid until the
// next call to next().
struct DirEntry
{
    std::string_view name;
    unsigned char type = 0; // DT_REG, DT_DIR, DT_LNK... never DT_UNKNOWN (resolved with fstatat)
    std::uint64_t inode = 0;
};

// Reads a directory with getdents64 into one reusable buffer: no allocation per entry, and the
// file type comes from d_type, so the common case costs no stat at all. "." and ".." are skipped.
// The reader borrows dirfd; the caller keeps it open.
class DirReader
{
public:
    explicit DirReader(int dirfd);
    ~DirReader();
    DirReader(const DirReader &) = delete;
    DirReader &operator=(const DirReader &) = delete;

    // False at the end of the directory or on error (then error() is the errno).
    bool next(DirEntry &entry);
    int error() const { return m_error; }

private:
    int m_dirfd;
    std::unique_ptr<char[]> m_buffer;
    long m_filled = 0;
    long m_offset = 0;
    int m_error = 0;
};

} // namespace mm::maildir
