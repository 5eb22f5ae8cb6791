// `dupes`, `dedupe`, `restore`, `quarantine list|purge`, `headers`, `manifest` and `diff`: the
// duplicate and cross-node side of core/maildir. This file maps parameters to options and results
// to text and exit codes; the work is in core/maildir.

#include "largeresult.h"
#include "maildirparams.h"

#include "maildir/dedupe.h"
#include "maildir/dupes.h"
#include "maildir/fsutil.h"
#include "maildir/jsonpath.h"
#include "maildir/mailroot.h"
#include "maildir/manifest.h"
#include "maildir/manifestdiff.h"
#include "maildir/messageheaders.h"
#include "maildir/quarantineadmin.h"
#include "maildir/restore.h"
#include "maildir/statedir.h"

#include "protocol/command.h"
#include "protocol/exitcodes.h"
#include "protocol/params.h"

#include <set>
#include <string>
#include <vector>

namespace mm::agent {

namespace {

using protocol::ValueKind;

// IDs as a JSON array under `arrayKey`, or one string under `textKey` holding IDs separated by
// commas or blanks (the CLI's `--group A,B`).
Result<std::vector<std::string>> idList(const nlohmann::json &params, const char *arrayKey,
                                        const char *textKey)
{
    std::vector<std::string> out;
    if (const auto it = params.find(arrayKey); it != params.end() && !it->is_null()) {
        if (!it->is_array())
            return fail(ErrorCode::BadRequest,
                        std::string(arrayKey) + " must be an array of strings");
        for (const auto &v : *it) {
            if (!v.is_string())
                return fail(ErrorCode::BadRequest,
                            std::string(arrayKey) + " must be an array of strings");
            out.push_back(v.get<std::string>());
        }
    }
    if (const auto it = params.find(textKey); it != params.end() && !it->is_null()) {
        if (!it->is_string())
            return fail(ErrorCode::BadRequest, std::string(textKey) + " must be a string");
        std::string word;
        for (const char c : it->get<std::string>() + ",") {
            if (c == ',' || c == ' ' || c == '\t') {
                if (!word.empty())
                    out.push_back(word);
                word.clear();
            } else {
                word += c;
            }
        }
    }
    return out;
}

// A problem that is plain text, not an object with a kind (streamed ones count under "").
bool hasKindlessProblem(const nlohmann::json &r)
{
    for (const auto &p : r.value("problems", nlohmann::json::array()))
        if (!p.is_object())
            return true;
    const auto kinds = r.value("streamed", nlohmann::json::object()).value("problemKinds", nlohmann::json::object());
    return kinds.contains("");
}

int skippedExitCode(const nlohmann::json &r)
{
    return problemCount(r, "action-failed") > 0 || hasKindlessProblem(r) ? protocol::kExitSkipped
                                                                          : protocol::kExitOk;
}

// dupes ---------------------------------------------------------------------------------------

Result<nlohmann::json> runDupes(const nlohmann::json &params, const maildir::ProgressSink &progress,
                                const protocol::ItemSink &items)
{
    auto root = openRoot(params);
    if (!root)
        return tl::unexpected(root.error());
    auto report = maildir::DupeFinder::find(*root, progress);
    if (!report)
        return tl::unexpected(report.error());
    // Subject, From and Date let the admin recognise each group (the app's duplicates view).
    maildir::DupeFinder::describeGroups(*root, *report);
    return streamIfLarge(nlohmann::json(*report), items, {{"groups", "group"}, {"problems", "problem"}});
}

std::string formatDupes(const nlohmann::json &r)
{
    std::string text;
    for (const auto &g : r.value("groups", nlohmann::json::array())) {
        const std::string folder = g.value("folder", std::string());
        text += g.value("id", std::string()) + "  " + g.value("kind", std::string()) + "  " +
                (folder.empty() ? "." : folder) +
                (g.value("removable", false) ? "" : "  (not removable)") + "\n";
        for (const auto &m : g.value("members", nlohmann::json::array()))
            text += "    " + m.value("name", std::string()) + "  " +
                    std::to_string(m.value("size", 0ULL)) + "\n";
        text += "    keep " + g.value("keeper", std::string()) + ": " +
                g.value("reason", std::string()) + "\n";
    }
    text += std::to_string(r.value("groups", nlohmann::json::array()).size()) + " groups in " +
            std::to_string(r.value("messages", 0ULL)) + " messages, " +
            std::to_string(r.value("folders", 0ULL)) + " folders\n";
    const auto problems = r.value("problems", nlohmann::json::array());
    if (!problems.empty())
        text += "problems:\n" + problemLines(problems);
    return text;
}

// dedupe --------------------------------------------------------------------------------------

Result<nlohmann::json> runDedupe(const nlohmann::json &params,
                                 const maildir::ProgressSink &progress, const protocol::ItemSink &items)
{
    auto root = openRoot(params);
    if (!root)
        return tl::unexpected(root.error());
    maildir::DedupeOptions options;
    if (auto read = readChangeOptions(params, options); !read)
        return tl::unexpected(read.error());
    auto ids = idList(params, "groups", "group");
    if (!ids)
        return tl::unexpected(ids.error());
    options.groupIds = std::set<std::string>(ids->begin(), ids->end());
    auto report = maildir::Dedupe::run(*root, options, progress);
    if (!report)
        return tl::unexpected(report.error());
    // Its changes are made: the answer must get through, however long.
    return streamIfLarge(nlohmann::json(*report), items, {{"actions", "action"}, {"problems", "problem"}});
}

std::string formatDedupe(const nlohmann::json &r)
{
    std::string text;
    const bool dry = r.value("dryRun", false);
    for (const auto &a : r.value("actions", nlohmann::json::array()))
        text += std::string(dry ? "would " : (a.value("done", false) ? "" : "NOT ")) +
                a.value("action", std::string()) + "  " + a.value("from", std::string()) +
                (a.contains("to") ? " -> " + a.value("to", std::string()) : std::string()) + "\n";
    text += std::to_string(r.value("groupsResolved", 0ULL)) + " groups resolved, " +
            std::to_string(r.value("groupsLeft", 0ULL)) + " left";
    if (!r["runId"].is_null())
        text += "; run " + r.value("runId", std::string());
    text += "\n";
    const auto problems = r.value("problems", nlohmann::json::array());
    if (!problems.empty())
        text += "problems:\n" + problemLines(problems);
    return text;
}

// restore, quarantine list/purge --------------------------------------------------------------

Result<nlohmann::json> runRestore(const nlohmann::json &params,
                                  const maildir::ProgressSink &progress, const protocol::ItemSink &items)
{
    auto root = openRoot(params);
    if (!root)
        return tl::unexpected(root.error());
    maildir::RestoreOptions options;
    auto dryRun = protocol::optionalBool(params, "dryRun", false);
    auto all = protocol::optionalBool(params, "all", false);
    if (!dryRun || !all)
        return tl::unexpected(!dryRun ? dryRun.error() : all.error());
    options.dryRun = *dryRun;
    options.all = *all;
    auto state = stateDirParam(params);
    if (!state)
        return tl::unexpected(state.error());
    options.stateDir = *state;
    auto ids = idList(params, "ids", "id");
    if (!ids)
        return tl::unexpected(ids.error());
    options.ids = *ids;
    if (options.all == !options.ids.empty())
        return fail(ErrorCode::BadRequest, "restore needs either --id ID[,ID...] or --all");
    auto report = maildir::Restore::run(*root, options, progress);
    if (!report)
        return tl::unexpected(report.error());
    return streamIfLarge(nlohmann::json(*report), items, {{"items", "item"}, {"problems", "problem"}});
}

Result<nlohmann::json> runQuarantineList(const nlohmann::json &params,
                                         const maildir::ProgressSink &, const protocol::ItemSink &items)
{
    auto root = openRoot(params);
    if (!root)
        return tl::unexpected(root.error());
    auto state = stateDirParam(params);
    if (!state)
        return tl::unexpected(state.error());
    auto totalsOnly = protocol::optionalBool(params, "totalsOnly", false);
    if (!totalsOnly)
        return tl::unexpected(totalsOnly.error());
    auto listing = maildir::QuarantineAdmin::list(*root, *state);
    if (!listing)
        return tl::unexpected(listing.error());
    nlohmann::json result = *listing;
    // The monitor wants the size only, not one entry per file over the wire.
    if (*totalsOnly)
        result["entries"] = nlohmann::json::array();
    return streamIfLarge(std::move(result), items, {{"entries", "entry"}, {"problems", "problem"}});
}

std::string formatQuarantineList(const nlohmann::json &r)
{
    std::string text;
    for (const auto &e : r.value("entries", nlohmann::json::array()))
        text += e.value("id", std::string()) + "  " + e.value("time", std::string()) + "  " +
                std::to_string(e.value("size", 0ULL)) + "  " + e.value("reason", std::string()) +
                "  " + e.value("originalPath", std::string()) + "\n";
    text += std::to_string(r.value("count", 0ULL)) + " quarantined files, " +
            std::to_string(r.value("totalBytes", 0ULL)) + " bytes, in " +
            r.value("stateDir", std::string()) + "\n";
    return text;
}

Result<nlohmann::json> runQuarantinePurge(const nlohmann::json &params,
                                          const maildir::ProgressSink &, const protocol::ItemSink &items)
{
    auto root = openRoot(params);
    if (!root)
        return tl::unexpected(root.error());
    if (!params.contains("olderThan"))
        return fail(ErrorCode::BadRequest,
                    "quarantine purge needs --older-than DAYS: it deletes mail");
    auto days = protocol::optionalInteger(params, "olderThan", -1);
    if (!days)
        return tl::unexpected(days.error());
    if (*days < 0 || *days > 100000)
        return fail(ErrorCode::BadRequest, "--older-than takes a number of days >= 0");
    auto dryRun = protocol::optionalBool(params, "dryRun", false);
    if (!dryRun)
        return tl::unexpected(dryRun.error());
    auto state = stateDirParam(params);
    if (!state)
        return tl::unexpected(state.error());
    auto report =
        maildir::QuarantineAdmin::purge(*root, static_cast<unsigned>(*days), *dryRun, *state);
    if (!report)
        return tl::unexpected(report.error());
    return streamIfLarge(nlohmann::json(*report), items, {{"purged", "purged"}, {"problems", "problem"}});
}

int purgeExitCode(const nlohmann::json &r)
{
    return problemCount(r) == 0 ? protocol::kExitOk : protocol::kExitSkipped;
}

// headers -------------------------------------------------------------------------------------

Result<nlohmann::json> runHeaders(const nlohmann::json &params, const maildir::ProgressSink &,
                                  const protocol::ItemSink &)
{
    auto path = protocol::requirePath(params, "path");
    if (!path)
        return tl::unexpected(path.error());
    if (!params.contains("root"))
        return fail(ErrorCode::BadRequest,
                    "headers needs --root ROOT: PATH must lie inside a mail root");
    auto root = openRoot(params);
    if (!root)
        return tl::unexpected(root.error());
    // PATH relative to ROOT, or absolute below it; every component is then opened without
    // following symlinks and ".." is refused, so nothing outside ROOT can be read.
    std::string rel = *path;
    const std::string prefix = root->path() + "/";
    if (!rel.empty() && rel[0] == '/') {
        if (rel.compare(0, prefix.size(), prefix) != 0)
            return fail(ErrorCode::UnsafePath, *path + ": not inside " + root->path(), *path);
        rel = rel.substr(prefix.size());
    }
    const std::size_t slash = rel.rfind('/');
    const std::string dirRel = slash == std::string::npos ? std::string() : rel.substr(0, slash);
    const std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
    if (name.empty() || name == "." || name == "..")
        return fail(ErrorCode::BadRequest, *path + ": not a file name", *path);
    auto dir = maildir::openDirBeneath(root->fd(), dirRel, root->path());
    if (!dir)
        return tl::unexpected(dir.error());
    auto headers = maildir::MessageHeaders::readAt(dir->get(), name.c_str(), *path);
    if (!headers)
        return tl::unexpected(headers.error());
    nlohmann::json result = *headers;
    maildir::putPath(result, "path", rel);
    return result;
}

std::string formatHeaders(const nlohmann::json &r)
{
    std::string text;
    for (const auto &f : r.value("fields", nlohmann::json::array()))
        text += f.value("name", std::string()) + ": " + f.value("value", std::string()) + "\n";
    return text;
}

// manifest and diff ---------------------------------------------------------------------------

Result<nlohmann::json> runManifest(const nlohmann::json &params,
                                   const maildir::ProgressSink &progress,
                                   const protocol::ItemSink &items)
{
    auto root = openRoot(params);
    if (!root)
        return tl::unexpected(root.error());
    auto noCache = protocol::optionalBool(params, "noCache", false);
    if (!noCache)
        return tl::unexpected(noCache.error());
    auto stateParam = stateDirParam(params);
    if (!stateParam)
        return tl::unexpected(stateParam.error());
    std::string cacheDir;
    std::string cacheProblem;
    if (!*noCache) {
        auto state = maildir::StateDir::resolve(*root, *stateParam);
        if (state && state->create())
            cacheDir = state->path() + "/hashcache";
        else
            cacheProblem = state ? "state dir cannot be created: content hashes are not cached"
                                 : state.error().message + ": content hashes are not cached";
    }
    auto digestsOnly = protocol::optionalBool(params, "digestsOnly", false);
    if (!digestsOnly)
        return tl::unexpected(digestsOnly.error());
    // `folders`: only these folders in full, so a monitor fetches details where digests differ.
    std::optional<std::set<std::string>> wanted;
    if (params.contains("folders")) {
        auto folders = protocol::requirePathList(params, "folders");
        if (!folders)
            return tl::unexpected(folders.error());
        wanted.emplace(folders->begin(), folders->end());
    }
    auto summary = maildir::ManifestBuilder::build(
        *root, cacheDir,
        [&](const maildir::ManifestFolder &folder) {
            if (wanted && !wanted->count(folder.folder))
                return;
            if (*digestsOnly)
                items.emit(nlohmann::json(maildir::ManifestDigest::of(folder)));
            else
                items.emit(nlohmann::json(folder));
        },
        progress);
    if (!summary)
        return tl::unexpected(summary.error());
    if (!cacheProblem.empty())
        summary->problems.push_back({maildir::ProblemKind::ActionFailed, {}, cacheProblem});
    return nlohmann::json(*summary);
}

std::string formatManifest(const nlohmann::json &r)
{
    return std::to_string(r.value("folders", 0ULL)) + " folders, " +
           std::to_string(r.value("messages", 0ULL)) + " messages; " +
           std::to_string(r.value("bytesHashed", 0ULL)) + " bytes hashed, " +
           std::to_string(r.value("cacheHits", 0ULL)) + " cache hits\n";
}

Result<nlohmann::json> runDiff(const nlohmann::json &params, const maildir::ProgressSink &progress,
                               const protocol::ItemSink &)
{
    auto paths = protocol::requirePathList(params, "manifests");
    if (!paths)
        return tl::unexpected(paths.error());
    if (paths->size() < 2)
        return fail(ErrorCode::BadRequest, "diff needs the manifests of at least two nodes");
    std::vector<maildir::NodeManifest> manifests;
    std::set<std::string> labels;
    for (std::size_t i = 0; i < paths->size(); ++i) {
        progress.report(i, paths->size(), (*paths)[i]);
        auto m = maildir::NodeManifest::read((*paths)[i]);
        if (!m)
            return tl::unexpected(m.error());
        if (!labels.insert(m->node).second)
            m->node = (*paths)[i]; // two files of one name: label them by path
        manifests.push_back(std::move(*m));
    }
    return nlohmann::json(maildir::ManifestDiff::compare(manifests));
}

std::string formatDiff(const nlohmann::json &r)
{
    std::string text;
    for (const auto &u : r.value("uidConflicts", nlohmann::json::array()))
        text += "UID CONFLICT  " + u.value("folder", std::string()) + "  uid " +
                std::to_string(u.value("uid", 0U)) + ": " + u["bases"].dump() + "\n";
    for (const auto &m : r.value("missingMessages", nlohmann::json::array()))
        text += "missing  " + m.value("folder", std::string()) + "  " +
                m.value("base", std::string()) + "  on " + m["missingOn"].dump() + "\n";
    for (const auto &f : r.value("flagDisagreements", nlohmann::json::array()))
        text += "flags    " + f.value("folder", std::string()) + "  " +
                f.value("base", std::string()) + "  " + f["flags"].dump() + "\n";
    for (const auto &k : r.value("keywordClashes", nlohmann::json::array()))
        text += "keyword  " + k.value("folder", std::string()) + "  letter " +
                k.value("letter", std::string()) + "  " + k["names"].dump() + "\n";
    text += std::to_string(r.value("foldersCompared", 0ULL)) + " folders compared, " +
            std::to_string(r.value("foldersEqual", 0ULL)) + " equal; " +
            std::to_string(r.value("uidConflicts", nlohmann::json::array()).size()) +
            " UID conflicts\n";
    return text;
}

int diffExitCode(const nlohmann::json &r)
{
    return r.value("uidConflicts", nlohmann::json::array()).empty() ? protocol::kExitOk
                                                                    : protocol::kExitSkipped;
}

} // namespace

std::vector<protocol::Command> dupeCommands()
{
    std::vector<protocol::Command> commands;
    const protocol::CommandOption state{
        "--state", "stateDir", ValueKind::Path,
        "state dir (default <dirname ROOT>/.mailmesh-state/<basename ROOT>)"};

    protocol::Command dupes;
    dupes.name = "dupes";
    dupes.summary = "duplicate groups within each folder below ROOT, with the keeper of each";
    dupes.arguments = {{"root", ValueKind::Path}};
    dupes.run = runDupes;
    dupes.formatText = formatDupes;
    commands.push_back(std::move(dupes));

    protocol::Command dedupe;
    dedupe.name = "dedupe";
    dedupe.summary =
        "resolve duplicate groups (all, or --group ID,ID); removed files go to quarantine";
    dedupe.arguments = {{"root", ValueKind::Path}};
    dedupe.options = {
        {"--group", "group", ValueKind::Text, "only these group ids (comma separated)"},
        {"--dry-run", "dryRun", ValueKind::Flag, "print the plan, change nothing"},
        state};
    dedupe.run = runDedupe;
    dedupe.formatText = formatDedupe;
    dedupe.exitCode = skippedExitCode;
    commands.push_back(std::move(dedupe));

    protocol::Command restore;
    restore.name = "restore";
    restore.summary =
        "put quarantined files back (--id ID,ID or --all); a taken name is never overwritten";
    restore.arguments = {{"root", ValueKind::Path}};
    restore.options = {
        {"--id", "id", ValueKind::Text, "quarantine ids (comma separated)"},
        {"--all", "all", ValueKind::Flag, "everything, and undo dedupe's keeper renames"},
        {"--dry-run", "dryRun", ValueKind::Flag, "print the plan, change nothing"},
        state};
    restore.run = runRestore;
    restore.exitCode = skippedExitCode;
    commands.push_back(std::move(restore));

    protocol::Command list;
    list.name = "quarantine-list";
    list.summary = "the files in ROOT's quarantine";
    list.arguments = {{"root", ValueKind::Path}};
    list.options = {{"--totals-only", "totalsOnly", ValueKind::Flag, "count and totalBytes, no entries"}, state};
    list.run = runQuarantineList;
    list.formatText = formatQuarantineList;
    commands.push_back(std::move(list));

    protocol::Command purge;
    purge.name = "quarantine-purge";
    purge.summary =
        "DELETE quarantined files older than --older-than DAYS (the only deletion of mail)";
    purge.arguments = {{"root", ValueKind::Path}};
    purge.options = {{"--older-than", "olderThan", ValueKind::Integer, "days (required)"},
                     {"--dry-run", "dryRun", ValueKind::Flag, "list what would go, delete nothing"},
                     state};
    purge.run = runQuarantinePurge;
    purge.exitCode = purgeExitCode;
    commands.push_back(std::move(purge));

    protocol::Command headers;
    headers.name = "headers";
    headers.summary = "the header fields of one message (PATH inside --root ROOT)";
    headers.arguments = {{"path", ValueKind::Path}};
    headers.options = {
        {"--root", "root", ValueKind::Path, "the mail root PATH must lie in (required)"}};
    headers.run = runHeaders;
    headers.formatText = formatHeaders;
    commands.push_back(std::move(headers));

    protocol::Command manifest;
    manifest.name = "manifest";
    manifest.summary =
        "one frame per folder: messages with content hashes, uidlist, keywords, digest";
    manifest.arguments = {{"root", ValueKind::Path}};
    manifest.options = {
        {"--no-cache", "noCache", ValueKind::Flag, "hash every message, use no cache"},
        {"--digests-only", "digestsOnly", ValueKind::Flag,
         "one small item per folder: digest, message count, uidvalidity"},
        state};
    manifest.run = runManifest;
    manifest.formatText = formatManifest;
    commands.push_back(std::move(manifest));

    protocol::Command diff;
    diff.name = "diff";
    diff.summary = "compare the manifests of several nodes (exit 1 on a UID conflict)";
    diff.arguments = {{"manifests", ValueKind::Path, false, true}};
    diff.run = runDiff;
    diff.formatText = formatDiff;
    diff.exitCode = diffExitCode;
    commands.push_back(std::move(diff));
    return commands;
}

} // namespace mm::agent
