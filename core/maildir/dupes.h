#pragma once

#include "common/result.h"
#include "maildir/mailroot.h"
#include "maildir/problem.h"
#include "maildir/progress.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mm::maildir {

// The kinds of docs/architecture.md, "Shared vocabulary"; duplicates only ever live within one
// folder.
enum class DupeKind
{
    FlagDivergence, // one BASE under several names
    SyncConflict,   // a Syncthing conflict copy beside its original
    SameMessage, // equal Message-ID and body (or, without one, identical bytes) under other BASEs
};

std::string_view dupeKindName(DupeKind kind);

struct DupeMember
{
    std::string name; // relative to the folder: "cur/NAME" (or "new/NAME" in a classic folder)
    std::uint64_t size = 0;
    std::string sha256; // of the whole file, when it was read (flag-divergence, sync-conflict)
};

// How a person recognises a message: three fields of its header, raw as in the file (they
// may be MIME encoded words, RFC 2047; decoding them is for whoever displays them).
struct DupeHeaders
{
    std::string subject;
    std::string from;
    std::string date;
};

struct DupeGroup
{
    std::string id; // first 16 hex digits of SHA-256 over the sorted member paths (ROOT-relative)
    DupeKind kind = DupeKind::FlagDivergence;
    std::string folder;              // the folder, relative to ROOT ("" = ROOT itself)
    std::vector<DupeMember> members; // sorted by name
    // What stays. For flag-divergence this may be a name no member has yet: keeperSource is then
    // renamed to it. For the other kinds keeper == keeperSource, an existing member.
    std::string keeper;
    std::string keeperSource;
    std::string reason;    // why this keeper
    bool removable = true; // false: members differ in content, reported and never auto-removed
    // The first member's Subject, From and Date; filled by describeGroups() (dupes) only.
    std::optional<DupeHeaders> headers;
};

struct DupesReport
{
    static constexpr int kSchemaVersion = 1;

    std::string root;
    std::uint64_t folders = 0;
    std::uint64_t messages = 0;
    std::uint64_t bytesRead = 0; // bodies read to confirm candidates (the rest: headers only)
    std::vector<DupeGroup> groups;
    std::vector<Problem> problems;
};

// Finds duplicate groups without holding any body in memory: one pass reads only the header of
// each message (Message-ID) and its size; only candidates (same Message-ID, or same size without
// one; names of one BASE; conflict copies) are then hashed in full. Per-file state is packed into
// a few dozen bytes, so a million messages fit comfortably in a small RSS.
class DupeFinder
{
public:
    static Result<DupesReport> find(const MailRoot &root, const ProgressSink &progress = {});

    // One folder (dirfd = the folder directory), appending to `report`.
    static void findInFolder(int folderFd, const std::string &folderRelPath, DupesReport &report,
                             const ProgressSink &progress = {});

    // The flag-divergence keeper's flags: the union of all variants' flags, except T (trashed),
    // kept only when every variant has it. Sorted, no repeats.
    static std::string keeperFlags(const std::vector<std::string_view> &flagSets);

    static std::string groupId(const std::string &folder, const std::vector<DupeMember> &members);

    // Reads the header of each group's first member (the copy a preview shows) for its
    // Subject, From and Date: one header read per group, never a body. A member that cannot be
    // read (gone since, unreadable) leaves its group without headers.
    static void describeGroups(const MailRoot &root, DupesReport &report);
};

void to_json(nlohmann::json &j, const DupeMember &member);
void to_json(nlohmann::json &j, const DupeGroup &group);
void to_json(nlohmann::json &j, const DupesReport &report);
void from_json(const nlohmann::json &j, DupeGroup &group);

} // namespace mm::maildir
