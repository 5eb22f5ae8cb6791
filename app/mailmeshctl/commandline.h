#pragma once

#include "command.h"

#include <QHash>
#include <QStringList>

namespace mm::ctl {

// The words after a command's name, read by the command's spec: positional words, flags,
// options with a value (`--dir DIR` or `--dir=DIR`), repeated options. The global options
// (--cluster, --json, --help, --version) are taken here too, so they work on either side of
// the command's name. "--" ends the options.
class CommandLine
{
public:
    CommandLine(const Command &command, const QStringList &words, GlobalOptions &globals);

    // The first thing wrong with the words, for "mailmeshctl COMMAND: ERROR"; empty when none.
    const QString &error() const { return m_error; }
    bool helpRequested() const { return m_help; }
    bool versionRequested() const { return m_version; }
    const QStringList &words() const { return m_words; }

    bool isSet(const QString &option) const { return m_values.contains(option); }
    QString value(const QString &option) const { return m_values.value(option).value(0); }
    QStringList values(const QString &option) const { return m_values.value(option); }
    QString positional(qsizetype index) const { return m_positionals.value(index); }
    const QStringList &positionals() const { return m_positionals; }

private:
    QString parse(const Command &command, GlobalOptions &globals);
    QString checkSpec(const Command &command) const;

    QStringList m_words;
    QStringList m_positionals;
    QHash<QString, QStringList> m_values; // a flag holds one empty value
    QString m_error;
    bool m_help = false;
    bool m_version = false;
};

// "--packages DIR" or "--dry-run": how usage texts and errors name an option.
QString optionWithValue(const CommandOption &option);

} // namespace mm::ctl
