#pragma once

#include <cstddef>
#include <string_view>

namespace mm::protocol {

// The version of this build of Mailmesh (app, ctl and agent are always released together).
std::string_view mailmeshVersion();

// Bumped whenever a JSON document's shape changes incompatibly.
inline constexpr int kSchemaVersion = 1;

// Largest frame the agent accepts (requests are small: a command name and its parameters).
inline constexpr std::size_t kMaxRequestFrameBytes = 1024 * 1024;

// Largest frame the agent writes and a client must accept. Big answers are streamed as `item`
// frames (one per folder for a manifest) so that no single frame needs to grow past this.
inline constexpr std::size_t kMaxFrameBytes = 16 * 1024 * 1024;

// Deepest nesting of arrays/objects accepted in a request: requests are flat, and a bound keeps
// hostile input from costing stack depth anywhere downstream.
inline constexpr int kMaxRequestDepth = 32;

} // namespace mm::protocol
