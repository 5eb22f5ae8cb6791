#pragma once

// The one-shot form of a command (`mailmesh-agent scan ROOT --dry-run`): argv words become the
// same params object a `serve` request carries, so both forms run one handler.

#include "common/result.h"
#include "protocol/command.h"

#include <nlohmann/json.hpp>

#include <span>
#include <string>

namespace mm::protocol {

// `words` are the arguments after the command name, without the CLI's own --json.
// Options may come anywhere; "--" ends options. Errors are BadRequest with the usage.
Result<nlohmann::json> paramsFromCommandLine(const Command &command,
                                             std::span<const std::string> words);

// "scan ROOT [--dry-run] [--state-dir DIR]" plus one line per option.
std::string commandUsage(const Command &command);

} // namespace mm::protocol
