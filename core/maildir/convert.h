#pragma once

#include "common/result.h"
#include "maildir/maildirfolder.h"
#include "maildir/mailroot.h"
#include "maildir/problem.h"
#include "maildir/progress.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace mm::maildir {

struct ConvertOptions
{
    bool dryRun = false;
    std::string stateDir; // empty: StateDir::defaultPathFor(root)
};

// What convert does (or, in a dry run, would do) to one folder. Names are raw bytes.
struct FolderConvertPlan
{
    std::string relPath;
    FolderState stateBefore = FolderState::Broken;
    bool skipped = false; // left untouched (skipReason says why; also a Problem)
    std::string skipReason;
    bool createTmp = false;         // tmp/ missing: created
    bool swapNew = false;           // new/ replaced by the symlink new -> cur
    bool finishSwap = false;        // a swap left half-done by a killed run is completed
    bool linkNew = false;           // `new` was missing beside cur/: the symlink new -> cur made
    // Names moved new/NAME -> cur/NAME. Listed in a dry run only: a real run journals every name
    // and reports their number in `moved` (200,000 names would be megabytes of answer nobody reads).
    std::vector<std::string> moves;
    std::uint64_t moved = 0; // a real run: messages moved under their own name (done, not planned)
    struct Rename
    {
        std::string from; // name in new/
        std::string to;   // name in cur/ (collisionName of the content hash)
        std::string sha256;
    };
    std::vector<Rename> renames; // BASE already in cur/ with other bytes
    struct QuarantineItem
    {
        std::string name;   // in new/
        std::string reason; // "identical-copy" | "dotfile-in-new"
        std::uint64_t size = 0;
    };
    std::vector<QuarantineItem> quarantines;
};

struct ConvertTotals
{
    std::uint64_t folders = 0;
    std::uint64_t converted = 0; // folders that became cur-only in this run (linkNew included)
    std::uint64_t alreadyCurOnly = 0;
    std::uint64_t skipped = 0;
    std::uint64_t moved = 0;
    std::uint64_t renamed = 0;
    std::uint64_t quarantined = 0;
    std::uint64_t tmpCreated = 0;
    std::uint64_t problems = 0;
};

// The answer of `convert`: in a dry run the full plan (every move, rename, quarantine), otherwise
// the per-folder actions that were applied, the journal, and the verification.
struct ConvertReport
{
    static constexpr int kSchemaVersion = 1;
    bool dryRun = false;
    std::string root;
    std::string stateDir;
    std::string runId;       // empty in a dry run
    std::string journalPath; // empty in a dry run
    bool cancelled = false;
    bool verified = false; // every converted folder re-checked: cur-only, message count as planned
    std::vector<FolderConvertPlan> folders; // folders with something to do or skipped
    std::vector<Problem> problems;
    ConvertTotals totals;
};

void to_json(nlohmann::json &json, const FolderConvertPlan &plan);
void to_json(nlohmann::json &json, const ConvertTotals &totals);
void to_json(nlohmann::json &json, const ConvertReport &report);

// Makes every Maildir folder below ROOT cur-only: each message in new/ moves to cur/ under its
// exact name (rename), then new/ is swapped for the symlink new -> cur with
// renameat2(RENAME_EXCHANGE), so there is never a moment without `new`. A BASE already in cur/
// with identical bytes sends the new/ copy to quarantine; with other bytes the copy moves under
// collisionName(name, sha256), the same name on every node. Dotfiles in new/ are quarantined.
// A folder whose new/ holds a symlink, a directory, a special file or anything unreadable is left
// untouched and reported. Folders are handled one at a time, plan -> journal -> apply -> verify;
// killed at any point, a second run finishes the job (every rename is atomic and the plan is
// recomputed from what is on disk), and a finished run changes nothing when run again.
class Convert
{
public:
    static Result<ConvertReport> run(const MailRoot &root, const ConvertOptions &options,
                                     const ProgressSink &progress = {});
};

} // namespace mm::maildir
