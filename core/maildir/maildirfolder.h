#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace mm::maildir {

// What lstat said about one of a folder's cur, new and tmp (all zero when absent). Creating,
// removing or renaming an entry moves a directory's mtime and ctime; a directory replaced by
// another has another inode. Lets the inventory tell an untouched folder without listing it.
struct DirStamp
{
    std::uint64_t inode = 0;
    std::int64_t mtimeNs = 0;
    std::int64_t ctimeNs = 0;
    std::uint32_t mode = 0;
    bool operator==(const DirStamp &) const = default;
};

struct FolderStamps
{
    DirStamp cur, newDir, tmp;
    bool operator==(const FolderStamps &) const = default;
    // The latest mtime or ctime of the three: how recent the folder's last change is.
    std::int64_t newestNs() const;
};

enum class FolderState
{
    Classic, // new/ is a directory
    CurOnly, // new is the relative symlink "cur"
    Broken,  // cur/ missing, or new missing or pointing anywhere else
};

enum class FolderLayout
{
    Inbox,           // the Maildir itself
    MaildirPlusPlus, // .Name.Sub below the Maildir
    Fs,              // Name/Sub below the Maildir (Dovecot LAYOUT=fs)
};

std::string_view folderStateName(FolderState state);
std::string_view folderLayoutName(FolderLayout layout);

// One mailbox folder found below ROOT. Paths are relative to ROOT, raw bytes ("" = ROOT itself).
struct MaildirFolder
{
    std::string relPath;        // the folder directory (holds cur/, new/, tmp/)
    std::string maildirRelPath; // the Maildir (INBOX) this folder belongs to
    std::string name; // "INBOX", "Sent.2024" (Maildir++ without the dot), "Sent/2024" (fs)
    FolderLayout layout = FolderLayout::Inbox;
    FolderState state = FolderState::Broken;
    std::string brokenReason; // when state == Broken
    bool hasTmp = false;
    FolderStamps stamps; // taken by the walker when it looked at cur, new and tmp; not in JSON
};

void to_json(nlohmann::json &json, const MaildirFolder &folder);

} // namespace mm::maildir
