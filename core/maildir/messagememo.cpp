#include "maildir/messagememo.h"

#include "maildir/fsutil.h"
#include "maildir/sha256.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace mm::maildir {

namespace {

constexpr std::string_view kMagic = "mailmesh-inventory-messages";
constexpr std::size_t kMaxFileBytes = std::size_t(1) << 30; // ~12 million messages in one folder

std::string hexOf(std::string_view bytes)
{
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        out += kDigits[static_cast<unsigned char>(c) >> 4];
        out += kDigits[static_cast<unsigned char>(c) & 15];
    }
    return out;
}

std::string hex16(std::uint64_t value)
{
    char buffer[17];
    const auto end = std::to_chars(buffer, buffer + 16, value, 16).ptr;
    std::string out(16 - std::size_t(end - buffer), '0');
    out.append(buffer, end);
    return out;
}

// Reads one unsigned number followed by `separator`; advances `p`.
template <class T>
bool readNumber(const char *&p, const char *end, T &value, char separator, int base = 10)
{
    const auto r = std::from_chars(p, end, value, base);
    if (r.ec != std::errc() || r.ptr == end || *r.ptr != separator)
        return false;
    p = r.ptr + 1;
    return true;
}

} // namespace

std::uint64_t memoChecksum(std::string_view bytes)
{
    std::uint64_t h = 1469598103934665603ull;
    for (const char c : bytes) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    return h;
}

Status replaceFileAtomically(const std::string &path, std::string_view text)
{
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return fail(errnoError(errno, "create", tmp));
    std::size_t off = 0;
    while (off < text.size()) {
        const ssize_t w = ::write(fd, text.data() + off, text.size() - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            const int err = errno;
            ::close(fd);
            ::unlink(tmp.c_str());
            return fail(errnoError(err, "write", tmp));
        }
        off += static_cast<std::size_t>(w);
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        return fail(errnoError(err, "rename", path));
    }
    return {};
}

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

std::string MessageMemo::header() const
{
    return std::string(kMagic) + " " + std::to_string(kVersion) + " " + hexOf(m_folderRel) + "\n";
}

bool MessageMemo::load()
{
    m_records.clear();
    m_text.clear();
    if (m_file.empty())
        return false;
    auto text = readBoundedFile(m_file, kMaxFileBytes);
    if (!text)
        return false;
    m_text = std::move(*text);
    if (!parse()) {
        m_records.clear();
        m_text.clear();
        return false;
    }
    return true;
}

bool MessageMemo::parse()
{
    const std::string expectedHeader = header();
    if (m_text.compare(0, expectedHeader.size(), expectedHeader) != 0)
        return false;
    // The trailer: the last line, "end <records> <checksum>".
    if (m_text.size() < expectedHeader.size() + 1 || m_text.back() != '\n')
        return false;
    const std::size_t trailerAt = m_text.rfind('\n', m_text.size() - 2) + 1;
    const std::string_view trailer(m_text.data() + trailerAt, m_text.size() - trailerAt);
    if (trailer.substr(0, 4) != "end ")
        return false;
    const char *p = trailer.data() + 4, *end = trailer.data() + trailer.size();
    std::uint64_t count = 0, checksum = 0;
    if (!readNumber(p, end, count, ' ') || !readNumber(p, end, checksum, '\n', 16) || p != end)
        return false;
    if (memoChecksum(std::string_view(m_text.data(), trailerAt)) != checksum)
        return false;
    m_records.reserve(count);
    std::size_t at = expectedHeader.size();
    while (at < trailerAt) {
        const std::size_t eol = m_text.find('\n', at);
        const char *q = m_text.data() + at, *lineEnd = m_text.data() + eol;
        Record r;
        unsigned hasId = 0;
        if (!readNumber(q, lineEnd, r.inode, ' ') || !readNumber(q, lineEnd, r.size, ' ') ||
            !readNumber(q, lineEnd, r.key, ' ', 16) || !readNumber(q, lineEnd, hasId, ' ') ||
            hasId > 1 || q == lineEnd)
            return false;
        r.hasMessageId = hasId == 1;
        r.base = std::string_view(q, std::size_t(lineEnd - q));
        if (!m_records.empty()) {
            const Record &last = m_records.back();
            if (std::tie(last.base, last.inode) >= std::tie(r.base, r.inode))
                return false; // written sorted and unique: anything else was damaged
        }
        m_records.push_back(r);
        at = eol + 1;
    }
    return m_records.size() == count;
}

bool MessageMemo::recall(MessageEntry &entry, std::string_view base) const
{
    auto it = std::lower_bound(m_records.begin(), m_records.end(), base,
                               [](const Record &r, std::string_view b) { return r.base < b; });
    for (; it != m_records.end() && it->base == base; ++it)
        if (it->inode == entry.inode) {
            entry.size = it->size;
            entry.key = it->key;
            if (it->hasMessageId)
                entry.flags |= MessageEntry::kHasMessageId;
            return true;
        }
    return false;
}

Result<bool> MessageMemo::replaceWith(const FolderMessages &messages)
{
    if (m_file.empty())
        return false;
    const auto &entries = messages.entries();
    std::vector<std::uint32_t> order;
    order.reserve(entries.size());
    for (std::uint32_t i = 0; i < entries.size(); ++i) {
        const MessageEntry &e = entries[i];
        // A name with a newline cannot be a line here: such a message is simply read each time.
        if (!(e.flags & MessageEntry::kUnreadable) &&
            messages.name(e).find('\n') == std::string_view::npos)
            order.push_back(i);
    }
    const auto baseOf = [&](std::uint32_t i) {
        return FolderMessages::baseOf(messages.name(entries[i]));
    };
    std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
        const std::string_view ba = baseOf(a), bb = baseOf(b);
        return ba != bb ? ba < bb : entries[a].inode < entries[b].inode;
    });
    std::string text = header();
    text.reserve(text.size() + order.size() * 90);
    std::size_t records = 0;
    for (std::size_t k = 0; k < order.size(); ++k) {
        const MessageEntry &e = entries[order[k]];
        // Two names of one file (a hard link) share BASE and inode: remembered once.
        if (k > 0 && entries[order[k - 1]].inode == e.inode && baseOf(order[k - 1]) == baseOf(order[k]))
            continue;
        text += std::to_string(e.inode);
        text += ' ';
        text += std::to_string(e.size);
        text += ' ';
        text += hex16(e.key);
        text += (e.flags & MessageEntry::kHasMessageId) ? " 1 " : " 0 ";
        text += baseOf(order[k]);
        text += '\n';
        ++records;
    }
    const std::uint64_t checksum = memoChecksum(text);
    text += "end " + std::to_string(records) + " " + hex16(checksum) + "\n";
    if (text == m_text)
        return false;
    if (auto written = replaceFileAtomically(m_file, text); !written)
        return fail(written.error());
    m_records.clear();
    m_text = std::move(text);
    return true;
}

} // namespace mm::maildir
