#include "maildir/inventory.h"

#include "maildir/dirreader.h"
#include "maildir/foldermessages.h"
#include "maildir/fsutil.h"
#include "maildir/inventorysummary.h"
#include "maildir/jsonpath.h"
#include "maildir/maildirwalker.h"
#include "maildir/messagememo.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace mm::maildir {

namespace {

std::int64_t nowNs()
{
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

bool stillHolds(const FolderMemo &memo, const MaildirFolder &folder)
{
    return memo.trusted && memo.stamps == folder.stamps && memo.state == folder.state &&
           memo.brokenReason == folder.brokenReason && memo.hasTmp == folder.hasTmp;
}

// A file the agent may not read shows in no directory stamp (chmod moves only the file's
// ctime): a folder that had one is read again until it has none.
bool sawUnreadable(const FolderMemo &memo)
{
    const auto unreadable = [](const Problem &p) { return p.kind == ProblemKind::Unreadable; };
    return std::any_of(memo.scanProblems.begin(), memo.scanProblems.end(), unreadable) ||
           std::any_of(memo.dupeProblems.begin(), memo.dupeProblems.end(), unreadable);
}

class Pass
{
public:
    Pass(const MailRoot &root, const InventoryOptions &options, const ProgressSink &progress,
         InventoryReport &report)
        : m_root(root)
        , m_options(options)
        , m_progress(progress)
        , m_report(report)
    {
    }

    Status run()
    {
        const std::int64_t passStart = nowNs();
        prepareMemoDir();
        auto tree = MaildirWalker::walk(m_root, m_progress);
        if (!tree)
            return fail(tree.error());
        std::map<std::string, FolderMemo> previous;
        if (!m_report.memoDir.empty()) {
            if (auto loaded = InventorySummary::load(m_report.memoDir, m_root.path())) {
                previous = std::move(*loaded);
                m_report.memoLoaded = true;
            }
        }
        startReports(*tree);
        std::map<std::string, FolderMemo> next;
        const std::uint64_t total = tree->folders.size();
        for (MaildirFolder &folder : tree->folders) {
            if (m_progress.cancelled())
                return fail(ErrorCode::Cancelled, "inventory cancelled", m_root.path());
            FolderMemo memo;
            const auto found = previous.find(folder.relPath);
            if (found != previous.end() && stillHolds(found->second, folder)) {
                memo = std::move(found->second);
                ++m_report.work.foldersReused;
            } else {
                if (!readFolder(folder, memo))
                    return fail(ErrorCode::Cancelled, "inventory cancelled", m_root.path());
                ++m_report.work.foldersRead;
                memo.trusted = memo.opened && !sawUnreadable(memo) &&
                               memo.stamps.newestNs() < passStart - m_options.racyWindowNs;
                if (!memo.trusted)
                    ++m_report.work.foldersUntrusted;
            }
            std::string relPath = folder.relPath;
            addToReports(std::move(folder), memo);
            m_progress.report(next.size() + 1, total, relPath);
            next.emplace(std::move(relPath), std::move(memo));
        }
        m_report.scan.totals.problems = m_report.scan.problems.size();
        remember(previous, next);
        return {};
    }

private:
    void prepareMemoDir()
    {
        const std::string &dir = m_options.memoDir;
        if (dir.empty())
            return;
        for (const std::string &path : {dir, dir + "/folders"})
            if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
                m_report.memoProblem = path + ": " + std::strerror(errno) + ": nothing remembered";
                return;
            }
        m_report.memoDir = dir;
    }

    void startReports(MaildirTree &tree)
    {
        ScanReport &scan = m_report.scan;
        scan.root = m_root.path();
        scan.problems = tree.problems;
        scan.totals.maildirs = tree.maildirCount;
        scan.folders.reserve(tree.folders.size());
        DupesReport &dupes = m_report.dupes;
        dupes.root = m_root.path();
        dupes.problems = std::move(tree.problems);
        m_report.walkProblems = dupes.problems.size();
    }

    // Lists the folder once: the scan counts what it finds and hands every message to the
    // duplicate search, which opens only those the memo does not know.
    bool readFolder(const MaildirFolder &folder, FolderMemo &memo)
    {
        memo.state = folder.state;
        memo.brokenReason = folder.brokenReason;
        memo.hasTmp = folder.hasTmp;
        memo.stamps = folder.stamps;
        auto folderFd = openDirBeneath(m_root.fd(), folder.relPath, "");
        if (!folderFd) {
            const Problem problem{ProblemKind::Unreadable, folder.relPath, folderFd.error().message};
            memo.scanProblems.push_back(problem);
            memo.dupeProblems.push_back(problem);
            return true;
        }
        memo.opened = true;
        FolderScan scan;
        scan.folder = folder;
        DupesReport found;
        FolderMessages messages(folderFd->get(), folder.relPath, found, m_progress);
        Scan::MessageVisitor visitor;
        visitor.message = [&](std::uint8_t subdir, std::string_view name, std::uint64_t inode) {
            messages.add(subdir, name, inode);
        };
        visitor.readError = [&](std::uint8_t subdir, int error) { messages.addReadError(subdir, error); };
        Scan::scanFolderAt(folderFd->get(), scan, memo.scanProblems, visitor);
        // The duplicate search also looks into a broken folder's real new/ directory, which
        // the scan does not count.
        if (folder.state == FolderState::Broken)
            messages.list(1);
        memo.curMessages = scan.curMessages;
        memo.newMessages = scan.newMessages;
        memo.tmpFiles = scan.tmpFiles;

        MessageMemo known(m_report.memoDir, folder.relPath);
        known.load();
        std::uint64_t remembered = 0;
        const std::uint64_t opened =
            messages.readHeaders([&](MessageEntry &entry, std::string_view base) {
                const bool hit = known.recall(entry, base);
                remembered += hit ? 1 : 0;
                return hit;
            });
        if (m_progress.cancelled())
            return false;
        messages.findGroups();
        memo.dupeMessages = found.messages;
        memo.groups = std::move(found.groups);
        memo.dupeProblems = std::move(found.problems);

        InventoryWork &work = m_report.work;
        work.messagesListed += messages.entries().size();
        work.headersRead += opened;
        work.headersRemembered += remembered;
        work.bodiesHashed += messages.filesHashed();
        work.bytesHashed += found.bytesRead;
        m_report.dupes.bytesRead += found.bytesRead;
        if (auto written = known.replaceWith(messages); !written)
            m_report.memoProblem = written.error().describe();
        else if (*written)
            ++work.memoFilesWritten;
        return true;
    }

    void addToReports(MaildirFolder folder, const FolderMemo &memo)
    {
        FolderScan scan;
        scan.folder = std::move(folder);
        scan.curMessages = memo.curMessages;
        scan.newMessages = memo.newMessages;
        scan.tmpFiles = memo.tmpFiles;
        ScanReport &s = m_report.scan;
        s.problems.insert(s.problems.end(), memo.scanProblems.begin(), memo.scanProblems.end());
        s.totals.add(scan);
        s.folders.push_back(std::move(scan));
        DupesReport &d = m_report.dupes;
        d.problems.insert(d.problems.end(), memo.dupeProblems.begin(), memo.dupeProblems.end());
        d.groups.insert(d.groups.end(), memo.groups.begin(), memo.groups.end());
        d.messages += memo.dupeMessages;
        d.folders += memo.opened ? 1 : 0;
    }

    // Saves the summary when anything in it moved, and forgets the folders that are gone.
    void remember(const std::map<std::string, FolderMemo> &previous,
                  const std::map<std::string, FolderMemo> &next)
    {
        if (m_report.memoDir.empty())
            return;
        InventoryWork &work = m_report.work;
        for (const auto &[relPath, memo] : previous)
            if (!next.count(relPath) &&
                ::unlink(MessageMemo(m_report.memoDir, relPath).filePath().c_str()) == 0)
                ++work.memoFilesRemoved;
        if (!m_report.memoLoaded)
            sweepStrayMemos(next);
        const bool changed = work.foldersRead > 0 || previous.size() != next.size() ||
                             !m_report.memoLoaded;
        if (!changed)
            return;
        if (auto saved = InventorySummary::save(m_report.memoDir, m_root.path(), next); !saved)
            m_report.memoProblem = saved.error().describe();
        else
            ++work.memoFilesWritten;
    }

    // Without a summary nobody knows which message memos are stale (folders deleted while the
    // summary was damaged, temporaries of a killed pass): keep only the current folders'.
    void sweepStrayMemos(const std::map<std::string, FolderMemo> &next)
    {
        std::set<std::string> keep;
        for (const auto &entry : next)
            keep.insert(MessageMemo::fileNameFor(entry.first));
        const std::string dir = m_report.memoDir + "/folders";
        auto fd = openDirAt(AT_FDCWD, dir.c_str(), dir);
        if (!fd)
            return;
        std::vector<std::string> stray;
        DirReader reader(fd->get());
        DirEntry entry;
        while (reader.next(entry))
            if (entry.type == DT_REG && !keep.count(std::string(entry.name)))
                stray.emplace_back(entry.name);
        for (const std::string &name : stray)
            if (::unlinkat(fd->get(), name.c_str(), 0) == 0)
                ++m_report.work.memoFilesRemoved;
    }

    const MailRoot &m_root;
    const InventoryOptions &m_options;
    const ProgressSink &m_progress;
    InventoryReport &m_report;
};

} // namespace

