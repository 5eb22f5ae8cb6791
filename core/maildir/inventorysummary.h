#pragma once

#include "common/result.h"
#include "maildir/dupes.h"
#include "maildir/maildirfolder.h"
#include "maildir/problem.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mm::maildir {

// Everything the inventory answers about one folder, and the stamps that say whether it still
// holds: reused as it is while the folder's cur, new and tmp keep their stamps.
struct FolderMemo
{
    FolderState state = FolderState::Broken;
    std::string brokenReason;
    bool hasTmp = false;
    FolderStamps stamps;
    // False: read the folder again next time, whatever its stamps (they were too recent to tell
    // a later change, or a file could not be read, which no directory stamp would show).
    bool trusted = false;
    std::uint64_t curMessages = 0;
    std::uint64_t newMessages = 0;
    std::uint64_t tmpFiles = 0;
    bool opened = false; // the folder directory opened (dupes counts it among its folders)
    std::uint64_t dupeMessages = 0;
    std::vector<Problem> scanProblems;
    std::vector<Problem> dupeProblems;
    std::vector<DupeGroup> groups;
};

// The inventory's summary file, <memoDir>/summary.json: the root it belongs to and a FolderMemo
// per folder path. Small (no per-message data) and rewritten, atomically, only after a pass
// that read a folder or saw folders come or go.
class InventorySummary
{
public:
    static constexpr int kVersion = 1;

    // nullopt when the file is missing, unreadable, damaged, of another version or another root.
    static std::optional<std::map<std::string, FolderMemo>> load(const std::string &memoDir,
                                                  const std::string &root);
    static Status save(const std::string &memoDir, const std::string &root,
                       const std::map<std::string, FolderMemo> &folders);
    static std::string filePath(const std::string &memoDir) { return memoDir + "/summary.json"; }
};

} // namespace mm::maildir
