#include "maildir/revert.h"

#include "maildir/dirsync.h"
#include "maildir/fsutil.h"
#include "maildir/journal.h"
#include "maildir/jsonpath.h"
#include "maildir/maildirwalker.h"
#include "maildir/statedir.h"
#include "maildir/swapname.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

namespace mm::maildir {

void to_json(nlohmann::json &json, const RevertReport &report)
{
    json = nlohmann::json::object();
    json["schemaVersion"] = RevertReport::kSchemaVersion;
    json["dryRun"] = report.dryRun;
    putPath(json, "root", report.root);
    putPath(json, "stateDir", report.stateDir);
    if (!report.dryRun) {
        json["runId"] = report.runId;
        putPath(json, "journal", report.journalPath);
    }
    json["cancelled"] = report.cancelled;
    auto reverted = nlohmann::json::array();
    for (const std::string &path : report.reverted)
        reverted.push_back(pathValue(path));
    json["reverted"] = std::move(reverted);
    json["alreadyClassic"] = report.alreadyClassic;
    json["problems"] = report.problems;
}

namespace {

bool isSymlinkToCur(int dirfd, const char *name)
{
    std::array<char, 8> target{};
    const ssize_t n = ::readlinkat(dirfd, name, target.data(), target.size());
    const std::string_view to(target.data(), n > 0 ? std::size_t(n) : 0);
    return to == "cur" || to == "cur/";
}

void journalRevert(const std::string &relPath, Journal &journal)
{
    std::string line;
    JsonLineWriter(line)
        .string("type", "swap-new")
        .number("seq", journal.nextSeq())
        .path("folder", relPath)
        .string("to", "classic")
        .finish();
    journal.addLine(line);
}

// new -> cur becomes a real, empty new/: mkdir beside it, exchange, drop the symlink. The intent
// is journaled and synced by the caller, for a batch of folders at once.
Status revertFolder(int dirFd, const std::string &relPath)
{
    struct stat cur;
    const mode_t mode = ::fstatat(dirFd, "cur", &cur, 0) == 0 ? (cur.st_mode & 07777) : 0700;
    if (::mkdirat(dirFd, kNewSwapName, mode) != 0) {
        struct stat st;
        if (errno != EEXIST || ::fstatat(dirFd, kNewSwapName, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(st.st_mode))
            return fail(errnoError(errno, "cannot create the new/ directory",
                                   joinRel(relPath, kNewSwapName)));
    }
    if (MaildirWalker::lacksOnlyNew(dirFd)) {
        // No symlink to swap out (the folder lost it, MaildirWalker::lacksOnlyNew): the empty
        // directory just takes its place.
        if (renameAt2(dirFd, kNewSwapName, dirFd, "new", RENAME_NOREPLACE) != 0)
            return fail(errnoError(errno, "cannot make the new/ directory", joinRel(relPath, "new")));
        return {};
    }
    if (renameAt2(dirFd, kNewSwapName, dirFd, "new", RENAME_EXCHANGE) != 0)
        return fail(errnoError(errno, "cannot swap the symlink for new/", joinRel(relPath, "new")));
    // What sits at the swap name now must be the symlink we replaced; unlink never removes mail.
    if (isSymlinkToCur(dirFd, kNewSwapName))
        ::unlinkat(dirFd, kNewSwapName, 0);
    return {};
}

// Folders reverted per journal sync.
constexpr std::size_t kBatch = 256;

struct PendingRevert
{
    UniqueFd dir;
    std::string relPath;
};

} // namespace

Result<RevertReport> Revert::run(const MailRoot &root, const RevertOptions &options,
                                 const ProgressSink &progress)
{
    RevertReport report;
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

    std::optional<StateLock> lock;
    std::optional<Journal> journal;
    if (!options.dryRun) {
        if (auto status = state->create(); !status)
            return fail(status.error());
        auto acquired = state->lock();
        if (!acquired)
            return fail(acquired.error());
        lock.emplace(std::move(*acquired));
        auto begun = Journal::begin(*state, "revert", root.path());
        if (!begun)
            return fail(begun.error());
        journal.emplace(std::move(*begun));
        report.runId = journal->runId();
        report.journalPath = journal->path();
    }

    // Per batch: the intents synced, the swaps, then the folders synced before they count as
    // reverted.
    std::vector<PendingRevert> batch;
    DirSync dirs;
    const auto applyBatch = [&]() -> Status {
        if (batch.empty())
            return {};
        if (auto synced = journal->sync(); !synced)
            return synced;
        for (PendingRevert &pending : batch) {
            if (auto status = revertFolder(pending.dir.get(), pending.relPath); !status) {
                report.problems.push_back({ProblemKind::ActionFailed, pending.relPath, status.error().message});
                continue;
            }
            dirs.add(pending.dir.get());
            report.reverted.push_back(pending.relPath);
        }
        batch.clear();
        if (auto marked = journal->markApplied(journal->lastSeq()); !marked)
            return marked;
        return dirs.sync(root.path());
    };
    std::uint64_t done = 0;
    const std::uint64_t total = tree->folders.size();
    for (const MaildirFolder &folder : tree->folders) {
        if (progress.cancelled()) {
            report.cancelled = true;
            break;
        }
        progress.report(done++, total, folder.relPath);
        auto dirFd = openDirBeneath(root.fd(), folder.relPath, root.path());
        if (!dirFd) {
            report.problems.push_back(
                {ProblemKind::FolderSkipped, folder.relPath, dirFd.error().message});
            continue;
        }
        if (folder.state == FolderState::Broken && !MaildirWalker::lacksOnlyNew(dirFd->get()))
            continue; // reported by the walker
        struct stat st;
        const bool haveSwap = ::fstatat(dirFd->get(), kNewSwapName, &st, AT_SYMLINK_NOFOLLOW) == 0;
        if (folder.state == FolderState::Classic) {
            ++report.alreadyClassic;
            // A swap symlink left by a killed revert (after its exchange): surplus.
            if (haveSwap && S_ISLNK(st.st_mode) && isSymlinkToCur(dirFd->get(), kNewSwapName) &&
                !options.dryRun)
                ::unlinkat(dirFd->get(), kNewSwapName, 0);
            continue;
        }
        if (haveSwap && !S_ISDIR(st.st_mode)) {
            report.problems.push_back({ProblemKind::FolderSkipped, folder.relPath,
                                       std::string(kNewSwapName) + " exists and is not ours"});
            continue;
        }
        // A swap directory here is either an empty one from a killed revert or the old new/ of a
        // killed convert: either way it becomes new/ again, with whatever it holds.
        if (options.dryRun) {
            report.reverted.push_back(folder.relPath);
            continue;
        }
        journalRevert(folder.relPath, *journal);
        batch.push_back({std::move(*dirFd), folder.relPath});
        if (batch.size() >= kBatch)
            if (auto applied = applyBatch(); !applied)
                return fail(applied.error());
    }
    if (journal)
        if (auto applied = applyBatch(); !applied)
            return fail(applied.error());
    progress.report(done, total, {});
    if (journal) {
        if (auto status = journal->end(report.cancelled ? "cancelled" : "ok",
                                       {{"reverted", report.reverted.size()}});
            !status)
            return fail(status.error());
    }
    return report;
}

} // namespace mm::maildir
