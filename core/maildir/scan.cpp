#include "maildir/scan.h"

#include "maildir/conflictname.h"
#include "maildir/dirreader.h"
#include "maildir/fsutil.h"
#include "maildir/jsonpath.h"
#include "maildir/maildirname.h"
#include "maildir/maildirwalker.h"

#include <dirent.h>

#include <cstring>

namespace mm::maildir {

void to_json(nlohmann::json &json, const FolderScan &scan)
{
    to_json(json, scan.folder);
    json["curMessages"] = scan.curMessages;
    json["newMessages"] = scan.newMessages;
    json["tmpFiles"] = scan.tmpFiles;
}

void to_json(nlohmann::json &json, const ScanTotals &t)
{
    json = nlohmann::json{
        {"maildirs", t.maildirs},       {"folders", t.folders},   {"classic", t.classic},
        {"curOnly", t.curOnly},         {"broken", t.broken},     {"curMessages", t.curMessages},
        {"newMessages", t.newMessages}, {"tmpFiles", t.tmpFiles}, {"problems", t.problems}};
}

void to_json(nlohmann::json &json, const ScanReport &report)
{
    json = nlohmann::json::object();
    json["schemaVersion"] = ScanReport::kSchemaVersion;
    putPath(json, "root", report.root);
    json["folders"] = report.folders;
    json["problems"] = report.problems;
    json["totals"] = report.totals;
}

namespace {

// Counts the messages of one of cur/ or new/ and reports whatever is not a plain message.
std::uint64_t scanMessageDir(int folderFd, std::uint8_t subdir, const std::string &folderRel,
                             std::vector<Problem> &problems, const Scan::MessageVisitor &visitor)
{
    const char *sub = subdir == 0 ? "cur" : "new";
    const std::string dirRel = joinRel(folderRel, sub);
    auto fd = openDirAt(folderFd, sub, dirRel);
    if (!fd) {
        problems.push_back({fd.error().code == ErrorCode::UnsafePath ? ProblemKind::Symlink
                                                                     : ProblemKind::Unreadable,
                            dirRel, fd.error().message});
        return 0;
    }
    std::uint64_t messages = 0;
    DirReader reader(fd->get());
    DirEntry entry;
    while (reader.next(entry)) {
        const std::string_view name = entry.name;
        if (entry.type != DT_REG) {
            if (entry.type == DT_LNK)
                problems.push_back({ProblemKind::Symlink, joinRel(dirRel, name),
                                    "symlink among messages, not followed"});
            else if (entry.type == DT_DIR)
                problems.push_back({ProblemKind::UnexpectedDirectory, joinRel(dirRel, name),
                                    "directory among messages"});
            else
                problems.push_back({ProblemKind::SpecialFile, joinRel(dirRel, name),
                                    "neither a file nor a directory"});
            continue;
        }
        if (name.front() == '.') {
            if (isSyncthingTempName(name))
                problems.push_back({ProblemKind::SyncthingTemp, joinRel(dirRel, name),
                                    "Syncthing transfer in progress"});
            else if (std::strcmp(sub, "new") == 0)
                problems.push_back({ProblemKind::BadName, joinRel(dirRel, name),
                                    "dotfile in new/ (convert quarantines it)"});
            continue; // dotfiles are not messages
        }
        ++messages;
        if (visitor.message)
            visitor.message(subdir, name, entry.inode);
        const MaildirName parsed = MaildirName::parse(name);
        if (!parsed.valid()) {
            problems.push_back({ProblemKind::BadName, joinRel(dirRel, name),
                                std::string(nameProblemName(parsed.problem))});
            continue;
        }
        if (name.find(".sync-conflict-") != std::string_view::npos) {
            if (auto conflict = ConflictName::parse(name))
                problems.push_back(
                    {ProblemKind::ConflictCopy, joinRel(dirRel, name),
                     "Syncthing conflict copy of " + toValidUtf8(conflict->original)});
        }
    }
    if (reader.error() != 0) {
        problems.push_back({ProblemKind::Unreadable, dirRel, std::strerror(reader.error())});
        if (visitor.readError)
            visitor.readError(subdir, reader.error());
    }
    return messages;
}

std::uint64_t countEntries(int folderFd, const std::string &folderRel,
                           std::vector<Problem> &problems)
{
    auto fd = openDirAt(folderFd, "tmp", joinRel(folderRel, "tmp"));
    if (!fd) {
        if (fd.error().code != ErrorCode::NotFound)
            problems.push_back(
                {ProblemKind::Unreadable, joinRel(folderRel, "tmp"), fd.error().message});
        return 0;
    }
    std::uint64_t count = 0;
    DirReader reader(fd->get());
    DirEntry entry;
    while (reader.next(entry))
        ++count;
    return count;
}

} // namespace

void ScanTotals::add(const FolderScan &scan)
{
    ++folders;
    switch (scan.folder.state) {
    case FolderState::Classic:
        ++classic;
        break;
    case FolderState::CurOnly:
        ++curOnly;
        break;
    case FolderState::Broken:
        ++broken;
        break;
    }
    curMessages += scan.curMessages;
    newMessages += scan.newMessages;
    tmpFiles += scan.tmpFiles;
}

void Scan::scanFolder(int rootFd, FolderScan &scan, std::vector<Problem> &problems)
{
    auto folderFd = openDirBeneath(rootFd, scan.folder.relPath, "");
    if (!folderFd) {
        problems.push_back({ProblemKind::Unreadable, scan.folder.relPath, folderFd.error().message});
        return;
    }
    scanFolderAt(folderFd->get(), scan, problems);
}

void Scan::scanFolderAt(int folderFd, FolderScan &scan, std::vector<Problem> &problems,
                        const MessageVisitor &visitor)
{
    const MaildirFolder &folder = scan.folder;
    if (folder.state == FolderState::Broken && folder.brokenReason == "cur/ is missing") {
        // nothing to count in cur/
    } else if (folder.state != FolderState::Broken || folder.brokenReason != "cur is a symlink") {
        scan.curMessages = scanMessageDir(folderFd, 0, folder.relPath, problems, visitor);
    }
    if (folder.state == FolderState::Classic)
        scan.newMessages = scanMessageDir(folderFd, 1, folder.relPath, problems, visitor);
    if (folder.hasTmp)
        scan.tmpFiles = countEntries(folderFd, folder.relPath, problems);
}

Result<ScanReport> Scan::run(const MailRoot &root, const ProgressSink &progress)
{
    auto tree = MaildirWalker::walk(root, progress);
    if (!tree)
        return fail(tree.error());
    ScanReport report;
    report.root = root.path();
    report.problems = std::move(tree->problems);
    report.totals.maildirs = tree->maildirCount;
    report.folders.reserve(tree->folders.size());
    const std::uint64_t total = tree->folders.size();
    for (MaildirFolder &folder : tree->folders) {
        if (progress.cancelled())
            return fail(ErrorCode::Cancelled, "scan cancelled");
        FolderScan scan;
        scan.folder = std::move(folder);
        scanFolder(root.fd(), scan, report.problems);
        report.totals.add(scan);
        report.folders.push_back(std::move(scan));
        progress.report(report.folders.size(), total, report.folders.back().folder.relPath);
    }
    report.totals.problems = report.problems.size();
    return report;
}

} // namespace mm::maildir
