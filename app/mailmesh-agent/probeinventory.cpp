#include "probeinventory.h"

#include "maildir/dirreader.h"
#include "maildir/fsutil.h"
#include "maildir/maildirwalker.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <string_view>

namespace mm::agent {

namespace {

using Inventory = protocol::ProbeReport::Inventory;

class InventoryPass
{
public:
    InventoryPass(const maildir::MailRoot &root, Inventory &inventory)
        : m_root(root)
        , m_inventory(inventory)
    {
    }

    void folder(const maildir::MaildirFolder &folder)
    {
        auto fd = maildir::openDirBeneath(m_root.fd(), folder.relPath, m_root.path());
        if (!fd) {
            ++m_inventory.problems;
            return;
        }
        struct stat st;
        if (::fstat(fd->get(), &st) == 0)
            own(st);
        // Messages are counted the way `scan` counts them: regular files not starting with '.'
        // in cur/, and in new/ only when it is a real directory of a classic folder.
        const bool countNew = folder.state == maildir::FolderState::Classic;
        maildir::DirReader reader(fd->get());
        maildir::DirEntry entry;
        while (reader.next(entry)) {
            const std::string_view name = entry.name;
            const bool messageDir = name == "cur" || name == "new" || name == "tmp";
            if (!messageDir && entry.type == DT_DIR)
                continue; // a subfolder counts as a folder of its own; anything else is not mail
            if (::fstatat(fd->get(), name.data(), &st, AT_SYMLINK_NOFOLLOW) != 0)
                continue; // gone since it was listed
            own(st);
            if (messageDir && S_ISDIR(st.st_mode))
                messageDirectory(fd->get(), name.data(), folder.relPath,
                                 name == "cur" || (name == "new" && countNew));
        }
        if (reader.error() != 0)
            ++m_inventory.problems;
    }

    // A directory between ROOT and the folders (ROOT itself included): owned, not listed.
    void directoryAbove(const std::string &relPath)
    {
        auto fd = maildir::openDirBeneath(m_root.fd(), relPath, m_root.path());
        struct stat st;
        if (fd && ::fstat(fd->get(), &st) == 0)
            own(st);
    }

    const std::map<std::uint32_t, std::uint64_t> &owners() const { return m_owners; }

private:
    void own(const struct stat &st) { ++m_owners[st.st_uid]; }

    void messageDirectory(int folderFd, const char *sub, const std::string &folderRel,
                          bool countMessages)
    {
        auto fd = maildir::openDirAt(folderFd, sub, maildir::joinRel(folderRel, sub));
        if (!fd) {
            ++m_inventory.problems;
            return;
        }
        maildir::DirReader reader(fd->get());
        maildir::DirEntry entry;
        struct stat st;
        while (reader.next(entry)) {
            if (::fstatat(fd->get(), entry.name.data(), &st, AT_SYMLINK_NOFOLLOW) != 0)
                continue;
            own(st);
            if (countMessages && S_ISREG(st.st_mode) && entry.name.front() != '.') {
                ++m_inventory.messages;
                m_inventory.bytes += static_cast<std::uint64_t>(st.st_size);
            }
        }
        if (reader.error() != 0)
            ++m_inventory.problems;
    }

    const maildir::MailRoot &m_root;
    Inventory &m_inventory;
    std::map<std::uint32_t, std::uint64_t> m_owners;
};

// Every folder directory and every directory above it up to ROOT ("" = ROOT).
std::set<std::string> directoriesDownToFolders(const std::vector<maildir::MaildirFolder> &folders)
{
    std::set<std::string> directories;
    if (!folders.empty())
        directories.insert(std::string());
    for (const auto &folder : folders) {
        std::string_view path = folder.relPath;
        while (!path.empty() && directories.insert(std::string(path)).second) {
            const auto slash = path.rfind('/');
            path = slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
        }
    }
    return directories;
}

} // namespace

Result<Inventory> takeInventory(const maildir::MailRoot &root,
                                const std::map<std::uint32_t, std::string> &users,
                                const maildir::ProgressSink &progress)
{
    auto tree = maildir::MaildirWalker::walk(root, progress);
    if (!tree)
        return fail(tree.error());
    Inventory inventory;
    inventory.maildirs = tree->maildirCount;
    inventory.problems = tree->problems.size();
    InventoryPass pass(root, inventory);
    const std::set<std::string> directories = directoriesDownToFolders(tree->folders);
    for (const auto &folder : tree->folders) {
        if (progress.cancelled())
            return fail(ErrorCode::Cancelled, "probe was cancelled");
        ++inventory.folders;
        switch (folder.state) {
        case maildir::FolderState::Classic:
            ++inventory.classicFolders;
            break;
        case maildir::FolderState::CurOnly:
            ++inventory.curOnlyFolders;
            break;
        case maildir::FolderState::Broken:
            ++inventory.brokenFolders;
            break;
        }
        pass.folder(folder);
        progress.report(inventory.folders, tree->folders.size(), folder.relPath);
    }
    // Folder directories were counted with their contents; the ones above them are counted here.
    std::set<std::string> folderPaths;
    for (const auto &folder : tree->folders)
        folderPaths.insert(folder.relPath);
    for (const auto &directory : directories)
        if (!folderPaths.contains(directory))
            pass.directoryAbove(directory);

    // Syncthing's watcher takes one inotify watch per directory: cur/, new/ and tmp/ of every
    // folder, plus every directory from ROOT down to each folder.
    inventory.inotifyWatchesNeeded = 3 * inventory.folders + directories.size();

    for (const auto &[uid, files] : pass.owners()) {
        const auto user = users.find(uid);
        inventory.owners.push_back(
            {uid, user == users.end() ? std::string() : user->second, files});
    }
    std::stable_sort(inventory.owners.begin(), inventory.owners.end(),
                     [](const auto &a, const auto &b) { return a.files > b.files; });
    return inventory;
}

} // namespace mm::agent
