#include "maildir/restore.h"

#include "maildir/dircache.h"
#include "maildir/dirsync.h"
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

// rootDirs: directories below ROOT (see DirCache).
bool existsBeneath(DirCache &rootDirs, const std::string &rel)
{
    const auto [dir, name] = splitRel(rel);
    auto fd = rootDirs.open(dir);
    if (!fd)
        return false;
    struct stat st
    {
    };
    return ::fstatat((*fd)->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

} // namespace

namespace {

// Files put back (or renames undone) per journal sync.
constexpr std::size_t kBatch = 4096;

std::string stringField(const nlohmann::json &record, const char *key)
{
    const auto it = record.find(key);
    return it != record.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// One step that passed its checks, with both directories open, waiting for its batch.
struct Ready
{
    std::size_t item; // index in report.items
    DirCache::Dir fromDir, toDir;
    std::string fromName, toName;
    const QuarantineEntry *entry = nullptr; // null: an undone rename
    std::uint64_t seq = 0;                  // of the undo's move record
};

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
    auto runs = Journal::readAll(*state);
    if (!options.dryRun && runs) {
        // Runs whose quarantined files are all gone are not needed any more: out of the way (the
        // journals read again only when some were moved).
        const auto archived = Journal::archiveSettled(*state, *runs);
        if (!archived || *archived != 0)
            runs = Journal::readAll(*state);
    }

    // Everything to undo, oldest first, from the journals alone, nothing in them trusted: a
    // quarantined file's place is rebuilt from its id, paths must stay below ROOT.
    if (!runs)
        return fail(runs.error());
    std::vector<std::string> rejected;
    const std::vector<QuarantineEntry> entries = Quarantine::list(*state, *runs, &rejected);
    for (const auto &why : rejected)
        report.problems.push_back({ProblemKind::ActionFailed, {}, why});
    std::map<std::string, QuarantineEntry> restorable;
    for (const auto &e : entries)
        if (e.present && !e.restored)
            restorable[e.id] = e;
    std::vector<Step> steps;
    if (options.all) {
        std::set<std::string> undone;
        for (const auto &run : *runs)
            for (const auto &r : run.records)
                if (stringField(r, "type") == "move" && r.contains("undoes"))
                    undone.insert(stringField(r, "undoes"));
        for (const auto &run : *runs) {
            std::string operation;
            for (const auto &r : run.records) {
                const std::string type = stringField(r, "type");
                if (type == "begin")
                    operation = stringField(r, "operation");
                if (type == "quarantine") {
                    const auto seq = r.find("seq");
                    if (seq == r.end() || !seq->is_number_unsigned())
                        continue;
                    const auto it = restorable.find(Quarantine::idFor(run.runId, seq->get<std::uint64_t>()));
                    if (it != restorable.end())
                        steps.emplace_back(it->second);
                } else if (type == "move" && operation == "dedupe") {
                    const auto seq = r.find("seq");
                    if (seq == r.end() || !seq->is_number_unsigned())
                        continue;
                    const std::string id = run.runId + "/" + std::to_string(seq->get<std::uint64_t>());
                    const std::string from = readPath(r, "from").value_or("");
                    const std::string to = readPath(r, "to").value_or("");
                    if (!Quarantine::isPlainRelativePath(from) || !Quarantine::isPlainRelativePath(to)) {
                        report.problems.push_back({ProblemKind::ActionFailed, {},
                                                   "journal " + run.runId + ": rename " + id +
                                                       " names a path outside the mail root: ignored"});
                        continue;
                    }
                    if (!undone.count(id))
                        steps.emplace_back(UndoRename{id, from, to});
                }
            }
        }
        std::reverse(steps.begin(), steps.end());
        // One rename journaled by two runs (the first killed before applying it, the second
        // doing it again) is undone once.
        std::set<std::pair<std::string, std::string>> seen;
        std::erase_if(steps, [&seen](const Step &step) {
            const auto *u = std::get_if<UndoRename>(&step);
            return u && !seen.insert({u->from, u->to}).second;
        });
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

    // Checks first, then per batch: every intent journaled and synced, then the renames, then the
    // directories synced. Never over an existing name (RENAME_NOREPLACE), whatever the checks saw.
    // Directories are opened through caches that live one batch: each folder of a batch is walked
    // to once, not once or more per file, and nothing is trusted longer than the batch's renames.
    DirCache rootDirs(root.fd(), root.path());
    DirCache stateDirs(state->fd(), state->path());
    DirSync dirs;
    std::vector<Ready> batch;
    std::vector<std::size_t> dropped; // items that turned out to have nothing to do
    const auto applyBatch = [&]() -> Status {
        if (batch.empty())
            return {};
        if (auto synced = journal->sync(); !synced)
            return synced;
        std::uint64_t lastSeq = 0;
        for (Ready &ready : batch) {
            RestoreReport::Item &item = report.items[ready.item];
            if (renameAt2(ready.fromDir->get(), ready.fromName.c_str(), ready.toDir->get(), ready.toName.c_str(),
                          RENAME_NOREPLACE) != 0) {
                const int err = errno;
                // An earlier step of the batch already put the name back: nothing to undo, as if
                // the check had seen it.
                if (!ready.entry && err == ENOENT && existsBeneath(rootDirs, item.to)) {
                    dropped.push_back(ready.item);
                    continue;
                }
                report.problems.push_back({ProblemKind::ActionFailed, item.to,
                                           err == EEXIST ? "name taken: not overwritten"
                                                         : std::string("cannot rename: ") + std::strerror(err)});
                continue;
            }
            item.done = true;
            dirs.add(ready.fromDir->get());
            dirs.add(ready.toDir->get());
            if (ready.entry) {
                nlohmann::json record{{"type", "restored"}, {"id", ready.entry->id}, {"time", utcTimestamp()}};
                putPath(record, "to", item.to);
                journal->add(record);
            } else {
                lastSeq = ready.seq;
            }
        }
        batch.clear();
        rootDirs.clear();
        stateDirs.clear();
        if (lastSeq != 0)
            (void)journal->markApplied(lastSeq);
        if (auto synced = dirs.sync(root.path()); !synced)
            return synced;
        return journal->flush();
    };

    std::uint64_t done = 0;
    for (const auto &step : steps) {
        if (progress.cancelled())
            break;
        progress.report(done++, steps.size(), {});
        if (const auto *q = std::get_if<QuarantineEntry>(&step)) {
            RestoreReport::Item item{q->id, "restore", q->quarantinedPath, q->originalPath, false};
            // A cur-only folder's new/ is the symlink to cur/: the file lands there either way.
            if (existsBeneath(rootDirs, q->originalPath)) {
                report.problems.push_back(
                    {ProblemKind::ActionFailed, q->originalPath,
                     "name taken since " + q->id + " was quarantined: not overwritten"});
            } else if (!options.dryRun) {
                auto target = Quarantine::restoreTarget(*q, rootDirs, stateDirs);
                if (!target) {
                    report.problems.push_back({ProblemKind::ActionFailed, q->originalPath, target.error().message});
                } else {
                    nlohmann::json intent{{"type", "restore"}, {"id", q->id}, {"time", utcTimestamp()}};
                    putPath(intent, "to", target->toPath);
                    journal->add(intent);
                    batch.push_back(Ready{report.items.size(), std::move(target->fromDir), std::move(target->toDir),
                                          target->fromName, target->toName, q, 0});
                }
            }
            report.items.push_back(item);
        } else {
            const auto &u = std::get<UndoRename>(step);
            RestoreReport::Item item{u.id, "undo-rename", u.to, u.from, false};
            if (!existsBeneath(rootDirs, u.to)) {
                // Never applied (killed before the rename) or renamed since: nothing to undo.
                if (existsBeneath(rootDirs, u.from))
                    continue;
                report.problems.push_back(
                    {ProblemKind::ActionFailed, u.to, "renamed since dedupe: not undone"});
            } else if (existsBeneath(rootDirs, u.from)) {
                report.problems.push_back(
                    {ProblemKind::ActionFailed, u.from, "name taken: rename not undone"});
            } else if (!options.dryRun) {
                const auto [toDir, toName] = splitRel(u.to);
                const auto [fromDir, fromName] = splitRel(u.from);
                auto a = rootDirs.open(toDir);
                auto b = rootDirs.open(fromDir);
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
                    batch.push_back(Ready{report.items.size(), std::move(*a), std::move(*b), toName, fromName,
                                          nullptr, seq});
                }
            }
            report.items.push_back(item);
        }
        if (batch.size() >= kBatch)
            if (auto applied = applyBatch(); !applied)
                return fail(applied.error());
    }
    if (journal) {
        if (auto applied = applyBatch(); !applied)
            return fail(applied.error());
        std::sort(dropped.rbegin(), dropped.rend());
        for (const std::size_t index : dropped)
            report.items.erase(report.items.begin() + std::ptrdiff_t(index));
        (void)journal->end(progress.cancelled() ? "cancelled" : "ok",
                           {{"items", report.items.size()}, {"problems", report.problems.size()}});
    }
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
