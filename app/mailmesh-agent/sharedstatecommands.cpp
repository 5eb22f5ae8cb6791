// `keywords`, `keywords-settle` and `shared-state-fold`: the mailbox state beside the messages
// (keyword tables, subscriptions) that migrate settles across the nodes and revert folds back
// (docs/mailbox-state.md). The work is in core/maildir/sharedstate.*; this file maps parameters
// to options and results to text and exit codes.

#include "maildirparams.h"

#include "maildir/fsutil.h"
#include "maildir/jsonpath.h"
#include "maildir/sharedstate.h"

#include "protocol/command.h"
#include "protocol/exitcodes.h"
#include "protocol/params.h"

#include <fcntl.h>

#include <string>
#include <vector>

namespace mm::agent {

namespace {

Result<nlohmann::json> runKeywords(const nlohmann::json &params,
                                   const maildir::ProgressSink &progress,
                                   const protocol::ItemSink &items)
{
    auto root = openRoot(params);
    if (!root)
        return tl::unexpected(root.error());
    auto report = maildir::reportKeywords(*root, progress);
    if (!report)
        return tl::unexpected(report.error());
    // One item per folder, like `manifest`: a mail root with many folders never meets the frame
    // limit.
    for (const auto &folder : report->folders)
        items.emit({{"folder", folder}});
    nlohmann::json result = *report;
    result["folders"] = report->folders.size();
    return result;
}

std::string formatKeywords(const nlohmann::json &r)
{
    std::string text = std::to_string(r.value("folders", 0ULL)) +
                       " folders with keywords (their tables are the items of --json)\n";
    const auto problems = r.value("problems", nlohmann::json::array());
    if (!problems.empty())
        text += "problems:\n" + problemLines(problems);
    return text;
}

// The settlements come inline (`settlements`, as the app sends them) or, on the command line,
// from a file (`--plan FILE` holding {"settlements": [...]}).
Result<std::vector<maildir::KeywordSettlement>> readSettlements(const nlohmann::json &params)
{
    nlohmann::json list;
    if (const auto it = params.find("settlements"); it != params.end()) {
        list = *it;
    } else {
        auto plan = protocol::optionalPath(params, "plan");
        if (!plan)
            return tl::unexpected(plan.error());
        if (!*plan)
            return fail(ErrorCode::BadRequest, "settlements (or --plan FILE) is required");
        auto text = maildir::readSmallFileAt(AT_FDCWD, (*plan)->c_str(), **plan, 64u << 20);
        if (!text)
            return tl::unexpected(text.error());
        if (!*text)
            return fail(ErrorCode::NotFound, **plan + ": no such file", **plan);
        const nlohmann::json document = nlohmann::json::parse(**text, nullptr, false);
        if (document.is_discarded() || !document.is_object())
            return fail(ErrorCode::InvalidData, **plan + ": not a JSON object", **plan);
        list = document.value("settlements", nlohmann::json());
    }
    if (!list.is_array())
        return fail(ErrorCode::BadRequest, "settlements must be an array");
    std::vector<maildir::KeywordSettlement> settlements;
    for (const auto &item : list) {
        if (!item.is_object())
            return fail(ErrorCode::BadRequest, "every settlement must be an object");
        settlements.push_back(item.get<maildir::KeywordSettlement>());
    }
    return settlements;
}

Result<nlohmann::json> runKeywordsSettle(const nlohmann::json &params,
                                         const maildir::ProgressSink &progress,
                                         const protocol::ItemSink &)
{
    auto root = openRoot(params);
    if (!root)
        return tl::unexpected(root.error());
    maildir::SharedStateOptions options;
    if (auto read = readChangeOptions(params, options); !read)
        return tl::unexpected(read.error());
    auto settlements = readSettlements(params);
    if (!settlements)
        return tl::unexpected(settlements.error());
    auto report = maildir::settleKeywordTables(*root, *settlements, options, progress);
    if (!report)
        return tl::unexpected(report.error());
    return nlohmann::json(*report);
}

Result<nlohmann::json> runSharedStateFold(const nlohmann::json &params,
                                          const maildir::ProgressSink &progress,
                                          const protocol::ItemSink &)
{
    auto root = openRoot(params);
    if (!root)
        return tl::unexpected(root.error());
    maildir::SharedStateOptions options;
    if (auto read = readChangeOptions(params, options); !read)
        return tl::unexpected(read.error());
    auto report = maildir::foldSharedState(*root, options, progress);
    if (!report)
        return tl::unexpected(report.error());
    return nlohmann::json(*report);
}

std::string formatSharedState(const nlohmann::json &r)
{
    const bool dry = r.value("dryRun", false);
    std::string text;
    for (const auto &action : r.value("actions", nlohmann::json::array()))
        text += (dry ? "would " : "") + action.value("kind", std::string()) + " " +
                action.value("path", std::string()) + ": " + action.value("detail", std::string()) +
                "\n";
    text += std::to_string(r.value("renamed", 0ULL)) + " renamed, " +
            std::to_string(r.value("written", 0ULL)) + " written, " +
            std::to_string(r.value("setAside", 0ULL)) + " set aside" +
            (dry ? " (dry run: nothing changed)\n" : "\n");
    for (const auto &note : r.value("notes", nlohmann::json::array()))
        text += "note: " + note.get<std::string>() + "\n";
    const auto problems = r.value("problems", nlohmann::json::array());
    if (!problems.empty())
        text += "problems:\n" + problemLines(problems);
    return text;
}

int sharedStateExitCode(const nlohmann::json &r)
{
    return r.value("problems", nlohmann::json::array()).empty() ? protocol::kExitOk
                                                                : protocol::kExitSkipped;
}

} // namespace

std::vector<protocol::Command> sharedStateCommands()
{
    using protocol::ValueKind;
    std::vector<protocol::Command> commands;

    protocol::Command keywords;
    keywords.name = "keywords";
    keywords.summary = "every folder's keyword table below ROOT and the letters its messages carry";
    keywords.arguments = {{"root", ValueKind::Path}};
    keywords.run = runKeywords;
    keywords.formatText = formatKeywords;
    commands.push_back(std::move(keywords));

    protocol::Command settle;
    settle.name = "keywords-settle";
    settle.summary = "write the cluster's keyword table in each folder, renaming letters (journaled)";
    settle.arguments = {{"root", ValueKind::Path}};
    settle.options = {
        {"--plan", "plan", ValueKind::Path, "JSON file {\"settlements\": [...]} from the app"},
        {"--dry-run", "dryRun", ValueKind::Flag, "list the changes, change nothing"},
        {"--state-dir", "stateDir", ValueKind::Path, "state dir (default next to ROOT)"},
    };
    settle.run = runKeywordsSettle;
    settle.formatText = formatSharedState;
    settle.exitCode = sharedStateExitCode;
    commands.push_back(std::move(settle));

    protocol::Command fold;
    fold.name = "shared-state-fold";
    fold.summary = "fold every node's keyword and subscription files into the single files "
                   "stock Dovecot reads (journaled)";
    fold.arguments = {{"root", ValueKind::Path}};
    fold.options = {
        {"--dry-run", "dryRun", ValueKind::Flag, "list the changes, change nothing"},
        {"--state-dir", "stateDir", ValueKind::Path, "state dir (default next to ROOT)"},
    };
    fold.run = runSharedStateFold;
    fold.formatText = formatSharedState;
    fold.exitCode = sharedStateExitCode;
    commands.push_back(std::move(fold));
    return commands;
}

} // namespace mm::agent
