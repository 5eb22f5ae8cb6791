#pragma once

#include "common/result.h"
#include "maildir/foldermessages.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mm::maildir {

// What the inventory learnt by opening the messages of one folder, so that a changed folder
// costs a listing and only its new messages are opened: per (BASE, inode), the size and the
// Message-ID key. A flag change renames the file and keeps both, so it still hits; a file
// replaced under the same name has another inode, so it is read again. Messages are immutable
// in Maildir, which is what makes size and Message-ID safe to remember.
//
// One text file per folder, <memoDir>/folders/<first 32 hex of SHA-256(folder path)>.memo:
//   mailmesh-inventory-messages 1 <folder path in hex>
//   <inode> <size> <key, 16 hex> <1 with a Message-ID, else 0> <BASE>      sorted by BASE, inode
//   end <records> <FNV-1a 64 of every byte above, 16 hex>
// Anything else (torn, damaged, another version, another folder's) is ignored as a whole: it
// costs a re-read, never a wrong answer.
class MessageMemo
{
public:
    static constexpr int kVersion = 1;

    // `memoDir` empty: nothing is remembered or written.
    MessageMemo(std::string memoDir, const std::string &folderRelPath);

    static std::string fileNameFor(const std::string &folderRelPath);

    // False when there is no usable file (then every message is opened).
    bool load();
    // Fills size, key and kHasMessageId of `entry` when its (BASE, inode) is remembered.
    bool recall(MessageEntry &entry, std::string_view base) const;
    // Remembers the readable messages of `messages` instead of what was loaded, writing the file
    // (temporary + rename) only when its contents change. True when it wrote.
    Result<bool> replaceWith(const FolderMessages &messages);

    const std::string &filePath() const { return m_file; }

private:
    struct Record
    {
        std::string_view base; // into m_text
        std::uint64_t inode = 0;
        std::uint64_t size = 0;
        std::uint64_t key = 0;
        bool hasMessageId = false;
    };

    bool parse();
    std::string header() const;

    std::string m_dir;
    std::string m_folderRel;
    std::string m_file;
    std::string m_text; // the file as loaded; records point into it
    std::vector<Record> m_records;
};

// Writes `text` to `path` through a temporary file in the same directory and a rename, so a
// reader sees the old file or the new one, never a torn one. Creates no directory.
Status replaceFileAtomically(const std::string &path, std::string_view text);

// FNV-1a, 64 bits: the memo files' checksum against torn or damaged bytes (not an adversary:
// the state dir is the agent user's own, mode 0700).
std::uint64_t memoChecksum(std::string_view bytes);

} // namespace mm::maildir
