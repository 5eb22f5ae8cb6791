#include "node/dovecotversion.h"

#include "node/textlines.h"

#include <algorithm>
#include <charconv>

namespace mm::node {

namespace {

constexpr std::string_view kMailmeshMarker = "+mailmesh";

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}

std::string_view trimAll(std::string_view s)
{
    while (!s.empty() && isSpace(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && isSpace(s.back()))
        s.remove_suffix(1);
    return s;
}

// A whole run of digits as an int; nullopt when it does not fit.
std::optional<int> toNumber(std::string_view digits)
{
    int value = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size() || digits.empty())
        return std::nullopt;
    return value;
}

} // namespace

std::optional<DovecotVersion> DovecotVersion::parse(std::string_view output)
{
    const std::string_view trimmed = trimAll(output);
    DovecotVersion version;
    // Dotted numbers: digits, then ".digits" as long as a digit follows the dot.
    std::size_t at = 0;
    while (true) {
        const std::size_t start = at;
        while (at < trimmed.size() && isDigit(trimmed[at]))
            ++at;
        const auto number = toNumber(trimmed.substr(start, at - start));
        if (!number)
            return std::nullopt;
        version.numbers.push_back(*number);
        if (at + 1 < trimmed.size() && trimmed[at] == '.' && isDigit(trimmed[at + 1]))
            ++at;
        else
            break;
    }
    // The build suffix runs to the first blank or the git id's parenthesis.
    std::size_t suffixEnd = at;
    while (suffixEnd < trimmed.size() && !isSpace(trimmed[suffixEnd]) && trimmed[suffixEnd] != '(')
        ++suffixEnd;
    version.suffix = std::string(trimmed.substr(at, suffixEnd - at));
    version.word = std::string(trimmed.substr(0, suffixEnd));
    version.text = std::string(text::firstLine(trimmed));
    return version;
}

bool DovecotVersion::isMailmeshBuild() const
{
    return suffix.find(kMailmeshMarker) != std::string::npos;
}

int DovecotVersion::mailmeshRevision() const
{
    const std::size_t marker = suffix.find(kMailmeshMarker);
    if (marker == std::string::npos)
        return 0;
    return toNumber(std::string_view(suffix).substr(marker + kMailmeshMarker.size())).value_or(0);
}

std::string DovecotVersion::numeric() const
{
    std::string out;
    for (const int number : numbers) {
        if (!out.empty())
            out += '.';
        out += std::to_string(number);
    }
    return out;
}

std::string DovecotVersion::line() const
{
    return std::to_string(major()) + '.' + std::to_string(minor());
}

int DovecotVersion::compare(const DovecotVersion &a, const DovecotVersion &b)
{
    const std::size_t length = std::max(a.numbers.size(), b.numbers.size());
    for (std::size_t i = 0; i < length; ++i) {
        const int left = a.number(i);
        const int right = b.number(i);
        if (left != right)
            return left < right ? -1 : 1;
    }
    return 0;
}

std::string dovecotVersionLine(std::string_view output)
{
    return std::string(text::firstLine(output));
}

bool isCurOnlyDovecotVersion(std::string_view version)
{
    const auto parsed = DovecotVersion::parse(version);
    return parsed && parsed->isMailmeshBuild();
}

std::string curOnlySettingName(std::string_view dovecotVersion)
{
    const auto parsed = DovecotVersion::parse(dovecotVersion);
    return parsed && parsed->numbers.size() >= 2 && parsed->isAtLeast24()
               ? "maildir/maildir_cur_only"
               : "maildir_cur_only";
}

std::optional<bool> parseCurOnlySetting(std::string_view output, int exitCode)
{
    if (exitCode != 0)
        return std::nullopt; // "Unknown setting": a stock build
    const std::string_view value = text::firstLine(output);
    if (value == "yes")
        return true;
    if (value == "no")
        return false;
    return std::nullopt;
}

} // namespace mm::node
