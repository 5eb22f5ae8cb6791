#include "maildir/dedupe.h"

#include "maildir/dirsync.h"
#include "maildir/fsutil.h"
#include "maildir/journal.h"
#include "maildir/jsonpath.h"
#include "maildir/maildirwalker.h"
#include "maildir/messageheaders.h"
#include "maildir/quarantine.h"
#include "maildir/sha256.h"
#include "maildir/statedir.h"
#include "maildir/uniquefd.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <map>
#include <cstring>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mm::maildir {

namespace {

constexpr DupeKind kOrder[] = {DupeKind::FlagDivergence, DupeKind::SyncConflict,
                               DupeKind::SameMessage};

// The hash a group recorded for a member: whole bytes, or the body for same-message with an ID.
Result<std::string> currentHash(int dirFd, const std::string &name, bool body,
                                const std::string &display)
{
    UniqueFd fd(::openat(dirFd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd.valid())
        return fail(errnoError(errno, "open", display));
    MessageHeaders headers;
    Sha256 full, bodyHash;
    const Status read = readInChunks(fd.get(), display, [&](std::string_view chunk) {
        full.update(chunk);
        const std::size_t used = headers.complete() ? 0 : headers.feed(chunk);
        if (headers.complete())
            bodyHash.update(chunk.substr(used));
    });
    if (!read)
        return fail(read.error());
    headers.finish();
    if (body && headers.messageId())
        return Sha256::toHex(bodyHash.finish());
    return Sha256::toHex(full.finish());
}

// Closes the journals of runs that were killed; what they did is on disk, and this run re-plans
// from the disk anyway.
void closeUnfinishedRuns(const StateDir &state)
{
    auto runs = Journal::readAll(state);
    if (!runs)
        return;
    for (auto &run : *runs)
        if (!run.ended)
            if (auto journal = Journal::reopen(run.path, run.runId); journal && journal->end("recovered"))
                run.ended = true;
    // Finished runs that hold nothing to restore move out of the way (journal/archive/).
    (void)Journal::archiveSettled(state, *runs);
}

// Applies the chosen groups kind by kind across all folders: flag-divergence everywhere, then
// sync-conflict, then same-message, each folder re-read when the previous kind changed it. The
// changes of many folders share one batch: every intent of a batch journaled and synced, then its
// renames, so that a tree of many small folders does not pay a journal sync per folder.
class Applier
{
public:
    Applier(const MailRoot &root, const DedupeOptions &options, DedupeReport &report,
            StateDir *state, Journal *journal, const ProgressSink &progress)
        : m_root(root)
        , m_options(options)
        , m_report(report)
        , m_state(state)
        , m_journal(journal)
        , m_progress(progress)
    {
        if (m_state && m_journal)
            m_quarantine.emplace(*m_state, *m_journal);
    }

    // Every directory a rename changed: synced once before the run ends.
    DirSync &dirs() { return m_dirs; }
    const std::optional<Error> &fatalError() const { return m_fatal; }

    // Finds this kind's groups in one folder (re-reading it if a change made the last findings
    // stale), checks them and journals their intents into the current batch.
    void folder(const std::string &relPath, DupeKind kind)
    {
        FolderState &state = m_folders[relPath];
        if (state.unreadable)
            return;
        auto fd = openDirBeneath(m_root.fd(), relPath, m_root.path());
        if (!fd) {
            state.unreadable = true;
            m_report.problems.push_back({ProblemKind::Unreadable, relPath, fd.error().message});
            return;
        }
        if (state.stale) {
            state.found = DupesReport();
            DupeFinder::findInFolder(fd->get(), relPath, state.found, m_progress);
            m_report.problems.insert(m_report.problems.end(), state.found.problems.begin(),
                                     state.found.problems.end());
            state.found.problems.clear();
            state.stale = false;
        }
        if (kind == DupeKind::FlagDivergence)
            m_report.groupsFound += state.found.groups.size();
        std::vector<const DupeGroup *> chosen;
        for (const auto &group : state.found.groups) {
            if (group.kind != kind || m_progress.cancelled())
                continue;
            const bool selected = m_options.groupIds.empty() || m_options.groupIds.count(group.id);
            if (!selected || !group.removable) {
                if (kind == DupeKind::FlagDivergence || !m_counted.count(group.id))
                    ++m_report.groupsLeft;
                m_counted.insert(group.id);
                continue;
            }
            chosen.push_back(&group);
        }
        if (chosen.empty())
            return;
        m_batch.push_back(FolderWork{relPath, std::move(*fd), {}, {}});
        FolderWork &work = m_batch.back();
        for (const DupeGroup *group : chosen) {
            plan(work, *group);
            m_batchOps += group->members.size();
        }
        if (m_batchOps >= kBatch || m_batch.size() >= kBatchFolders)
            apply();
    }

    // Applies the current batch (a dry run only forgets it).
    void apply()
    {
        if (m_batch.empty())
            return;
        std::vector<FolderWork> batch = std::move(m_batch);
        m_batch.clear();
        m_batchOps = 0;
        if (m_options.dryRun || m_fatal)
            return;
        if (auto synced = m_journal->sync(); !synced) {
            m_fatal = synced.error();
            return;
        }
        for (FolderWork &folder : batch)
            if (applyFolder(folder))
                m_folders[folder.relPath].stale = true;
        if (m_quarantineTouched)
            if (auto runDir = openDirBeneath(m_state->fd(), "quarantine/" + m_journal->runId(), m_state->path()))
                m_dirs.add(runDir->get());
        (void)m_journal->flush();
    }

private:
    // Changes per journal sync, and folders per batch (each holds up to three descriptors).
    static constexpr std::size_t kBatch = 4096;
    static constexpr std::size_t kBatchFolders = 128;

    struct FolderState
    {
        DupesReport found; // groups only, from the last read
        bool stale = true; // not read yet, or changed since
        bool unreadable = false;
    };
    struct QuarantineStep
    {
        std::size_t action; // index in m_report.actions
        std::string subdir, name;
        QuarantineEntry entry;
    };
    struct GroupWork
    {
        bool keeperReady = true; // the keeper's rename can be tried (or is not needed)
        bool membersOk = true;   // every other member passed its check
        std::optional<std::size_t> renameAction; // index in m_report.actions
        std::uint64_t renameSeq = 0;
        std::string fromSubdir, fromName, toSubdir, toName;
        std::vector<QuarantineStep> quarantines;
    };
    struct FolderWork
    {
        std::string relPath;
        UniqueFd folderFd;
        // cur/ and new/, opened once without following a symlink (a member is "cur/NAME" or
        // "new/NAME"), so a directory swapped for a symlink mid-run cannot redirect a move.
        std::map<std::string, UniqueFd> subdirs;
        std::vector<GroupWork> groups;
    };

    int subdirFd(FolderWork &folder, const std::string &subdir, const std::string &display)
    {
        auto it = folder.subdirs.find(subdir);
        if (it != folder.subdirs.end())
            return it->second.get();
        UniqueFd dir(::openat(folder.folderFd.get(), subdir.c_str(),
                              O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
        if (!dir.valid()) {
            m_report.problems.push_back(
                {ProblemKind::ActionFailed, display, errnoError(errno, "open " + subdir, display).message});
            return -1;
        }
        return folder.subdirs.emplace(subdir, std::move(dir)).first->second.get();
    }

    static bool splitMember(const std::string &member, std::string &subdir, std::string &name)
    {
        const std::size_t slash = member.find('/');
        if (slash == std::string::npos || member.find('/', slash + 1) != std::string::npos)
            return false;
        subdir = member.substr(0, slash);
        name = member.substr(slash + 1);
        return (subdir == "cur" || subdir == "new") && !name.empty() && name != "." && name != "..";
    }

    // Checks and intents of one group: the keeper's rename, then each member that goes to
    // quarantine, its bytes still the ones the group was built from.
    void plan(FolderWork &folder, const DupeGroup &group)
    {
        GroupWork w;
        std::string keeperHash;
        for (const auto &m : group.members)
            if (m.name == group.keeperSource)
                keeperHash = m.sha256;
        if (group.kind == DupeKind::FlagDivergence && group.keeperSource != group.keeper) {
            DedupeAction a{group.id, group.kind, "rename", joinRel(group.folder, group.keeperSource),
                           joinRel(group.folder, group.keeper), {}, false};
            w.renameAction = m_report.actions.size();
            m_report.actions.push_back(a);
            if (!m_options.dryRun) {
                if (!splitMember(group.keeperSource, w.fromSubdir, w.fromName) ||
                    !splitMember(group.keeper, w.toSubdir, w.toName)) {
                    m_report.problems.push_back({ProblemKind::ActionFailed, a.from, "unexpected member path"});
                    w.keeperReady = false;
                } else if (subdirFd(folder, w.fromSubdir, a.from) < 0 || subdirFd(folder, w.toSubdir, a.to) < 0) {
                    w.keeperReady = false;
                } else {
                    w.renameSeq = m_journal->nextSeq();
                    nlohmann::json rec{{"type", "move"},
                                       {"seq", w.renameSeq},
                                       {"reason", "dedupe:flag-divergence"},
                                       {"group", group.id}};
                    putPath(rec, "from", a.from);
                    putPath(rec, "to", a.to);
                    m_journal->add(rec);
                }
            }
        }
        const bool bodyHash = group.kind == DupeKind::SameMessage;
        for (const auto &m : group.members) {
            if (m.name == group.keeperSource)
                continue;
            const std::string from = joinRel(group.folder, m.name);
            DedupeAction a{group.id, group.kind, "quarantine", from, {}, {}, false};
            if (m_options.dryRun) {
                m_report.actions.push_back(a);
                continue;
            }
            if (!w.keeperReady)
                break; // nothing is removed without its keeper
            QuarantineStep step;
            int dir = -1;
            if (!splitMember(m.name, step.subdir, step.name))
                m_report.problems.push_back({ProblemKind::ActionFailed, from, "unexpected member path"});
            else
                dir = subdirFd(folder, step.subdir, from);
            if (dir < 0) {
                w.membersOk = false;
                continue;
            }
            auto now = currentHash(dir, step.name, bodyHash, from);
            if (!now || *now != m.sha256 || (!keeperHash.empty() && *now != keeperHash)) {
                m_report.problems.push_back(
                    {ProblemKind::ActionFailed, from,
                     now ? "changed since it was examined: left in place" : now.error().message});
                w.membersOk = false;
                continue;
            }
            step.entry = m_quarantine->plan(from, m.size, "dedupe:" + std::string(dupeKindName(group.kind)),
                                            group.kind == DupeKind::SameMessage ? std::string_view()
                                                                                : std::string_view(m.sha256));
            a.to = step.entry.quarantinedPath;
            a.quarantineId = step.entry.id;
            step.action = m_report.actions.size();
            m_report.actions.push_back(a);
            w.quarantines.push_back(std::move(step));
        }
        folder.groups.push_back(std::move(w));
    }

    // The renames of one folder's groups, in order. Returns true when something changed.
    bool applyFolder(FolderWork &folder)
    {
        bool changed = false;
        for (GroupWork &w : folder.groups) {
            if (w.renameAction) {
                if (!w.keeperReady)
                    continue;
                DedupeAction &a = m_report.actions[*w.renameAction];
                const int from = folder.subdirs.at(w.fromSubdir).get();
                const int to = folder.subdirs.at(w.toSubdir).get();
                if (renameAt2(from, w.fromName.c_str(), to, w.toName.c_str(), RENAME_NOREPLACE) != 0) {
                    m_report.problems.push_back(
                        {ProblemKind::ActionFailed, a.from,
                         std::string("rename to the keeper name: ") + std::strerror(errno)});
                    continue; // the others stay: nothing is removed without its keeper
                }
                (void)m_journal->markApplied(w.renameSeq);
                a.done = true;
                changed = true;
                m_dirs.add(from);
                m_dirs.add(to);
            }
            bool allQuarantined = true;
            for (QuarantineStep &step : w.quarantines) {
                const int dir = folder.subdirs.at(step.subdir).get();
                if (auto st = m_quarantine->apply(dir, step.name.c_str(), step.entry); !st) {
                    m_report.problems.push_back({ProblemKind::ActionFailed, step.entry.originalPath, st.error().message});
                    allQuarantined = false;
                    continue;
                }
                (void)m_journal->markApplied(step.entry.seq);
                m_report.actions[step.action].done = true;
                changed = true;
                m_dirs.add(dir);
                m_quarantineTouched = true;
            }
            if (w.keeperReady && w.membersOk && allQuarantined)
                ++m_report.groupsResolved;
        }
        return changed;
    }

    const MailRoot &m_root;
    const DedupeOptions &m_options;
    DedupeReport &m_report;
    StateDir *m_state;
    Journal *m_journal;
    const ProgressSink &m_progress;
    std::optional<Quarantine> m_quarantine;
    std::set<std::string> m_counted;
    std::map<std::string, FolderState> m_folders;
    std::vector<FolderWork> m_batch;
    std::size_t m_batchOps = 0;
    DirSync m_dirs;
    bool m_quarantineTouched = false;
    std::optional<Error> m_fatal;
};

} // namespace

Result<DedupeReport> Dedupe::run(const MailRoot &root, const DedupeOptions &options,
                                 const ProgressSink &progress)
{
    auto state = StateDir::resolve(root, options.stateDir);
    if (!state)
        return fail(state.error());
    DedupeReport report;
    report.root = root.path();
    report.stateDir = state->path();
    report.dryRun = options.dryRun;

    std::optional<StateLock> lock;
    std::optional<Journal> journal;
    if (!options.dryRun) {
        if (auto st = state->create(); !st)
            return fail(st.error());
        auto l = state->lock();
        if (!l)
            return fail(l.error());
        lock.emplace(std::move(*l));
        closeUnfinishedRuns(*state);
        auto j = Journal::begin(*state, "dedupe", root.path());
        if (!j)
            return fail(j.error());
        journal.emplace(std::move(*j));
        report.runId = journal->runId();
    }

    auto tree = MaildirWalker::walk(root, progress);
    if (!tree)
        return fail(tree.error());
    report.problems = tree->problems;
    Applier applier(root, options, report, options.dryRun ? nullptr : &*state,
                    journal ? &*journal : nullptr, progress);
    std::uint64_t done = 0;
    const std::uint64_t total = std::size(kOrder) * tree->folders.size();
    for (const DupeKind kind : kOrder) {
        for (const auto &folder : tree->folders) {
            if (progress.cancelled() || applier.fatalError())
                break;
            progress.report(done++, total, folder.relPath);
            applier.folder(folder.relPath, kind);
        }
        applier.apply(); // the next kind reads what this one changed
    }
    // What the report says was moved is on disk before the run ends.
    if (auto synced = applier.dirs().sync(root.path()); !synced)
        return fail(synced.error());
    if (applier.fatalError())
        return fail(*applier.fatalError());
    if (journal) {
        nlohmann::json summary{{"groupsResolved", report.groupsResolved},
                               {"actions", report.actions.size()},
                               {"problems", report.problems.size()}};
        (void)journal->end(progress.cancelled() ? "cancelled" : "ok", summary);
    }
    if (progress.cancelled())
        return fail(ErrorCode::Cancelled, "dedupe cancelled; run it again to finish", root.path());
    progress.report(done, total, {});
    return report;
}

void to_json(nlohmann::json &j, const DedupeAction &a)
{
    j = nlohmann::json::object();
    j["groupId"] = a.groupId;
    j["kind"] = dupeKindName(a.kind);
    j["action"] = a.action;
    putPath(j, "from", a.from);
    if (!a.to.empty())
        putPath(j, "to", a.to);
    if (!a.quarantineId.empty())
        j["quarantineId"] = a.quarantineId;
    j["done"] = a.done;
}

void to_json(nlohmann::json &j, const DedupeReport &r)
{
    j = nlohmann::json::object();
    j["schemaVersion"] = DedupeReport::kSchemaVersion;
    putPath(j, "root", r.root);
    putPath(j, "stateDir", r.stateDir);
    j["runId"] = r.runId.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.runId);
    j["dryRun"] = r.dryRun;
    j["groupsFound"] = r.groupsFound;
    j["groupsResolved"] = r.groupsResolved;
    j["groupsLeft"] = r.groupsLeft;
    j["actions"] = r.actions;
    j["problems"] = r.problems;
}

} // namespace mm::maildir
