#include "maildir/convert.h"

#include "maildir/dirreader.h"
#include "maildir/dirsync.h"
#include "maildir/fsutil.h"
#include "maildir/journal.h"
#include "maildir/jsonpath.h"
#include "maildir/maildirname.h"
#include "maildir/maildirwalker.h"
#include "maildir/namelist.h"
#include "maildir/quarantine.h"
#include "maildir/statedir.h"
#include "maildir/swapname.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>

namespace mm::maildir {

void to_json(nlohmann::json &json, const FolderConvertPlan &plan)
{
    json = nlohmann::json::object();
    putPath(json, "path", plan.relPath);
    json["stateBefore"] = std::string(folderStateName(plan.stateBefore));
    json["skipped"] = plan.skipped;
    if (plan.skipped)
        json["skipReason"] = plan.skipReason;
    json["createTmp"] = plan.createTmp;
    json["swapNew"] = plan.swapNew;
    json["finishSwap"] = plan.finishSwap;
    json["linkNew"] = plan.linkNew;
    auto moves = nlohmann::json::array();
    for (const std::string &name : plan.moves)
        moves.push_back(pathValue(name));
    json["moves"] = std::move(moves);
    auto renames = nlohmann::json::array();
    for (const auto &rename : plan.renames) {
        nlohmann::json item = nlohmann::json::object();
        putPath(item, "from", rename.from);
        putPath(item, "to", rename.to);
        item["sha256"] = rename.sha256;
        item["reason"] = "base-collision";
        renames.push_back(std::move(item));
    }
    json["renames"] = std::move(renames);
    auto quarantines = nlohmann::json::array();
    for (const auto &q : plan.quarantines) {
        nlohmann::json item = nlohmann::json::object();
        putPath(item, "name", q.name);
        item["reason"] = q.reason;
        item["size"] = q.size;
        quarantines.push_back(std::move(item));
    }
    json["quarantines"] = std::move(quarantines);
}

void to_json(nlohmann::json &json, const ConvertTotals &t)
{
    json = nlohmann::json{{"folders", t.folders},
                          {"converted", t.converted},
                          {"alreadyCurOnly", t.alreadyCurOnly},
                          {"skipped", t.skipped},
                          {"moved", t.moved},
                          {"renamed", t.renamed},
                          {"quarantined", t.quarantined},
                          {"tmpCreated", t.tmpCreated},
                          {"problems", t.problems}};
}

void to_json(nlohmann::json &json, const ConvertReport &report)
{
    json = nlohmann::json::object();
    json["schemaVersion"] = ConvertReport::kSchemaVersion;
    json["dryRun"] = report.dryRun;
    putPath(json, "root", report.root);
    putPath(json, "stateDir", report.stateDir);
    if (!report.dryRun) {
        json["runId"] = report.runId;
        putPath(json, "journal", report.journalPath);
        json["verified"] = report.verified;
    }
    json["cancelled"] = report.cancelled;
    auto folders = nlohmann::json::array();
    for (const FolderConvertPlan &plan : report.folders) {
        nlohmann::json folder = plan;
        if (!report.dryRun) { // the names are in the journal
            folder.erase("moves");
            folder["moved"] = plan.moved;
        }
        folders.push_back(std::move(folder));
    }
    json["folders"] = std::move(folders);
    json["problems"] = report.problems;
    json["totals"] = report.totals;
}

namespace {

// Renames applied between two journal flushes. Large enough that journal writes are a rounding
// error next to the renames, small enough that a kill loses little of the audit trail.
constexpr std::size_t kBatch = 4096;

bool isSymlinkToCur(int dirfd, const char *name)
{
    std::array<char, 8> target{};
    const ssize_t n = ::readlinkat(dirfd, name, target.data(), target.size());
    const std::string_view to(target.data(), n > 0 ? std::size_t(n) : 0);
    return to == "cur" || to == "cur/";
}

// The entries of new/ (or of a swap leftover holding new/'s old contents), classified.
struct NewListing
{
    NameList messages;   // regular files not starting with '.'
    NameList dotfiles;   // regular files starting with '.'
    std::string blocker; // why the folder must be left alone (empty: fine)
};

NewListing listNew(int newFd, const std::string &newRel)
{
    NewListing listing;
    DirReader reader(newFd);
    DirEntry entry;
    while (reader.next(entry)) {
        if (entry.type != DT_REG) {
            if (listing.blocker.empty())
                listing.blocker = std::string(entry.type == DT_LNK   ? "symlink "
                                              : entry.type == DT_DIR ? "directory "
                                                                     : "special file ") +
                                  toValidUtf8(joinRel(newRel, entry.name)) + " in new/";
            continue;
        }
        (entry.name.front() == '.' ? listing.dotfiles : listing.messages).add(entry.name);
    }
    if (reader.error() != 0)
        listing.blocker = newRel + ": cannot read: " + std::strerror(reader.error());
    return listing;
}

// A name's BASE hashed, with the name's index in its list. Sorting these groups equal BASEs
// with integer compares: a string sort of a 200,000-name new/ was a third of convert's CPU.
struct BaseKey
{
    std::uint64_t hash;
    std::uint32_t index;
    friend bool operator<(const BaseKey &a, const BaseKey &b)
    {
        return a.hash != b.hash ? a.hash < b.hash : a.index < b.index;
    }
};

std::uint64_t hashOfBase(std::string_view base)
{
    return std::hash<std::string_view>{}(base);
}

std::vector<BaseKey> keysByBase(const NameList &names)
{
    std::vector<BaseKey> keys(names.size());
    for (std::size_t i = 0; i < names.size(); ++i)
        keys[i] = {hashOfBase(baseOf(names[i])), std::uint32_t(i)};
    std::sort(keys.begin(), keys.end());
    return keys;
}

// cur/ names, looked up by BASE.
struct CurIndex
{
    NameList names;
    std::vector<BaseKey> byBase;
    std::uint64_t messages = 0;

