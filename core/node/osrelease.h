#pragma once

#include <map>
#include <string>
#include <string_view>

namespace mm::node {

// os-release(5): KEY=value lines, values optionally quoted, '#' comments.
std::map<std::string, std::string> parseOsRelease(std::string_view text);

} // namespace mm::node
