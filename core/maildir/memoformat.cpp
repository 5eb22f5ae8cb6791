#include "maildir/memoformat.h"

#include "maildir/fsutil.h"

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace mm::maildir {

namespace {

constexpr std::uint64_t kMultiplier = 0x9E3779B97F4A7C15ull; // odd: multiplying is a bijection

std::uint64_t rotl(std::uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

std::uint64_t finalMix(std::uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

bool mustEscape(unsigned char c)
{
    return c <= ' ' || c == '%' || c == 0x7f;
}

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::string hex16(std::uint64_t value)
{
    char buffer[16];
    for (int i = 15; i >= 0; --i, value >>= 4)
        buffer[i] = "0123456789abcdef"[value & 15];
    return std::string(buffer, 16);
}

} // namespace

std::uint64_t hashBytes(std::string_view bytes)
{
    std::uint64_t h = kMultiplier ^ bytes.size();
    const char *p = bytes.data();
    std::size_t n = bytes.size();
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t word;
        std::memcpy(&word, p, 8);
        h = rotl(h ^ word, 31) * kMultiplier;
    }
    std::uint64_t tail = 0;
    std::memcpy(&tail, p, n);
    h = rotl(h ^ tail, 31) * kMultiplier;
    return finalMix(h);
}

Status replaceFileAtomically(const std::string &path, std::string_view text)
{
    // Unique per write, not only per process: one `serve` may answer two inventories at once.
    static std::atomic<std::uint64_t> writes{0};
    const std::string tmp = path + ".tmp." + std::to_string(::getpid()) + '.' + std::to_string(++writes);
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

void appendField(std::string &out, std::string_view bytes)
{
    if (bytes.empty()) {
        out += '-';
        return;
    }
    if (bytes == "-") {
        out += "%2d";
        return;
    }
    for (const char c : bytes) {
        const auto u = static_cast<unsigned char>(c);
        if (!mustEscape(u)) {
            out += c;
            continue;
        }
        out += '%';
        out += "0123456789abcdef"[u >> 4];
        out += "0123456789abcdef"[u & 15];
    }
}

std::optional<std::string> parseField(std::string_view field)
{
    if (field == "-")
        return std::string();
    if (field.empty())
        return std::nullopt;
    std::string out;
    out.reserve(field.size());
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] != '%') {
            out += field[i];
            continue;
        }
        if (i + 2 >= field.size())
            return std::nullopt;
        const int hi = hexValue(field[i + 1]), lo = hexValue(field[i + 2]);
        if (hi < 0 || lo < 0)
            return std::nullopt;
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
    }
    return out;
}

std::optional<std::string_view> FieldReader::next()
{
    if (m_done)
        return std::nullopt;
    const std::size_t space = m_rest.find(' ');
    const std::string_view field = m_rest.substr(0, space);
    if (space == std::string_view::npos)
        m_done = true;
    else
        m_rest.remove_prefix(space + 1);
    return field;
}

std::optional<std::uint64_t> FieldReader::number(int base)
{
    const auto field = next();
    std::uint64_t value = 0;
    if (!field || field->empty())
        return std::nullopt;
    const auto r = std::from_chars(field->data(), field->data() + field->size(), value, base);
    if (r.ec != std::errc() || r.ptr != field->data() + field->size())
        return std::nullopt;
    return value;
}

std::optional<std::int64_t> FieldReader::signedNumber()
{
    const auto field = next();
    std::int64_t value = 0;
    if (!field || field->empty())
        return std::nullopt;
    const auto r = std::from_chars(field->data(), field->data() + field->size(), value);
    if (r.ec != std::errc() || r.ptr != field->data() + field->size())
        return std::nullopt;
    return value;
}

std::string memoTrailer(std::string_view body, std::uint64_t lines)
{
    return "end " + std::to_string(lines) + " " + hex16(hashBytes(body)) + "\n";
}

std::optional<CheckedBody> checkTrailer(std::string_view text)
{
    if (text.size() < 2 || text.back() != '\n')
        return std::nullopt;
    const std::size_t lastBreak = text.rfind('\n', text.size() - 2);
    const std::size_t trailerAt = lastBreak == std::string_view::npos ? 0 : lastBreak + 1;
    FieldReader trailer(text.substr(trailerAt, text.size() - trailerAt - 1));
    const auto word = trailer.next();
    const auto lines = trailer.number();
    const auto checksum = trailer.number(16);
    if (!word || *word != "end" || !lines || !checksum || !trailer.atEnd())
        return std::nullopt;
    const std::string_view body = text.substr(0, trailerAt);
    if (hashBytes(body) != *checksum)
        return std::nullopt;
    return CheckedBody{body, *lines, *checksum};
}

} // namespace mm::maildir
