#include "maildir/mailroot.h"

#include "maildir/fsutil.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

namespace mm::maildir {

Result<MailRoot> MailRoot::open(std::string_view path)
{
    if (path.empty())
        return fail(ErrorCode::BadRequest, "empty mail root path");
    std::string absolute(path);
    while (absolute.size() > 1 && absolute.back() == '/')
        absolute.pop_back();
    if (absolute.front() != '/') {
        char cwd[PATH_MAX];
        if (!::getcwd(cwd, sizeof cwd))
            return fail(errnoError(errno, "getcwd", absolute));
        absolute = joinRel(cwd, absolute);
    }
    if (absolute == "/")
        return fail(ErrorCode::BadRequest, "the filesystem root cannot be a mail root", "/");
    const std::size_t slash = absolute.rfind('/');
    const std::string parent = slash == 0 ? "/" : absolute.substr(0, slash);
    const std::string last = absolute.substr(slash + 1);
    if (last == "." || last == "..")
        return fail(ErrorCode::BadRequest, "a mail root may not end in '.' or '..'", absolute);

    std::unique_ptr<char, decltype(&std::free)> resolved(::realpath(parent.c_str(), nullptr),
                                                         &std::free);
    if (!resolved)
        return fail(errnoError(errno, "cannot resolve parent directory", parent));
    MailRoot root;
    root.m_path = joinRel(resolved.get(), last);
    if (root.m_path.starts_with("//"))
        root.m_path.erase(0, 1);

    UniqueFd parentFd(::open(resolved.get(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!parentFd.valid())
        return fail(errnoError(errno, "cannot open", resolved.get()));
    struct stat st;
    if (::fstatat(parentFd.get(), last.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return fail(errnoError(errno, "cannot stat mail root", root.m_path));
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        const ssize_t n = ::readlinkat(parentFd.get(), last.c_str(), target, sizeof target - 1);
        const std::string to = n > 0 ? std::string(target, std::size_t(n)) : std::string("?");
        return fail(ErrorCode::UnsafePath,
                    root.m_path + ": the mail root is a symlink (to " + to +
                        "); pass the real directory",
                    root.m_path);
    }
    auto fd = openDirAt(parentFd.get(), last.c_str(), root.m_path);
    if (!fd)
        return fail(fd.error());
    root.m_fd = std::move(*fd);
    if (::fstat(root.m_fd.get(), &st) != 0)
        return fail(errnoError(errno, "fstat", root.m_path));
    root.m_device = st.st_dev;
    root.m_inode = st.st_ino;
    return root;
}

} // namespace mm::maildir
