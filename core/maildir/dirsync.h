#pragma once

#include "common/result.h"
#include "maildir/uniquefd.h"

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace mm::maildir {

// Makes renames durable. A rename is on disk only once the directories it changed are synced:
// the changing commands remember every directory a batch of renames touched and sync them before
// they report the batch done (and before the journal's "end"), so that what a report says is done
// survives a power loss (a convert that reports a folder cur-only, and then Dovecot switched to
// cur-only, must not find new/ back after a reboot).
//
// A handful of directories are fsync()ed one by one; a batch that touched many (a convert of many
// small folders) syncs their filesystem once with syncfs(): one journal commit instead of one per
// directory, which is what keeps durability affordable (bench_durability).
class DirSync
{
public:
    static constexpr std::size_t kMaxSeparate = 8;

    // Remembers the directory open at dirFd (the same directory twice counts once).
    void add(int dirFd);
    bool empty() const { return m_dirs.empty() && !m_wholeFilesystem.valid(); }
    // Syncs what was added since the last sync, then forgets it. displayPath names the tree in
    // an error.
    Status sync(const std::string &displayPath);

private:
    std::vector<std::pair<std::pair<dev_t, ino_t>, UniqueFd>> m_dirs;
    UniqueFd m_wholeFilesystem; // set once more than kMaxSeparate directories were added
};

} // namespace mm::maildir
