// `scan`, `convert` and `revert`: the cur/-only conversion of a node's mail root. The work is in
// core/maildir; this file maps parameters to options and results to text and exit codes.

#include "largeresult.h"
#include "maildirparams.h"

#include "maildir/convert.h"
#include "maildir/inventory.h"
#include "maildir/jsonpath.h"
#include "maildir/mailroot.h"
#include "maildir/revert.h"
#include "maildir/scan.h"
#include "maildir/statedir.h"

#include "protocol/command.h"
#include "protocol/exitcodes.h"
#include "protocol/params.h"

#include <cstdio>
#include <string>
#include <vector>

namespace mm::agent {

namespace {

const std::vector<StreamedList> kFolderLists{{"folders", "folder"}, {"problems", "problem"}};

Result<nlohmann::json> runScan(const nlohmann::json &params, const maildir::ProgressSink &progress,
                               const protocol::ItemSink &items)
{
    auto root = openRoot(params);
    if (!root)
        return tl::unexpected(root.error());
    auto report = maildir::Scan::run(*root, progress);
    if (!report)
        return tl::unexpected(report.error());
    return streamIfLarge(nlohmann::json(*report), items, kFolderLists);
}

std::string formatScan(const nlohmann::json &r)
{
    std::string text;
    char line[512];
    std::snprintf(line, sizeof line, "%-10s %8s %8s %6s  %s\n", "STATE", "CUR", "NEW", "TMP",
                  "FOLDER");
    text += line;
    for (const auto &f : r.value("folders", nlohmann::json::array())) {
        std::string path = f.value("path", std::string());
        std::snprintf(line, sizeof line, "%-10s %8llu %8llu %6llu  %s\n",
                      f.value("state", std::string()).c_str(),
                      static_cast<unsigned long long>(f.value("curMessages", 0ULL)),
                      static_cast<unsigned long long>(f.value("newMessages", 0ULL)),
                      static_cast<unsigned long long>(f.value("tmpFiles", 0ULL)),
                      path.empty() ? "." : path.c_str());
        text += line;
    }
    const auto t = r.value("totals", nlohmann::json::object());
    std::snprintf(line, sizeof line,
                  "%llu maildirs, %llu folders (%llu classic, %llu cur-only, %llu broken); "
                  "%llu messages in cur/, %llu in new/, %llu files in tmp/; %llu problems\n",
                  static_cast<unsigned long long>(t.value("maildirs", 0ULL)),
                  static_cast<unsigned long long>(t.value("folders", 0ULL)),
                  static_cast<unsigned long long>(t.value("classic", 0ULL)),
                  static_cast<unsigned long long>(t.value("curOnly", 0ULL)),
                  static_cast<unsigned long long>(t.value("broken", 0ULL)),
                  static_cast<unsigned long long>(t.value("curMessages", 0ULL)),
                  static_cast<unsigned long long>(t.value("newMessages", 0ULL)),
                  static_cast<unsigned long long>(t.value("tmpFiles", 0ULL)),
                  static_cast<unsigned long long>(t.value("problems", 0ULL)));
    text += line;
    const auto problems = r.value("problems", nlohmann::json::array());
    if (!problems.empty())
        text += "problems:\n" + problemLines(problems);
    if (r.contains("streamed"))
        text += "(the folder list and problems were too long to show; use --json)\n";
    return text;
}

// The memo lives in the state dir, which is created (0700) like for every other command that
// keeps state; when it cannot be, the inventory still answers, reading everything, and says why.
Result<nlohmann::json> runInventory(const nlohmann::json &params,
                                    const maildir::ProgressSink &progress,
                                    const protocol::ItemSink &items)
{
    auto root = openRoot(params);
    if (!root)
        return tl::unexpected(root.error());
    auto noMemo = protocol::optionalBool(params, "noMemo", false);
    if (!noMemo)
        return tl::unexpected(noMemo.error());
    auto stateParam = stateDirParam(params);
    if (!stateParam)
        return tl::unexpected(stateParam.error());
    maildir::InventoryOptions options;
    std::string memoProblem;
    if (!*noMemo) {
        auto state = maildir::StateDir::resolve(*root, *stateParam);
        if (!state)
            memoProblem = state.error().describe();
        else if (auto created = state->create(); !created)
            memoProblem = created.error().describe();
        else
            options.memoDir = state->path() + "/inventory";
    }
    auto report = maildir::Inventory::run(*root, options, progress);
    if (!report)
        return tl::unexpected(report.error());
    if (!memoProblem.empty())
        report->memoProblem = memoProblem + ": nothing remembered";
    return streamIfLarge(nlohmann::json(*report), items,
                         {{"folders", "folder"}, {"problems", "problem"}, {"groups", "group"},
                          {"dupeProblems", "dupeProblem"}});
}

std::string formatInventory(const nlohmann::json &r)
{
    const auto t = r.value("totals", nlohmann::json::object());
    const auto d = r.value("dupeTotals", nlohmann::json::object());
    const auto w = r.value("work", nlohmann::json::object());
    const auto count = [](const nlohmann::json &j, const char *key) {
        return std::to_string(j.value(key, 0ULL));
    };
    std::string text = count(t, "folders") + " folders (" + count(t, "classic") + " classic, " +
                       count(t, "curOnly") + " cur-only, " + count(t, "broken") + " broken); " +
                       count(t, "curMessages") + " messages in cur/, " + count(t, "newMessages") +
                       " in new/, " + count(t, "tmpFiles") + " files in tmp/; " +
                       count(d, "groups") + " duplicate groups; " + count(t, "problems") +
                       " problems\n";
    text += "reused " + count(w, "foldersReused") + " folders, read " + count(w, "foldersRead") +
            " (" + count(w, "messagesListed") + " messages listed, " + count(w, "headersRead") +
            " headers read, " + count(w, "bodiesHashed") + " bodies hashed, " +
            count(w, "bodiesRemembered") + " remembered)\n";
    const auto memo = r.value("memo", nlohmann::json::object());
    if (memo.contains("problem"))
        text += "memo: " + memo.value("problem", std::string()) + "\n";
    const auto problems = r.value("problems", nlohmann::json::array());
    if (!problems.empty())
        text += "problems:\n" + problemLines(problems);
    return text;
}

Result<nlohmann::json> runConvert(const nlohmann::json &params,
                                  const maildir::ProgressSink &progress,
                                  const protocol::ItemSink &items)
{
    auto root = openRoot(params);
    if (!root)
        return tl::unexpected(root.error());
    maildir::ConvertOptions options;
    if (auto read = readChangeOptions(params, options); !read)
        return tl::unexpected(read.error());
    auto report = maildir::Convert::run(*root, options, progress);
    if (!report)
        return tl::unexpected(report.error());
    if (report->cancelled)
        return fail(ErrorCode::Cancelled,
                    "convert cancelled; the tree is consistent and a new run finishes the job "
                    "(journal " +
                        report->journalPath + ")");
    return streamIfLarge(nlohmann::json(*report), items, kFolderLists);
}

std::string formatConvert(const nlohmann::json &r)
{
    std::string text;
    const bool dry = r.value("dryRun", false);
    for (const auto &f : r.value("folders", nlohmann::json::array())) {
        const std::string path = f.value("path", std::string());
        const std::string shown = path.empty() ? "." : path;
        if (f.value("skipped", false)) {
            text += "skip     " + shown + ": " + f.value("skipReason", std::string()) + "\n";
            continue;
        }
        if (dry) {
            for (const auto &m : f.value("moves", nlohmann::json::array()))
                text += "move     " + shown + "/new/" +
                        (m.is_string() ? m.get<std::string>() : m.value("text", std::string())) +
                        " -> cur/\n";
            for (const auto &m : f.value("renames", nlohmann::json::array()))
                text += "rename   " + shown + "/new/" + m.value("from", std::string()) +
                        " -> cur/" + m.value("to", std::string()) +
                        " (BASE taken by other bytes)\n";
            for (const auto &m : f.value("quarantines", nlohmann::json::array()))
                text += "quarantine " + shown + "/new/" + m.value("name", std::string()) + " (" +
                        m.value("reason", std::string()) + ")\n";
            if (f.value("createTmp", false))
                text += "mkdir    " + shown + "/tmp\n";
            if (f.value("swapNew", false))
                text += "symlink  " + shown + "/new -> cur\n";
        } else {
            text += "converted " + shown + ": " +
                    std::to_string(f.value("moved", std::uint64_t(0))) + " moved, " +
                    std::to_string(f.value("renames", nlohmann::json::array()).size()) +
                    " renamed, " +
                    std::to_string(f.value("quarantines", nlohmann::json::array()).size()) +
                    " quarantined\n";
        }
    }
    const auto t = r.value("totals", nlohmann::json::object());
    text += std::string(dry ? "plan: " : "done: ") + std::to_string(t.value("converted", 0ULL)) +
            " folders to cur-only, " + std::to_string(t.value("alreadyCurOnly", 0ULL)) +
            " already cur-only, " + std::to_string(t.value("skipped", 0ULL)) + " skipped; " +
            std::to_string(t.value("moved", 0ULL)) + " moved, " +
            std::to_string(t.value("renamed", 0ULL)) + " renamed, " +
            std::to_string(t.value("quarantined", 0ULL)) + " quarantined\n";
    if (!dry)
        text += std::string("verified: ") + (r.value("verified", false) ? "yes" : "NO") +
                (r.value("journal", std::string()).empty()
                     ? std::string("; nothing to change, no journal written")
                     : "; journal " + r.value("journal", std::string())) +
                "\n";
    const auto problems = r.value("problems", nlohmann::json::array());
    if (!problems.empty())
        text += "problems:\n" + problemLines(problems);
    return text;
}

int convertExitCode(const nlohmann::json &r)
{
    const auto t = r.value("totals", nlohmann::json::object());
    const bool actionFailed = problemCount(r, "action-failed") > 0;
    if (!r.value("dryRun", false) && !r.value("verified", false))
        return protocol::kExitFailed;
    return t.value("skipped", 0ULL) > 0 || actionFailed ? protocol::kExitSkipped
                                                        : protocol::kExitOk;
}

Result<nlohmann::json> runRevert(const nlohmann::json &params,
                                 const maildir::ProgressSink &progress,
                                 const protocol::ItemSink &items)
{
    auto root = openRoot(params);
    if (!root)
        return tl::unexpected(root.error());
    maildir::RevertOptions options;
    if (auto read = readChangeOptions(params, options); !read)
        return tl::unexpected(read.error());
    auto report = maildir::Revert::run(*root, options, progress);
    if (!report)
        return tl::unexpected(report.error());
    if (report->cancelled)
        return fail(ErrorCode::Cancelled, "revert cancelled; run it again to finish");
    return streamIfLarge(nlohmann::json(*report), items, {{"reverted", "reverted"}, {"problems", "problem"}});
}

std::string formatRevert(const nlohmann::json &r)
{
    std::string text;
    const bool dry = r.value("dryRun", false);
    for (const auto &f : r.value("reverted", nlohmann::json::array())) {
        const std::string path =
            f.is_string() ? f.get<std::string>() : f.value("text", std::string());
        text +=
            std::string(dry ? "would revert " : "reverted ") + (path.empty() ? "." : path) + "\n";
    }
    text += std::to_string(r.value("reverted", nlohmann::json::array()).size()) +
            (dry ? " folders to revert, " : " folders reverted, ") +
            std::to_string(r.value("alreadyClassic", 0ULL)) + " already classic\n";
    const auto problems = r.value("problems", nlohmann::json::array());
    if (!problems.empty())
        text += "problems:\n" + problemLines(problems);
    return text;
}

int revertExitCode(const nlohmann::json &r)
{
    return problemCount(r, "action-failed") + problemCount(r, "folder-skipped") > 0 ? protocol::kExitSkipped
                                                                                     : protocol::kExitOk;
}

} // namespace

std::vector<protocol::Command> maildirCommands()
{
    using protocol::ValueKind;
    std::vector<protocol::Command> commands;

    protocol::Command scan;
    scan.name = "scan";
    scan.summary = "every Maildir folder below ROOT: classic, cur-only or broken, counts, problems";
    scan.arguments = {{"root", ValueKind::Path}};
    scan.run = runScan;
    scan.formatText = formatScan;
    commands.push_back(std::move(scan));

    protocol::Command inventory;
    inventory.name = "inventory";
    inventory.summary = "scan and dupes in one walk, re-reading only folders changed since the "
                        "last inventory (memo in the state dir)";
    inventory.arguments = {{"root", ValueKind::Path}};
    inventory.options = {
        {"--state", "stateDir", ValueKind::Path,
         "state dir holding the memo (default <dirname ROOT>/.mailmesh-state/<basename ROOT>)"},
        {"--no-memo", "noMemo", ValueKind::Flag, "read everything, remember nothing"},
    };
    inventory.run = runInventory;
    inventory.formatText = formatInventory;
    commands.push_back(std::move(inventory));

    protocol::Command convert;
    convert.name = "convert";
    convert.summary = "make every folder below ROOT cur-only (journaled, resumable)";
    convert.arguments = {{"root", ValueKind::Path}};
    convert.options = {
        {"--dry-run", "dryRun", ValueKind::Flag, "print the full plan, change nothing"},
        {"--state", "stateDir", ValueKind::Path,
         "state dir (default <dirname ROOT>/.mailmesh-state/<basename ROOT>)"},
        {"--state-dir", "stateDir", ValueKind::Path, "the same as --state"},
    };
    convert.run = runConvert;
    convert.formatText = formatConvert;
    convert.exitCode = convertExitCode;
    commands.push_back(std::move(convert));

    protocol::Command revert;
    revert.name = "revert";
    revert.summary = "turn cur-only folders below ROOT back to classic (no message moves)";
    revert.arguments = {{"root", ValueKind::Path}};
    revert.options = {
        {"--dry-run", "dryRun", ValueKind::Flag, "list the folders, change nothing"},
        {"--state", "stateDir", ValueKind::Path, "state dir (default next to ROOT)"},
        {"--state-dir", "stateDir", ValueKind::Path, "the same as --state"},
    };
    revert.run = runRevert;
    revert.formatText = formatRevert;
    revert.exitCode = revertExitCode;
    commands.push_back(std::move(revert));
    return commands;
}

} // namespace mm::agent
