#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace mm::maildir {

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
};

void to_json(nlohmann::json &json, const MaildirFolder &folder);

} // namespace mm::maildir
