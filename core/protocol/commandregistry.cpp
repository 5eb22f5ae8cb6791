#include "protocol/commandregistry.h"

#include <algorithm>

namespace mm::protocol {

const std::vector<std::string_view> &CommandRegistry::definedCommands()
{
    static const std::vector<std::string_view> names{
        "probe",
        "scan",
        "convert",
        "revert",
        "dupes",
        "inventory",
        "dedupe",
        "restore",
        "headers",
        "diff",
        "quarantine-list",
        "quarantine-purge",
        "manifest",
        "keywords",
        "keywords-settle",
        "shared-state-fold",
        "canary-write",
        "canary-list",
        "canary-remove",
        "diag-sleep",
    };
    return names;
}

bool CommandRegistry::add(Command command)
{
    if (command.name.empty() || !command.run || m_commands.contains(command.name))
        return false;
    std::string name = command.name;
    m_commands.emplace(std::move(name), std::move(command));
    return true;
}

const Command *CommandRegistry::find(std::string_view name) const
{
    const auto it = m_commands.find(name);
    return it == m_commands.end() ? nullptr : &it->second;
}

bool CommandRegistry::isDefined(std::string_view name) const
{
    const auto &defined = definedCommands();
    return find(name) || std::find(defined.begin(), defined.end(), name) != defined.end();
}

std::vector<const Command *> CommandRegistry::commands() const
{
    std::vector<const Command *> out;
    out.reserve(m_commands.size());
    for (const auto &[name, command] : m_commands)
        out.push_back(&command);
    return out;
}

Error CommandRegistry::missingCommandError(std::string_view name, bool defined)
{
    if (defined)
        return Error{ErrorCode::NotFound,
                     "command '" + std::string(name) + "' is not implemented by this agent",
                     {}};
    return Error{ErrorCode::BadRequest, "unknown command '" + std::string(name) + "'", {}};
}

} // namespace mm::protocol
