#include "remote/shellquote.h"

#include <QRegularExpression>

namespace mm::remote {

QString shellQuote(const QString &argument)
{
    // Anchored with \A...\z: "$" alone also matches before a final newline, which would let
    // "a\n" through unquoted, and the newline end the command on the remote side.
    static const QRegularExpression plain(
        QRegularExpression::anchoredPattern(QStringLiteral("[A-Za-z0-9_./=:@%+,-]+")));
    if (plain.match(argument).hasMatch())
        return argument;
    QString quoted = argument;
    quoted.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
    return QLatin1Char('\'') + quoted + QLatin1Char('\'');
}

QString shellJoin(const QStringList &argv)
{
    QStringList words;
    words.reserve(argv.size());
    for (const QString &argument : argv)
        words << shellQuote(argument);
    return words.join(QLatin1Char(' '));
}

} // namespace mm::remote
