#pragma once

#include "protocol/commandregistry.h"
#include "protocol/framewriter.h"
#include "protocol/incomingmessage.h"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace mm::protocol {

// `mailmesh-agent serve`: the JSON-lines loop of protocol.md on two file descriptors. The
// calling thread reads frames; every request runs on its own thread; one FrameWriter keeps the
// output frames whole. run() returns when the input ends (after every request has sent its
// final frame) or when the handshake fails.
class Server
{
public:
    struct Options
    {
        std::size_t maxConcurrentRequests = 8;
        std::chrono::milliseconds progressInterval{200}; // at most one progress frame per this
    };

    Server(const CommandRegistry &registry, int inputFd, int outputFd);
    Server(const CommandRegistry &registry, int inputFd, int outputFd, Options options);
    ~Server();

    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    // The process exit code: 0 after a clean end of input, 2 when the handshake failed.
    int run();

private:
    struct Job;
    enum class State
    {
        AwaitingHello,
        Serving,
        Refused
    };

    void handleFrame(std::string_view frame);
    void handleOversized(std::size_t bytes);
    void startRequest(IncomingMessage message);
    void runJob(const std::shared_ptr<Job> &job, const Command &command,
                const nlohmann::json &params);
    void finishJob(const std::shared_ptr<Job> &job);
    void reapFinished();
    void cancelAll();
    void sendProblem(std::string_view id, const Error &error);

    const CommandRegistry &m_registry;
    int m_inputFd;
    Options m_options;
    FrameWriter m_writer;
    State m_state = State::AwaitingHello;

    std::mutex m_jobsMutex;
    std::map<std::string, std::shared_ptr<Job>, std::less<>> m_active;
    std::vector<std::shared_ptr<Job>> m_finished;
};

} // namespace mm::protocol