    // Every cur/ name whose BASE is `base`: the name "base" itself and the names "base:...".
    template <class Fn> void forEachWithBase(std::string_view base, Fn &&fn) const
    {
        const std::uint64_t hash = hashOfBase(base);
        auto it = std::lower_bound(byBase.begin(), byBase.end(), BaseKey{hash, 0});
        for (; it != byBase.end() && it->hash == hash; ++it)
            if (baseOf(names[it->index]) == base)
                fn(names[it->index]);
    }
    bool hasBase(std::string_view base) const
    {
        bool found = false;
        forEachWithBase(base, [&](std::string_view) { found = true; });
        return found;
    }
};

Result<CurIndex> indexCur(int curFd, const std::string &curRel)
{
    CurIndex index;
    DirReader reader(curFd);
    DirEntry entry;
    while (reader.next(entry)) {
        if (entry.name.front() == '.')
            continue;
        index.names.add(entry.name);
        if (entry.type == DT_REG)
            ++index.messages;
    }
    if (reader.error() != 0)
        return fail(errnoError(reader.error(), "cannot read", curRel));
    index.byBase = keysByBase(index.names);
    return index;
}

// Messages in a cur/: regular files not starting with '.'. Only a count: what verify() and a
// lost link need, without keeping or hashing the names as indexCur() does.
Result<std::uint64_t> countMessages(int curFd, const std::string &curRel)
{
    std::uint64_t messages = 0;
    DirReader reader(curFd);
    DirEntry entry;
    while (reader.next(entry))
        messages += entry.type == DT_REG && entry.name.front() != '.';
    if (reader.error() != 0)
        return fail(errnoError(reader.error(), "cannot read", curRel));
    return messages;
}

class FolderConverter
{
public:
    FolderConverter(const MailRoot &root, ConvertReport &report, const StateDir &state,
                    const ProgressSink &progress, std::uint64_t &done, std::uint64_t total)
        : m_root(root)
        , m_report(report)
        , m_state(state)
        , m_progress(progress)
        , m_done(done)
        , m_total(total)
    {
    }

    // The journal is begun at the first change, so a run with nothing to do leaves no trace.
    bool ensureJournal()
    {
        if (m_journalStore)
            return true;
        auto begun = Journal::begin(m_state, "convert", m_root.path());
        if (!begun)
            return fatal(begun.error());
        m_journalStore.emplace(std::move(*begun));
        m_journal = &*m_journalStore;
        m_quarantineStore.emplace(m_state, *m_journal);
        m_quarantine = &*m_quarantineStore;
        m_report.runId = m_journal->runId();
        m_report.journalPath = m_journal->path();
        return true;
    }

    Journal *journal() { return m_journal; }

    // Plans (and unless dry) applies the conversion of one folder. Returns false when cancelled.
    bool convert(const MaildirFolder &folder)
    {
        FolderConvertPlan plan;
        plan.relPath = folder.relPath;
        plan.stateBefore = folder.state;
        auto folderFd = openDirBeneath(m_root.fd(), folder.relPath, m_root.path());
        if (!folderFd)
            return skip(plan, folderFd.error().message);
        const int dirFd = folderFd->get();
        plan.createTmp = !folder.hasTmp;

        struct stat st;
        const bool haveSwap = ::fstatat(dirFd, kSwapName, &st, AT_SYMLINK_NOFOLLOW) == 0;
        const bool swapIsDir = haveSwap && S_ISDIR(st.st_mode);
        const bool swapIsCurLink =
            haveSwap && S_ISLNK(st.st_mode) && isSymlinkToCur(dirFd, kSwapName);
        if (haveSwap && !swapIsDir && !swapIsCurLink)
            return skip(plan, std::string(kSwapName) + " exists and is not ours");

        if (folder.state == FolderState::CurOnly) {
            if (swapIsCurLink) {
                // A revert killed after its exchange: the symlink is surplus.
                plan.finishSwap = true;
            } else if (swapIsDir) {
                // A convert killed after its exchange: the old new/ still holds what it held.
                plan.finishSwap = true;
            } else if (!plan.createTmp) {
                ++m_report.totals.alreadyCurOnly;
                return true;
            }
            if (!m_report.dryRun) {
                if (!ensureJournal())
                    return false;
                if (!createTmp(dirFd, plan))
                    return true;
                if (swapIsCurLink) {
                    ::unlinkat(dirFd, kSwapName, 0);
                    m_dirs.add(dirFd);
                }
                if (swapIsDir && !drainAndRemoveSwap(dirFd, plan))
                    return finish(plan, false);
            } else if (swapIsDir) {
                planDrain(dirFd, plan);
            }
            if (!plan.finishSwap)
                ++m_report.totals.alreadyCurOnly;
            return finish(plan, true);
        }
        if (folder.state == FolderState::Broken && !haveSwap && MaildirWalker::lacksOnlyNew(dirFd))
            return linkMissingNew(dirFd, plan);
        if (folder.state != FolderState::Classic)
            return skip(plan, "broken folder: " + folder.brokenReason);

        auto curFd = openDirAt(dirFd, "cur", joinRel(folder.relPath, "cur"));
        if (!curFd)
            return skip(plan, curFd.error().message);
        const std::string newRel = joinRel(folder.relPath, "new");
        auto newFd = openDirAt(dirFd, "new", newRel);
        if (!newFd)
            return skip(plan, newFd.error().message);

        std::uint64_t curBefore = 0;
        if (!planMessages(newFd->get(), curFd->get(), folder.relPath, "new", plan, &curBefore))
            return true; // skipped, reported
        plan.swapNew = true;
        if (m_report.dryRun)
            return finish(plan, true);

        // Applied together with other folders (applyPending): one journal sync per batch of
        // renames and one directory sync per group, instead of several per folder.
        m_pendingItems += plan.moves.size() + plan.renames.size() + plan.quarantines.size() + 1;
        m_pending.push_back(Pending{std::move(plan), std::move(*folderFd), std::move(*curFd),
                                    std::move(*newFd), curBefore, {}, false, 0});
        if (m_pending.size() >= kGroupFolders || m_pendingItems >= kBatch)
            return applyPending();
        return true;
    }

