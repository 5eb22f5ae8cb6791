#pragma once

#include "common/result.h"
#include "maildir/uniquefd.h"

#include <sys/stat.h>

#include <functional>
#include <string>
#include <string_view>

namespace mm::maildir {

// errno of a failed system call as an Error: EACCES/EPERM -> AccessDenied, ENOENT -> NotFound,
// ELOOP/ENOTDIR on an O_NOFOLLOW open -> UnsafePath, anything else IoError.
Error errnoError(int err, std::string_view what, std::string path);

// Opens the directory `name` below dirfd without following a symlink in the last component.
Result<UniqueFd> openDirAt(int dirfd, const char *name, std::string_view displayPath);

// Opens `relPath` ("a/b/c", or "" for the directory itself) below rootFd one component at a time,
// never following a symlink and never going up (".." is refused): the walk stays inside ROOT.
Result<UniqueFd> openDirBeneath(int rootFd, std::string_view relPath, std::string_view displayRoot);

// Joins a relative path and a name with '/', leaving out the separator when relPath is empty.
std::string joinRel(std::string_view relPath, std::string_view name);

// Returns true when both files hold the same bytes (sizes compared first, then contents).
Result<bool> sameContents(int dirfdA, const char *nameA, int dirfdB, const char *nameB);

// Reads fd to its end in 64 KiB blocks (EINTR retried), handing each block to onChunk; a read
// error names displayPath. Message bodies are streamed this way, never held whole.
Status readInChunks(int fd, const std::string &displayPath,
                    const std::function<void(std::string_view chunk)> &onChunk);

// Reads a small file whole, the way the agent reads what others may have written (Syncthing's
// config.xml, /etc/os-release, /etc/passwd, /proc): never through a symlink (O_NOFOLLOW), never
// blocking on a FIFO or a device (O_NONBLOCK, then a regular file only), and never more than
// maxBytes (a larger file is an error, not a silent truncation). The error names the path and
// the reason.
Result<std::string> readBoundedFile(const std::string &path, std::size_t maxBytes);

// SHA-256 of a file's bytes, lowercase hex.
Result<std::string> sha256OfFile(int dirfd, const char *name, std::string_view displayPath);

// renameat2 with flags (RENAME_NOREPLACE, RENAME_EXCHANGE), through the raw syscall when the C
// library lacks a wrapper. Returns 0 or -1 with errno set, like the system call.
int renameAt2(int oldDirFd, const char *oldName, int newDirFd, const char *newName,
              unsigned int flags);

// Current UTC time as "YYYY-MM-DDTHH:MM:SSZ" (journal records and quarantine entries).
std::string utcTimestamp();

} // namespace mm::maildir
