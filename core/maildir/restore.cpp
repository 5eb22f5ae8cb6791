#include "maildir/restore.h"

#include "maildir/fsutil.h"
#include "maildir/journal.h"
#include "maildir/jsonpath.h"
#include "maildir/quarantine.h"
#include "maildir/statedir.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/fs.h>
#include <map>
#include <set>
#include <sys/stat.h>
#include <variant>

namespace mm::maildir {

namespace {

struct UndoRename
{
    std::string id; // runId/seq of the move
    std::string from, to;
};

using Step = std::variant<QuarantineEntry, UndoRename>;

std::pair<std::string, std::string> splitRel(const std::string &rel)
{
    const std::size_t slash = rel.rfind('/');
    if (slash == std::string::npos)
        return {std::string(), rel};
    return {rel.substr(0, slash), rel.substr(slash + 1)};
}

bool existsBeneath(const MailRoot &root, const std::string &rel)
{
    const auto [dir, name] = splitRel(rel);
    auto fd = openDirBeneath(root.fd(), dir, root.path());
    if (!fd)
        return false;
    struct stat st
    {
    };
    return ::fstatat(fd->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

} // namespace

Result<RestoreReport> Restore::run(const MailRoot &root, const RestoreOptions &options,
                                   const ProgressSink &progress)
{
    if (!options.all && options.ids.empty())
        return fail(ErrorCode::BadRequest, "restore needs --id ID... or --all");
    auto state = StateDir::resolve(root, options.stateDir);
    if (!state)
        return fail(state.error());
    RestoreReport report;
    report.root = root.path();
    report.stateDir = state->path();
    report.dryRun = options.dryRun;
    if (!state->exists()) {
        for (const auto &id : options.ids)
            report.problems.push_back({ProblemKind::ActionFailed, {}, "no quarantine entry " + id});
        return report;
    }
    if (auto st = state->open(); !st)
        return fail(st.error());
    std::optional<StateLock> lock;
    if (!options.dryRun) {
        auto l = state->lock();
        if (!l)
            return fail(l.error());
        lock.emplace(std::move(*l));
    }

    // Everything to undo, oldest first, from the journals alone.
    auto runs = Journal::readAll(*state);
    if (!runs)
        return fail(runs.error());
    auto entries = Quarantine::list(*state);
    if (!entries)
        return fail(entries.error());
    std::map<std::string, QuarantineEntry> restorable;
    for (auto &e : *entries)
        if (e.present && !e.restored)
            restorable[e.id] = e;
    std::vector<Step> steps;
    if (options.all) {
        std::set<std::string> undone;
        for (const auto &run : *runs)
            for (const auto &r : run.records)
                if (r.value("type", std::string()) == "move" && r.contains("undoes"))
                    undone.insert(r.value("undoes", std::string()));
        for (const auto &run : *runs) {
            std::string operation;
            for (const auto &r : run.records) {
                const std::string type = r.value("type", std::string());
                if (type == "begin")
                    operation = r.value("operation", std::string());
                if (type == "quarantine") {
                    const auto it = restorable.find(r.value("id", std::string()));
                    if (it != restorable.end())
                        steps.emplace_back(it->second);
                } else if (type == "move" && operation == "dedupe") {
                    const std::string id = run.runId + "/" + std::to_string(r.value("seq", 0ull));
                    if (!undone.count(id))
                        steps.emplace_back(UndoRename{id, readPath(r, "from").value_or(""),
                                                      readPath(r, "to").value_or("")});
                }
            }
        }
        std::reverse(steps.begin(), steps.end());
    } else {
        for (const auto &id : options.ids) {
            const auto it = restorable.find(id);
            if (it == restorable.end())
                report.problems.push_back(
                    {ProblemKind::ActionFailed,
                     {},
                     "no quarantined file with id " + id + " (restored or purged already?)"});
            else
                steps.emplace_back(it->second);
        }
    }

    std::optional<Journal> journal;
    if (!options.dryRun && !steps.empty()) {
        auto j = Journal::begin(*state, "restore", root.path());
        if (!j)
            return fail(j.error());
        journal.emplace(std::move(*j));
        report.runId = journal->runId();
    }

    std::uint64_t done = 0;
    for (const auto &step : steps) {
        if (progress.cancelled())
            break;
        progress.report(done++, steps.size(), {});
        if (const auto *q = std::get_if<QuarantineEntry>(&step)) {
            RestoreReport::Item item{q->id, "restore", q->quarantinedPath, q->originalPath, false};
            // A cur-only folder's new/ is the symlink to cur/: the file lands there either way.
            if (existsBeneath(root, q->originalPath)) {
                report.problems.push_back(
                    {ProblemKind::ActionFailed, q->originalPath,
                     "name taken since " + q->id + " was quarantined: not overwritten"});
            } else if (!options.dryRun) {
                if (auto st = Quarantine::restore(root, *state, *q, *journal); !st)
                    report.problems.push_back(
                        {ProblemKind::ActionFailed, q->originalPath, st.error().message});
                else
                    item.done = true;
            }
            report.items.push_back(item);
            continue;
        }
        const auto &u = std::get<UndoRename>(step);
        RestoreReport::Item item{u.id, "undo-rename", u.to, u.from, false};
        if (!existsBeneath(root, u.to)) {
            // Never applied (killed before the rename) or renamed since: nothing to undo.
            if (existsBeneath(root, u.from))
                continue;
            report.problems.push_back(
                {ProblemKind::ActionFailed, u.to, "renamed since dedupe: not undone"});
        } else if (existsBeneath(root, u.from)) {
            report.problems.push_back(
                {ProblemKind::ActionFailed, u.from, "name taken: rename not undone"});
        } else if (!options.dryRun) {
            const auto [toDir, toName] = splitRel(u.to);
            const auto [fromDir, fromName] = splitRel(u.from);
            auto a = openDirBeneath(root.fd(), toDir, root.path());
            auto b = openDirBeneath(root.fd(), fromDir, root.path());
            if (!a || !b) {
                report.problems.push_back(
                    {ProblemKind::ActionFailed, u.to, (!a ? a.error() : b.error()).message});
            } else {
                const std::uint64_t seq = journal->nextSeq();
                nlohmann::json rec{{"type", "move"},
                                   {"seq", seq},
                                   {"reason", "restore:undo-rename"},
                                   {"undoes", u.id}};
                putPath(rec, "from", u.to);
                putPath(rec, "to", u.from);
                journal->add(rec);
                if (auto st = journal->flush(); !st) {
                    report.problems.push_back(
                        {ProblemKind::ActionFailed, u.to, st.error().message});
                } else if (renameAt2(a->get(), toName.c_str(), b->get(), fromName.c_str(),
                                     RENAME_NOREPLACE) != 0) {
                    report.problems.push_back(
                        {ProblemKind::ActionFailed, u.to, std::strerror(errno)});
                } else {
                    (void)journal->markApplied(seq);
                    item.done = true;
                }
            }
        }
        report.items.push_back(item);
    }
    if (journal)
        (void)journal->end(progress.cancelled() ? "cancelled" : "ok",
                           {{"items", report.items.size()}, {"problems", report.problems.size()}});
    if (progress.cancelled())
        return fail(ErrorCode::Cancelled, "restore cancelled; run it again to finish", root.path());
    return report;
}

void to_json(nlohmann::json &j, const RestoreReport &r)
{
    j = nlohmann::json::object();
    j["schemaVersion"] = RestoreReport::kSchemaVersion;
    putPath(j, "root", r.root);
    putPath(j, "stateDir", r.stateDir);
    j["runId"] = r.runId.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.runId);
    j["dryRun"] = r.dryRun;
    auto &items = j["items"] = nlohmann::json::array();
    for (const auto &i : r.items) {
        nlohmann::json o{{"id", i.id}, {"kind", i.kind}, {"done", i.done}};
        putPath(o, "from", i.from);
        putPath(o, "to", i.to);
        items.push_back(std::move(o));
    }
    j["problems"] = r.problems;
}

} // namespace mm::maildir
