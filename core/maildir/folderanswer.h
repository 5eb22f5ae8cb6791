#pragma once

#include "common/result.h"
#include "maildir/dupes.h"
#include "maildir/problem.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mm::maildir {

// What a folder adds to the inventory's answer beyond its counts: its problems and duplicate
// groups. Kept in its own memo file, <memoDir>/folders/<32 hex>.answer, so that a pass writes
// the answers of the folders it read and nothing else. One line per item:
//   mailmesh-inventory-answer 1 <folder>
//   s|d <problem kind> <path> <detail>                  (scan or dupes problem)
//   g <kind> <removable 0|1> <id> <keeper> <keeperSource> <reason> <member count>
//   m <size> <sha256 or -> <name>                        (the group's members, in order)
//   end <lines> <hashBytes of the lines above, 16 hex>
// Fields are escaped with appendField (memoformat.h). The summary records the checksum of the
// answer it was written with: a file that does not carry it (damaged, or from another pass that
// raced this one) is not believed, and the folder is read again.
struct FolderAnswer
{
    std::vector<Problem> scanProblems;
    std::vector<Problem> dupeProblems;
    std::vector<DupeGroup> groups;

    bool empty() const { return scanProblems.empty() && dupeProblems.empty() && groups.empty(); }

    static std::string fileNameFor(const std::string &folderRelPath);
    // The file's text for `folder`; its checksum is what checkTrailer() gives back.
    std::string toText(const std::string &folder) const;
    // nullopt when missing, damaged, of another folder, or without `expectedChecksum`.
    static std::optional<FolderAnswer> load(const std::string &path, const std::string &folder,
                                            std::uint64_t expectedChecksum);
};

} // namespace mm::maildir
