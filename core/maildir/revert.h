#pragma once

#include "common/result.h"
#include "maildir/mailroot.h"
#include "maildir/problem.h"
#include "maildir/progress.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace mm::maildir {

struct RevertOptions
{
    bool dryRun = false;
    std::string stateDir; // empty: the default next to ROOT
};

// The answer of `revert`: the folders whose `new -> cur` symlink becomes a real, empty new/.
struct RevertReport
{
    static constexpr int kSchemaVersion = 1;
    bool dryRun = false;
    std::string root;
    std::string stateDir;
    std::string runId;
    std::string journalPath;
    bool cancelled = false;
    std::vector<std::string> reverted; // folder paths relative to ROOT (planned in a dry run)
    std::uint64_t alreadyClassic = 0;
    std::vector<Problem> problems;
};

void to_json(nlohmann::json &json, const RevertReport &report);

// Turns cur-only folders back to classic. No message moves: an empty directory is created beside
// the symlink and swapped with it by renameat2(RENAME_EXCHANGE), then the symlink is removed.
// Journaled and resumable like Convert.
class Revert
{
public:
    static Result<RevertReport> run(const MailRoot &root, const RevertOptions &options,
                                    const ProgressSink &progress = {});
};

} // namespace mm::maildir
