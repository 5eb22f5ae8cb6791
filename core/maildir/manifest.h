#pragma once

#include "common/result.h"
#include "maildir/keywords.h"
#include "maildir/mailroot.h"
#include "maildir/problem.h"
#include "maildir/progress.h"
#include "maildir/uidlist.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mm::maildir {

struct ManifestMessage
{
    std::string base;
    std::string flags;  // after ":2," (empty without info)
    std::string subdir; // "cur", or "new" in a classic folder
    std::uint64_t size = 0;
    std::string sha256; // of the whole file
};

// One frame of `manifest`: everything the cross-node diff compares about one folder.
struct ManifestFolder
{
    static constexpr int kSchemaVersion = 1;

    std::string folder;                    // relative to ROOT ("" = ROOT itself)
    std::string name;                      // mailbox name (INBOX, Sent...)
    std::vector<ManifestMessage> messages; // sorted by (BASE, subdir, flags)
    std::optional<Uidlist> uidlist;        // absent when the folder has none
    std::string uidlistError;              // why it could not be read, when it exists but is bad
    std::optional<Keywords> keywords;
    // SHA-256 over messages (BASE, flags, size, sha256), the uidlist's uidvalidity and UID -> BASE
    // map and the keyword letters: equal digests on two nodes mean nothing to compare there.
    std::string digest;

    std::string computeDigest() const;
};

// A folder's manifest without its lists: what a monitor compares across nodes every round.
// Nodes agree on a folder when their digests match; `uidValidity` says whether their UIDs are
// comparable at all (under the per-node policy each node has its own).
struct ManifestDigest
{
    std::string folder;
    std::string name;
    std::string digest;
    std::uint64_t messages = 0;
    std::optional<std::uint32_t> uidValidity;
    // The folder's keyword table (26 entries at most): what a letter means must be the same on
    // every node whatever the UID policy, so the monitor compares it on every round.
    std::optional<Keywords> keywords;

    static ManifestDigest of(const ManifestFolder &folder);
};

void to_json(nlohmann::json &j, const ManifestDigest &digest);

struct ManifestSummary
{
    static constexpr int kSchemaVersion = 1;

    std::string root;
    std::uint64_t folders = 0;
    std::uint64_t messages = 0;
    std::uint64_t bytesHashed =
        0; // bodies read this run (0 on an unchanged tree with a warm cache)
    std::uint64_t cacheHits = 0;
    std::uint64_t cacheMisses = 0;
    std::string cacheDir; // empty when no cache could be used
    std::vector<Problem> problems;
};

class ManifestBuilder
{
public:
    using FolderSink = std::function<void(const ManifestFolder &)>;

    // Walks ROOT and calls `sink` once per folder, in folder order, never holding more than one
    // folder. `cacheDir` is where content hashes are remembered (<state>/hashcache); empty turns
    // the cache off.
    static Result<ManifestSummary> build(const MailRoot &root, const std::string &cacheDir,
                                         const FolderSink &sink, const ProgressSink &progress = {});

    // One folder below an open directory (tests, and the loop above).
    static ManifestFolder buildFolder(int folderFd, const std::string &folderRelPath,
                                      const std::string &cacheDir, ManifestSummary &summary,
                                      const ProgressSink &progress = {});
};

void to_json(nlohmann::json &j, const ManifestMessage &message);
void to_json(nlohmann::json &j, const ManifestFolder &folder);
void to_json(nlohmann::json &j, const ManifestSummary &summary);
void from_json(const nlohmann::json &j, ManifestMessage &message);
void from_json(const nlohmann::json &j, ManifestFolder &folder);

} // namespace mm::maildir
