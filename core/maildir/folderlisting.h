#pragma once

#include "common/result.h"
#include "maildir/maildirfolder.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mm::maildir {

// What one listing of a folder held, so that the next pass can tell what a change did to it
// without rebuilding the folder's answer: per entry of cur/ and new/, a hash of (subdir, name,
// inode), and the two things that decide whether a message joins a duplicate group, the hash of
// its BASE and its candidate key (the Message-ID key, or the size without a Message-ID).
//
// Written only for a folder whose listing was plain: every entry a readable message with a
// valid name, no conflict copy, no problem. The inventory then updates such a folder in place
// when its only changes are new messages that share neither a BASE nor a candidate key with any
// other, and renames (a flag change: same inode, same BASE) of messages in no group; anything
// else, and any doubt, reads the folder as before (inventory.cpp, "updateFolder").
//
// <memoDir>/folders/<32 hex>.listing, binary in host byte order like the message memo: a header
// (version, the stamps, counts and answer checksum of the summary line it was written with),
// the folder path, the entries in the order the directory listed them (cur/, then a classic
// folder's new/), and hashBytes() of all of it. A file that does not match its summary line
// (another pass's, another folder's, damaged) is not believed.
//
// Directory order because a directory lists its names in the same order until it changes (ext4
// and XFS by the hash of the name, tmpfs and btrfs by creation): the next listing is compared
// with this one by a walk (next()) instead of a lookup per name, and the few names that were
// added come in between. Where the order is not kept, the walk finds nothing, and the update
// gives up and reads the folder in full: slower, never wrong.
struct FolderListing
{
    static constexpr std::uint32_t kVersion = 2; // 1 was sorted by name hash

    struct Entry
    {
        std::uint64_t nameHash = 0; // listingNameHash(subdir, name, inode)
        std::uint64_t inode = 0;
        std::uint64_t baseHash = 0; // hashBytes(BASE)
        std::uint64_t candidate = 0; // Message-ID key, or the size when there is none
        std::uint8_t subdir = 0;     // 0 cur/, 1 new/
        std::uint8_t hasMessageId = 0;
        // Opened by an update, so not in the folder's message memo: read again when the folder
        // is next read in full. Bounded (kMaxNotRemembered) so that this stays cheap.
        std::uint8_t notRemembered = 0;
        std::uint8_t reserved[5]{};
    };

    // What the summary line said when this listing was written; all must still hold.
    FolderStamps stamps;
    std::uint64_t curMessages = 0;
    std::uint64_t newMessages = 0;
    bool hasAnswer = false;
    std::uint64_t answerChecksum = 0;
    std::vector<Entry> entries; // in directory order

    static constexpr std::size_t kMaxNotRemembered = 256;

    static std::string fileNameFor(const std::string &folderRelPath);
    static std::uint64_t nameHash(std::uint8_t subdir, std::string_view name, std::uint64_t inode);
    static std::uint64_t candidateOf(bool hasMessageId, std::uint64_t key, std::uint64_t size)
    {
        return hasMessageId ? key : size;
    }

    // nullopt when missing, damaged, of another version or another folder.
    static std::optional<FolderListing> load(const std::string &path, const std::string &folder);
    std::string toBytes(const std::string &folder) const;
    // Writes toBytes() over the file at `path` in place: no temporary file and no rename, whose
    // inode allocation in ext4 cost more than the write (an updated INBOX's listing is rewritten
    // every pass). Safe because the file is never believed on its own: a write cut short, or
    // racing another pass's write or read, leaves bytes that fail the checksum (load() refuses
    // them, and the folder costs a full read); a whole file of another pass does not match the
    // summary line. A failed write removes the file.
    Status save(const std::string &path, const std::string &folder) const;

    // The walk of a new listing of the folder against this one: the entry of `hash` at `cursor`
    // or at most kLookAhead entries after it, with `cursor` moved past it; nullptr when it is not
    // there (a new name, or the directory's order changed). The entries skipped are gone, or
    // listed elsewhere now; an update gives up past 64 of them, so a longer look is not needed.
    const Entry *next(std::size_t &cursor, std::uint64_t hash) const;
    static constexpr std::size_t kLookAhead = 65;
};

} // namespace mm::maildir
