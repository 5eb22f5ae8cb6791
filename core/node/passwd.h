#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace mm::node {

// /etc/passwd: uid -> user name; the first entry of a uid wins, like getpwuid.
std::map<std::uint32_t, std::string> parsePasswd(std::string_view text);

} // namespace mm::node
