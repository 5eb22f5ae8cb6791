// `canary-write`, `canary-list` and `canary-remove`: the replication canary's probes in
// ROOT/.mailmesh-canary (docs/monitoring.md, "The replication canary"). The work is in
// core/maildir/canarydir.*; probes are not mail, so they are deleted directly, never quarantined,
// and nothing outside the canary directory is touched.

#include "maildirparams.h"

#include "maildir/canarydir.h"

#include "protocol/command.h"
#include "protocol/exitcodes.h"
#include "protocol/params.h"

#include <string>
#include <vector>

namespace mm::agent {

namespace {

using protocol::ValueKind;

Result<std::optional<std::string>> optionalText(const nlohmann::json &params, const char *key)
{
    if (!params.contains(key))
        return std::optional<std::string>();
    auto text = protocol::requireText(params, key);
    if (!text)
        return tl::unexpected(text.error());
    return std::optional<std::string>(*text);
}

Result<nlohmann::json> runCanaryWrite(const nlohmann::json &params, const maildir::ProgressSink &,
                                      const protocol::ItemSink &)
{
    auto root = openRoot(params);
    if (!root)
        return tl::unexpected(root.error());
    auto text = protocol::requireText(params, "name");
    if (!text)
        return tl::unexpected(text.error());
    const auto name = maildir::CanaryProbeName::parse(*text);
    if (!name)
        return fail(ErrorCode::BadRequest, "not a canary probe name (ORIGIN.SEQUENCE.MILLISECONDS): " + *text);
    auto written = maildir::CanaryDir::write(*root, *name);
    if (!written)
        return tl::unexpected(written.error());
    return nlohmann::json(*written);
}

Result<nlohmann::json> runCanaryList(const nlohmann::json &params, const maildir::ProgressSink &,
                                     const protocol::ItemSink &)
{
    auto root = openRoot(params);
    if (!root)
        return tl::unexpected(root.error());
    auto listing = maildir::CanaryDir::list(*root);
    if (!listing)
        return tl::unexpected(listing.error());
    return nlohmann::json(*listing);
}

std::string formatCanaryList(const nlohmann::json &r)
{
    std::string text;
    for (const auto &probe : r.value("probes", nlohmann::json::array()))
        text += probe.value("name", std::string()) + "  " + std::to_string(probe.value("ageSeconds", 0LL)) + " s old\n";
    return text.empty() ? std::string("no canary probes\n") : text;
}

Result<nlohmann::json> runCanaryRemove(const nlohmann::json &params, const maildir::ProgressSink &,
                                       const protocol::ItemSink &)
{
    auto root = openRoot(params);
    if (!root)
        return tl::unexpected(root.error());
    maildir::CanarySweep sweep;
    auto name = optionalText(params, "name");
    if (!name)
        return tl::unexpected(name.error());
    sweep.name = *name;
    auto origin = optionalText(params, "origin");
    if (!origin)
        return tl::unexpected(origin.error());
    sweep.origin = *origin;
    if (params.contains("olderThan")) {
        auto seconds = protocol::optionalInteger(params, "olderThan", -1);
        if (!seconds)
            return tl::unexpected(seconds.error());
        sweep.olderThanSeconds = *seconds;
    }
    auto dryRun = protocol::optionalBool(params, "dryRun", false);
    if (!dryRun)
        return tl::unexpected(dryRun.error());
    sweep.dryRun = *dryRun;
    auto removal = maildir::CanaryDir::remove(*root, sweep);
    if (!removal)
        return tl::unexpected(removal.error());
    return nlohmann::json(*removal);
}

std::string formatCanaryRemove(const nlohmann::json &r)
{
    const bool dryRun = r.value("dryRun", false);
    std::string text;
    for (const auto &name : r.value("removed", nlohmann::json::array()))
        text += (dryRun ? "would remove " : "removed ") + name.get<std::string>() + "\n";
    for (const auto &problem : r.value("problems", nlohmann::json::array()))
        text += "left alone: " + problem.get<std::string>() + "\n";
    return text.empty() ? std::string("nothing to remove\n") : text;
}

int canaryRemoveExitCode(const nlohmann::json &r)
{
    return r.value("problems", nlohmann::json::array()).empty() ? protocol::kExitOk : protocol::kExitSkipped;
}

} // namespace

std::vector<protocol::Command> canaryCommands()
{
    std::vector<protocol::Command> commands;

    protocol::Command write;
    write.name = "canary-write";
    write.summary = "write one replication canary probe into ROOT/.mailmesh-canary (tmp/ and a rename)";
    write.arguments = {{"root", ValueKind::Path}};
    write.options = {{"--name", "name", ValueKind::Text, "probe name ORIGIN.SEQUENCE.MILLISECONDS (required)"}};
    write.run = runCanaryWrite;
    commands.push_back(std::move(write));

    protocol::Command list;
    list.name = "canary-list";
    list.summary = "the replication canary probes present in ROOT/.mailmesh-canary";
    list.arguments = {{"root", ValueKind::Path}};
    list.run = runCanaryList;
    list.formatText = formatCanaryList;
    commands.push_back(std::move(list));

    protocol::Command remove;
    remove.name = "canary-remove";
    remove.summary = "delete canary probes (--name NAME, or --older-than SECONDS [--origin NODE]); nothing else";
    remove.arguments = {{"root", ValueKind::Path}};
    remove.options = {
        {"--name", "name", ValueKind::Text, "the one probe to delete"},
        {"--older-than", "olderThan", ValueKind::Integer, "every probe whose file is older, in seconds"},
        {"--origin", "origin", ValueKind::Text, "with --older-than: only probes from this node"},
        {"--dry-run", "dryRun", ValueKind::Flag, "list what would go, delete nothing"},
    };
    remove.run = runCanaryRemove;
    remove.formatText = formatCanaryRemove;
    remove.exitCode = canaryRemoveExitCode;
    commands.push_back(std::move(remove));
    return commands;
}

} // namespace mm::agent
