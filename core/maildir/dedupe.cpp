#include "maildir/dedupe.h"

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

// A member name is "cur/NAME" or "new/NAME": the subdirectory is opened on its own, without
// following a symlink, so that a directory swapped for a symlink mid-run cannot redirect a move.
struct MemberRef
{
    UniqueFd dir;
    std::string name;
};

Result<MemberRef> openMember(int folderFd, const std::string &member, const std::string &display)
{
    const std::size_t slash = member.find('/');
    if (slash == std::string::npos || member.find('/', slash + 1) != std::string::npos)
        return fail(ErrorCode::UnsafePath, display + ": unexpected member path", display);
    const std::string subdir = member.substr(0, slash);
    UniqueFd dir(
        ::openat(folderFd, subdir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!dir.valid())
        return fail(errnoError(errno, "open " + subdir, display));
    return MemberRef{std::move(dir), member.substr(slash + 1)};
}

// Closes the journals of runs that were killed; what they did is on disk, and this run re-plans
// from the disk anyway.
void closeUnfinishedRuns(const StateDir &state)
{
    auto runs = Journal::readAll(state);
    if (!runs)
        return;
    for (const auto &run : *runs)
        if (!run.ended)
            if (auto journal = Journal::reopen(run.path, run.runId))
                (void)journal->end("recovered");
}

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

    void folder(const std::string &relPath)
    {
        auto fd = openDirBeneath(m_root.fd(), relPath, m_root.path());
        if (!fd) {
            m_report.problems.push_back({ProblemKind::Unreadable, relPath, fd.error().message});
            return;
        }
        bool changed = true;
        DupesReport found;
        for (const DupeKind kind : kOrder) {
            if (changed) {
                found = DupesReport();
                DupeFinder::findInFolder(fd->get(), relPath, found, m_progress);
                m_report.problems.insert(m_report.problems.end(), found.problems.begin(),
                                         found.problems.end());
                if (kind == DupeKind::FlagDivergence)
                    m_report.groupsFound += found.groups.size();
            }
            changed = false;
            for (const auto &group : found.groups) {
                if (group.kind != kind || m_progress.cancelled())
                    continue;
                const bool selected =
                    m_options.groupIds.empty() || m_options.groupIds.count(group.id);
                if (!selected || !group.removable) {
                    if (kind == DupeKind::FlagDivergence || !m_counted.count(group.id))
                        ++m_report.groupsLeft;
                    m_counted.insert(group.id);
                    continue;
                }
                changed = apply(fd->get(), group) || changed;
            }
        }
    }

private:
    // Returns true when something on disk changed.
    bool apply(int folderFd, const DupeGroup &group)
    {
        bool changed = false;
        bool ok = true;
        std::string keeperHash;
        for (const auto &m : group.members)
            if (m.name == group.keeperSource)
                keeperHash = m.sha256;

        if (group.kind == DupeKind::FlagDivergence && group.keeperSource != group.keeper) {
            DedupeAction a{group.id,
                           group.kind,
                           "rename",
                           joinRel(group.folder, group.keeperSource),
                           joinRel(group.folder, group.keeper),
                           {},
                           false};
            if (!m_options.dryRun) {
                const std::uint64_t seq = m_journal->nextSeq();
                nlohmann::json rec{{"type", "move"},
                                   {"seq", seq},
                                   {"reason", "dedupe:flag-divergence"},
                                   {"group", group.id}};
                putPath(rec, "from", a.from);
                putPath(rec, "to", a.to);
                m_journal->add(rec);
                if (auto st = m_journal->flush(); !st) {
                    m_report.problems.push_back(
                        {ProblemKind::ActionFailed, a.from, st.error().message});
                    return false;
                }
                auto src = openMember(folderFd, group.keeperSource, a.from);
                auto dst = openMember(folderFd, group.keeper, a.to);
                if (!src || !dst) {
                    m_report.problems.push_back({ProblemKind::ActionFailed, a.from,
                                                 (!src ? src.error() : dst.error()).message});
                    m_report.actions.push_back(a);
                    return false;
                }
                if (renameAt2(src->dir.get(), src->name.c_str(), dst->dir.get(), dst->name.c_str(),
                              RENAME_NOREPLACE) != 0) {
                    m_report.problems.push_back(
                        {ProblemKind::ActionFailed, a.from,
                         std::string("rename to the keeper name: ") + std::strerror(errno)});
                    m_report.actions.push_back(a);
                    return false; // the others stay: nothing is removed without its keeper
                }
                (void)m_journal->markApplied(seq);
                a.done = true;
                changed = true;
            }
            m_report.actions.push_back(a);
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
            // The bytes must still be the ones the group was built from, equal to the keeper's.
            auto ref = openMember(folderFd, m.name, from);
            if (!ref) {
                m_report.problems.push_back({ProblemKind::ActionFailed, from, ref.error().message});
                ok = false;
                continue;
            }
            auto now = currentHash(ref->dir.get(), ref->name, bodyHash, from);
            if (!now || *now != m.sha256 || (!keeperHash.empty() && *now != keeperHash)) {
                m_report.problems.push_back(
                    {ProblemKind::ActionFailed, from,
                     now ? "changed since it was examined: left in place" : now.error().message});
                ok = false;
                continue;
            }
            QuarantineEntry entry = m_quarantine->plan(
                from, m.size, "dedupe:" + std::string(dupeKindName(group.kind)),
                group.kind == DupeKind::SameMessage ? std::string_view()
                                                    : std::string_view(m.sha256));
            if (auto st = m_journal->flush(); !st) {
                m_report.problems.push_back({ProblemKind::ActionFailed, from, st.error().message});
                return changed;
            }
            a.to = entry.quarantinedPath;
            a.quarantineId = entry.id;
            if (auto st = m_quarantine->apply(ref->dir.get(), ref->name.c_str(), entry); !st) {
                m_report.problems.push_back({ProblemKind::ActionFailed, from, st.error().message});
                ok = false;
            } else {
                (void)m_journal->markApplied(entry.seq);
                a.done = true;
                changed = true;
            }
            m_report.actions.push_back(a);
        }
        if (ok)
            ++m_report.groupsResolved;
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
    for (const auto &folder : tree->folders) {
        if (progress.cancelled())
            break;
        progress.report(done++, tree->folders.size(), folder.relPath);
        applier.folder(folder.relPath);
    }
    if (journal) {
        nlohmann::json summary{{"groupsResolved", report.groupsResolved},
                               {"actions", report.actions.size()},
                               {"problems", report.problems.size()}};
        (void)journal->end(progress.cancelled() ? "cancelled" : "ok", summary);
    }
    if (progress.cancelled())
        return fail(ErrorCode::Cancelled, "dedupe cancelled; run it again to finish", root.path());
    progress.report(done, tree->folders.size(), {});
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
