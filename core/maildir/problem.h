#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace mm::maildir {

// Something found while walking or changing a mail tree that the admin must hear about. The set of
// kinds is closed: their wire names are listed in core/protocol/protocol.md.
enum class ProblemKind
{
    Symlink,              // a symlink other than new -> cur: never followed
    Unreadable,           // a directory or file we may not open (EACCES...)
    BadName,              // a name in cur/ or new/ that is not a Maildir name (detail says why)
    SyncthingTemp,        // .syncthing.NAME.tmp: a transfer in flight
    ConflictCopy,         // NAME.sync-conflict-...: Syncthing's copy of a losing version
    MissingTmp,           // a Maildir folder without tmp/
    BrokenFolder,         // cur/ missing, or new is neither a directory nor the symlink "cur"
    SpecialFile,          // a FIFO, socket or device where messages live
    UnexpectedDirectory,  // a directory inside cur/ or new/
    OtherFilesystem,      // a mount point below ROOT: not walked (quarantine must stay a rename)
    MissingMaildirfolder, // a Maildir++ folder without its maildirfolder file
    TooDeep,              // nesting beyond the walker's limit
    FolderSkipped,        // convert left a whole folder untouched (detail says why)
    ActionFailed,         // one move/quarantine failed; the rest went on
    KeywordClash,         // two keyword files give one letter different names
};

std::string_view problemKindName(ProblemKind kind);
// The kind a wire name stands for; nullopt for a name this build does not know.
std::optional<ProblemKind> problemKindFromName(std::string_view name);

struct Problem
{
    ProblemKind kind = ProblemKind::ActionFailed;
    std::string path;   // relative to ROOT, raw bytes
    std::string detail; // human text
};

// {"kind":..., "path":..., ["pathBase64":...], "detail":...}
void to_json(nlohmann::json &json, const Problem &problem);

} // namespace mm::maildir
