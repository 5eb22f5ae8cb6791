#pragma once

#include <string_view>

namespace mm::protocol {

// The version of this build of Mailmesh (app, ctl and agent are always released together).
std::string_view mailmeshVersion();

// Bumped whenever a JSON document's shape changes incompatibly.
inline constexpr int kSchemaVersion = 1;

} // namespace mm::protocol
