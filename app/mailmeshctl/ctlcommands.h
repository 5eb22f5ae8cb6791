#pragma once

#include "commandtable.h"

namespace mm::ctl {

// Fills `table` with every mailmeshctl command (see ctlcommands.cpp). Returns false, after
// naming it on stderr, when a command was refused: a taken name, or no help text.
bool registerCtlCommands(CommandTable &table);

} // namespace mm::ctl
