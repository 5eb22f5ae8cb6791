#pragma once

#include "common/result.h"
#include "maildir/progress.h"
#include "protocol/itemsink.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace mm::protocol {

// How a command-line word becomes a parameter: Path values go through maildir::putPath (argv
// bytes need not be UTF-8; repeated ones become an array of maildir::pathValue()), Integer values
// are parsed, Flag options take no value (true).
enum class ValueKind
{
    Path,
    Text,
    Integer,
    Flag
};

// A positional argument of the one-shot form, e.g. ROOT of `scan ROOT` -> params.root.
struct CommandArgument
{
    std::string_view key; // parameter name (camelCase)
    ValueKind kind = ValueKind::Path;
    bool optional = false; // only trailing arguments may be optional
    bool repeated = false; // the last argument may collect the rest into an array
};

// An option of the one-shot form, e.g. `--state-dir DIR` -> params.stateDir.
struct CommandOption
{
    std::string_view flag; // "--state-dir"
    std::string_view key;  // "stateDir"
    ValueKind kind = ValueKind::Flag;
    std::string_view help;
};

// The handler of a command: the same code runs under `serve` and the one-shot CLI. It reads its
// parameters (unknown ones are ignored), reports progress and checks cancellation through
// `progress`, may stream parts of its answer through `items`, and returns the final `result`
// document (a JSON object carrying schemaVersion) or an Error that becomes a `problem`.
using CommandHandler = std::function<Result<nlohmann::json>(
    const nlohmann::json &params, const maildir::ProgressSink &progress, const ItemSink &items)>;

struct Command
{
    std::string name;    // wire name, kebab-case: "scan", "quarantine-list"
    std::string summary; // one line for the usage text
    std::vector<CommandArgument> arguments;
    std::vector<CommandOption> options;
    CommandHandler run;
    // Optional: the readable form the CLI prints without --json. Default: indented JSON.
    std::function<std::string(const nlohmann::json &result)> formatText;
    // Optional: the exit code of a successful run (docs/architecture.md, "Exit codes": 1 when a
    // changing command skipped items, `diff` 1 on a UID conflict). Default: 0.
    std::function<int(const nlohmann::json &result)> exitCode;
};

} // namespace mm::protocol
