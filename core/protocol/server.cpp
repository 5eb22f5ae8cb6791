#include "protocol/server.h"

#include "protocol/etaestimator.h"
#include "protocol/exitcodes.h"
#include "protocol/framesplitter.h"
#include "protocol/outgoingframes.h"
#include "protocol/version.h"

#include <cerrno>
#include <exception>
#include <optional>
#include <unistd.h>

namespace mm::protocol {

struct Server::Job
{
    std::string id;
    std::string command;
    std::atomic<bool> cancel{false};
    std::thread thread;
};

Server::Server(const CommandRegistry &registry, int inputFd, int outputFd)
    : Server(registry, inputFd, outputFd, Options{})
{
}

Server::Server(const CommandRegistry &registry, int inputFd, int outputFd, Options options)
    : m_registry(registry)
    , m_inputFd(inputFd)
    , m_options(options)
    , m_writer(outputFd, kMaxFrameBytes)
{
}

Server::~Server()
{
    cancelAll();
    reapFinished();
}

int Server::run()
{
    std::vector<std::string> names;
    for (const Command *command : m_registry.commands())
        names.push_back(command->name);
    if (!m_writer.write(helloFrame(names)))
        return kExitOk; // nobody is listening

    FrameSplitter splitter(kMaxRequestFrameBytes);
    const FrameSplitter::Handler handler{
        [this](std::string_view frame) { handleFrame(frame); },
        [this](std::size_t bytes) { handleOversized(bytes); },
    };
    std::string buffer(64 * 1024, '\0');
    while (m_state != State::Refused) {
        const ssize_t n = ::read(m_inputFd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            splitter.finish(handler);
            break;
        }
        splitter.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)), handler);
        reapFinished();
    }

    // End of input (or a refused handshake): whatever still runs is cancelled, and each
    // request still sends its one final frame before we return.
    cancelAll();
    reapFinished();
    return m_state == State::Refused ? kExitUsage : kExitOk;
}

void Server::handleOversized(std::size_t bytes)
{
    sendProblem({}, Error{ErrorCode::BadRequest,
                          "frame of " + std::to_string(bytes) + " bytes exceeds the limit of " +
                              std::to_string(kMaxRequestFrameBytes) + " bytes; it was skipped",
                          {}});
    if (m_state == State::AwaitingHello)
        m_state = State::Refused;
}

void Server::handleFrame(std::string_view frame)
{
    if (m_state == State::Refused)
        return;
    auto message = parseIncomingMessage(frame);
    if (m_state == State::AwaitingHello) {
        if (!message || message->type != IncomingMessage::Type::Hello) {
            sendProblem({},
                        Error{ErrorCode::BadRequest,
                              "the first frame must be a hello" +
                                  (message ? std::string() : ": " + message.error().error.message),
                              {}});
            m_state = State::Refused;
            return;
        }
        if (message->schemaVersion != kSchemaVersion) {
            sendProblem({}, Error{ErrorCode::Unsupported,
                                  "schemaVersion " + std::to_string(message->schemaVersion) +
                                      " is not supported; this agent (" +
                                      std::string(mailmeshVersion()) + ") speaks " +
                                      std::to_string(kSchemaVersion),
                                  {}});
            m_state = State::Refused;
            return;
        }
        m_state = State::Serving;
        return;
    }

    if (!message) {
        sendProblem(message.error().id, message.error().error);
        return;
    }
    switch (message->type) {
    case IncomingMessage::Type::Hello:
        sendProblem({}, Error{ErrorCode::BadRequest, "hello was already exchanged", {}});
        return;
    case IncomingMessage::Type::Ping:
        (void)m_writer.write(pongFrame(message->id));
        return;
    case IncomingMessage::Type::Cancel: {
        // An unknown id is not an error: the request may have finished a moment ago.
        const std::lock_guard lock(m_jobsMutex);
        if (const auto it = m_active.find(message->id); it != m_active.end())
            it->second->cancel.store(true);
        return;
    }
    case IncomingMessage::Type::Request:
        startRequest(std::move(*message));
        return;
    }
}

