#pragma once

#include "protocol/command.h"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mm::protocol {

// The agent's commands by name. app/mailmesh-agent/agentcommands.cpp fills one registry at
// start-up from the handler files; `serve` and the one-shot CLI both dispatch through it.
class CommandRegistry
{
public:
    // The commands the protocol defines (protocol.md). A defined command with no handler yet
    // answers `not-found`; a name outside this list answers `bad-request`.
    static const std::vector<std::string_view> &definedCommands();

    // Adds a command. Returns false (and changes nothing) if the name is already taken or empty.
    bool add(Command command);

    const Command *find(std::string_view name) const;
    bool isDefined(std::string_view name) const;

    // Registered commands in name order.
    std::vector<const Command *> commands() const;

    // The Error a request naming `name` gets when find() returns nullptr.
    static Error missingCommandError(std::string_view name, bool defined);

private:
    std::map<std::string, Command, std::less<>> m_commands;
};

} // namespace mm::protocol
