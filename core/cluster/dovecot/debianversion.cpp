#include "cluster/dovecot/debianversion.h"

#include <QRegularExpression>

namespace mm::cluster {

namespace {

// dpkg's order of the characters in a non-digit run: "~" first, then the end of the part,
// then letters, then everything else.
int characterOrder(QChar c)
{
    if (c.isNull())
        return 0;
    if (c == u'~')
        return -1;
    if (c.isDigit())
        return 0;
    if (c.isLetter())
        return c.unicode();
    return c.unicode() + 256;
}

int comparePart(const QString &a, const QString &b)
{
    qsizetype i = 0, j = 0;
    const auto at = [](const QString &s, qsizetype k) { return k < s.size() ? s[k] : QChar(); };
    while (i < a.size() || j < b.size()) {
        while ((i < a.size() && !a[i].isDigit()) || (j < b.size() && !b[j].isDigit())) {
            const int left = characterOrder(at(a, i));
            const int right = characterOrder(at(b, j));
            if (left != right)
                return left < right ? -1 : 1;
            ++i;
            ++j;
        }
        while (at(a, i) == u'0')
            ++i;
        while (at(b, j) == u'0')
            ++j;
        int firstDifference = 0;
        while (at(a, i).isDigit() && at(b, j).isDigit()) {
            if (firstDifference == 0)
                firstDifference = a[i].unicode() - b[j].unicode();
            ++i;
            ++j;
        }
        if (at(a, i).isDigit())
            return 1; // the longer number is the bigger one
        if (at(b, j).isDigit())
            return -1;
        if (firstDifference != 0)
            return firstDifference < 0 ? -1 : 1;
    }
    return 0;
}

} // namespace

std::optional<DebianVersion> DebianVersion::parse(const QString &text)
{
    static const QRegularExpression shape(QStringLiteral("^(?:(\\d+):)?(\\d[A-Za-z0-9.+~:-]*?)(?:-([A-Za-z0-9.+~]+))?$"));
    const QRegularExpressionMatch match = shape.match(text.trimmed());
    if (!match.hasMatch())
        return std::nullopt;
    DebianVersion version;
    if (match.hasCaptured(1)) {
        bool ok = false;
        version.m_epoch = match.captured(1).toInt(&ok);
        if (!ok)
            return std::nullopt;
    }
    version.m_upstream = match.captured(2);
    version.m_revision = match.captured(3);
    // A colon in the upstream part is only allowed after an explicit epoch.
    if (!match.hasCaptured(1) && version.m_upstream.contains(u':'))
        return std::nullopt;
    return version;
}

QString DebianVersion::toString() const
{
    QString text = m_epoch > 0 ? QString::number(m_epoch) + u':' + m_upstream : m_upstream;
    if (!m_revision.isEmpty())
        text += u'-' + m_revision;
    return text;
}

bool DebianVersion::isMailmeshBuild() const
{
    return (m_revision.isEmpty() ? m_upstream : m_revision).contains(QLatin1String("+mailmesh"));
}

DebianVersion DebianVersion::withoutMailmeshSuffix() const
{
    DebianVersion base = *this;
    QString &part = base.m_revision.isEmpty() ? base.m_upstream : base.m_revision;
    if (const qsizetype at = part.indexOf(QLatin1String("+mailmesh")); at >= 0)
        part.truncate(at);
    return base;
}

int DebianVersion::compare(const DebianVersion &a, const DebianVersion &b)
{
    if (a.m_epoch != b.m_epoch)
        return a.m_epoch < b.m_epoch ? -1 : 1;
    if (const int upstream = comparePart(a.m_upstream, b.m_upstream); upstream != 0)
        return upstream;
    return comparePart(a.m_revision, b.m_revision);
}

} // namespace mm::cluster