    // Applies the planned folders: every intent of a batch (tmp/, quarantines, renames, moves,
    // across folders) journaled and synced before its first rename, then the batch; then new/
    // swapped for the symlink in every folder (intents synced first); then leftovers drained and
    // each folder verified; then every directory touched synced before the folders are reported.
    // Returns false when cancelled or on a fatal error (m_fatal).
    bool applyPending()
    {
        if (m_pending.empty())
            return true;
        std::vector<Pending> group = std::move(m_pending);
        m_pending.clear();
        m_pendingItems = 0;
        if (!ensureJournal())
            return false;
        const bool keepGoing = applyGroup(group);
        if (auto synced = m_dirs.sync(m_root.path()); !synced)
            return fatal(synced.error());
        for (Pending &p : group)
            finish(p.plan, true);
        return keepGoing && !m_fatal;
    }

private:
    static constexpr const char *kSwapName = kNewSwapName;
    // Folders applied together (each holds three directory descriptors while it waits).
    static constexpr std::size_t kGroupFolders = 128;

    struct Pending
    {
        FolderConvertPlan plan;
        UniqueFd folderFd, curFd, newFd;
        std::uint64_t curBefore = 0;
        std::vector<QuarantineEntry> quarantined; // the entries of plan.quarantines, once planned
        bool swapped = false;
        std::uint64_t swapSeq = 0;
    };

    // One change of a group, in the order they are journaled and applied.
    struct Op
    {
        enum Kind : std::uint8_t
        {
            CreateTmp,
            Quarantine,
            Rename,
            Move
        };
        Pending *pending;
        Kind kind;
        std::uint32_t index; // in the plan's quarantines, renames or moves
    };

    void journalOp(const Op &op, std::string &line, std::string &from, std::string &to)
    {
        Pending &p = *op.pending;
        const std::string &folder = p.plan.relPath;
        switch (op.kind) {
        case Op::CreateTmp:
            line.clear();
            JsonLineWriter(line)
                .string("type", "create-tmp")
                .number("seq", m_journal->nextSeq())
                .path("folder", folder)
                .finish();
            m_journal->addLine(line);
            return;
        case Op::Quarantine: {
            const auto &item = p.plan.quarantines[op.index];
            from.assign(joinRel(folder, "new")).append("/").append(item.name);
            p.quarantined[op.index] = m_quarantine->plan(from, item.size, item.reason);
            return;
        }
        case Op::Rename:
        case Op::Move: {
            const bool rename = op.kind == Op::Rename;
            const std::string &name = rename ? p.plan.renames[op.index].from : p.plan.moves[op.index];
            const std::string &target = rename ? p.plan.renames[op.index].to : name;
            from.assign(joinRel(folder, "new")).append("/").append(name);
            to.assign(joinRel(folder, "cur")).append("/").append(target);
            line.clear();
            JsonLineWriter writer(line);
            writer.string("type", "move").number("seq", m_journal->nextSeq()).path("from", from).path("to", to);
            if (rename)
                writer.string("reason", "base-collision").string("sha256", p.plan.renames[op.index].sha256);
            writer.finish();
            m_journal->addLine(line);
            return;
        }
        }
    }

