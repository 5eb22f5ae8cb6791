#pragma once

#include "command.h"

#include <QList>
#include <QString>

namespace mm::ctl {

// mailmeshctl's commands in the order the usage lists them. ctlcommands.cpp fills one table at
// start-up from the command files; main.cpp dispatches through it, and every usage text is
// made from it.
class CommandTable
{
public:
    // Adds a command. Returns false (and changes nothing) when the name is taken or empty, or
    // when the command lacks a summary, an option's help or a handler: every command must
    // answer `--help`.
    bool add(Command command);

    const Command *find(const QString &name) const;
    // Whether `name` is a group of subcommands ("quarantine" for "quarantine list", ...).
    bool isGroup(const QString &name) const;
    const QList<Command> &commands() const { return m_commands; }

    // `mailmeshctl --help`: every command with its summary, the global options, the exit codes.
    QString usage() const;
    // `mailmeshctl quarantine --help`: the group's subcommands.
    QString groupUsage(const QString &group) const;
    // `mailmeshctl COMMAND --help`: the synopsis, the summary and one line per option.
    static QString commandUsage(const Command &command);

private:
    QList<const Command *> groupMembers(const QString &group) const;

    QList<Command> m_commands;
};

} // namespace mm::ctl
