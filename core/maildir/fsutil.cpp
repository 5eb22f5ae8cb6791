#include "maildir/fsutil.h"

#include "maildir/sha256.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

namespace mm::maildir {

Error errnoError(int err, std::string_view what, std::string path)
{
    ErrorCode code = ErrorCode::IoError;
    switch (err) {
    case EACCES:
    case EPERM:
        code = ErrorCode::AccessDenied;
        break;
    case ENOENT:
        code = ErrorCode::NotFound;
        break;
    case ELOOP:
        code = ErrorCode::UnsafePath;
        break;
    case EEXIST:
        code = ErrorCode::Conflict;
        break;
    case EXDEV:
        code = ErrorCode::Unsupported;
        break;
    default:
        break;
    }
    std::string message = path.empty() ? std::string() : path + ": ";
    message += what;
    message += ": ";
    message += std::strerror(err);
    return Error{code, std::move(message), std::move(path)};
}

Result<UniqueFd> openDirAt(int dirfd, const char *name, std::string_view displayPath)
{
    const int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0)
        return UniqueFd(fd);
    const int err = errno;
    if (err == ENOTDIR || err == ELOOP) {
        struct stat st;
        if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
            return fail(ErrorCode::UnsafePath,
                        std::string(displayPath) + ": is a symlink, not followed",
                        std::string(displayPath));
        return fail(ErrorCode::UnsafePath, std::string(displayPath) + ": not a directory",
                    std::string(displayPath));
    }
    return fail(errnoError(err, "cannot open directory", std::string(displayPath)));
}

Result<UniqueFd> openDirBeneath(int rootFd, std::string_view relPath, std::string_view displayRoot)
{
    // A new open file description, not a dup: a dup would share the directory read offset.
    UniqueFd current(::openat(rootFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!current.valid())
        return fail(errnoError(errno, "dup", std::string(displayRoot)));
    std::string component;
    std::size_t pos = 0;
    while (pos < relPath.size()) {
        std::size_t slash = relPath.find('/', pos);
        if (slash == std::string_view::npos)
            slash = relPath.size();
        component.assign(relPath.substr(pos, slash - pos));
        pos = slash + 1;
        if (component.empty() || component == ".")
            continue;
        if (component == "..")
            return fail(ErrorCode::UnsafePath, "'..' in a path below the mail root",
                        std::string(relPath));
        auto next = openDirAt(current.get(), component.c_str(),
                              joinRel(displayRoot, relPath.substr(0, slash)));
        if (!next)
            return fail(next.error());
        current = std::move(*next);
    }
    return current;
}

std::string joinRel(std::string_view relPath, std::string_view name)
{
    std::string out;
    out.reserve(relPath.size() + 1 + name.size());
    out.append(relPath);
    if (!relPath.empty() && !name.empty() && relPath.back() != '/')
        out.push_back('/');
    out.append(name);
    return out;
}

namespace {

Result<UniqueFd> openFileNoFollow(int dirfd, const char *name, std::string_view displayPath)
{
    const int fd = ::openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return fail(errnoError(errno, "cannot open", std::string(displayPath)));
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return fail(ErrorCode::UnsafePath, std::string(displayPath) + ": not a regular file",
                    std::string(displayPath));
    }
    return UniqueFd(fd);
}

// read() until the buffer is full or end of file.
ssize_t readFully(int fd, char *buffer, std::size_t size)
{
    std::size_t got = 0;
    while (got < size) {
        const ssize_t n = ::read(fd, buffer + got, size - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            break;
        got += std::size_t(n);
    }
    return ssize_t(got);
}

} // namespace

Status readInChunks(int fd, const std::string &displayPath,
                    const std::function<void(std::string_view chunk)> &onChunk)
{
    // Not zeroed: it is read into before any use (the inventory reads hundreds of small files).
    constexpr std::size_t kBufferSize = 64 * 1024;
    const auto buffer = std::make_unique_for_overwrite<char[]>(kBufferSize);
    while (true) {
        const ssize_t n = ::read(fd, buffer.get(), kBufferSize);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail(errnoError(errno, "read", displayPath));
        }
        if (n == 0)
            return {};
        onChunk(std::string_view(buffer.get(), static_cast<std::size_t>(n)));
    }
}