    void applyOp(const Op &op)
    {
        Pending &p = *op.pending;
        const std::string &folder = p.plan.relPath;
        switch (op.kind) {
        case Op::CreateTmp:
            if (::mkdirat(p.folderFd.get(), "tmp", 0700) != 0 && errno != EEXIST) {
                problem(ProblemKind::ActionFailed, joinRel(folder, "tmp"), std::strerror(errno));
                return;
            }
            m_dirs.add(p.folderFd.get());
            ++m_report.totals.tmpCreated;
            return;
        case Op::Quarantine: {
            const auto &item = p.plan.quarantines[op.index];
            if (auto status = m_quarantine->apply(p.newFd.get(), item.name.c_str(), p.quarantined[op.index]);
                !status) {
                problem(ProblemKind::ActionFailed, p.quarantined[op.index].originalPath, status.error().message);
                return;
            }
            m_quarantineTouched = true;
            ++m_report.totals.quarantined;
            countDone(item.name);
            return;
        }
        case Op::Rename:
        case Op::Move: {
            const bool rename = op.kind == Op::Rename;
            const std::string &name = rename ? p.plan.renames[op.index].from : p.plan.moves[op.index];
            const std::string &target = rename ? p.plan.renames[op.index].to : name;
            if (renameAt2(p.newFd.get(), name.c_str(), p.curFd.get(), target.c_str(), RENAME_NOREPLACE) == 0) {
                ++(rename ? m_report.totals.renamed : m_report.totals.moved);
                p.plan.moved += rename ? 0 : 1;
            } else
                problem(ProblemKind::ActionFailed, joinRel(joinRel(folder, "new"), name),
                        std::string("cannot move to cur/: ") + std::strerror(errno));
            countDone(name);
            return;
        }
        }
    }

    bool applyGroup(std::vector<Pending> &group)
    {
        std::vector<Op> ops;
        for (Pending &p : group) {
            p.quarantined.resize(p.plan.quarantines.size());
            if (p.plan.createTmp)
                ops.push_back({&p, Op::CreateTmp, 0});
            for (std::uint32_t i = 0; i < p.plan.quarantines.size(); ++i)
                ops.push_back({&p, Op::Quarantine, i});
            for (std::uint32_t i = 0; i < p.plan.renames.size(); ++i)
                ops.push_back({&p, Op::Rename, i});
            for (std::uint32_t i = 0; i < p.plan.moves.size(); ++i)
                ops.push_back({&p, Op::Move, i});
        }
        std::string line, from, to;
        for (std::size_t start = 0; start < ops.size(); start += kBatch) {
            if (m_progress.cancelled()) {
                m_report.cancelled = true;
                return false;
            }
            const std::size_t stop = std::min(ops.size(), start + kBatch);
            for (std::size_t k = start; k < stop; ++k)
                journalOp(ops[k], line, from, to);
            if (auto status = m_journal->sync(); !status)
                return fatal(status.error());
            const std::uint64_t lastSeq = m_journal->lastSeq();
            for (std::size_t k = start; k < stop; ++k)
                applyOp(ops[k]);
            if (auto status = m_journal->markApplied(lastSeq); !status)
                return fatal(status.error());
        }
        for (Pending &p : group) {
            m_dirs.add(p.newFd.get());
            m_dirs.add(p.curFd.get());
        }
        if (m_quarantineTouched)
            if (auto runDir = openDirBeneath(m_state.fd(), "quarantine/" + m_journal->runId(), m_state.path()))
                m_dirs.add(runDir->get());
        if (m_progress.cancelled()) {
            m_report.cancelled = true;
            return false;
        }

        // new/ for the symlink, in every folder whose new/ is empty now.
        for (Pending &p : group) {
            const std::string newRel = joinRel(p.plan.relPath, "new");
            // Anything delivered meanwhile, or left by a failed rename, keeps new/ a directory.
            NewListing after = listNew(p.newFd.get(), newRel);
            p.newFd.reset();
            if (!after.messages.empty() || !after.dotfiles.empty() || !after.blocker.empty()) {
                problem(ProblemKind::FolderSkipped, newRel,
                        "new/ not empty after the moves; left classic (run convert again)");
                continue;
            }
            p.swapSeq = journalSwapToCurOnly(p.plan.relPath, line);
            p.swapped = true;
        }
        if (auto status = m_journal->sync(); !status)
            return fatal(status.error());
        for (Pending &p : group)
            if (p.swapped)
                p.swapped = exchangeNewForSymlink(p.folderFd.get(), p.plan);
        if (auto status = m_journal->markApplied(m_journal->lastSeq()); !status)
            return fatal(status.error());

        for (Pending &p : group) {
            if (!p.swapped)
                continue;
            p.curFd.reset();
            if (!drainAndRemoveSwap(p.folderFd.get(), p.plan))
                return false;
            verify(p.folderFd.get(), p.plan, p.curBefore);
        }
        return !m_progress.cancelled();
    }

    // new/ (empty) <-> a fresh symlink "cur", atomically: `new` exists at every instant. The
    // intent is journaled (and synced) by the caller.
    bool exchangeNewForSymlink(int dirFd, FolderConvertPlan &plan)
    {
        if (::symlinkat("cur", dirFd, kSwapName) != 0 &&
            !(errno == EEXIST && isSymlinkToCur(dirFd, kSwapName))) {
            problem(ProblemKind::ActionFailed, joinRel(plan.relPath, kSwapName),
                    std::strerror(errno));
            return false;
        }
        if (renameAt2(dirFd, kSwapName, dirFd, "new", RENAME_EXCHANGE) != 0) {
            problem(ProblemKind::ActionFailed, joinRel(plan.relPath, "new"),
                    std::string("cannot swap new/ for the symlink: ") + std::strerror(errno));
            ::unlinkat(dirFd, kSwapName, 0);
            return false;
        }
        m_dirs.add(dirFd);
        return true;
    }

