#pragma once

#include "common/result.h"
#include "maildir/uniquefd.h"

#include <sys/stat.h>

#include <functional>
#include <optional>
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

// A small control file (dovecot-keywords, subscriptions...) below dirfd, whole: nullopt when it
// does not exist. Never follows a symlink or opens a FIFO (O_NOFOLLOW | O_NONBLOCK, then a
// regular file is required); refuses anything over maxSize, which no such file needs.
Result<std::optional<std::string>> readSmallFileAt(int dirfd, const char *name,
                                                   std::string_view displayPath,
                                                   std::size_t maxSize = 1 << 20);

// readSmallFileAt for a path the agent reads from what others may have written (Syncthing's
// config.xml, /etc/os-release, /etc/passwd, /proc), where a missing file is an error too. A
// larger file is an error, not a silent truncation; the error names the path and the reason.
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
