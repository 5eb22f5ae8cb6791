#include "commandline.h"

#include <algorithm>

namespace mm::ctl {

namespace {

const CommandOption *findOption(const Command &command, const QString &name)
{
    const auto found =
        std::find_if(command.options.cbegin(), command.options.cend(),
                     [&name](const CommandOption &option) { return option.name == name; });
    return found == command.options.cend() ? nullptr : &*found;
}

} // namespace

QString optionWithValue(const CommandOption &option)
{
    return QStringLiteral("--") + option.name +
           (option.valueName.isEmpty() ? QString() : u' ' + option.valueName);
}

CommandLine::CommandLine(const Command &command, const QStringList &words, GlobalOptions &globals)
    : m_words(words)
{
    // Asking for help or the version is never bad usage, whatever else the words hold.
    m_help = words.contains(QStringLiteral("--help"));
    m_version = words.contains(QStringLiteral("--version"));
    if (m_help || m_version)
        return;
    m_error = parse(command, globals);
    if (m_error.isEmpty())
        m_error = checkSpec(command);
}

QString CommandLine::parse(const Command &command, GlobalOptions &globals)
{
    bool optionsEnded = false;
    for (qsizetype i = 0; i < m_words.size(); ++i) {
        const QString &word = m_words[i];
        if (!optionsEnded && word == QLatin1String("--")) {
            optionsEnded = true;
            continue;
        }
        if (optionsEnded || !word.startsWith(QLatin1String("--"))) {
            m_positionals << word;
            continue;
        }
        QString name = word.mid(2);
        std::optional<QString> inlineValue;
        if (const qsizetype equals = name.indexOf(u'='); equals >= 0) {
            inlineValue = name.mid(equals + 1);
            name.truncate(equals);
        }
        const auto takeValue = [&]() -> std::optional<QString> {
            if (inlineValue)
                return inlineValue;
            if (i + 1 < m_words.size())
                return m_words[++i];
            return std::nullopt;
        };
        if (name == QLatin1String("json") && !inlineValue) {
            globals.json = true;
            continue;
        }
        if (name == QLatin1String("cluster")) {
            const std::optional<QString> file = takeValue();
            if (!file)
                return QStringLiteral("--cluster needs a value");
            globals.clusterFile = *file;
            continue;
        }
        const CommandOption *option = findOption(command, name);
        if (!option)
            return QStringLiteral("unknown option --") + name;
        if (option->valueName.isEmpty()) {
            if (inlineValue)
                return QStringLiteral("--%1 takes no value").arg(name);
            m_values.insert(name, {QString()});
            continue;
        }
        const std::optional<QString> value = takeValue();
        if (!value)
            return QStringLiteral("--%1 needs a value").arg(name);
        if (option->repeated)
            m_values[name] << *value;
        else
            m_values.insert(name, {*value}); // the last one counts
    }
    return {};
}

QString CommandLine::checkSpec(const Command &command) const
{
    const QList<CommandArgument> &arguments = command.arguments;
    const bool lastCollects = !arguments.isEmpty() && arguments.last().repeated;
    if (m_positionals.size() > arguments.size() && !lastCollects)
        return QStringLiteral("unexpected argument ") + m_positionals[arguments.size()];
    for (qsizetype i = m_positionals.size(); i < arguments.size(); ++i)
        if (!arguments[i].optional)
            return QStringLiteral("missing ") + arguments[i].name;

    QStringList groups;
    for (const CommandOption &option : command.options) {
        if (option.required && !isSet(option.name))
            return QStringLiteral("missing ") + optionWithValue(option);
        if (!option.alternatives.isEmpty() && !groups.contains(option.alternatives))
            groups << option.alternatives;
    }
    for (const QString &group : std::as_const(groups)) {
        QStringList members;
        int given = 0;
        for (const CommandOption &option : command.options)
            if (option.alternatives == group) {
                members << optionWithValue(option);
                given += isSet(option.name) ? 1 : 0;
            }
        if (given != 1)
            return (given == 0 ? QStringLiteral("give one of ")
                               : QStringLiteral("give only one of ")) +
                   members.join(QStringLiteral(" or "));
    }
    return {};
}

} // namespace mm::ctl
