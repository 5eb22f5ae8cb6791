#include "maildir/inventory.h"

#include "maildir/dirreader.h"
#include "maildir/foldermessages.h"
#include "maildir/fsutil.h"
#include "maildir/inventorysummary.h"
#include "maildir/jsonpath.h"
#include "maildir/maildirwalker.h"
#include "maildir/memoformat.h"
#include "maildir/messagememo.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <iterator>
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
bool sawUnreadable(const FolderAnswer &answer)
{
    const auto unreadable = [](const Problem &p) { return p.kind == ProblemKind::Unreadable; };
    return std::any_of(answer.scanProblems.begin(), answer.scanProblems.end(), unreadable) ||
           std::any_of(answer.dupeProblems.begin(), answer.dupeProblems.end(), unreadable);
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
            FolderAnswer answer;
            const auto found = previous.find(folder.relPath);
            const FolderMemo *before = found == previous.end() ? nullptr : &found->second;
            if (before && stillHolds(*before, folder) && recallAnswer(folder.relPath, *before, answer)) {
                memo = *before;
                ++m_report.work.foldersReused;
            } else {
                if (!readFolder(folder, memo, answer))
                    return fail(ErrorCode::Cancelled, "inventory cancelled", m_root.path());
                ++m_report.work.foldersRead;
                memo.trusted = memo.opened && !sawUnreadable(answer) &&
                               memo.stamps.newestNs() < passStart - m_options.racyWindowNs;
                if (!memo.trusted)
                    ++m_report.work.foldersUntrusted;
                rememberAnswer(folder.relPath, before, answer, memo);
            }
            std::string relPath = folder.relPath;
            addToReports(std::move(folder), memo, std::move(answer));
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

    std::string answerPath(const std::string &relPath) const
    {
        return m_report.memoDir + "/folders/" + FolderAnswer::fileNameFor(relPath);
    }

    // The problems and groups of a folder the summary vouches for; false (read the folder) when
    // its answer file is missing, damaged or not the one the summary was written with.
    bool recallAnswer(const std::string &relPath, const FolderMemo &memo, FolderAnswer &answer)
    {
        if (!memo.hasAnswer)
            return true;
        auto loaded = FolderAnswer::load(answerPath(relPath), relPath, memo.answerChecksum);
        if (!loaded)
            return false;
        answer = std::move(*loaded);
        return true;
    }

    // Keeps a read folder's problems and groups in its answer file, written only when they
    // changed: most changes to a busy folder leave its groups as they were.
    void rememberAnswer(const std::string &relPath, const FolderMemo *before,
                        const FolderAnswer &answer, FolderMemo &memo)
    {
        memo.hasAnswer = false;
        if (m_report.memoDir.empty())
            return;
        const std::string path = answerPath(relPath);
        if (answer.empty()) {
            if ((!before || before->hasAnswer) && ::unlink(path.c_str()) == 0)
                ++m_report.work.memoFilesRemoved;
            return;
        }
        const std::string text = answer.toText(relPath);
        const auto checked = checkTrailer(text);
        if (!checked)
            return; // cannot happen: toText writes a valid trailer
        if (auto onDisk = readBoundedFile(path, text.size() + 1); !onDisk || *onDisk != text) {
            if (auto written = replaceFileAtomically(path, text); !written) {
                m_report.memoProblem = written.error().describe();
                return;
            }
            ++m_report.work.memoFilesWritten;
        }
        memo.hasAnswer = true;
        memo.answerChecksum = checked->checksum;
    }

    // Lists the folder once: the scan counts what it finds and hands every message to the
    // duplicate search, which opens only those the memo does not know.
    bool readFolder(const MaildirFolder &folder, FolderMemo &memo, FolderAnswer &answer)
    {
        memo.state = folder.state;
        memo.brokenReason = folder.brokenReason;
        memo.hasTmp = folder.hasTmp;
        memo.stamps = folder.stamps;
        auto folderFd = openDirBeneath(m_root.fd(), folder.relPath, "");
        if (!folderFd) {
            const Problem problem{ProblemKind::Unreadable, folder.relPath, folderFd.error().message};
            answer.scanProblems.push_back(problem);
            answer.dupeProblems.push_back(problem);
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
        Scan::scanFolderAt(folderFd->get(), scan, answer.scanProblems, visitor);
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
            messages.readHeaders([&](std::uint32_t index, MessageEntry &entry, std::string_view base) {
                const bool hit = known.recall(index, entry, base);
                remembered += hit ? 1 : 0;
                return hit;
            });
        if (m_progress.cancelled())
            return false;
        messages.findGroups([&](const MessageEntry &entry, std::string_view base) {
            return known.recallDigest(entry, base);
        });
        memo.dupeMessages = found.messages;
        answer.groups = std::move(found.groups);
        answer.dupeProblems = std::move(found.problems);

        InventoryWork &work = m_report.work;
        work.messagesListed += messages.entries().size();
        work.headersRead += opened;
        work.headersRemembered += remembered;
        work.bodiesHashed += messages.filesHashed();
        work.bodiesRemembered += messages.digestsRemembered();
        work.bytesHashed += found.bytesRead;
        m_report.dupes.bytesRead += found.bytesRead;
        if (auto written = known.replaceWith(messages); !written)
            m_report.memoProblem = written.error().describe();
        else if (*written)
            ++work.memoFilesWritten;
        return true;
    }

    void addToReports(MaildirFolder folder, const FolderMemo &memo, FolderAnswer answer)
    {
        FolderScan scan;
        scan.folder = std::move(folder);
        scan.curMessages = memo.curMessages;
        scan.newMessages = memo.newMessages;
        scan.tmpFiles = memo.tmpFiles;
        ScanReport &s = m_report.scan;
        std::move(answer.scanProblems.begin(), answer.scanProblems.end(), std::back_inserter(s.problems));
        s.totals.add(scan);
        s.folders.push_back(std::move(scan));
        DupesReport &d = m_report.dupes;
        std::move(answer.dupeProblems.begin(), answer.dupeProblems.end(), std::back_inserter(d.problems));
        std::move(answer.groups.begin(), answer.groups.end(), std::back_inserter(d.groups));
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
        for (const auto &[relPath, memo] : previous) {
            if (next.count(relPath))
                continue;
            if (::unlink(MessageMemo(m_report.memoDir, relPath).filePath().c_str()) == 0)
                ++work.memoFilesRemoved;
            if (memo.hasAnswer && ::unlink(answerPath(relPath).c_str()) == 0)
                ++work.memoFilesRemoved;
        }
        if (!m_report.memoLoaded) {
            sweepStrayMemos(next);
            // The JSON summary of memo version 1, replaced by the line format.
            if (::unlink((m_report.memoDir + "/summary.json").c_str()) == 0)
                ++work.memoFilesRemoved;
        }
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
        for (const auto &[relPath, memo] : next) {
            keep.insert(MessageMemo::fileNameFor(relPath));
            if (memo.hasAnswer)
                keep.insert(FolderAnswer::fileNameFor(relPath));
        }
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
                 {"bodiesRemembered", w.bodiesRemembered},
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
