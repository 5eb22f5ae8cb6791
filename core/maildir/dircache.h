#pragma once

#include "common/result.h"
#include "maildir/uniquefd.h"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mm::maildir {

// Directories below one root (ROOT, or the state dir), opened as openDirBeneath does (one
// component at a time, never following a symlink, ".." refused) and kept open by their relative
// path, parents included: a command that puts many files back into the same few folders walks
// each path once instead of once per file (restore: thirteen opens per file before).
//
// What an entry trusts is the walk done when it was opened; a directory moved elsewhere since is
// still the one opened. The caller clears the cache at each batch boundary, so no entry lives
// longer than the directory descriptors a batch holds between its checks and its renames anyway.
// Bounded: past maxEntries the cache starts over (descriptors handed out stay valid, they are
// shared).
class DirCache
{
public:
    static constexpr std::size_t kMaxEntries = 1024;
    using Dir = std::shared_ptr<const UniqueFd>;

    // rootFd is borrowed and must outlive the cache.
    DirCache(int rootFd, std::string displayRoot, std::size_t maxEntries = kMaxEntries);

    // relPath ("a/b/c", "" for the root itself) opened below the root. A failure is not cached.
    Result<Dir> open(std::string_view relPath);
    void clear() { m_dirs.clear(); }
    std::size_t size() const { return m_dirs.size(); }

private:
    Result<Dir> openNormal(const std::string &key); // key: components joined by '/', "" the root

    int m_rootFd;
    std::string m_displayRoot;
    std::size_t m_maxEntries;
    std::unordered_map<std::string, Dir> m_dirs;
};

} // namespace mm::maildir
