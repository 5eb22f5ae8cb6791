#include "maildir/keywords.h"

#include "maildir/jsonpath.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace mm::maildir {

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = static_cast<char>(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

// A keywords file is tiny (at most 26 useful lines); anything this big is not one.
constexpr std::size_t kMaxFileSize = 1 << 20;

} // namespace

Keywords Keywords::parse(std::string_view text)
{
    Keywords out;
    std::size_t lineNo = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos)
            nl = text.size();
        std::string_view line = text.substr(pos, nl - pos);
        pos = nl + 1;
        ++lineNo;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.empty())
            continue;
        const std::size_t space = line.find(' ');
        if (space == std::string_view::npos) {
            out.problems.push_back({lineNo, "no space: line ignored"});
            continue;
        }
        const std::string_view index = line.substr(0, space);
        const std::string_view name = line.substr(space + 1);
        unsigned value = 0;
        const auto [ptr, ec] = std::from_chars(index.data(), index.data() + index.size(), value);
        if (index.empty() || ec != std::errc() || ptr != index.data() + index.size()) {
            out.problems.push_back({lineNo, "invalid index: line ignored"});
            continue;
        }
        if (value >= kMaxKeywords) {
            out.problems.push_back(
                {lineNo, "index " + std::to_string(value) + " above 25: line ignored"});
            continue;
        }
        if (name.empty()) {
            out.problems.push_back({lineNo, "empty keyword name: line ignored"});
            continue;
        }
        if (const auto other = out.letterOf(name); other && *other != char('a' + value))
            out.problems.push_back({lineNo, "keyword " + std::string(name) + " also has letter " +
                                                std::string(1, *other)});
        if (!out.names[value].empty())
            out.problems.push_back({lineNo, "index " + std::to_string(value) +
                                                " defined again, the later one counts"});
        out.names[value] = std::string(name);
    }
    return out;
}

Result<Keywords> Keywords::read(const std::string &path)
{
    struct stat st
    {
    };
    if (::stat(path.c_str(), &st) != 0) {
        const int err = errno;
        return fail(err == ENOENT   ? ErrorCode::NotFound
                    : err == EACCES ? ErrorCode::AccessDenied
                                    : ErrorCode::IoError,
                    path + ": " + std::strerror(err), path);
    }
    if (!S_ISREG(st.st_mode))
        return fail(ErrorCode::UnsafePath, path + ": not a regular file", path);
    if (static_cast<std::size_t>(st.st_size) > kMaxFileSize)
        return fail(ErrorCode::InvalidData, path + ": too large for a dovecot-keywords file", path);
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return fail(ErrorCode::AccessDenied, path + ": cannot open", path);
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad())
        return fail(ErrorCode::IoError, path + ": read error", path);
    return parse(text.str());
}

std::optional<std::string> Keywords::nameOf(char letter) const
{
    if (letter < 'a' || letter > 'z' || names[static_cast<std::size_t>(letter - 'a')].empty())
        return std::nullopt;
    return names[static_cast<std::size_t>(letter - 'a')];
}

std::optional<char> Keywords::letterOf(std::string_view name) const
{
    for (std::size_t i = 0; i < kMaxKeywords; ++i)
        if (!names[i].empty() && equalsIgnoreCase(names[i], name))
            return static_cast<char>('a' + i);
    return std::nullopt;
}

bool Keywords::sameName(std::string_view a, std::string_view b)
{
    return equalsIgnoreCase(a, b);
}

bool Keywords::empty() const
{
    for (const auto &n : names)
        if (!n.empty())
            return false;
    return true;
}

void to_json(nlohmann::json &j, const Keywords &keywords)
{
    nlohmann::json map = nlohmann::json::object();
    for (std::size_t i = 0; i < Keywords::kMaxKeywords; ++i)
        if (!keywords.names[i].empty())
            map[std::string(1, static_cast<char>('a' + i))] = toValidUtf8(keywords.names[i]);
    nlohmann::json problems = nlohmann::json::array();
    for (const auto &p : keywords.problems)
        problems.push_back({{"line", p.line}, {"reason", toValidUtf8(p.reason)}});
    j = {{"schemaVersion", Keywords::kSchemaVersion}, {"keywords", map}, {"problems", problems}};
}

void from_json(const nlohmann::json &j, Keywords &keywords)
{
    keywords = Keywords();
    if (const auto it = j.find("keywords"); it != j.end() && it->is_object())
        for (const auto &[letter, name] : it->items())
            if (letter.size() == 1 && letter[0] >= 'a' && letter[0] <= 'z' && name.is_string())
                keywords.names[static_cast<std::size_t>(letter[0] - 'a')] = name.get<std::string>();
    if (const auto it = j.find("problems"); it != j.end() && it->is_array())
        for (const auto &p : *it)
            keywords.problems.push_back(
                {p.value("line", std::size_t{0}), p.value("reason", std::string())});
}

} // namespace mm::maildir
