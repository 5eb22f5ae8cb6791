#include "maildir/messagememo.h"

#include "maildir/fsutil.h"
#include "maildir/memoformat.h"
#include "maildir/sha256.h"

#include "maildir/uniquefd.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <iterator>
#include <limits>
#include <sys/stat.h>
#include <type_traits>
#include <unistd.h>

namespace mm::maildir {

namespace {

constexpr char kMagic[8] = {'M', 'M', 'I', 'N', 'V', 'M', 'S', 'G'};
constexpr std::uint32_t kByteOrder = 0x01020304; // read back otherwise on another byte order
constexpr std::size_t kMaxFileBytes = std::size_t(1) << 30; // ~10 million messages in one folder

static_assert(std::is_trivially_copyable_v<MessageMemo::Header>);
static_assert(sizeof(MessageMemo::Record) == 40 && sizeof(MessageMemo::StoredDigest) == 88);

std::size_t padded(std::size_t n)
{
    return (n + 7) & ~std::size_t(7);
}

// The whole file in one read into `out` (a memo of a big folder is megabytes: no chunked copy).
bool readWholeFile(const std::string &path, std::size_t maxBytes, std::string &out)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    struct stat st
    {
    };
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
        std::uint64_t(st.st_size) > maxBytes)
        return false;
    out.resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < out.size()) {
        const ssize_t n = ::read(fd.get(), out.data() + done, out.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += static_cast<std::size_t>(n);
    }
    out.resize(done); // shorter when it shrank meanwhile: then the checksum fails
    return true;
}

template <class T> void appendPod(std::string &out, const T *items, std::size_t count)
{
    out.append(reinterpret_cast<const char *>(items), sizeof(T) * count);
}

} // namespace

MessageMemo::MessageMemo(std::string memoDir, const std::string &folderRelPath)
    : m_dir(std::move(memoDir))
    , m_folderRel(folderRelPath)
{
    if (!m_dir.empty())
        m_file = m_dir + "/folders/" + fileNameFor(folderRelPath);
}

std::string MessageMemo::fileNameFor(const std::string &folderRelPath)
{
    return Sha256::toHex(Sha256::hash(folderRelPath)).substr(0, 32) + ".memo";
}

void MessageMemo::forget()
{
    m_recordsAt = m_recordCount = m_digestsAt = m_digestCount = 0;
    m_strings = {};
    m_recalledBy.clear();
}

bool MessageMemo::load()
{
    forget();
    m_bytes.clear();
    if (m_file.empty())
        return false;
    if (!readWholeFile(m_file, kMaxFileBytes, m_bytes) || !parse()) {
        forget(); // m_bytes stays: a damaged file differs from any good one, so it is replaced
        return false;
    }
    m_recalledBy.assign(m_recordCount, 0);
    return true;
}

MessageMemo::Record MessageMemo::recordAt(std::size_t i) const
{
    Record r;
    std::memcpy(&r, m_bytes.data() + m_recordsAt + i * sizeof(Record), sizeof r);
    return r;
}

std::uint64_t MessageMemo::inodeAt(std::size_t i) const
{
    std::uint64_t inode;
    std::memcpy(&inode, m_bytes.data() + m_recordsAt + i * sizeof(Record), sizeof inode);
    return inode;
}

