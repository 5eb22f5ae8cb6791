#pragma once

// What every command working on a mail root shares: reading ROOT and the state dir from the
// parameters, and listing problems in the readable (non --json) output.

#include "common/result.h"
#include "maildir/mailroot.h"
#include "protocol/params.h"

#include <nlohmann/json.hpp>

#include <string>

namespace mm::agent {

Result<maildir::MailRoot> openRoot(const nlohmann::json &params);
// The `stateDir` parameter; empty when absent (the default beside ROOT applies).
Result<std::string> stateDirParam(const nlohmann::json &params);
// One indented line per problem: kind, path, detail.
std::string problemLines(const nlohmann::json &problems);

// `dryRun` and `stateDir`, which every command that changes mail takes, into its options.
template <class Options>
Status readChangeOptions(const nlohmann::json &params, Options &options)
{
    auto dryRun = protocol::optionalBool(params, "dryRun", false);
    if (!dryRun)
        return tl::unexpected(dryRun.error());
    auto stateDir = stateDirParam(params);
    if (!stateDir)
        return tl::unexpected(stateDir.error());
    options.dryRun = *dryRun;
    options.stateDir = *stateDir;
    return {};
}

} // namespace mm::agent
