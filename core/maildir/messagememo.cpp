#include "maildir/messagememo.h"

#include "maildir/fsutil.h"
#include "maildir/memoformat.h"
#include "maildir/sha256.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>

namespace mm::maildir {

namespace {

constexpr char kMagic[8] = {'M', 'M', 'I', 'N', 'V', 'M', 'S', 'G'};
constexpr std::uint32_t kByteOrder = 0x01020304; // read back otherwise on another byte order
constexpr std::size_t kMaxFileBytes = std::size_t(1) << 30; // ~10 million messages in one folder

static_assert(std::is_trivially_copyable_v<MessageMemo::Header>);
static_assert(sizeof(MessageMemo::Record) == 40 && sizeof(MessageMemo::StoredDigest) == 88);

std::size_t padded(std::size_t n) { return (n + 7) & ~std::size_t(7); }

template <class T>
void appendPod(std::string &out, const T *items, std::size_t count)
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

bool MessageMemo::load()
{
    m_records.clear();
    m_digests.clear();
    m_strings = {};
    m_bytes.clear();
    if (m_file.empty())
        return false;
    auto bytes = readBoundedFile(m_file, kMaxFileBytes);
    if (!bytes)
        return false;
    m_bytes = std::move(*bytes);
    if (!parse()) {
        m_records.clear();
        m_digests.clear();
        m_strings = {};
        return false; // m_bytes stays: a damaged file differs from any good one, so it is replaced
    }
    return true;
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
    m_records.resize(h.records);
    std::memcpy(m_records.data(), m_bytes.data() + recordsAt, h.records * sizeof(Record));
    m_digests.resize(h.digests);
    std::memcpy(m_digests.data(), m_bytes.data() + digestsAt, h.digests * sizeof(StoredDigest));
    m_strings = std::string_view(m_bytes.data() + stringsAt, h.stringBytes);
    for (std::size_t i = 0; i < m_records.size(); ++i) {
        const Record &r = m_records[i];
        if (std::uint64_t(r.baseAt) + r.baseLen > h.stringBytes || r.hasMessageId > 1 ||
            r.digest > h.digests)
            return false;
        if (i > 0 && m_records[i - 1].inode > r.inode)
            return false; // written sorted: lookups rely on it
    }
    for (const StoredDigest &d : m_digests)
        if (std::uint64_t(d.messageIdAt) + d.messageIdLen > h.stringBytes)
            return false;
    return true;
}

std::vector<MessageMemo::Record>::const_iterator MessageMemo::find(std::uint64_t inode,
                                                                   std::string_view base) const
{
    auto it = std::lower_bound(m_records.begin(), m_records.end(), inode,
                               [](const Record &r, std::uint64_t i) { return r.inode < i; });
    for (; it != m_records.end() && it->inode == inode; ++it)
        if (text(it->baseAt, it->baseLen) == base)
            return it;
    return m_records.end();
}

bool MessageMemo::recall(MessageEntry &entry, std::string_view base) const
{
    const auto it = find(entry.inode, base);
    if (it == m_records.end())
        return false;
    entry.size = it->size;
    entry.key = it->key;
    if (it->hasMessageId)
        entry.flags |= MessageEntry::kHasMessageId;
    return true;
}

std::optional<FolderMessages::FileDigest> MessageMemo::recallDigest(const MessageEntry &entry,
                                                                    std::string_view base) const
{
    const auto it = find(entry.inode, base);
    if (it == m_records.end() || it->digest == 0)
        return std::nullopt;
    const StoredDigest &d = m_digests[it->digest - 1];
    FolderMessages::FileDigest out;
    out.messageId = std::string(text(d.messageIdAt, d.messageIdLen));
    out.full = d.full;
    out.body = d.body;
    out.statSize = d.statSize;
    out.mtimeNs = d.mtimeNs;
    return out;
}

Result<bool> MessageMemo::replaceWith(const FolderMessages &messages)
{
    if (m_file.empty())
        return false;
    const auto &entries = messages.entries();
    struct Order
    {
        std::uint64_t inode;
        std::uint32_t index;
    };
    std::vector<Order> order;
    order.reserve(entries.size());
    for (std::uint32_t i = 0; i < entries.size(); ++i)
        if (!(entries[i].flags & MessageEntry::kUnreadable) &&
            entries[i].baseLen < std::numeric_limits<std::uint16_t>::max())
            order.push_back({entries[i].inode, i});
    const auto baseOf = [&](std::uint32_t i) { return messages.base(entries[i]); };
    std::sort(order.begin(), order.end(), [&](const Order &a, const Order &b) {
        return a.inode != b.inode ? a.inode < b.inode : baseOf(a.index) < baseOf(b.index);
    });

    std::vector<Record> records;
    records.reserve(order.size());
    std::vector<StoredDigest> digests;
    std::string strings;
    strings.reserve(order.size() * 40);
    for (std::size_t k = 0; k < order.size(); ++k) {
        const std::uint32_t i = order[k].index;
        const MessageEntry &e = entries[i];
        // Two names of one file (a hard link) share BASE and inode: remembered once.
        if (k > 0 && order[k - 1].inode == e.inode && baseOf(order[k - 1].index) == baseOf(i))
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
        strings.append(baseOf(i));
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
    if (bytes == m_bytes)
        return false;
    if (auto written = replaceFileAtomically(m_file, bytes); !written)
        return fail(written.error());
    m_records.clear();
    m_digests.clear();
    m_strings = {};
    m_bytes = std::move(bytes);
    return true;
}

} // namespace mm::maildir
