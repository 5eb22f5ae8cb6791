#pragma once

#include "common/result.h"

#include <chrono>
#include <string>
#include <vector>

namespace mm::agent {

// Runs an external program directly (fork/exec, never a shell), with stdin from /dev/null and
// stdout+stderr captured together, killed if it outlives `timeout`. Safe to call from any
// thread of the multi-threaded serve loop: everything the child needs is prepared before fork.
class ChildProcess
{
public:
    struct Outcome
    {
        int exitCode = -1; // -1 when killed by a signal
        bool timedOut = false;
        std::string output; // stdout and stderr, at most maxOutputBytes
    };

    static Result<Outcome> run(const std::string &program,
                               const std::vector<std::string> &arguments,
                               std::chrono::milliseconds timeout = std::chrono::seconds(10),
                               std::size_t maxOutputBytes = 4 * 1024 * 1024);

    // The first executable regular file named `name` in $PATH, then in `extraDirectories`.
    // Empty when there is none. No NSS, no shell: a plain directory walk.
    static std::string findProgram(const std::string &name,
                                   const std::vector<std::string> &extraDirectories);
};

} // namespace mm::agent
