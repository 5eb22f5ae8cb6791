#include "oneshot.h"

#include "maildir/jsonpath.h"
#include "protocol/commandline.h"
#include "protocol/etaestimator.h"
#include "protocol/exitcodes.h"
#include "protocol/framewriter.h"
#include "protocol/outgoingframes.h"
#include "protocol/version.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace mm::agent {

namespace {

std::atomic<bool> g_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "used from a signal handler");

extern "C" void onInterrupt(int)
{
    g_interrupted.store(true);
}

void printLine(std::FILE *stream, std::string_view text)
{
    std::fwrite(text.data(), 1, text.size(), stream);
    std::fputc('\n', stream);
    std::fflush(stream);
}

std::string formatEta(std::optional<double> seconds)
{
    if (!seconds)
        return "ETA --:--";
    const long total = static_cast<long>(*seconds + 0.5);
    char text[32];
    if (total >= 3600)
        std::snprintf(text, sizeof text, "ETA %ld:%02ld:%02ld", total / 3600, total / 60 % 60,
                      total % 60);
    else
        std::snprintf(text, sizeof text, "ETA %02ld:%02ld", total / 60, total % 60);
    return text;
}

// Progress on stderr: one rewritten line on a terminal, a line every few seconds otherwise.
class ProgressPrinter
{
public:
    explicit ProgressPrinter(std::string command)
        : m_command(std::move(command))
        , m_eta(protocol::EtaEstimator::Clock::now())
        , m_terminal(::isatty(STDERR_FILENO) == 1)
    {
    }

    void report(std::uint64_t done, std::uint64_t total, std::string_view item)
    {
        const auto now = protocol::EtaEstimator::Clock::now();
        const auto interval =
            m_terminal ? std::chrono::milliseconds(100) : std::chrono::milliseconds(2000);
        if (m_printed && now - m_last < interval)
            return;
        m_last = now;
        m_printed = true;
        std::string line = m_command + ": " + std::to_string(done);
        if (total != 0) {
            line += "/" + std::to_string(total) + " (" +
                    std::to_string(done * 100 / (total ? total : 1)) + "%) " +
                    formatEta(m_eta.secondsLeft(done, total, now));
        }
        if (!item.empty())
            line += "  " + maildir::toValidUtf8(item);
        if (m_terminal) {
            if (line.size() > 150)
                line.resize(150);
            std::fprintf(stderr, "\r\033[K%s", line.c_str());
        } else {
            std::fprintf(stderr, "%s\n", line.c_str());
        }
        std::fflush(stderr);
    }

    void finish()
    {
        if (m_terminal && m_printed)
            std::fprintf(stderr, "\r\033[K");
    }

private:
    std::string m_command;
    protocol::EtaEstimator m_eta;
    bool m_terminal;
    bool m_printed = false;
    protocol::EtaEstimator::Clock::time_point m_last;
};

} // namespace

int runOneShot(const protocol::CommandRegistry &registry, std::span<const std::string> args)
{
    if (args.empty())
        return protocol::kExitUsage;

    // `quarantine list` is the CLI spelling of the wire name `quarantine-list`.
    std::string name = args[0];
    std::size_t consumed = 1;
    if (args.size() > 1 && !registry.find(name) && registry.find(name + "-" + args[1])) {
        name += "-" + args[1];
        consumed = 2;
    }
    const protocol::Command *command = registry.find(name);
    if (!command) {
        const Error error =
            protocol::CommandRegistry::missingCommandError(name, registry.isDefined(name));
        std::fprintf(stderr, "mailmesh-agent: %s (see mailmesh-agent --help)\n",
                     maildir::toValidUtf8(error.message).c_str());
        return protocol::kExitUsage;
    }

    bool json = false;
    std::vector<std::string> words;
    for (std::size_t i = consumed; i < args.size(); ++i) {
        if (args[i] == "--json")
            json = true;
        else if (args[i] == "--help" || args[i] == "-h") {
            printLine(stdout, "usage: mailmesh-agent " + protocol::commandUsage(*command));
            return protocol::kExitOk;
        } else
            words.push_back(args[i]);
    }

    auto params = protocol::paramsFromCommandLine(*command, words);
    if (!params) {
        std::fprintf(stderr, "mailmesh-agent %s: %s\n", name.c_str(),
                     params.error().message.c_str());
        return protocol::kExitUsage;
    }

    struct sigaction action = {};
    action.sa_handler = onInterrupt;
    action.sa_flags = SA_RESETHAND; // a second Ctrl-C kills, for a command that does not check
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, nullptr);
    ::sigaction(SIGTERM, &action, nullptr);

    ProgressPrinter printer(name);
    const maildir::ProgressSink progress(
        [&](std::uint64_t done, std::uint64_t total, std::string_view item) {
            printer.report(done, total, item);
        },
        &g_interrupted);
    const protocol::ItemSink items([&](nlohmann::json item) {
        printLine(stdout,
                  json ? protocol::FrameWriter::serialise(item)
                       : item.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    });

    Result<nlohmann::json> result = fail(ErrorCode::InternalError, "the command did not run");
    try {
        result = command->run(*params, progress, items);
    } catch (const std::exception &e) {
        result = fail(ErrorCode::InternalError,
                      name + " failed with an unexpected exception: " + e.what());
    }
    printer.finish();

    if (!result) {
        if (json)
            printLine(stdout,
                      protocol::FrameWriter::serialise(protocol::problemFrame({}, result.error())));
        std::fprintf(stderr, "mailmesh-agent %s: %s: %s\n", name.c_str(),
                     std::string(errorCodeName(result.error().code)).c_str(),
                     maildir::toValidUtf8(result.error().describe()).c_str());
        return protocol::exitCodeFor(result.error().code);
    }
    if (result->is_object() && !result->contains("schemaVersion"))
        (*result)["schemaVersion"] = protocol::kSchemaVersion;
    if (json)
        printLine(stdout, protocol::FrameWriter::serialise(*result));
    else if (command->formatText)
        printLine(stdout, command->formatText(*result));
    else
        printLine(stdout, result->dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return command->exitCode ? command->exitCode(*result) : protocol::kExitOk;
}

} // namespace mm::agent
