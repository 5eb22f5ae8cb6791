#pragma once

#include "common/result.h"
#include "maildir/keywordsettle.h"
#include "maildir/mailroot.h"
#include "maildir/problem.h"
#include "maildir/progress.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace mm::maildir {

// The mailbox state beside the messages that every node writes: keyword tables and
// subscriptions (docs/mailbox-state.md). `migrate` gathers every node's keyword tables
// (reportKeywords), decides one table per folder (settleKeywords) and has every node write it
// (settleKeywordTables); from then on the patched Dovecot keeps each node's new keywords and
// subscription changes in files of its own. `revert` folds those files back into the single
// files stock Dovecot reads (foldSharedState).

struct KeywordsReport
{
    static constexpr int kSchemaVersion = 1;
    std::string root;
    std::vector<FolderKeywordReport> folders; // folders with a table or keyword letters in use
    std::vector<Problem> problems;            // keyword-clash among them
};

// Every folder's keyword table as this node reads it, and how many messages carry each letter.
Result<KeywordsReport> reportKeywords(const MailRoot &root, const ProgressSink &progress = {});

struct SharedStateOptions
{
    bool dryRun = false;
    std::string stateDir; // empty: StateDir::defaultPathFor(root)
};

struct SharedStateAction
{
    std::string kind; // "rename", "write", "set-aside"
    std::string path; // relative to ROOT, raw bytes
    std::string detail;
};

struct SharedStateReport
{
    static constexpr int kSchemaVersion = 1;
    bool dryRun = false;
    std::string root;
    std::string stateDir;
    std::string runId;       // empty in a dry run or when nothing had to change
    std::string journalPath; // likewise
    std::vector<SharedStateAction> actions; // done, or to do in a dry run
    std::vector<std::string> notes;         // what the settlements could not decide for sure
    std::vector<Problem> problems;
    std::uint64_t renamed = 0;   // message names whose keyword letters changed
    std::uint64_t written = 0;   // dovecot-keywords and subscriptions files written
    std::uint64_t setAside = 0;  // node files moved to the quarantine
};

void to_json(nlohmann::json &j, const KeywordsReport &report);
void to_json(nlohmann::json &j, const SharedStateReport &report);

// Writes each settled folder's dovecot-keywords and moves message names to the settled letters.
// Journaled (move, quarantine of the replaced table, write); a second run changes nothing, and a
// run killed at any point is finished by the next one (each step is recomputed from the disk).
Result<SharedStateReport> settleKeywordTables(const MailRoot &root,
                                              const std::vector<KeywordSettlement> &settlements,
                                              const SharedStateOptions &options,
                                              const ProgressSink &progress = {});

// The way back to one file each: every folder's dovecot-keywords becomes its merged table and
// every Maildir's subscriptions its merged subscriptions, and the node files go to the
// quarantine (dovecot-keywords.d/ and subscriptions.d/ are removed once empty). Journaled and
// idempotent like settleKeywordTables.
Result<SharedStateReport> foldSharedState(const MailRoot &root, const SharedStateOptions &options,
                                          const ProgressSink &progress = {});

} // namespace mm::maildir
