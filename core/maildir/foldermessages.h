#pragma once

#include "maildir/dupes.h"
#include "maildir/namearena.h"
#include "maildir/progress.h"
#include "maildir/sha256.h"
#include "maildir/uniquefd.h"

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mm::maildir {

// One message of a folder as the duplicate search sees it: a few dozen bytes, the name kept in
// the folder's NameArena.
struct MessageEntry
{
    enum Flag : std::uint8_t
    {
        kHasMessageId = 1,
        kConflictCopy = 2,
        kUnreadable = 4,
    };

    std::uint64_t size = 0;
    std::uint64_t key = 0;   // FNV-1a of the trimmed Message-ID (candidate grouping only)
    std::uint64_t inode = 0; // from the listing: a renamed file keeps it, a replaced one does not
    std::uint64_t nameAt = 0;
    std::uint16_t nameLen = 0;
    std::uint16_t baseLen = 0; // the name up to its first ':', found once instead of per compare
    std::uint8_t dir = 0; // index into FolderMessages::kSubdirs
    std::uint8_t flags = 0;
};

// The messages of one folder and the duplicate groups among them (docs/architecture.md, "Duplicates").
// Shared by DupeFinder, which lists and reads every message, and Inventory, which takes the
// listing from its scan and opens only the messages it has not seen before: both group alike.
class FolderMessages
{
public:
    static constexpr std::array<const char *, 2> kSubdirs{"cur", "new"};

    // Groups, problems, the message count and bytesRead go to `report`.
    FolderMessages(int folderFd, const std::string &folderRelPath, DupesReport &report,
                   const ProgressSink &progress);

    // Lists cur/ (0) or new/ (1) when it is a real directory, never through the new -> cur link.
    void list(std::uint8_t subdir);
    // One listed message, for a caller that read the directory itself.
    void add(std::uint8_t subdir, std::string_view name, std::uint64_t inode);
    void addReadError(std::uint8_t subdir, int error);

    // A caller's memory of a message: fills size, key and kHasMessageId and returns true, or
    // returns false and the message is opened.
    using KnownMessage =
        std::function<bool(std::uint32_t index, MessageEntry &entry, std::string_view base)>;
    // Size and Message-ID of every message: one open and one header read for each one `known`
    // does not know. Returns how many were opened; stops early (counting nothing) when cancelled.
    std::uint64_t readHeaders(const KnownMessage &known = {});

    // What hashing a whole message gives, and the size and mtime fstat gave for the file read:
    // a remembered digest is believed only while the file still has both.
    struct FileDigest
    {
        std::string messageId; // empty when none
        Sha256::Digest full{}; // of every byte
        Sha256::Digest body{}; // of the bytes after the first empty line
        std::uint64_t statSize = 0;
        std::int64_t mtimeNs = 0;
    };
    // A caller's memory of a message's digest (nullopt: none). It is used only when an lstat of
    // the file gives the same size and mtime; otherwise the file is read.
    using KnownDigest =
        std::function<std::optional<FileDigest>(const MessageEntry &entry, std::string_view base)>;

    // flag-divergence, then sync-conflict, then same-message groups; candidates hashed in full,
    // each at most once per pass, unless `known` remembers it.
    void findGroups(const KnownDigest &known = {});

    const std::vector<MessageEntry> &entries() const { return m_entries; }
    std::string_view name(const MessageEntry &e) const { return m_names.get(e.nameAt, e.nameLen); }
    std::string_view base(const MessageEntry &e) const { return m_names.get(e.nameAt, e.baseLen); }
    static std::string_view baseOf(std::string_view name) { return name.substr(0, name.find(':')); }
    // The digest this pass has of entries()[index] (hashed or remembered), or nullptr.
    const FileDigest *digestOf(std::uint32_t index) const;
    std::uint64_t filesHashed() const { return m_filesHashed; }
    std::uint64_t digestsRemembered() const { return m_digestsRemembered; }

private:
    // Entries grouped by an exact key through an open-addressing table of entry indices: a busy
    // folder changes every pass, and sorting all its names each time cost more than the rest.
    // Only keys held by two or more entries (the duplicates) are ever sorted.
    class KeyIndex
    {
    public:
        void reset(std::size_t entries);
        // The first entry with the same key as `index`, or `index` itself when it is the first.
        template <class SameKey>
        std::uint32_t insert(std::uint64_t hash, std::uint32_t index, const SameKey &same);
        template <class SameKey>
        std::optional<std::uint32_t> find(std::uint64_t hash, const SameKey &same) const;

    private:
        std::vector<std::uint32_t> m_slots; // entry index + 1, 0 when free
        std::vector<std::uint64_t> m_hashes;
        std::size_t m_mask = 0;
    };
    // The entries of one BASE, or of one candidate key: the first, and a link to the next.
    struct Chains
    {
        std::vector<std::uint32_t> next; // entry index + 1, 0 at the end
        std::vector<std::uint32_t> heads; // first entries of keys held more than once
        void link(std::uint32_t first, std::uint32_t index);
        std::vector<std::uint32_t> members(std::uint32_t first) const;
    };

    std::string display(const MessageEntry &e) const;
    int subdirFd(std::uint8_t subdir);
    void readHeader(MessageEntry &e);
    const MessageEntry &entry(std::uint32_t i) const { return m_entries[i]; }
    const FileDigest *digest(std::uint32_t i);
    std::optional<FileDigest> rememberedDigest(std::uint32_t i);
    DupeMember member(std::uint32_t i, const std::string &sha = {}) const;
    void addGroup(DupeGroup group);
    bool nameOrderLess(std::uint32_t a, std::uint32_t b) const;
    std::vector<std::uint32_t> sameBaseInOrder(std::uint32_t first) const;
    std::optional<std::uint32_t> firstOfBase(std::string_view base) const;
    void indexBases();
    void flagDivergence();
    void flagDivergenceGroup(const std::vector<std::uint32_t> &variants);
    void syncConflicts();
    void sameMessage();
    void confirmSameMessage(const std::vector<std::uint32_t> &candidates);

    int m_folderFd;
    const std::string &m_folderRel;
    DupesReport &m_report;
    const ProgressSink &m_progress;
    NameArena m_names;
    std::vector<MessageEntry> m_entries;
    KeyIndex m_bases;     // readable, non-conflict entries by BASE
    Chains m_sameBase;
    std::vector<std::uint32_t> m_baseFirsts; // one entry per BASE: the first indexed
    std::array<UniqueFd, 2> m_dirFds;
    std::array<bool, 2> m_dirOpenTried{};
    const KnownDigest *m_knownDigest = nullptr; // during findGroups only
    std::unordered_map<std::uint32_t, FileDigest> m_digests;
    std::uint64_t m_filesHashed = 0;
    std::uint64_t m_digestsRemembered = 0;
};

} // namespace mm::maildir
