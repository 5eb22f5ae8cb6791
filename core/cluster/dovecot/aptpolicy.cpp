#include "cluster/dovecot/aptpolicy.h"

#include <QRegularExpression>

namespace mm::cluster {

bool AptPolicy::Entry::fromRepository() const
{
    return std::any_of(sources.begin(), sources.end(),
                       [](const QString &source) { return source != QLatin1String("/var/lib/dpkg/status"); });
}

std::optional<AptPolicy> AptPolicy::parse(const QByteArray &output)
{
    static const QRegularExpression header(QStringLiteral("^(\\S+):$"));
    static const QRegularExpression field(QStringLiteral("^  (Installed|Candidate): (\\S+)$"));
    // " *** 1:2.3.19.1+dfsg1-2.1+deb12u7 500" (the installed one) or "     VERSION PRIORITY".
    static const QRegularExpression versionLine(QStringLiteral("^ (\\*\\*\\*|   ) (\\S+) (-?\\d+)$"));
    static const QRegularExpression sourceLine(QStringLiteral("^ {6,}(-?\\d+) (\\S.*)$"));
    AptPolicy policy;
    bool sawTable = false;
    for (const QByteArray &raw : output.split('\n')) {
        const QString line = QString::fromUtf8(raw).remove(u'\r');
        if (line.trimmed().isEmpty())
            continue;
        if (policy.package.isEmpty()) {
            const QRegularExpressionMatch match = header.match(line);
            if (!match.hasMatch())
                return std::nullopt;
            policy.package = match.captured(1);
            continue;
        }
        if (const QRegularExpressionMatch match = field.match(line); match.hasMatch()) {
            const QString value = match.captured(2) == QLatin1String("(none)") ? QString() : match.captured(2);
            (match.captured(1) == QLatin1String("Installed") ? policy.installed : policy.candidate) = value;
        } else if (line == QLatin1String("  Version table:")) {
            sawTable = true;
        } else if (const QRegularExpressionMatch match = versionLine.match(line); sawTable && match.hasMatch()) {
            policy.versions.append({match.captured(2), {}, match.captured(1) == QLatin1String("***")});
        } else if (const QRegularExpressionMatch match = sourceLine.match(line);
                   sawTable && match.hasMatch() && !policy.versions.isEmpty()) {
            policy.versions.last().sources << match.captured(2).trimmed();
        } else if (header.match(line).hasMatch()) {
            break; // the next package: one is all we asked for
        }
        // Other lines (pin notes of newer apt versions) carry nothing we use.
    }
    if (policy.package.isEmpty())
        return std::nullopt;
    return policy;
}

std::optional<DebianVersion> AptPolicy::newestOffered() const
{
    std::optional<DebianVersion> newest;
    for (const Entry &entry : versions) {
        if (!entry.fromRepository())
            continue;
        const std::optional<DebianVersion> version = DebianVersion::parse(entry.version);
        if (version && (!newest || *newest < *version))
            newest = version;
    }
    return newest;
}

std::optional<DebianVersion> newerDistributionVersion(const AptPolicy &policy, const DebianVersion &held)
{
    const std::optional<DebianVersion> offered = policy.newestOffered();
    if (!offered || offered->isMailmeshBuild())
        return std::nullopt;
    if (held.withoutMailmeshSuffix() < *offered)
        return offered;
    return std::nullopt;
}

} // namespace mm::cluster
