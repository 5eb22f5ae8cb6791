#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// The /proc files the probe reads to find running Syncthing and change-watcher processes.
namespace mm::node {

// /proc/PID/cmdline (NUL-separated): the value of --home=X, --home X, -home=X or -home X (the
// last one wins, as in Syncthing's flag parsing); nullopt when absent.
std::optional<std::string> parseCmdlineHome(std::string_view cmdline);
// Whether a command name from /proc/PID/stat may be the agent: "mailmesh-agent" as prepare
// installs it, or "agent-<sha256>", the copy AgentClient deploys (cut to 15 bytes by the kernel).
bool isAgentCommandName(std::string_view comm);
// /proc/PID/cmdline of the agent (NUL-separated): nullopt unless its first argument is
// `watch-changes`; else the value of --syncthing-home=X or --syncthing-home X, as the agent reads
// its own command line (the last one wins), nullopt inside when none is given.
struct ChangeWatcherCmdline
{
    std::optional<std::string> syncthingHome;
};
std::optional<ChangeWatcherCmdline> parseChangeWatcherCmdline(std::string_view cmdline);
// /proc/PID/stat: the command name (between the outer parentheses), the state letter and the
// parent's pid.
struct ProcStat
{
    std::string comm;
    char state = '?';
    std::int64_t ppid = 0;
};
std::optional<ProcStat> parseProcStat(std::string_view text);
// /proc/PID/status: the effective uid (second field of the "Uid:" line).
std::optional<std::uint32_t> parseProcStatusUid(std::string_view text);

} // namespace mm::node