// Checks every size and offset before trusting one: a damaged file must never index out of it.
bool MessageMemo::parse()
{
    Header h{};
    if (m_bytes.size() < sizeof h + 8)
        return false;
    std::memcpy(&h, m_bytes.data(), sizeof h);
    if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.version != kVersion ||
        h.byteOrder != kByteOrder)
        return false;
    const std::uint64_t checksumAt = m_bytes.size() - 8;
    std::uint64_t checksum = 0;
    std::memcpy(&checksum, m_bytes.data() + checksumAt, 8);
    if (hashBytes(std::string_view(m_bytes.data(), checksumAt)) != checksum)
        return false;
    const std::uint64_t limit = kMaxFileBytes;
    if (h.records > limit / sizeof(Record) || h.digests > limit / sizeof(StoredDigest) ||
        h.stringBytes > limit || h.folderBytes > limit)
        return false;
    const std::uint64_t recordsAt = sizeof h + padded(h.folderBytes);
    const std::uint64_t digestsAt = recordsAt + h.records * sizeof(Record);
    const std::uint64_t stringsAt = digestsAt + h.digests * sizeof(StoredDigest);
    if (stringsAt + padded(h.stringBytes) != checksumAt)
        return false;
    if (std::string_view(m_bytes.data() + sizeof h, h.folderBytes) != m_folderRel)
        return false; // another folder's memo under this name
    m_recordsAt = recordsAt;
    m_recordCount = h.records;
    m_digestsAt = digestsAt;
    m_digestCount = h.digests;
    m_strings = std::string_view(m_bytes.data() + stringsAt, h.stringBytes);
    std::uint64_t previousInode = 0;
    for (std::size_t i = 0; i < m_recordCount; ++i) {
        const Record r = recordAt(i);
        if (std::uint64_t(r.baseAt) + r.baseLen > h.stringBytes || r.hasMessageId > 1 ||
            r.digest > h.digests || r.inode < previousInode)
            return false; // out of bounds, or not sorted as written (lookups rely on it)
        previousInode = r.inode;
    }
    for (std::size_t i = 0; i < m_digestCount; ++i) {
        StoredDigest d;
        std::memcpy(&d, m_bytes.data() + m_digestsAt + i * sizeof d, sizeof d);
        if (std::uint64_t(d.messageIdAt) + d.messageIdLen > h.stringBytes)
            return false;
    }
    return true;
}

std::optional<std::size_t> MessageMemo::find(std::uint64_t inode, std::string_view base) const
{
    std::size_t low = 0, high = m_recordCount;
    while (low < high) {
        const std::size_t mid = low + (high - low) / 2;
        if (inodeAt(mid) < inode)
            low = mid + 1;
        else
            high = mid;
    }
    for (std::size_t i = low; i < m_recordCount && inodeAt(i) == inode; ++i) {
        const Record r = recordAt(i);
        if (text(r.baseAt, r.baseLen) == base)
            return i;
    }
    return std::nullopt;
}

bool MessageMemo::recall(std::uint32_t index, MessageEntry &entry, std::string_view base)
{
    const auto found = find(entry.inode, base);
    if (!found)
        return false;
    const Record r = recordAt(*found);
    entry.size = r.size;
    entry.key = r.key;
    if (r.hasMessageId)
        entry.flags |= MessageEntry::kHasMessageId;
    m_recalledBy[*found] = index + 1;
    return true;
}

std::optional<FolderMessages::FileDigest> MessageMemo::recallDigest(const MessageEntry &entry,
                                                                    std::string_view base) const
{
    const auto found = find(entry.inode, base);
    if (!found)
        return std::nullopt;
    const Record r = recordAt(*found);
    if (r.digest == 0)
        return std::nullopt;
    StoredDigest d;
    std::memcpy(&d, m_bytes.data() + m_digestsAt + (r.digest - 1) * sizeof d, sizeof d);
    FolderMessages::FileDigest out;
    out.messageId = std::string(text(d.messageIdAt, d.messageIdLen));
    out.full = d.full;
    out.body = d.body;
    out.statSize = d.statSize;
    out.mtimeNs = d.mtimeNs;
    return out;
}

std::vector<std::uint64_t> MessageMemo::hashedInodes() const
{
    std::vector<std::uint64_t> inodes;
    for (std::size_t i = 0; i < m_recordCount; ++i)
        if (const Record r = recordAt(i); r.digest != 0)
            inodes.push_back(r.inode);
    return inodes; // records are sorted by inode
}

