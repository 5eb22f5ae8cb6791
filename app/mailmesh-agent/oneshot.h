#pragma once

#include "protocol/commandregistry.h"

#include <span>
#include <string>

namespace mm::agent {

// `mailmesh-agent COMMAND ARGS... [--json]`: runs one command in the foreground. With --json,
// stdout carries exactly what `serve` would send as payloads: one line per streamed item, then
// the result document (or, on failure, the problem frame). Without it, a readable form.
// Progress with an ETA goes to stderr. Returns the process exit code.
int runOneShot(const protocol::CommandRegistry &registry, std::span<const std::string> args);

} // namespace mm::agent
