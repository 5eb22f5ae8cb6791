#include "commandtable.h"

#include "commandline.h"

#include <algorithm>

namespace mm::ctl {

namespace {

constexpr qsizetype kLineWidth = 100;
const QString kContinuation = QStringLiteral("            "); // under the command's name

QString argumentWord(const CommandArgument &argument)
{
    const QString word = argument.name + (argument.repeated ? QStringLiteral("...") : QString());
    return argument.optional ? u'[' + word + u']' : word;
}

QString optionWord(const CommandOption &option)
{
    return optionWithValue(option) +
           (option.repeated && option.required ? QStringLiteral("...") : QString());
}

// The words of `mailmeshctl ... NAME ARGS OPTIONS`, in the order people read them: arguments,
// required options, the choices between alternatives, then everything optional.
QStringList synopsisWords(const Command &command)
{
    QStringList words{QStringLiteral("mailmeshctl")};
    if (command.clusterFile != ClusterFile::Unused)
        words << QStringLiteral("[--cluster FILE]") << QStringLiteral("[--json]");
    words << command.name;
    for (const CommandArgument &argument : command.arguments)
        words << argumentWord(argument);
    QStringList groups;
    for (const CommandOption &option : command.options) {
        if (option.required)
            words << optionWord(option);
        else if (!option.alternatives.isEmpty() && !groups.contains(option.alternatives))
            groups << option.alternatives;
    }
    for (const QString &group : std::as_const(groups)) {
        QStringList choices;
        for (const CommandOption &option : command.options)
            if (option.alternatives == group)
                choices << optionWithValue(option) +
                               (option.repeated ? QStringLiteral("...") : QString());
        words << u'(' + choices.join(QStringLiteral(" | ")) + u')';
    }
    for (const CommandOption &option : command.options)
        if (!option.required && option.alternatives.isEmpty())
            words << u'[' + optionWithValue(option) + u']' +
                         (option.repeated ? QStringLiteral("...") : QString());
    return words;
}

// Words joined into lines of at most kLineWidth; later lines start with `indent`.
QString wrapped(const QStringList &words, const QString &firstLine, const QString &indent)
{
    QString text = firstLine;
    qsizetype lineStart = 0;
    bool lineEmpty = firstLine.isEmpty() || firstLine.endsWith(u' ');
    for (const QString &word : words) {
        if (!lineEmpty && text.size() - lineStart + 1 + word.size() > kLineWidth) {
            text += u'\n';
            lineStart = text.size();
            text += indent;
            lineEmpty = true;
        }
        if (!lineEmpty)
            text += u' ';
        text += word;
        lineEmpty = false;
    }
    return text + u'\n';
}

QString wrappedText(const QString &text, const QString &firstLine, const QString &indent)
{
    return wrapped(text.split(u' ', Qt::SkipEmptyParts), firstLine, indent);
}

// "  NAME  summary" rows with the names in one column.
QString table(const QList<QPair<QString, QString>> &rows)
{
    qsizetype width = 0;
    for (const auto &[name, text] : rows)
        width = std::max(width, name.size());
    QString out;
    for (const auto &[name, text] : rows) {
        const QString left =
            QStringLiteral("  ") + name.leftJustified(width) + QStringLiteral("  ");
        out += wrappedText(text, left, QString(left.size(), u' '));
    }
    return out;
}

QString groupOf(const QString &name)
{
    const qsizetype space = name.indexOf(u' ');
    return space < 0 ? QString() : name.left(space);
}

} // namespace

bool CommandTable::add(Command command)
{
    if (command.name.isEmpty() || command.summary.isEmpty() || find(command.name) ||
        isGroup(command.name))
        return false;
    if (!command.run && !command.workflow)
        return false;
    if (std::any_of(command.options.cbegin(), command.options.cend(),
                    [](const CommandOption &option) {
                        return option.name.isEmpty() || option.help.isEmpty();
                    }))
        return false;
    m_commands << std::move(command);
    return true;
}

const Command *CommandTable::find(const QString &name) const
{
    const auto found =
        std::find_if(m_commands.cbegin(), m_commands.cend(),
                     [&name](const Command &command) { return command.name == name; });
    return found == m_commands.cend() ? nullptr : &*found;
}

bool CommandTable::isGroup(const QString &name) const
{
    return !groupMembers(name).isEmpty();
}

QList<const Command *> CommandTable::groupMembers(const QString &group) const
{
    QList<const Command *> members;
    for (const Command &command : m_commands)
        if (groupOf(command.name) == group)
            members << &command;
    return members;
}

QString CommandTable::commandUsage(const Command &command)
{
    QString text = wrapped(synopsisWords(command), QStringLiteral("usage:"), kContinuation);
    text += u'\n' + wrappedText(command.summary, QString(), QString());
    QList<QPair<QString, QString>> rows;
    for (const CommandOption &option : command.options)
        rows.append({optionWithValue(option), option.help});
    if (!rows.isEmpty())
        text += u'\n' + table(rows);
    return text;
}

QString CommandTable::groupUsage(const QString &group) const
{
    QString text;
    QList<QPair<QString, QString>> rows;
    for (const Command *command : groupMembers(group)) {
        text += wrapped(synopsisWords(*command),
                        text.isEmpty() ? QStringLiteral("usage:") : QStringLiteral("       "),
                        kContinuation);
        rows.append({command->name.mid(group.size() + 1), command->summary});
    }
    return text + u'\n' + table(rows) +
           QStringLiteral("\n`mailmeshctl %1 SUBCOMMAND --help` shows its options.\n").arg(group);
}

QString CommandTable::usage() const
{
    QString text = QStringLiteral(
        "usage: mailmeshctl [--cluster FILE] [--json] COMMAND [ARGUMENTS] [OPTIONS]\n"
        "       mailmeshctl COMMAND --help\n"
        "       mailmeshctl --version\n"
        "\n"
        "commands:\n");
    QList<QPair<QString, QString>> rows;
    for (const Command &command : m_commands) {
        QStringList words{command.name};
        for (const CommandArgument &argument : command.arguments)
            words << argumentWord(argument);
        rows.append({words.join(u' '), command.summary});
    }
    text += table(rows);
    text += QStringLiteral(
        "\n"
        "Global options, before or after the command: --cluster FILE, the cluster file (default\n"
        "~/.config/mailmesh/cluster.json); --json, one JSON object a line.\n"
        "Replace a dead node: remove-node ID, add-node ID --ssh NEWHOST ... (empty mail root), "
        "join ID.\n"
        "Exit codes: 0 ok, 1 items skipped, 2 bad usage or input, 3 failed (journals kept), 4 a "
        "node unreachable.\n");
    return text;
}

} // namespace mm::ctl
