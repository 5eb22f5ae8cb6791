#pragma once

#include <string_view>

// Line helpers shared by the node parsers (not part of the library's interface).
namespace mm::node::text {

// Without leading blanks and trailing blanks or line ends.
inline std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
        s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

// What a program printed first, trimmed: the line version options print.
inline std::string_view firstLine(std::string_view s)
{
    return trim(s.substr(0, s.find('\n')));
}

} // namespace mm::node::text
