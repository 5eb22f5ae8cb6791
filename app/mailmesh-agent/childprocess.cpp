#include "childprocess.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace mm::agent {

Result<ChildProcess::Outcome> ChildProcess::run(const std::string &program,
                                                const std::vector<std::string> &arguments,
                                                std::chrono::milliseconds timeout,
                                                std::size_t maxOutputBytes)
{
    std::vector<std::string> argvStorage;
    argvStorage.push_back(program);
    argvStorage.insert(argvStorage.end(), arguments.begin(), arguments.end());
    std::vector<char *> argv;
    for (auto &word : argvStorage)
        argv.push_back(word.data());
    argv.push_back(nullptr);

    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) != 0)
        return fail(ErrorCode::IoError, std::string("pipe failed: ") + std::strerror(errno),
                    program);
    const int devNull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

    const pid_t pid = ::fork();
    if (pid < 0) {
        const int err = errno;
        ::close(pipeFds[0]);
        ::close(pipeFds[1]);
        if (devNull >= 0)
            ::close(devNull);
        return fail(ErrorCode::IoError, std::string("fork failed: ") + std::strerror(err), program);
    }
    if (pid == 0) {
        // Child: only async-signal-safe calls until exec.
        if (devNull >= 0)
            ::dup2(devNull, STDIN_FILENO);
        ::dup2(pipeFds[1], STDOUT_FILENO);
        ::dup2(pipeFds[1], STDERR_FILENO);
        ::execve(program.c_str(), argv.data(), environ);
        ::_exit(127);
    }
    ::close(pipeFds[1]);
    if (devNull >= 0)
        ::close(devNull);

    Outcome outcome;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buffer[16384];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            outcome.timedOut = true;
            ::kill(pid, SIGKILL);
            break;
        }
        pollfd pfd{pipeFds[0], POLLIN, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            continue; // timeout is handled at the top
        const ssize_t n = ::read(pipeFds[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        const std::size_t room = maxOutputBytes - std::min(maxOutputBytes, outcome.output.size());
        outcome.output.append(buffer, std::min(room, static_cast<std::size_t>(n)));
    }
    ::close(pipeFds[0]);

    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    outcome.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (outcome.exitCode == 127 && outcome.output.empty())
        return fail(ErrorCode::NotFound, program + ": cannot be executed", program);
    return outcome;
}

std::string ChildProcess::findProgram(const std::string &name,
                                      const std::vector<std::string> &extraDirectories)
{
    std::vector<std::string> directories;
    if (const char *path = std::getenv("PATH")) {
        std::string_view rest(path);
        while (!rest.empty()) {
            const auto colon = rest.find(':');
            const std::string_view dir = rest.substr(0, colon);
            if (!dir.empty())
                directories.emplace_back(dir);
            if (colon == std::string_view::npos)
                break;
            rest.remove_prefix(colon + 1);
        }
    }
    directories.insert(directories.end(), extraDirectories.begin(), extraDirectories.end());
    for (const auto &dir : directories) {
        const std::string candidate = dir + "/" + name;
        struct stat st
        {
        };
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return {};
}

} // namespace mm::agent