    void problem(ProblemKind kind, std::string path, std::string detail)
    {
        m_report.problems.push_back(Problem{kind, std::move(path), std::move(detail)});
    }

    bool skip(FolderConvertPlan &plan, std::string reason)
    {
        plan.skipped = true;
        plan.skipReason = reason;
        problem(ProblemKind::FolderSkipped, plan.relPath, std::move(reason));
        ++m_report.totals.skipped;
        m_report.folders.push_back(std::move(plan));
        return true;
    }

    // A folder whose cur/ holds its mail but whose `new` is gone (MaildirWalker::lacksOnlyNew).
    // The link is all it lacks: nothing moves, and a killed run leaves either no link (made by
    // the next run) or the link.
    bool linkMissingNew(int dirFd, FolderConvertPlan &plan)
    {
        plan.linkNew = true;
        if (m_report.dryRun)
            return finish(plan, true);
        auto curFd = openDirAt(dirFd, "cur", joinRel(plan.relPath, "cur"));
        if (!curFd)
            return skip(plan, curFd.error().message);
        auto curMessages = countMessages(curFd->get(), joinRel(plan.relPath, "cur"));
        if (!curMessages)
            return skip(plan, curMessages.error().message);
        if (!ensureJournal() || !createTmp(dirFd, plan))
            return finish(plan, false);
        std::string line;
        const std::uint64_t seq = journalSwapToCurOnly(plan.relPath, line);
        if (auto status = m_journal->sync(); !status)
            return fatal(status.error());
        if (::symlinkat("cur", dirFd, "new") != 0 && !(errno == EEXIST && isSymlinkToCur(dirFd, "new"))) {
            problem(ProblemKind::ActionFailed, joinRel(plan.relPath, "new"), std::strerror(errno));
            m_verifyFailed = true;
            return finish(plan, true);
        }
        m_dirs.add(dirFd);
        if (auto applied = m_journal->markApplied(seq); !applied)
            return fatal(applied.error());
        verify(dirFd, plan, *curMessages);
        return finish(plan, true);
    }

    bool finish(FolderConvertPlan &plan, bool keepGoing)
    {
        const bool changes = plan.swapNew || plan.finishSwap || plan.createTmp || plan.linkNew ||
                             !plan.moves.empty() || !plan.renames.empty() ||
                             !plan.quarantines.empty();
        if (plan.swapNew || plan.linkNew)
            ++m_report.totals.converted; // in a dry run: planned
        if (!m_report.dryRun) {
            std::vector<std::string>().swap(plan.moves); // the names are in the journal
        } else {
            m_report.totals.moved += plan.moves.size();
            m_report.totals.renamed += plan.renames.size();
            m_report.totals.quarantined += plan.quarantines.size();
            m_report.totals.tmpCreated += plan.createTmp ? 1 : 0;
        }
        if (changes)
            m_report.folders.push_back(std::move(plan));
        return keepGoing && !m_progress.cancelled();
    }

    // The plan for the messages of one directory (new/, or a swap leftover) against cur/.
    // A message whose BASE is its own goes to cur/ under its name; names that share a BASE with
    // each other or with cur/ are decided one by one in bytewise order, so every node that holds
    // the same files decides alike. `curMessages`, when given, receives cur/'s message count
    // (what verify() starts from); without it an empty source never reads cur/.
    bool planMessages(int srcFd, int curFd, const std::string &folderRel, const char *srcName,
                      FolderConvertPlan &plan, std::uint64_t *curMessages)
    {
        const std::string srcRel = joinRel(folderRel, srcName);
        NewListing listing = listNew(srcFd, srcRel);
        if (!listing.blocker.empty()) {
            skip(plan, listing.blocker);
            return false;
        }
        for (std::size_t i = 0; i < listing.dotfiles.size(); ++i) {
            struct stat st
            {
            };
            const std::string name(listing.dotfiles[i]);
            ::fstatat(srcFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW);
            plan.quarantines.push_back({name, "dotfile-in-new", std::uint64_t(st.st_size)});
        }
        NameList &names = listing.messages;
        if (names.empty() && !curMessages)
            return true;
        auto cur = indexCur(curFd, joinRel(folderRel, "cur"));
        if (!cur) {
            skip(plan, cur.error().message);
            return false;
        }
        if (curMessages)
            *curMessages = cur->messages;

        const std::vector<BaseKey> keys = keysByBase(names);
        std::vector<bool> decidedInGroup(names.size(), false);
        std::vector<std::uint32_t> order;
        plan.moves.reserve(names.size());
        for (std::size_t i = 0; i < keys.size();) {
            std::size_t end = i + 1;
            while (end < keys.size() && keys[end].hash == keys[i].hash)
                ++end;
            if (end == i + 1 && !cur->hasBase(baseOf(names[keys[i].index]))) {
                i = end; // the common case: moved under its own name, below
                continue;
            }
            // One hash, so usually one BASE (two BASEs with one hash are split here too).
            order.clear();
            for (std::size_t k = i; k < end; ++k) {
                order.push_back(keys[k].index);
                decidedInGroup[keys[k].index] = true;
            }
            std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
                const std::string_view na = names[a], nb = names[b];
                const std::string_view ba = baseOf(na), bb = baseOf(nb);
                return ba != bb ? ba < bb : na < nb;
            });
            for (std::size_t group = 0; group < order.size();) {
                const std::string_view base = baseOf(names[order[group]]);
                std::size_t groupEnd = group + 1;
                while (groupEnd < order.size() && baseOf(names[order[groupEnd]]) == base)
                    ++groupEnd;
                if (!planCollisionGroup(srcFd, curFd, *cur, names, order, group, groupEnd,
                                        srcRel, plan))
                    return false;
                group = groupEnd;
            }
            i = end;
        }
        // In the directory's own order.
        for (std::size_t n = 0; n < names.size(); ++n)
            if (!decidedInGroup[n])
                plan.moves.emplace_back(names[n]);
        return true;
    }

