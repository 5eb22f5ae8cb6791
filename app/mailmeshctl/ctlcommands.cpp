// The one place where mailmeshctl's commands are registered, in the order the usage lists them.
// To add commands: write a file in this folder (e.g. clustercommands.cpp) that defines a factory
//     QList<mm::ctl::Command> clusterCommands();
// in namespace mm::ctl, declare it below, add it to kFactories, and add the .cpp to mailmeshctl
// in CMakeLists.txt. docs/recipes.md, "Adding a mailmeshctl command", has the whole recipe.

#include "ctlcommands.h"

#include <QTextStream>

#include <cstdio>

namespace mm::ctl {

QList<Command> clusterCommands();
QList<Command> duplicateCommands();
QList<Command> statusCommands();
QList<Command> canaryCommands();
QList<Command> homeCommands();
QList<Command> sandboxCommands();
QList<Command> labCommands();

namespace {

using Factory = QList<Command> (*)();

constexpr Factory kFactories[] = {
    clusterCommands, duplicateCommands, statusCommands, canaryCommands, homeCommands, sandboxCommands, labCommands,
};

} // namespace

bool registerCtlCommands(CommandTable &table)
{
    bool complete = true;
    QTextStream err(stderr);
    for (const Factory factory : kFactories)
        for (Command &command : factory()) {
            const QString name = command.name;
            if (!table.add(std::move(command))) {
                err << "mailmeshctl: command '" << name
                    << "' is registered twice or lacks its help text\n";
                complete = false;
            }
        }
    return complete;
}

} // namespace mm::ctl