// The file for `messages`: the remembered records they recalled, in the order they were
// written, merged with the new messages, sorted among themselves.
std::string MessageMemo::build(const FolderMessages &messages) const
{
    const auto &entries = messages.entries();
    std::vector<bool> recalled(entries.size(), false);
    std::vector<std::uint32_t> kept; // entry indices, in (inode, BASE) order
    kept.reserve(m_recordCount);
    for (std::size_t r = 0; r < m_recordCount; ++r)
        if (m_recalledBy[r] != 0) {
            kept.push_back(m_recalledBy[r] - 1);
            recalled[m_recalledBy[r] - 1] = true;
        }
    const auto before = [&](std::uint32_t a, std::uint32_t b) {
        if (entries[a].inode != entries[b].inode)
            return entries[a].inode < entries[b].inode;
        return messages.base(entries[a]) < messages.base(entries[b]);
    };
    std::vector<std::uint32_t> added;
    for (std::uint32_t i = 0; i < entries.size(); ++i)
        if (!recalled[i] && !(entries[i].flags & MessageEntry::kUnreadable))
            added.push_back(i);
    std::sort(added.begin(), added.end(), before);
    std::vector<std::uint32_t> order;
    order.reserve(kept.size() + added.size());
    std::merge(kept.begin(), kept.end(), added.begin(), added.end(), std::back_inserter(order),
               before);

    std::vector<Record> records;
    records.reserve(order.size());
    std::vector<StoredDigest> digests;
    std::string strings;
    strings.reserve(order.size() * 40);
    for (std::size_t k = 0; k < order.size(); ++k) {
        const std::uint32_t i = order[k];
        const MessageEntry &e = entries[i];
        // Two names of one file (a hard link) share BASE and inode: remembered once.
        if (k > 0 && !before(order[k - 1], i))
            continue;
        if (strings.size() > std::numeric_limits<std::uint32_t>::max() - 70000)
            break; // beyond any real folder; the rest is simply read again next time
        Record r{};
        r.inode = e.inode;
        r.size = e.size;
        r.key = e.key;
        r.baseAt = static_cast<std::uint32_t>(strings.size());
        r.baseLen = e.baseLen;
        r.hasMessageId = (e.flags & MessageEntry::kHasMessageId) ? 1 : 0;
        strings.append(messages.base(e));
        if (const FolderMessages::FileDigest *d = messages.digestOf(i);
            d && d->messageId.size() <= 0xFFFF) {
            StoredDigest s{};
            s.statSize = d->statSize;
            s.mtimeNs = d->mtimeNs;
            s.full = d->full;
            s.body = d->body;
            s.messageIdAt = static_cast<std::uint32_t>(strings.size());
            s.messageIdLen = static_cast<std::uint32_t>(d->messageId.size());
            strings.append(d->messageId);
            digests.push_back(s);
            r.digest = static_cast<std::uint32_t>(digests.size());
        }
        records.push_back(r);
    }

    Header h{};
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    h.version = kVersion;
    h.byteOrder = kByteOrder;
    h.records = records.size();
    h.digests = digests.size();
    h.stringBytes = strings.size();
    h.folderBytes = m_folderRel.size();
    std::string bytes;
    bytes.reserve(sizeof h + padded(m_folderRel.size()) + records.size() * sizeof(Record) +
                  digests.size() * sizeof(StoredDigest) + padded(strings.size()) + 8);
    appendPod(bytes, &h, 1);
    bytes += m_folderRel;
    bytes.resize(sizeof h + padded(m_folderRel.size()), '\0');
    appendPod(bytes, records.data(), records.size());
    appendPod(bytes, digests.data(), digests.size());
    bytes += strings;
    bytes.resize(bytes.size() + padded(strings.size()) - strings.size(), '\0');
    const std::uint64_t checksum = hashBytes(bytes);
    appendPod(bytes, &checksum, 1);
    return bytes;
}

Result<bool> MessageMemo::replaceWith(const FolderMessages &messages)
{
    if (m_file.empty())
        return false;
    std::string bytes = build(messages);
    if (bytes == m_bytes)
        return false;
    if (auto written = replaceFileAtomically(m_file, bytes); !written)
        return fail(written.error());
    forget();
    m_bytes = std::move(bytes);
    return true;
}

} // namespace mm::maildir
