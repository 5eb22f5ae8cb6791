#include "node/passwd.h"

#include <charconv>

namespace mm::node {

std::map<std::uint32_t, std::string> parsePasswd(std::string_view text)
{
    std::map<std::uint32_t, std::string> users;
    while (!text.empty()) {
        const auto end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        if (line.empty() || line.front() == '#' || line.front() == '+' || line.front() == '-')
            continue;
        const auto nameEnd = line.find(':');
        if (nameEnd == std::string_view::npos || nameEnd == 0)
            continue;
        const auto passwordEnd = line.find(':', nameEnd + 1);
        if (passwordEnd == std::string_view::npos)
            continue;
        const auto uidEnd = line.find(':', passwordEnd + 1);
        if (uidEnd == std::string_view::npos)
            continue; // a complete entry has the gid and more after the uid
        const std::string_view uidText = line.substr(passwordEnd + 1, uidEnd - passwordEnd - 1);
        std::uint32_t uid = 0;
        const auto [ptr, ec] =
            std::from_chars(uidText.data(), uidText.data() + uidText.size(), uid);
        if (ec != std::errc() || ptr != uidText.data() + uidText.size() || uidText.empty())
            continue;
        users.emplace(uid, std::string(line.substr(0, nameEnd)));
    }
    return users;
}

} // namespace mm::node
