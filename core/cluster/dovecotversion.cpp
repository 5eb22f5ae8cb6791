#include "cluster/dovecotversion.h"

#include <QRegularExpression>

namespace mm::cluster {

std::optional<DovecotVersion> DovecotVersion::parse(const QString &text)
{
    static const QRegularExpression pattern(QStringLiteral("^(\\d+(?:\\.\\d+)*)([^\\s(]*)"));
    const QString trimmed = text.trimmed();
    const QRegularExpressionMatch match = pattern.match(trimmed);
    if (!match.hasMatch())
        return std::nullopt;
    DovecotVersion version;
    for (const QString &part : match.captured(1).split(u'.')) {
        bool ok = false;
        const int number = part.toInt(&ok);
        if (!ok)
            return std::nullopt;
        version.numbers << number;
    }
    version.suffix = match.captured(2);
    version.text = trimmed;
    return version;
}

QString DovecotVersion::numeric() const
{
    QStringList parts;
    for (int number : numbers)
        parts << QString::number(number);
    return parts.join(u'.');
}

QString DovecotVersion::line() const
{
    return QStringLiteral("%1.%2").arg(numbers.value(0)).arg(numbers.value(1));
}

int DovecotVersion::compare(const DovecotVersion &a, const DovecotVersion &b)
{
    const qsizetype length = std::max(a.numbers.size(), b.numbers.size());
    for (qsizetype i = 0; i < length; ++i) {
        const int left = a.numbers.value(i);
        const int right = b.numbers.value(i);
        if (left != right)
            return left < right ? -1 : 1;
    }
    return 0;
}

int DovecotVersion::mailmeshRevision() const
{
    if (!isMailmeshBuild())
        return 0;
    bool ok = false;
    const QString marker = QStringLiteral("+mailmesh");
    const int revision = suffix.mid(suffix.indexOf(marker) + marker.size()).toInt(&ok);
    return ok ? revision : 0;
}

} // namespace mm::cluster
