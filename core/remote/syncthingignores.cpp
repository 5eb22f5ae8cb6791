#include "remote/syncthingignores.h"

namespace mm::remote {

QString SyncthingIgnores::problem(const QString &line)
{
    QString pattern = line.trimmed();
    if (pattern.isEmpty() || pattern.startsWith(QLatin1String("//")))
        return {};
    if (pattern.startsWith(QLatin1String("#include"))) {
        if (pattern.mid(8).trimmed().isEmpty() || !pattern.at(8).isSpace())
            return QStringLiteral("#include needs a file name");
        return {};
    }
    for (bool stripped = true; stripped;) {
        stripped = false;
        for (const QLatin1String prefix :
             {QLatin1String("!"), QLatin1String("(?i)"), QLatin1String("(?d)")}) {
            if (pattern.startsWith(prefix)) {
                pattern = pattern.mid(prefix.size());
                stripped = true;
            }
        }
    }
    if (pattern.isEmpty())
        return QStringLiteral("only prefixes, no pattern");
    int braces = 0;
    for (qsizetype i = 0; i < pattern.size(); ++i) {
        const QChar c = pattern.at(i);
        if (c == QLatin1Char('\\')) {
            if (++i >= pattern.size())
                return QStringLiteral("ends with an escape character");
        } else if (c == QLatin1Char('[')) {
            qsizetype j = i + 1;
            if (j < pattern.size() &&
                (pattern.at(j) == QLatin1Char('!') || pattern.at(j) == QLatin1Char('^')))
                ++j;
            const qsizetype first = j;
            while (j < pattern.size() && (pattern.at(j) != QLatin1Char(']') || j == first)) {
                if (pattern.at(j) == QLatin1Char('\\'))
                    ++j;
                ++j;
            }
            if (j >= pattern.size())
                return QStringLiteral("'[' without a closing ']'");
            i = j;
        } else if (c == QLatin1Char('{')) {
            ++braces;
        } else if (c == QLatin1Char('}')) {
            if (--braces < 0)
                return QStringLiteral("'}' without an opening '{'");
        }
    }
    if (braces > 0)
        return QStringLiteral("'{' without a closing '}'");
    return {};
}

Status SyncthingIgnores::validate(const QStringList &lines)
{
    QStringList problems;
    for (qsizetype i = 0; i < lines.size(); ++i) {
        if (lines[i].contains(QLatin1Char('\n')))
            problems << QStringLiteral("line %1: contains a line break").arg(i + 1);
        else if (const QString why = problem(lines[i]); !why.isEmpty())
            problems << QStringLiteral("line %1 \"%2\": %3").arg(i + 1).arg(lines[i], why);
    }
    if (problems.isEmpty())
        return {};
    return fail(ErrorCode::BadRequest, QStringLiteral("invalid ignore patterns, nothing pushed: %1")
                                           .arg(problems.join(QStringLiteral("; ")))
                                           .toStdString());
}

} // namespace mm::remote
