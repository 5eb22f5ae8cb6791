#include "node/osrelease.h"

#include "node/textlines.h"

namespace mm::node {

using text::trim;

std::map<std::string, std::string> parseOsRelease(std::string_view text)
{
    std::map<std::string, std::string> fields;
    while (!text.empty()) {
        const auto end = text.find('\n');
        const std::string_view line = trim(text.substr(0, end));
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        if (line.empty() || line.front() == '#')
            continue;
        const auto equals = line.find('=');
        if (equals == std::string_view::npos || equals == 0)
            continue;
        const std::string key(trim(line.substr(0, equals)));
        std::string_view raw = trim(line.substr(equals + 1));
        std::string value;
        if (!raw.empty() && (raw.front() == '"' || raw.front() == '\'')) {
            const char quote = raw.front();
            raw.remove_prefix(1);
            for (std::size_t i = 0; i < raw.size(); ++i) {
                const char c = raw[i];
                if (c == quote)
                    break;
                // Inside double quotes, os-release allows shell-style escapes of $ " \ `.
                if (quote == '"' && c == '\\' && i + 1 < raw.size()) {
                    value += raw[++i];
                    continue;
                }
                value += c;
            }
        } else {
            value = std::string(raw);
        }
        fields[key] = std::move(value);
    }
    return fields;
}

} // namespace mm::node
