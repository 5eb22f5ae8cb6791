#pragma once

#include "common/result.h"
#include "maildir/uniquefd.h"

#include <sys/types.h>

#include <string>
#include <string_view>

namespace mm::maildir {

// The directory a command works below, opened once. Everything else is reached relative to fd()
// with O_NOFOLLOW, so nothing outside it is ever touched. ROOT itself being a symlink is refused:
// following it would make "inside ROOT" mean a place the admin did not name.
class MailRoot
{
public:
    // `path` may be relative; it is made absolute (symlinks in its parents resolved, the last
    // component kept as given so a symlinked ROOT is noticed).
    static Result<MailRoot> open(std::string_view path);

    const std::string &path() const { return m_path; }
    int fd() const { return m_fd.get(); }
    dev_t device() const { return m_device; }
    ino_t inode() const { return m_inode; }

private:
    std::string m_path;
    UniqueFd m_fd;
    dev_t m_device = 0;
    ino_t m_inode = 0;
};

} // namespace mm::maildir
