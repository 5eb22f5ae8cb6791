#include "node/proc.h"

#include <charconv>
#include <vector>

namespace mm::node {

namespace {

// /proc/PID/cmdline: NUL after every argument.
std::vector<std::string_view> splitCmdline(std::string_view cmdline)
{
    std::vector<std::string_view> args;
    while (!cmdline.empty()) {
        const auto end = cmdline.find('\0');
        args.push_back(cmdline.substr(0, end));
        cmdline.remove_prefix(end == std::string_view::npos ? cmdline.size() : end + 1);
    }
    return args;
}

} // namespace

std::optional<std::string> parseCmdlineHome(std::string_view cmdline)
{
    const std::vector<std::string_view> args = splitCmdline(cmdline);
    std::optional<std::string> home;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (arg == "--")
            break;
        if (arg == "--home" || arg == "-home") {
            if (i + 1 < args.size())
                home = std::string(args[++i]);
        } else if (arg.starts_with("--home=")) {
            home = std::string(arg.substr(7));
        } else if (arg.starts_with("-home=")) {
            home = std::string(arg.substr(6));
        }
    }
    return home;
}

bool isAgentCommandName(std::string_view comm)
{
    return comm == "mailmesh-agent" || comm.starts_with("agent-");
}

std::optional<ChangeWatcherCmdline> parseChangeWatcherCmdline(std::string_view cmdline)
{
    const std::vector<std::string_view> args = splitCmdline(cmdline);
    if (args.size() < 2 || args[1] != "watch-changes")
        return std::nullopt;
    // As runChangeWatchCommand (app/mailmesh-agent/main.cpp) reads it.
    ChangeWatcherCmdline parsed;
    constexpr std::string_view kFlag = "--syncthing-home";
    for (std::size_t i = 2; i < args.size(); ++i) {
        const std::string_view arg = args[i];
        if (arg.size() > kFlag.size() && arg.starts_with(kFlag) && arg[kFlag.size()] == '=')
            parsed.syncthingHome = std::string(arg.substr(kFlag.size() + 1));
        else if (arg == kFlag && i + 1 < args.size())
            parsed.syncthingHome = std::string(args[++i]);
        else if (arg == "--delay-ms" && i + 1 < args.size())
            ++i; // its value is no flag
    }
    return parsed;
}

std::optional<ProcStat> parseProcStat(std::string_view text)
{
    const auto open = text.find('(');
    const auto close = text.rfind(')');
    // After the name: " S PPID ..."
    if (open == std::string_view::npos || close == std::string_view::npos || close < open ||
        close + 4 >= text.size() || text[close + 1] != ' ' || text[close + 3] != ' ')
        return std::nullopt;
    ProcStat stat{std::string(text.substr(open + 1, close - open - 1)), text[close + 2], 0};
    const std::string_view rest = text.substr(close + 4);
    const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), stat.ppid);
    if (ec != std::errc())
        return std::nullopt;
    return stat;
}

std::optional<std::uint32_t> parseProcStatusUid(std::string_view text)
{
    std::size_t at = 0;
    while (at < text.size()) {
        const auto end = text.find('\n', at);
        const std::string_view line =
            text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
        at = end == std::string_view::npos ? text.size() : end + 1;
        if (!line.starts_with("Uid:"))
            continue;
        std::string_view fields = line.substr(4);
        for (int field = 0; field < 2; ++field) {
            while (!fields.empty() && (fields.front() == ' ' || fields.front() == '\t'))
                fields.remove_prefix(1);
            std::uint32_t uid = 0;
            const auto [ptr, ec] =
                std::from_chars(fields.data(), fields.data() + fields.size(), uid);
            if (ec != std::errc())
                return std::nullopt;
            if (field == 1)
                return uid;
            fields.remove_prefix(std::size_t(ptr - fields.data()));
        }
    }
    return std::nullopt;
}

} // namespace mm::node
