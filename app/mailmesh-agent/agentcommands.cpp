// The one place where the agent's commands are registered. To add commands: write a handler
// file in this folder (e.g. maildircommands.cpp) that defines a factory
//     std::vector<mm::protocol::Command> maildirCommands();
// in namespace mm::agent, declare it below, add it to kFactories, and add the .cpp to
// mailmesh_agent_commands in CMakeLists.txt. A command defined in protocol.md but not
// registered answers `not-found`.

#include "agentcommands.h"

#include <cstdio>
#include <vector>

namespace mm::agent {

std::vector<protocol::Command> probeCommands();
std::vector<protocol::Command> diagnosticCommands();
std::vector<protocol::Command> maildirCommands();
std::vector<protocol::Command> dupeCommands();
std::vector<protocol::Command> sharedStateCommands();
std::vector<protocol::Command> canaryCommands();

namespace {

using Factory = std::vector<protocol::Command> (*)();

constexpr Factory kFactories[] = {
    probeCommands,
    diagnosticCommands,
    maildirCommands,
    dupeCommands,
    sharedStateCommands,
    canaryCommands,
};

} // namespace

void registerAgentCommands(protocol::CommandRegistry &registry)
{
    for (const Factory factory : kFactories)
        for (auto &command : factory()) {
            const std::string name = command.name;
            if (!registry.add(std::move(command)))
                std::fprintf(stderr, "mailmesh-agent: command '%s' registered twice\n",
                             name.c_str());
        }
}

} // namespace mm::agent
