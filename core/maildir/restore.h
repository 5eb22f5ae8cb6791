#pragma once

#include "common/result.h"
#include "maildir/mailroot.h"
#include "maildir/problem.h"
#include "maildir/progress.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace mm::maildir {

struct RestoreOptions
{
    std::vector<std::string> ids; // quarantine ids ("<runId>/<seq>")
    bool all = false;             // every quarantined file, and dedupe's keeper renames undone
    bool dryRun = false;
    std::string stateDir;
};

struct RestoreReport
{
    static constexpr int kSchemaVersion = 1;

    struct Item
    {
        std::string id;   // quarantine id, or "<runId>/<seq>" of the undone rename
        std::string kind; // "restore" or "undo-rename"
        std::string from; // state-dir relative (restore) or ROOT relative (undo-rename)
        std::string to;   // ROOT relative
        bool done = false;
    };

    std::string root;
    std::string stateDir;
    std::string runId;
    bool dryRun = false;
    std::vector<Item> items;
    std::vector<Problem> problems; // a taken name is reported here and never overwritten
    bool skippedItems() const { return !problems.empty(); }
};

// Puts quarantined files back where they were (never over an existing file: the name may have
// been taken since). With --all it also undoes dedupe's keeper renames, newest first, so that
// the tree is the one before dedupe ran.
class Restore
{
public:
    static Result<RestoreReport> run(const MailRoot &root, const RestoreOptions &options,
                                     const ProgressSink &progress = {});
};

void to_json(nlohmann::json &j, const RestoreReport &report);

} // namespace mm::maildir