    // Names in [begin, end) of `order` share one BASE, which may also exist in cur/.
    bool planCollisionGroup(int srcFd, int curFd, const CurIndex &cur, const NameList &names,
                            const std::vector<std::uint32_t> &order, std::size_t begin,
                            std::size_t end, const std::string &srcRel, FolderConvertPlan &plan)
    {
        struct Kept
        {
            int dirFd;
            std::string name;
        };
        std::vector<Kept> kept; // what the group's BASE already stands for
        cur.forEachWithBase(baseOf(names[order[begin]]), [&](std::string_view name) {
            kept.push_back({curFd, std::string(name)});
        });
        for (std::size_t k = begin; k < end; ++k) {
            const std::string name(names[order[k]]);
            if (kept.empty()) {
                plan.moves.push_back(name);
                kept.push_back({srcFd, name});
                continue;
            }
            bool identical = false;
            for (const Kept &other : kept) {
                auto same = sameContents(srcFd, name.c_str(), other.dirFd, other.name.c_str());
                if (!same) {
                    skip(plan, "cannot compare " + toValidUtf8(joinRel(srcRel, name)) + ": " +
                                   same.error().message);
                    return false;
                }
                if (*same) {
                    identical = true;
                    break;
                }
            }
            struct stat st
            {
            };
            ::fstatat(srcFd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW);
            if (identical) {
                plan.quarantines.push_back({name, "identical-copy", std::uint64_t(st.st_size)});
                continue;
            }
            auto sha = sha256OfFile(srcFd, name.c_str(), joinRel(srcRel, name));
            if (!sha) {
                skip(plan, sha.error().message);
                return false;
            }
            std::string target = collisionName(name, *sha);
            if (cur.hasBase(baseOf(target)))
                target = collisionName(name, *sha, 64);
            if (cur.hasBase(baseOf(target))) {
                skip(plan, "no free name for " + toValidUtf8(joinRel(srcRel, name)));
                return false;
            }
            plan.renames.push_back({name, target, *sha});
            kept.push_back({srcFd, name});
        }
        return true;
    }

    // The intent "new becomes the link new -> cur" of one folder (not yet synced); its seq.
    std::uint64_t journalSwapToCurOnly(const std::string &folder, std::string &line)
    {
        line.clear();
        const std::uint64_t seq = m_journal->nextSeq();
        JsonLineWriter(line)
            .string("type", "swap-new")
            .number("seq", seq)
            .path("folder", folder)
            .string("to", "cur-only")
            .finish();
        m_journal->addLine(line);
        return seq;
    }

    bool createTmp(int dirFd, FolderConvertPlan &plan)
    {
        if (!plan.createTmp)
            return true;
        std::string line;
        JsonLineWriter(line)
            .string("type", "create-tmp")
            .number("seq", m_journal->nextSeq())
            .path("folder", plan.relPath)
            .finish();
        m_journal->addLine(line);
        if (auto status = m_journal->sync(); !status)
            return fatal(status.error());
        if (::mkdirat(dirFd, "tmp", 0700) != 0 && errno != EEXIST) {
            problem(ProblemKind::ActionFailed, joinRel(plan.relPath, "tmp"), std::strerror(errno));
            return true;
        }
        m_dirs.add(dirFd);
        ++m_report.totals.tmpCreated;
        return m_journal->markApplied(m_journal->lastSeq()).has_value();
    }

    bool fatal(const Error &error)
    {
        m_fatal = error;
        return false;
    }

    void countDone(std::string_view item)
    {
        ++m_done;
        if ((m_done & 1023) == 0)
            m_progress.report(m_done, m_total, item);
    }

