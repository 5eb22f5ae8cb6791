#include "maildir/maildirwalker.h"

#include "maildir/canarydir.h"
#include "maildir/dirreader.h"
#include "maildir/fsutil.h"
#include "maildir/keywordfiles.h"
#include "maildir/subscriptionfiles.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>

namespace mm::maildir {

namespace {

bool isSkippedName(std::string_view name)
{
    return name == ".stfolder" || name == ".stversions" || name == ".mailmesh-state";
}

// The replication canary's probes lie directly in ROOT (canarydir.h): not mail. Deeper down the
// same name would be a user's Maildir++ folder, which is walked as any other.
bool isCanaryDir(std::string_view relPath, std::string_view name)
{
    return relPath.empty() && name == CanaryDir::kDirName;
}

bool isMessageDirName(std::string_view name)
{
    return name == "cur" || name == "new" || name == "tmp";
}

// The per-node keyword and subscription files of a cluster (keywordfiles.h, subscriptionfiles.h):
// never a LAYOUT=fs folder.
bool isSharedStateDirName(std::string_view name)
{
    return name == kKeywordsNodeDirName || name == kSubscriptionsNodeDirName;
}

class Walk
{
public:
    Walk(const MailRoot &root, const ProgressSink &progress, MaildirTree &tree)
        : m_root(root)
        , m_progress(progress)
        , m_tree(tree)
    {
    }