Result<InventoryReport> Inventory::run(const MailRoot &root, const InventoryOptions &options,
                                       const ProgressSink &progress)
{
    InventoryReport report;
    Pass pass(root, options, progress, report);
    if (auto status = pass.run(); !status)
        return fail(status.error());
    return report;
}

void to_json(nlohmann::json &j, const InventoryReport &report)
{
    j = nlohmann::json::object();
    j["schemaVersion"] = InventoryReport::kSchemaVersion;
    putPath(j, "root", report.scan.root);
    j["folders"] = report.scan.folders;
    j["totals"] = report.scan.totals;
    j["problems"] = report.scan.problems;
    j["groups"] = report.dupes.groups;
    // The walk's problems are in `problems` already: only what the duplicate search added.
    j["dupeProblems"] = nlohmann::json::array();
    for (std::size_t i = report.walkProblems; i < report.dupes.problems.size(); ++i)
        j["dupeProblems"].push_back(report.dupes.problems[i]);
    j["dupeTotals"] = {{"folders", report.dupes.folders},
                       {"messages", report.dupes.messages},
                       {"groups", report.dupes.groups.size()},
                       {"bytesRead", report.dupes.bytesRead}};
    const InventoryWork &w = report.work;
    j["work"] = {{"foldersReused", w.foldersReused},
                 {"foldersRead", w.foldersRead},
                 {"foldersUntrusted", w.foldersUntrusted},
                 {"messagesListed", w.messagesListed},
                 {"headersRead", w.headersRead},
                 {"headersRemembered", w.headersRemembered},
                 {"bodiesHashed", w.bodiesHashed},
                 {"bytesHashed", w.bytesHashed},
                 {"memoFilesWritten", w.memoFilesWritten},
                 {"memoFilesRemoved", w.memoFilesRemoved}};
    nlohmann::json memo = nlohmann::json::object();
    if (report.memoDir.empty())
        memo["dir"] = nullptr;
    else
        putPath(memo, "dir", report.memoDir);
    memo["loaded"] = report.memoLoaded;
    if (!report.memoProblem.empty())
        memo["problem"] = toValidUtf8(report.memoProblem);
    j["memo"] = std::move(memo);
}

} // namespace mm::maildir