    // plan -> journal -> apply, in batches, for the leftovers of a swap (rare): moves and
    // renames with renameat2(RENAME_NOREPLACE), so nothing in cur/ is ever overwritten;
    // quarantines into the state dir. Each intent is synced before its rename.
    bool applyMessages(int srcFd, int curFd, const std::string &folderRel, const char *srcName,
                       FolderConvertPlan &plan)
    {
        m_dirs.add(srcFd);
        m_dirs.add(curFd);
        const std::string srcPrefix = joinRel(folderRel, srcName) + "/";
        const std::string curPrefix = joinRel(folderRel, "cur") + "/";
        std::string line, from, to;
        // Quarantines first: they are few, and each one's record is flushed before its rename.
        for (const auto &item : plan.quarantines) {
            from.assign(srcPrefix).append(item.name);
            QuarantineEntry entry = m_quarantine->plan(from, item.size, item.reason);
            if (auto status = m_journal->sync(); !status)
                return fatal(status.error());
            if (auto status = m_quarantine->apply(srcFd, item.name.c_str(), entry); !status) {
                problem(ProblemKind::ActionFailed, from, status.error().message);
                continue;
            }
            m_quarantineTouched = true;
            ++m_report.totals.quarantined;
            countDone(item.name);
        }
        auto journalMove = [&](std::string_view name, std::string_view target,
                               const std::string *sha) {
            from.assign(srcPrefix).append(name);
            to.assign(curPrefix).append(target);
            line.clear();
            JsonLineWriter writer(line);
            writer.string("type", "move")
                .number("seq", m_journal->nextSeq())
                .path("from", from)
                .path("to", to);
            if (sha)
                writer.string("reason", "base-collision").string("sha256", *sha);
            writer.finish();
            m_journal->addLine(line);
        };
        auto doRename = [&](const std::string &name, const std::string &target) {
            if (renameAt2(srcFd, name.c_str(), curFd, target.c_str(), RENAME_NOREPLACE) == 0)
                return true;
            const int err = errno;
            problem(ProblemKind::ActionFailed, srcPrefix + name,
                    std::string("cannot move to cur/: ") + std::strerror(err));
            return false;
        };
        for (const auto &rename : plan.renames) {
            journalMove(rename.from, rename.to, &rename.sha256);
            if (auto status = m_journal->sync(); !status)
                return fatal(status.error());
            if (doRename(rename.from, rename.to))
                ++m_report.totals.renamed;
            countDone(rename.from);
        }
        for (std::size_t start = 0; start < plan.moves.size(); start += kBatch) {
            if (m_progress.cancelled()) {
                m_report.cancelled = true;
                return false;
            }
            const std::size_t stop = std::min(plan.moves.size(), start + kBatch);
            for (std::size_t k = start; k < stop; ++k)
                journalMove(plan.moves[k], plan.moves[k], nullptr);
            if (auto status = m_journal->sync(); !status)
                return fatal(status.error());
            const std::uint64_t lastSeq = m_journal->lastSeq();
            for (std::size_t k = start; k < stop; ++k) {
                if (doRename(plan.moves[k], plan.moves[k])) {
                    ++m_report.totals.moved;
                    ++plan.moved;
                }
                countDone(plan.moves[k]);
            }
            if (auto status = m_journal->markApplied(lastSeq); !status)
                return fatal(status.error());
        }
        if (auto status = m_journal->sync(); !status)
            return fatal(status.error());
        return true;
    }

    void planDrain(int dirFd, FolderConvertPlan &plan)
    {
        auto swapFd = openDirAt(dirFd, kSwapName, joinRel(plan.relPath, kSwapName));
        auto curFd = openDirAt(dirFd, "cur", joinRel(plan.relPath, "cur"));
        if (swapFd && curFd)
            planMessages(swapFd->get(), curFd->get(), plan.relPath, kSwapName, plan, nullptr);
    }

    // After the exchange the old new/ sits at kSwapName. Messages delivered into it between our
    // last look and the exchange (or left by a killed run) go to cur/ like the others; then the
    // empty directory is removed (rmdir: it refuses to remove anything that is not empty).
    bool drainAndRemoveSwap(int dirFd, FolderConvertPlan &plan)
    {
        const std::string swapRel = joinRel(plan.relPath, kSwapName);
        auto swapFd = openDirAt(dirFd, kSwapName, swapRel);
        if (!swapFd) {
            problem(ProblemKind::ActionFailed, swapRel, swapFd.error().message);
            return true;
        }
        auto curFd = openDirAt(dirFd, "cur", joinRel(plan.relPath, "cur"));
        if (!curFd) {
            problem(ProblemKind::ActionFailed, plan.relPath, curFd.error().message);
            return true;
        }
        FolderConvertPlan drain;
        drain.relPath = plan.relPath;
        if (!planMessages(swapFd->get(), curFd->get(), plan.relPath, kSwapName, drain, nullptr))
            return true; // reported by skip(); the leftover stays for the admin
        const bool leftovers = !drain.moves.empty() || !drain.renames.empty() || !drain.quarantines.empty();
        if (leftovers && !applyMessages(swapFd->get(), curFd->get(), plan.relPath, kSwapName, drain))
            return false;
        plan.moved += drain.moved;
        for (auto &m : drain.moves)
            plan.moves.push_back(std::move(m));
        for (auto &r : drain.renames)
            plan.renames.push_back(std::move(r));
        for (auto &q : drain.quarantines)
            plan.quarantines.push_back(std::move(q));
        swapFd->reset();
        m_dirs.add(dirFd);
        if (::unlinkat(dirFd, kSwapName, AT_REMOVEDIR) != 0)
            problem(ProblemKind::ActionFailed, swapRel,
                    std::string("cannot remove the emptied old new/: ") + std::strerror(errno));
        return true;
    }