    Status run()
    {
        // Reopened, not dup()ed: a dup would share the read offset with every later walk.
        UniqueFd fd(::openat(m_root.fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!fd.valid())
            return fail(errnoError(errno, "dup", m_root.path()));
        return walkPlain(std::move(fd), std::string(), 0);
    }

private:
    void problem(ProblemKind kind, std::string path, std::string detail)
    {
        m_tree.problems.push_back(Problem{kind, std::move(path), std::move(detail)});
    }

    // Opens a child directory, reporting (not failing) on symlinks, permission and mounts.
    UniqueFd openChild(int parentFd, const char *name, const std::string &relPath)
    {
        auto fd = openDirAt(parentFd, name, relPath);
        if (!fd) {
            const ErrorCode code = fd.error().code;
            problem(code == ErrorCode::UnsafePath     ? ProblemKind::Symlink
                    : code == ErrorCode::AccessDenied ? ProblemKind::Unreadable
                                                      : ProblemKind::Unreadable,
                    relPath, fd.error().message);
            return {};
        }
        struct stat st;
        if (::fstat(fd->get(), &st) != 0) {
            problem(ProblemKind::Unreadable, relPath, std::strerror(errno));
            return {};
        }
        if (st.st_dev != m_root.device()) {
            problem(ProblemKind::OtherFilesystem, relPath,
                    "another filesystem is mounted here; not walked");
            return {};
        }
        return std::move(*fd);
    }

    // A directory that is not (yet) inside a Maildir: either it is one, or we look below it.
    Status walkPlain(UniqueFd dirFd, std::string relPath, int depth)
    {
        if (m_progress.cancelled())
            return fail(ErrorCode::Cancelled, "cancelled");
        MaildirFolder folder;
        folder.relPath = relPath;
        if (MaildirWalker::inspectFolder(dirFd.get(), folder)) {
            folder.maildirRelPath = relPath;
            folder.name = "INBOX";
            folder.layout = FolderLayout::Inbox;
            ++m_tree.maildirCount;
            addFolder(std::move(folder));
            return walkMaildir(dirFd.get(), relPath, relPath, depth);
        }
        if (depth >= MaildirWalker::kMaxDepth) {
            problem(ProblemKind::TooDeep, relPath, "not walked below this depth");
            return {};
        }
        std::vector<std::string> childDirs;
        {
            DirReader reader(dirFd.get());
            DirEntry entry;
            while (reader.next(entry)) {
                if (entry.type == DT_DIR && !isSkippedName(entry.name) && !isCanaryDir(relPath, entry.name))
                    childDirs.emplace_back(entry.name);
                else if (entry.type == DT_LNK)
                    problem(ProblemKind::Symlink, joinRel(relPath, entry.name),
                            "symlink not followed");
            }
            if (reader.error() != 0)
                problem(ProblemKind::Unreadable, relPath, std::strerror(reader.error()));
        }
        std::sort(childDirs.begin(), childDirs.end());
        for (const std::string &child : childDirs) {
            const std::string childRel = joinRel(relPath, child);
            UniqueFd childFd = openChild(dirFd.get(), child.c_str(), childRel);
            if (!childFd.valid())
                continue;
            if (auto status = walkPlain(std::move(childFd), childRel, depth + 1); !status)
                return status;
        }
        return {};
    }

    // The subfolders of the Maildir at maildirRel, looking into directory `dirRel` (the Maildir
    // itself, or an fs-layout folder below it).
    Status walkMaildir(int dirFd, const std::string &maildirRel, const std::string &dirRel,
                       int depth)
    {
        if (depth >= MaildirWalker::kMaxDepth) {
            problem(ProblemKind::TooDeep, dirRel, "not walked below this depth");
            return {};
        }
        const bool atMaildir = dirRel == maildirRel;
        std::vector<std::string> childDirs;
        {
            DirReader reader(dirFd);
            DirEntry entry;
            while (reader.next(entry)) {
                if (isMessageDirName(entry.name) || isSkippedName(entry.name) ||
                    isSharedStateDirName(entry.name))
                    continue;
                if (entry.type == DT_DIR) {
                    // Maildir++ folders exist only directly below the Maildir.
                    if (entry.name.front() != '.' || atMaildir)
                        childDirs.emplace_back(entry.name);
                } else if (entry.type == DT_LNK) {
                    problem(ProblemKind::Symlink, joinRel(dirRel, entry.name),
                            "symlink not followed");
                }
            }
            if (reader.error() != 0)
                problem(ProblemKind::Unreadable, dirRel, std::strerror(reader.error()));
        }
        std::sort(childDirs.begin(), childDirs.end());
        for (const std::string &child : childDirs) {
            if (m_progress.cancelled())
                return fail(ErrorCode::Cancelled, "cancelled");
            const std::string childRel = joinRel(dirRel, child);
            UniqueFd childFd = openChild(dirFd, child.c_str(), childRel);
            if (!childFd.valid())
                continue;
            MaildirFolder folder;
            folder.relPath = childRel;
            folder.maildirRelPath = maildirRel;
            const bool isFolder = MaildirWalker::inspectFolder(childFd.get(), folder);
            if (child.front() == '.') {
                if (!isFolder)
                    continue; // e.g. an index directory: not a mailbox
                folder.layout = FolderLayout::MaildirPlusPlus;
                folder.name = child.substr(1);
                struct stat st;
                if (::fstatat(childFd.get(), "maildirfolder", &st, AT_SYMLINK_NOFOLLOW) != 0)
                    problem(ProblemKind::MissingMaildirfolder, childRel,
                            "Maildir++ folder without a maildirfolder file");
                addFolder(std::move(folder));
                continue;
            }
            // LAYOUT=fs: a folder when it has cur/ or new/; either way its children may be.
            folder.layout = FolderLayout::Fs;
            folder.name = maildirRel.empty() ? childRel : childRel.substr(maildirRel.size() + 1);
            if (isFolder)
                addFolder(std::move(folder));
            if (auto status = walkMaildir(childFd.get(), maildirRel, childRel, depth + 1); !status)
                return status;
        }
        return {};
    }

    void addFolder(MaildirFolder folder)
    {
        if (folder.state == FolderState::Broken)
            problem(ProblemKind::BrokenFolder, folder.relPath, folder.brokenReason);
        else if (!folder.hasTmp)
            problem(ProblemKind::MissingTmp, folder.relPath, "no tmp/ directory");
        m_tree.folders.push_back(std::move(folder));
        m_progress.report(m_tree.folders.size(), 0, m_tree.folders.back().relPath);
    }

    const MailRoot &m_root;
    const ProgressSink &m_progress;
    MaildirTree &m_tree;
};

} // namespace

bool MaildirWalker::inspectFolder(int dirfd, MaildirFolder &folder)
{
    struct stat cur{}, tmp{};
    const bool hasCurEntry = ::fstatat(dirfd, "cur", &cur, AT_SYMLINK_NOFOLLOW) == 0;
    struct stat newSt{};
    const bool hasNewEntry = ::fstatat(dirfd, "new", &newSt, AT_SYMLINK_NOFOLLOW) == 0;
    if (!hasCurEntry && !hasNewEntry)
        return false;
    const bool hasTmpEntry = ::fstatat(dirfd, "tmp", &tmp, AT_SYMLINK_NOFOLLOW) == 0;
    folder.hasTmp = hasTmpEntry && S_ISDIR(tmp.st_mode);
    const auto stampOf = [](bool present, const struct stat &st) {
        if (!present)
            return DirStamp{};
        return DirStamp{static_cast<std::uint64_t>(st.st_ino),
                        std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                        std::int64_t(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec,
                        static_cast<std::uint32_t>(st.st_mode)};
    };
    folder.stamps = {stampOf(hasCurEntry, cur), stampOf(hasNewEntry, newSt),
                     stampOf(hasTmpEntry, tmp)};
    folder.state = FolderState::Broken;
    if (!hasCurEntry) {
        folder.brokenReason = "cur/ is missing";
        return true;
    }
    if (!S_ISDIR(cur.st_mode)) {
        folder.brokenReason = S_ISLNK(cur.st_mode) ? "cur is a symlink" : "cur is not a directory";
        return true;
    }
    if (!hasNewEntry) {
        folder.brokenReason = "new is missing";
        return true;
    }
    if (S_ISDIR(newSt.st_mode)) {
        folder.state = FolderState::Classic;
        return true;
    }
    if (S_ISLNK(newSt.st_mode)) {
        std::array<char, 64> target{};
        const ssize_t n = ::readlinkat(dirfd, "new", target.data(), target.size());
        const std::string_view to(target.data(), n > 0 ? std::size_t(n) : 0);
        if (to == "cur" || to == "cur/") {
            folder.state = FolderState::CurOnly;
            return true;
        }
        folder.brokenReason = "new is a symlink to something other than cur";
        return true;
    }
    folder.brokenReason = "new is neither a directory nor the symlink new -> cur";
    return true;
}

bool MaildirWalker::lacksOnlyNew(int dirfd)
{
    struct stat st;
    return ::fstatat(dirfd, "cur", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
           ::fstatat(dirfd, "new", &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT;
}

Result<MaildirTree> MaildirWalker::walk(const MailRoot &root, const ProgressSink &progress)
{
    MaildirTree tree;
    Walk walk(root, progress, tree);
    if (auto status = walk.run(); !status)
        return fail(status.error());
    std::sort(tree.folders.begin(), tree.folders.end(),
              [](const MaildirFolder &a, const MaildirFolder &b) { return a.relPath < b.relPath; });
    return tree;
}

} // namespace mm::maildir
