#pragma once

#include "common/result.h"
#include "maildir/foldermessages.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mm::maildir {

// What the inventory learnt by opening the messages of one folder, so that a changed folder
// costs a listing and only its new messages are opened: per (BASE, inode), the size and the
// Message-ID key, and for the messages that were hashed as duplicate candidates their digests
// with the size and mtime of the file hashed. A flag change renames the file and keeps BASE and
// inode, so it still hits; a file replaced under the same name has another inode, so it is read
// again; a digest is also checked against the file's size and mtime before it is believed.
// Messages are immutable in Maildir, which is what makes all this safe to remember.
//
// One file per folder, <memoDir>/folders/<first 32 hex of SHA-256(folder path)>.memo. It is
// read and rewritten whenever its folder changes (every 30 s for a busy INBOX), so it is binary
// and loaded without parsing; host byte order, as the memo never leaves its node:
//   Header, the folder path, Record[records] sorted by (inode, BASE), StoredDigest[digests],
//   the BASEs and Message-IDs, and hashBytes() of all of it as the last 8 bytes.
// Anything else (torn, damaged, another version, another folder's) is ignored as a whole: it
// costs a re-read, never a wrong answer.
class MessageMemo
{
public:
    static constexpr std::uint32_t kVersion = 2;

    // `memoDir` empty: nothing is remembered or written.
    MessageMemo(std::string memoDir, const std::string &folderRelPath);

    static std::string fileNameFor(const std::string &folderRelPath);

    // False when there is no usable file (then every message is opened).
    bool load();
    // Fills size, key and kHasMessageId of `entry` (entries()[index] of the FolderMessages later
    // given to replaceWith) when its (BASE, inode) is remembered.
    bool recall(std::uint32_t index, MessageEntry &entry, std::string_view base);
    // The digest remembered for (BASE, inode), to be checked against the file's size and mtime.
    std::optional<FolderMessages::FileDigest> recallDigest(const MessageEntry &entry,
                                                           std::string_view base) const;
    // Remembers the readable messages of `messages`, and the digests this pass has of them,
    // instead of what was loaded; writes the file (temporary + rename) only when its contents
    // change. True when it wrote.
    Result<bool> replaceWith(const FolderMessages &messages);

    const std::string &filePath() const { return m_file; }
    // The inodes of the messages remembered with digests (the duplicate candidates), sorted.
    std::vector<std::uint64_t> hashedInodes() const;

    struct Header
    {
        char magic[8];
        std::uint32_t version;
        std::uint32_t byteOrder;
        std::uint64_t records;
        std::uint64_t digests;
        std::uint64_t stringBytes;
        std::uint64_t folderBytes;
    };
    struct Record
    {
        std::uint64_t inode;
        std::uint64_t size;
        std::uint64_t key;
        std::uint32_t baseAt; // into the string bytes
        std::uint16_t baseLen;
        std::uint8_t hasMessageId;
        std::uint8_t reserved;
        std::uint32_t digest; // 1 + index into the digests, 0 when not hashed
        std::uint32_t reserved2;
    };
    struct StoredDigest
    {
        std::uint64_t statSize;
        std::int64_t mtimeNs;
        Sha256::Digest full;
        Sha256::Digest body;
        std::uint32_t messageIdAt; // into the string bytes
        std::uint32_t messageIdLen;
    };

private:
    bool parse();
    void forget();
    // Records are read in place from m_bytes (memcpy: the buffer has no alignment promise).
    Record recordAt(std::size_t i) const;
    std::uint64_t inodeAt(std::size_t i) const;
    std::optional<std::size_t> find(std::uint64_t inode, std::string_view base) const;
    std::string_view text(std::uint32_t at, std::uint32_t len) const
    {
        return m_strings.substr(at, len);
    }
    std::string build(const FolderMessages &messages) const;

    std::string m_dir;
    std::string m_folderRel;
    std::string m_file;
    std::string m_bytes; // the file as loaded (or last written): unchanged contents are not written
    std::size_t m_recordsAt = 0;
    std::size_t m_recordCount = 0;
    std::size_t m_digestsAt = 0;
    std::size_t m_digestCount = 0;
    std::string_view m_strings; // into m_bytes
    // Per record, the entry index + 1 that recalled it: kept records are written again in their
    // order, so only the new messages need sorting.
    std::vector<std::uint32_t> m_recalledBy;
};

} // namespace mm::maildir
