#pragma once

#include "protocol/commandregistry.h"

namespace mm::agent {

// Fills `registry` with every command this agent implements (see agentcommands.cpp).
void registerAgentCommands(protocol::CommandRegistry &registry);

} // namespace mm::agent
