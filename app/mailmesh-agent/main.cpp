// mailmesh-agent: the node-side half of Mailmesh. `serve` speaks the JSON-lines protocol of
// core/protocol/protocol.md on stdin/stdout; every command also runs one-shot from a shell.

#include "agentcommands.h"
#include "changewatch.h"
#include "oneshot.h"

#include "protocol/commandline.h"
#include "protocol/exitcodes.h"
#include "protocol/server.h"
#include "protocol/version.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <string>
#include <unistd.h>
#include <vector>

namespace {

void printUsage(std::FILE *stream, const mm::protocol::CommandRegistry &registry)
{
    std::fprintf(stream, "usage: mailmesh-agent serve            JSON lines on stdin/stdout\n"
                         "       mailmesh-agent watch-changes --syncthing-home DIR [--delay-ms N] [--verbose]\n"
                         "                                    tells Syncthing what changed (a service)\n"
                         "       mailmesh-agent COMMAND ARGS... [--json]\n"
                         "       mailmesh-agent COMMAND --help\n"
                         "       mailmesh-agent --version\n\ncommands:\n");
    for (const auto *command : registry.commands())
        std::fprintf(stream, "  %-18s %s\n", command->name.c_str(), command->summary.c_str());
}

// glibc maps every block above 128 KiB and unmaps it when freed, and returns the top of the heap
// above 128 KiB free. The inventory allocates megabytes per folder read (names, message memo,
// indexes), folder after folder: each of those pages was faulted in again, which cost more
// system time than listing the folders (docs/monitoring.md). Heap blocks up to 32 MiB, and up to
// 64 MiB kept free, make them reused instead; the agent is short-lived or idle in `serve`.
void keepFreedMemoryForReuse()
{
#if defined(__GLIBC__)
    ::mallopt(M_MMAP_THRESHOLD, 32 << 20);
    ::mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

// `watch-changes --syncthing-home DIR [--delay-ms N] [--verbose]` (changewatch.h).
int runChangeWatchCommand(const std::vector<std::string> &args, const mm::protocol::CommandRegistry &registry)
{
    mm::agent::ChangeWatchOptions options;
    for (std::size_t i = 1; i < args.size(); ++i) {
        const std::string &arg = args[i];
        const auto value = [&](const char *name) -> std::optional<std::string> {
            const std::string flag = name;
            if (arg.starts_with(flag + "="))
                return arg.substr(flag.size() + 1);
            if (arg == flag && i + 1 < args.size())
                return args[++i];
            return std::nullopt;
        };
        if (auto home = value("--syncthing-home")) {
            options.syncthingHome = *home;
        } else if (auto delay = value("--delay-ms")) {
            options.batchDelayMs = std::atoi(delay->c_str());
        } else if (arg == "--verbose") {
            options.verbose = true;
        } else {
            std::fprintf(stderr, "watch-changes: unknown option %s\n", arg.c_str());
            printUsage(stderr, registry);
            return mm::protocol::kExitUsage;
        }
    }
    if (options.syncthingHome.empty() || options.batchDelayMs < 0) {
        std::fprintf(stderr, "watch-changes: --syncthing-home DIR is required\n");
        return mm::protocol::kExitUsage;
    }
    return mm::agent::runChangeWatch(options);
}

} // namespace

int main(int argc, char **argv)
{
    keepFreedMemoryForReuse();
    const std::vector<std::string> args(argv + 1, argv + argc);
    mm::protocol::CommandRegistry registry;
    mm::agent::registerAgentCommands(registry);

    if (args.size() == 1 && args[0] == "--version") {
        std::printf("mailmesh-agent %s\n", std::string(mm::protocol::mailmeshVersion()).c_str());
        return mm::protocol::kExitOk;
    }
    if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
        printUsage(stdout, registry);
        return mm::protocol::kExitOk;
    }
    if (args.size() == 1 && args[0] == "serve") {
        // A vanished peer shows up as EPIPE on write, not as a signal that kills us mid-journal.
        std::signal(SIGPIPE, SIG_IGN);
        mm::protocol::Server server(registry, STDIN_FILENO, STDOUT_FILENO);
        return server.run();
    }
    if (!args.empty() && args[0] == "watch-changes")
        return runChangeWatchCommand(args, registry);
    if (args.empty() || args[0].starts_with("-")) {
        printUsage(stderr, registry);
        return mm::protocol::kExitUsage;
    }
    return mm::agent::runOneShot(registry, args);
}