void Server::startRequest(IncomingMessage message)
{
    const Command *command = m_registry.find(message.command);
    if (!command) {
        sendProblem(message.id, CommandRegistry::missingCommandError(
                                    message.command, m_registry.isDefined(message.command)));
        return;
    }

    auto job = std::make_shared<Job>();
    job->id = message.id;
    job->command = message.command;
    {
        const std::lock_guard lock(m_jobsMutex);
        if (m_active.contains(message.id)) {
            // Answering with this id would give the running request a second final frame.
            sendProblem({}, Error{ErrorCode::BadRequest,
                                  "request id '" + message.id + "' is already in flight",
                                  {}});
            return;
        }
        if (m_active.size() >= m_options.maxConcurrentRequests) {
            sendProblem(message.id,
                        Error{ErrorCode::Busy,
                              std::to_string(m_options.maxConcurrentRequests) +
                                  " requests are already running; retry when one has finished",
                              {}});
            return;
        }
        m_active.emplace(job->id, job);
    }
    // The worker only touches the Job and the writer; `thread` is set and joined here only.
    job->thread = std::thread([this, job, command, params = std::move(message.params)] {
        runJob(job, *command, params);
    });
}

void Server::runJob(const std::shared_ptr<Job> &job, const Command &command,
                    const nlohmann::json &params)
{
    const EtaEstimator eta(EtaEstimator::Clock::now());
    std::optional<EtaEstimator::Clock::time_point> lastProgress;
    const auto onProgress = [&](std::uint64_t done, std::uint64_t total, std::string_view item) {
        const auto now = EtaEstimator::Clock::now();
        const bool finalReport = total != 0 && done >= total;
        if (!finalReport && lastProgress && now - *lastProgress < m_options.progressInterval)
            return;
        lastProgress = now;
        (void)m_writer.write(
            progressFrame(job->id, done, total, item, eta.secondsLeft(done, total, now)));
    };

    std::uint64_t sequence = 0;
    std::optional<Error> itemError;
    const auto onItem = [&](nlohmann::json item) {
        if (itemError)
            return;
        if (auto written = m_writer.write(itemFrame(job->id, sequence, std::move(item)));
            !written) {
            if (written.error().code == ErrorCode::InvalidData) {
                // A lost item would make the answer silently incomplete: stop the command.
                itemError = Error{ErrorCode::InternalError,
                                  "item " + std::to_string(sequence) + " of " + job->command +
                                      " is too large for one frame: " + written.error().message,
                                  {}};
                job->cancel.store(true);
            }
        }
        ++sequence;
    };

    Result<nlohmann::json> result = fail(ErrorCode::InternalError, "the command did not run");
    try {
        result =
            command.run(params, maildir::ProgressSink(onProgress, &job->cancel), ItemSink(onItem));
    } catch (const std::exception &e) {
        result = fail(ErrorCode::InternalError,
                      job->command + " failed with an unexpected exception: " + e.what());
    } catch (...) {
        result =
            fail(ErrorCode::InternalError, job->command + " failed with an unexpected exception");
    }

    // The slot is free before the final frame goes out: a peer that saw the answer may send its
    // next request at once and must not be told `busy`. The thread stays in m_finished, so
    // run() still joins it (and so waits for this final frame) before returning.
    finishJob(job);
    if (itemError) {
        sendProblem(job->id, *itemError);
    } else if (!result) {
        sendProblem(job->id, result.error());
    } else {
        if (result->is_object() && !result->contains("schemaVersion"))
            (*result)["schemaVersion"] = kSchemaVersion;
        auto written = m_writer.write(resultFrame(job->id, job->command, std::move(*result)));
        if (!written && written.error().code == ErrorCode::InvalidData)
            sendProblem(job->id, Error{ErrorCode::InternalError,
                                       "the result of " + job->command +
                                           " is too large for one frame (it should be streamed as "
                                           "items): " +
                                           written.error().message,
                                       {}});
    }
}

void Server::finishJob(const std::shared_ptr<Job> &job)
{
    const std::lock_guard lock(m_jobsMutex);
    m_active.erase(job->id);
    m_finished.push_back(job);
}

void Server::reapFinished()
{
    std::vector<std::shared_ptr<Job>> finished;
    {
        const std::lock_guard lock(m_jobsMutex);
        finished.swap(m_finished);
    }
    for (auto &job : finished)
        if (job->thread.joinable())
            job->thread.join();
}

void Server::cancelAll()
{
    std::vector<std::shared_ptr<Job>> running;
    {
        const std::lock_guard lock(m_jobsMutex);
        for (auto &[id, job] : m_active) {
            job->cancel.store(true);
            running.push_back(job);
        }
    }
    for (auto &job : running)
        if (job->thread.joinable())
            job->thread.join();
}

void Server::sendProblem(std::string_view id, const Error &error)
{
    (void)m_writer.write(problemFrame(id, error));
}

} // namespace mm::protocol
