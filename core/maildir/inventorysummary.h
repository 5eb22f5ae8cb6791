#pragma once

#include "common/result.h"
#include "maildir/folderanswer.h"
#include "maildir/maildirfolder.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

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
    // Problems and groups live in the folder's answer file, read only when the folder is reused.
    bool hasAnswer = false;
    std::uint64_t answerChecksum = 0;
};

// The inventory's summary, <memoDir>/summary: the root it belongs to and one line per folder
// with its stamps, state, counts and the checksum of its answer file. Read on every pass, so it
// holds no group and no problem (those are in the per-folder answer files) and is a line format
// without JSON:
//   mailmesh-inventory-summary 2 <root>
//   f <state> <hasTmp> <trusted> <opened> <cur: inode mtime ctime mode> <new: 4> <tmp: 4>
//     <cur messages> <new messages> <tmp files> <dupe messages> <answer checksum or -> <folder>
//     <broken reason>                                     (one line)
//   end <lines> <hashBytes of the lines above, 16 hex>
// Written atomically, only after a pass that read a folder or saw folders come or go.
class InventorySummary
{
public:
    // nullopt when the file is missing, unreadable, damaged, of another version or another root.
    static std::optional<std::map<std::string, FolderMemo>> load(const std::string &memoDir,
                                                                 const std::string &root);
    static Status save(const std::string &memoDir, const std::string &root,
                       const std::map<std::string, FolderMemo> &folders);
    static std::string filePath(const std::string &memoDir) { return memoDir + "/summary"; }
};

} // namespace mm::maildir