    void verify(int dirFd, const FolderConvertPlan &plan, std::uint64_t curBefore)
    {
        struct stat st;
        bool ok = ::fstatat(dirFd, "new", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) &&
                  isSymlinkToCur(dirFd, "new");
        if (auto curFd = openDirAt(dirFd, "cur", plan.relPath); ok && curFd) {
            const auto messages = countMessages(curFd->get(), joinRel(plan.relPath, "cur"));
            const std::uint64_t expected = curBefore + plan.moves.size() + plan.renames.size();
            if (!messages || *messages < expected) {
                ok = false;
                problem(ProblemKind::ActionFailed, joinRel(plan.relPath, "cur"),
                        "verification: fewer messages in cur/ than planned");
            }
        }
        if (!ok)
            m_verifyFailed = true;
    }

public:
    std::optional<Error> m_fatal;
    bool m_verifyFailed = false;
    // Every directory a rename changed since the last DirSync::sync().
    DirSync m_dirs;

private:
    const MailRoot &m_root;
    ConvertReport &m_report;
    const StateDir &m_state;
    std::optional<Journal> m_journalStore;
    std::optional<Quarantine> m_quarantineStore;
    Journal *m_journal = nullptr;
    Quarantine *m_quarantine = nullptr;
    const ProgressSink &m_progress;
    std::uint64_t &m_done;
    std::uint64_t m_total;
    std::vector<Pending> m_pending;
    std::size_t m_pendingItems = 0;
    bool m_quarantineTouched = false;
};

// Messages waiting in new/ across the tree: the progress total. One getdents pass, no stat.
std::uint64_t countNew(const MailRoot &root, const MaildirTree &tree)
{
    std::uint64_t total = 0;
    for (const MaildirFolder &folder : tree.folders) {
        if (folder.state != FolderState::Classic)
            continue;
        auto dir = openDirBeneath(root.fd(), joinRel(folder.relPath, "new"), root.path());
        if (!dir)
            continue;
        DirReader reader(dir->get());
        DirEntry entry;
        while (reader.next(entry))
            ++total;
    }
    return total;
}

// Closes the journals of runs that were killed: their unconfirmed intents are settled by what is
// on disk now (a rename either happened or not), and the new run re-plans from the disk anyway.
Status settleUnfinishedRuns(const StateDir &state)
{
    auto runs = Journal::readAll(state);
    if (!runs)
        return fail(runs.error());
    for (auto &run : *runs) {
        if (run.ended)
            continue;
        std::uint64_t lastApplied = 0, lastSeq = 0;
        for (const auto &record : run.records) {
            const std::string type = record.value("type", std::string());
            if (type == "applied")
                lastApplied = std::max(lastApplied, record.value("upTo", std::uint64_t(0)));
            lastSeq = std::max(lastSeq, record.value("seq", std::uint64_t(0)));
        }
        auto journal = Journal::reopen(run.path, run.runId);
        if (!journal)
            return fail(journal.error());
        if (auto status =
                journal->end("recovered", {{"lastSeq", lastSeq}, {"lastConfirmed", lastApplied}});
            !status)
            return status;
        run.ended = true;
    }
    // Finished runs that hold nothing to restore move out of the way (journal/archive/).
    if (auto archived = Journal::archiveSettled(state, *runs); !archived)
        return fail(archived.error());
    return {};
}

} // namespace

Result<ConvertReport> Convert::run(const MailRoot &root, const ConvertOptions &options,
                                   const ProgressSink &progress)
{
    ConvertReport report;
    report.dryRun = options.dryRun;
    report.root = root.path();
    auto state = StateDir::resolve(root, options.stateDir);
    if (!state)
        return fail(state.error());
    report.stateDir = state->path();

    auto tree = MaildirWalker::walk(root, progress);
    if (!tree)
        return fail(tree.error());
    report.problems = std::move(tree->problems);
    report.totals.folders = tree->folders.size();

    std::optional<StateLock> lock;
    if (!options.dryRun) {
        if (auto status = state->create(); !status)
            return fail(status.error());
        auto acquired = state->lock();
        if (!acquired)
            return fail(acquired.error());
        lock.emplace(std::move(*acquired));
        if (auto status = settleUnfinishedRuns(*state); !status)
            return fail(status.error());
    }

    std::uint64_t done = 0;
    const std::uint64_t total = countNew(root, *tree);
    progress.report(0, total, {});
    FolderConverter converter(root, report, *state, progress, done, total);
    for (const MaildirFolder &folder : tree->folders) {
        if (progress.cancelled()) {
            report.cancelled = true;
            break;
        }
        if (!converter.convert(folder)) {
            if (converter.m_fatal)
                break;
            report.cancelled = report.cancelled || progress.cancelled();
            if (report.cancelled)
                break;
        }
    }
    // The last group, then whatever the rare single-folder paths changed: synced before "end"
    // and before the report says the folders are cur-only.
    if (!report.cancelled && !converter.m_fatal && !converter.applyPending())
        report.cancelled = report.cancelled || progress.cancelled();
    if (!converter.m_fatal)
        if (auto synced = converter.m_dirs.sync(root.path()); !synced)
            converter.m_fatal = synced.error();
    progress.report(done, total, {});
    report.totals.problems = report.problems.size();
    report.verified =
        !options.dryRun && !report.cancelled && !converter.m_fatal && !converter.m_verifyFailed;
    if (Journal *journal = converter.journal()) {
        const std::string status = converter.m_fatal  ? "failed"
                                   : report.cancelled ? "cancelled"
                                                      : "ok";
        nlohmann::json totals = report.totals;
        if (auto ended = journal->end(status, totals); !ended && !converter.m_fatal)
            return fail(ended.error());
    }
    if (converter.m_fatal)
        return fail(*converter.m_fatal);
    return report;
}

} // namespace mm::maildir
