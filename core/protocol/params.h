#pragma once

// Reading a request's parameters in a handler, with errors that name the parameter. Missing or
// mistyped parameters are `bad-request`; unknown parameters are ignored (forward compatibility).

#include "common/result.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mm::protocol {

// A path parameter written by maildir::putPath (`key`, plus `keyBase64` for non-UTF-8 bytes).
Result<std::string> requirePath(const nlohmann::json &params, std::string_view key);
Result<std::optional<std::string>> optionalPath(const nlohmann::json &params, std::string_view key);

// A repeated path argument: an array of maildir::pathValue() elements.
Result<std::vector<std::string>> requirePathList(const nlohmann::json &params,
                                                 std::string_view key);

Result<std::string> requireText(const nlohmann::json &params, std::string_view key);
Result<bool> optionalBool(const nlohmann::json &params, std::string_view key, bool fallback);
Result<std::int64_t> optionalInteger(const nlohmann::json &params, std::string_view key,
                                     std::int64_t fallback);

} // namespace mm::protocol