Result<bool> sameContents(int dirfdA, const char *nameA, int dirfdB, const char *nameB)
{
    auto a = openFileNoFollow(dirfdA, nameA, nameA);
    if (!a)
        return fail(a.error());
    auto b = openFileNoFollow(dirfdB, nameB, nameB);
    if (!b)
        return fail(b.error());
    struct stat sa, sb;
    if (::fstat(a->get(), &sa) != 0 || ::fstat(b->get(), &sb) != 0)
        return fail(errnoError(errno, "fstat", nameA));
    if (sa.st_size != sb.st_size)
        return false;
    if (sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino)
        return true;
    constexpr std::size_t kChunk = 1 << 16;
    std::vector<char> bufA(kChunk), bufB(kChunk);
    for (;;) {
        const ssize_t na = readFully(a->get(), bufA.data(), kChunk);
        const ssize_t nb = readFully(b->get(), bufB.data(), kChunk);
        if (na < 0 || nb < 0)
            return fail(errnoError(errno, "read", nameA));
        if (na != nb || std::memcmp(bufA.data(), bufB.data(), std::size_t(na)) != 0)
            return false;
        if (na == 0)
            return true;
    }
}

Result<std::optional<std::string>> readSmallFileAt(int dirfd, const char *name,
                                                   std::string_view displayPath,
                                                   std::size_t maxSize)
{
    const std::string path(displayPath);
    UniqueFd fd(::openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
    if (!fd.valid()) {
        const int err = errno;
        if (err == ENOENT)
            return std::optional<std::string>();
        if (err == ELOOP)
            return fail(ErrorCode::UnsafePath, path + " is a symlink: not followed", path);
        return tl::unexpected(errnoError(err, "cannot open", path));
    }
    struct stat st
    {
    };
    if (::fstat(fd.get(), &st) != 0)
        return tl::unexpected(errnoError(errno, "fstat", path));
    if (!S_ISREG(st.st_mode))
        return fail(ErrorCode::UnsafePath, path + " is not a regular file: not read", path);
    const auto tooLarge = [&] {
        return fail(ErrorCode::InvalidData,
                    path + " is larger than " + std::to_string(maxSize) + " bytes: not read", path);
    };
    if (static_cast<std::uint64_t>(st.st_size) > maxSize)
        return tooLarge();
    // /proc files say size 0 and may still be long, and any file may grow while being read:
    // the limit holds while reading too.
    std::string text;
    bool overflowed = false;
    auto read = readInChunks(fd.get(), path, [&](std::string_view chunk) {
        if (text.size() + chunk.size() > maxSize)
            overflowed = true;
        else
            text.append(chunk);
    });
    if (!read)
        return tl::unexpected(read.error());
    if (overflowed)
        return tooLarge();
    return std::optional<std::string>(std::move(text));
}

Result<std::string> sha256OfFile(int dirfd, const char *name, std::string_view displayPath)
{
    auto fd = openFileNoFollow(dirfd, name, displayPath);
    if (!fd)
        return fail(fd.error());
    Sha256 sha;
    std::vector<char> buffer(1 << 16);
    for (;;) {
        const ssize_t n = readFully(fd->get(), buffer.data(), buffer.size());
        if (n < 0)
            return fail(errnoError(errno, "read", std::string(displayPath)));
        if (n == 0)
            break;
        sha.update(buffer.data(), std::size_t(n));
    }
    return Sha256::toHex(sha.finish());
}

int renameAt2(int oldDirFd, const char *oldName, int newDirFd, const char *newName,
              unsigned int flags)
{
    return int(::syscall(SYS_renameat2, oldDirFd, oldName, newDirFd, newName, flags));
}

std::string utcTimestamp()
{
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    std::array<char, 32> text{};
    std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text.data();
}

Result<std::string> readBoundedFile(const std::string &path, std::size_t maxBytes)
{
    auto text = readSmallFileAt(AT_FDCWD, path.c_str(), path, maxBytes);
    if (!text)
        return tl::unexpected(text.error());
    if (!*text)
        return fail(errnoError(ENOENT, "cannot open", path));
    return std::move(**text);
}

} // namespace mm::maildir
