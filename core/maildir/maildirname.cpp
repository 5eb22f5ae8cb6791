#include "maildir/maildirname.h"

#include "maildir/jsonpath.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace mm::maildir {

std::string_view baseOf(std::string_view fileName)
{
    return fileName.substr(0, fileName.find(':'));
}

std::string_view nameProblemName(NameProblem problem)
{
    switch (problem) {
    case NameProblem::None:
        return "none";
    case NameProblem::Empty:
        return "empty";
    case NameProblem::DotFile:
        return "dotfile";
    case NameProblem::ControlCharacter:
        return "control-character";
    case NameProblem::NotUtf8:
        return "not-utf8";
    case NameProblem::EmptyBase:
        return "empty-base";
    case NameProblem::BadInfo:
        return "bad-info";
    case NameProblem::BadFlags:
        return "bad-flags";
    case NameProblem::BadSize:
        return "bad-size";
    }
    return "unknown";
}

namespace {

// Parses ",K=digits" fields of the base; false when a S or W field has no decimal value.
bool parseSizeFields(std::string_view base, MaildirName &name)
{
    std::size_t pos = base.find(',');
    while (pos != std::string_view::npos) {
        const std::size_t end = base.find(',', pos + 1);
        const std::string_view field = base.substr(
            pos + 1, end == std::string_view::npos ? std::string_view::npos : end - pos - 1);
        if (field.size() >= 2 && field[1] == '=' && (field[0] == 'S' || field[0] == 'W')) {
            const std::string_view digits = field.substr(2);
            if (digits.empty() || digits.size() > 19)
                return false;
            std::uint64_t value = 0;
            for (char ch : digits) {
                if (ch < '0' || ch > '9')
                    return false;
                value = value * 10 + std::uint64_t(ch - '0');
            }
            (field[0] == 'S' ? name.size : name.vsize) = value;
        }
        pos = end;
    }
    return true;
}

// True when every byte is in 0x20..0x7e, eight bytes at a time: a byte below 0x20 borrows when
// 0x20 is taken from it, a byte of 0x7f or more carries when 0x01 is added to it.
bool isPrintableAscii(std::string_view s)
{
    constexpr std::uint64_t kOnes = 0x0101010101010101ull;
    constexpr std::uint64_t kHigh = 0x8080808080808080ull;
    const char *p = s.data();
    std::size_t n = s.size();
    std::uint64_t bad = 0;
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        bad |= (w - 0x20 * kOnes) | (w + 0x01 * kOnes) | w;
    }
    for (; n > 0; ++p, --n) {
        const auto c = static_cast<unsigned char>(*p);
        bad |= (c < 0x20 || c > 0x7e) ? kHigh : 0;
    }
    return (bad & kHigh) == 0;
}

bool isFlagLetter(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

} // namespace

MaildirName MaildirName::parse(std::string_view fileName)
{
    MaildirName name;
    if (fileName.empty()) {
        name.problem = NameProblem::Empty;
        return name;
    }
    const std::size_t colon = fileName.find(':');
    name.base = fileName.substr(0, colon);
    name.unique = name.base.substr(0, name.base.find(','));
    if (colon != std::string_view::npos) {
        name.hasInfo = true;
        name.info = fileName.substr(colon + 1);
    }
    if (fileName.front() == '.') {
        name.problem = NameProblem::DotFile;
        return name;
    }
    // Nearly every name is printable ASCII: then no byte-wise look and no UTF-8 check (the
    // inventory parses every name of each folder it lists).
    const bool ascii = isPrintableAscii(fileName);
    if (!ascii)
        for (char ch : fileName) {
            const auto c = static_cast<unsigned char>(ch);
            if (c < 0x20 || c == 0x7f) {
                name.problem = NameProblem::ControlCharacter;
                return name;
            }
        }
    if (!ascii && !isValidUtf8(fileName)) {
        name.problem = NameProblem::NotUtf8;
        return name;
    }
    if (name.base.empty()) {
        name.problem = NameProblem::EmptyBase;
        return name;
    }
    if (!parseSizeFields(name.base, name)) {
        name.problem = NameProblem::BadSize;
        return name;
    }
    if (name.hasInfo) {
        if (name.info.size() < 2 || name.info[1] != ',' ||
            (name.info[0] != '2' && name.info[0] != '1')) {
            name.problem = NameProblem::BadInfo;
            return name;
        }
        if (name.info[0] == '2') {
            name.flags = name.info.substr(2);
            char previous = 0;
            for (char c : name.flags) {
                if (!isFlagLetter(c)) {
                    name.problem = NameProblem::BadFlags;
                    return name;
                }
                if (c <= previous)
                    name.flagsSorted = false;
                previous = c;
            }
        }
    }
    return name;
}

std::string withFlags(std::string_view fileName, std::string_view flags)
{
    std::string sorted(flags);
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    std::string out(baseOf(fileName));
    out += ":2,";
    out += sorted;
    return out;
}

std::string collisionName(std::string_view fileName, std::string_view sha256Hex,
                          std::size_t hexDigits)
{
    const std::string_view base = baseOf(fileName);
    const std::size_t uniqueEnd = std::min(base.find(','), base.size());
    std::string out;
    out.reserve(fileName.size() + 3 + hexDigits);
    out.append(fileName.substr(0, uniqueEnd));
    out.append("-mm");
    out.append(sha256Hex.substr(0, hexDigits));
    out.append(fileName.substr(uniqueEnd));
    return out;
}

} // namespace mm::maildir
