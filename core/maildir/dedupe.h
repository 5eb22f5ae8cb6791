#pragma once

#include "common/result.h"
#include "maildir/dupes.h"
#include "maildir/mailroot.h"
#include "maildir/problem.h"
#include "maildir/progress.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace mm::maildir {

struct DedupeOptions
{
    std::set<std::string> groupIds; // empty: every removable group
    bool dryRun = false;            // plan only: no state dir, journal, lock or rename
    std::string stateDir;           // empty: the default next to ROOT
};

struct DedupeAction
{
    std::string groupId;
    DupeKind kind = DupeKind::FlagDivergence;
    std::string action; // "rename" (flag-divergence keeper) or "quarantine"
    std::string from;   // relative to ROOT
    std::string to;     // relative to ROOT (rename) or to the state dir (quarantine)
    std::string quarantineId;
    bool done = false; // false in a dry run, or when it was skipped (see problems)
};

struct DedupeReport
{
    static constexpr int kSchemaVersion = 1;

    std::string root;
    std::string stateDir;
    std::string runId; // empty in a dry run
    bool dryRun = false;
    std::uint64_t groupsFound = 0;
    std::uint64_t groupsResolved = 0;
    std::uint64_t groupsLeft = 0; // not removable (contents differ) or not selected
    std::vector<DedupeAction> actions;
    std::vector<Problem> problems;
    bool skippedItems() const { return !problems.empty(); }
};

// Applies the resolutions of `dupes`: per folder, flag-divergence first (the keeper gets the
// union name, the other variants go to quarantine), then sync-conflict copies with identical
// bytes, then same-message copies. Every folder is re-read before each kind is applied, so what
// is applied always matches the disk, and a second run after kill -9 simply finishes the job.
// Every move is journaled (flushed) before it happens; a file is checked against the hash seen
// by the scan right before it is quarantined.
class Dedupe
{
public:
    static Result<DedupeReport> run(const MailRoot &root, const DedupeOptions &options,
                                    const ProgressSink &progress = {});
};

void to_json(nlohmann::json &j, const DedupeAction &action);
void to_json(nlohmann::json &j, const DedupeReport &report);

} // namespace mm::maildir
