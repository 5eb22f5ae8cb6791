#pragma once

#include "common/result.h"
#include "maildir/mailroot.h"
#include "maildir/quarantine.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

namespace mm::maildir {

struct QuarantineListing
{
    static constexpr int kSchemaVersion = 1;

    std::string stateDir;
    std::vector<QuarantineEntry> entries; // present and not restored, oldest first
    std::uint64_t totalBytes = 0;
    std::vector<std::string> problems; // journal records that were ignored, and why
};

struct PurgeReport
{
    static constexpr int kSchemaVersion = 1;

    std::string stateDir;
    std::string runId;
    bool dryRun = false;
    unsigned olderThanDays = 0;
    std::vector<QuarantineEntry> purged; // (would be) deleted
    std::uint64_t purgedBytes = 0;
    std::uint64_t kept = 0;
    std::vector<std::string> problems;
};

// `quarantine list` and `quarantine purge`. Purge is the one place where Mailmesh deletes mail,
// only from the quarantine, only entries quarantined more than `olderThanDays` days ago, and each
// deletion is journaled first ("purged" record) so the listing stays truthful.
class QuarantineAdmin
{
public:
    static Result<QuarantineListing> list(const MailRoot &root, const std::string &stateDir = {});
    static Result<PurgeReport> purge(const MailRoot &root, unsigned olderThanDays, bool dryRun,
                                     const std::string &stateDir = {},
                                     std::time_t now = std::time(nullptr));
};

void to_json(nlohmann::json &j, const QuarantineListing &listing);
void to_json(nlohmann::json &j, const PurgeReport &report);

} // namespace mm::maildir
