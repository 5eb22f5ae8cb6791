#pragma once

// The frames the agent writes (protocol.md, "Frames"). Builders only: FrameWriter sends them.

#include "common/result.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mm::protocol {

nlohmann::json helloFrame(const std::vector<std::string> &commands);
nlohmann::json pongFrame(std::string_view id);
nlohmann::json progressFrame(std::string_view id, std::uint64_t done, std::uint64_t total,
                             std::string_view currentItem, std::optional<double> etaSeconds);
nlohmann::json itemFrame(std::string_view id, std::uint64_t sequence, nlohmann::json item);
nlohmann::json resultFrame(std::string_view id, std::string_view command, nlohmann::json result);
// `id` empty: the problem concerns a frame that could not be tied to a request (id null).
nlohmann::json problemFrame(std::string_view id, const Error &error);

} // namespace mm::protocol
