#include "maildir/folderlisting.h"

#include "maildir/fsutil.h"
#include "maildir/memoformat.h"
#include "maildir/sha256.h"
#include "maildir/uniquefd.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <type_traits>
#include <unistd.h>

namespace mm::maildir {

namespace {

constexpr char kMagic[8] = {'M', 'M', 'I', 'N', 'V', 'L', 'S', 'T'};
constexpr std::uint32_t kByteOrder = 0x01020304;
constexpr std::size_t kMaxFileBytes = std::size_t(1) << 30;

// Fixed-size fields only: the stamps are written field by field, so no padding byte is hashed.
struct Header
{
    char magic[8];
    std::uint32_t version;
    std::uint32_t byteOrder;
    std::uint64_t entries;
    std::uint64_t folderBytes;
    std::uint64_t stamps[12]; // cur, new, tmp: inode, mtime, ctime, mode
    std::uint64_t curMessages;
    std::uint64_t newMessages;
    std::uint64_t hasAnswer;
    std::uint64_t answerChecksum;
};

static_assert(std::is_trivially_copyable_v<Header> && sizeof(Header) % 8 == 0);
static_assert(std::is_trivially_copyable_v<FolderListing::Entry> &&
              sizeof(FolderListing::Entry) == 40);

std::size_t padded(std::size_t n)
{
    return (n + 7) & ~std::size_t(7);
}

void putStamps(const FolderStamps &stamps, std::uint64_t *out)
{
    const DirStamp *dirs[3] = {&stamps.cur, &stamps.newDir, &stamps.tmp};
    for (int i = 0; i < 3; ++i) {
        out[i * 4 + 0] = dirs[i]->inode;
        out[i * 4 + 1] = std::uint64_t(dirs[i]->mtimeNs);
        out[i * 4 + 2] = std::uint64_t(dirs[i]->ctimeNs);
        out[i * 4 + 3] = dirs[i]->mode;
    }
}

FolderStamps getStamps(const std::uint64_t *in)
{
    FolderStamps stamps;
    DirStamp *dirs[3] = {&stamps.cur, &stamps.newDir, &stamps.tmp};
    for (int i = 0; i < 3; ++i) {
        dirs[i]->inode = in[i * 4 + 0];
        dirs[i]->mtimeNs = std::int64_t(in[i * 4 + 1]);
        dirs[i]->ctimeNs = std::int64_t(in[i * 4 + 2]);
        dirs[i]->mode = std::uint32_t(in[i * 4 + 3]);
    }
    return stamps;
}

} // namespace

std::string FolderListing::fileNameFor(const std::string &folderRelPath)
{
    return Sha256::toHex(Sha256::hash(folderRelPath)).substr(0, 32) + ".listing";
}

std::uint64_t FolderListing::nameHash(std::uint8_t subdir, std::string_view name, std::uint64_t inode)
{
    // hashBytes is a strong 64-bit mix of the name; the inode and subdir are folded in through
    // an odd multiplier (a bijection) and mixed again, so a name replaced by another file, or
    // moved between new/ and cur/, has another hash.
    std::uint64_t h = hashBytes(name) ^ (inode * 0x9E3779B97F4A7C15ull) ^ (std::uint64_t(subdir) << 63);
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return h;
}

const FolderListing::Entry *FolderListing::next(std::size_t &cursor, std::uint64_t hash) const
{
    const std::size_t end = std::min(entries.size(), cursor + kLookAhead);
    for (std::size_t i = cursor; i < end; ++i)
        if (entries[i].nameHash == hash) {
            cursor = i + 1;
            return &entries[i];
        }
    return nullptr;
}

std::optional<FolderListing> FolderListing::load(const std::string &path, const std::string &folder)
{
    auto bytes = readBoundedFile(path, kMaxFileBytes);
    if (!bytes)
        return std::nullopt;
    const std::string &b = *bytes;
    Header h{};
    if (b.size() < sizeof h + 8)
        return std::nullopt;
    std::memcpy(&h, b.data(), sizeof h);
    if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.version != kVersion ||
        h.byteOrder != kByteOrder)
        return std::nullopt;
    const std::size_t checksumAt = b.size() - 8;
    std::uint64_t checksum = 0;
    std::memcpy(&checksum, b.data() + checksumAt, 8);
    if (hashBytes(std::string_view(b.data(), checksumAt)) != checksum)
        return std::nullopt;
    if (h.folderBytes > kMaxFileBytes || h.entries > kMaxFileBytes / sizeof(Entry))
        return std::nullopt;
    const std::size_t entriesAt = sizeof h + padded(h.folderBytes);
    if (entriesAt + h.entries * sizeof(Entry) != checksumAt)
        return std::nullopt;
    if (std::string_view(b.data() + sizeof h, h.folderBytes) != folder)
        return std::nullopt; // another folder's listing under this name
    FolderListing listing;
    listing.stamps = getStamps(h.stamps);
    listing.curMessages = h.curMessages;
    listing.newMessages = h.newMessages;
    listing.hasAnswer = h.hasAnswer != 0;
    listing.answerChecksum = h.answerChecksum;
    // Copied, not resized and then copied: zeroing a busy folder's entries first cost as much.
    const auto *first = reinterpret_cast<const Entry *>(b.data() + entriesAt);
    listing.entries.assign(first, first + h.entries);
    return listing;
}

std::string FolderListing::toBytes(const std::string &folder) const
{
    Header h{};
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    h.version = kVersion;
    h.byteOrder = kByteOrder;
    h.entries = entries.size();
    h.folderBytes = folder.size();
    putStamps(stamps, h.stamps);
    h.curMessages = curMessages;
    h.newMessages = newMessages;
    h.hasAnswer = hasAnswer ? 1 : 0;
    h.answerChecksum = answerChecksum;
    std::string bytes;
    bytes.reserve(sizeof h + padded(folder.size()) + entries.size() * sizeof(Entry) + 8);
    bytes.append(reinterpret_cast<const char *>(&h), sizeof h);
    bytes += folder;
    bytes.resize(sizeof h + padded(folder.size()), '\0');
    bytes.append(reinterpret_cast<const char *>(entries.data()), entries.size() * sizeof(Entry));
    const std::uint64_t checksum = hashBytes(bytes);
    bytes.append(reinterpret_cast<const char *>(&checksum), 8);
    return bytes;
}

Status FolderListing::save(const std::string &path, const std::string &folder) const
{
    const std::string bytes = toBytes(folder);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return fail(errnoError(errno, "open", path));
    const UniqueFd file(fd);
    const auto failed = [&](const char *what) -> Status {
        const int err = errno;
        ::unlink(path.c_str()); // torn: it would be refused anyway; spare the next pass its read
        return fail(errnoError(err, what, path));
    };
    std::size_t off = 0;
    while (off < bytes.size()) {
        const ssize_t w = ::pwrite(fd, bytes.data() + off, bytes.size() - off, off_t(off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w == 0)
            errno = EIO;
        if (w <= 0)
            return failed("write");
        off += std::size_t(w);
    }
    struct stat st
    {
    };
    if (::fstat(fd, &st) != 0)
        return failed("stat");
    if (std::uint64_t(st.st_size) > bytes.size() && ::ftruncate(fd, off_t(bytes.size())) != 0)
        return failed("truncate");
    return {};
}

} // namespace mm::maildir
