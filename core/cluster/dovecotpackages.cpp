#include "cluster/dovecotpackages.h"

#include <QMap>
#include <QRegularExpression>
#include <QSet>

namespace mm::cluster::dovecotpackages {

namespace {

QString debianArchitecture(const QString &machine)
{
    static const QMap<QString, QString> names{{QStringLiteral("x86_64"), QStringLiteral("amd64")},
                                              {QStringLiteral("aarch64"), QStringLiteral("arm64")},
                                              {QStringLiteral("armv7l"), QStringLiteral("armhf")},
                                              {QStringLiteral("i686"), QStringLiteral("i386")}};
    return names.value(machine, machine);
}

} // namespace

QString debianReleaseOf(const QString &version)
{
    static const QRegularExpression tag(QStringLiteral("[+~]deb(\\d+)u?\\d*"));
    if (const QRegularExpressionMatch match = tag.match(version); match.hasMatch())
        return match.captured(1);
    QString upstream = version.section(u':', -1); // no epoch
    if (upstream.startsWith(QLatin1String("2.3.")))
        return QStringLiteral("12");
    if (upstream.startsWith(QLatin1String("2.4.")))
        return QStringLiteral("13");
    return {};
}

Result<Selection> select(const QStringList &fileNames, const QString &osId, const QString &versionId,
                         const QString &architecture)
{
    if (osId != QLatin1String("debian"))
        return fail(ErrorCode::Unsupported,
                    QStringLiteral("the packages are built for Debian (installers/dovecot/build-debs.sh); this node runs "
                                   "\"%1\": deploy a prefix build with --prefix instead")
                        .arg(osId.isEmpty() ? QStringLiteral("an unknown system") : osId)
                        .toStdString());
    const QString release = versionId.section(u'.', 0, 0);
    const QString arch = debianArchitecture(architecture);
    static const QRegularExpression debName(QStringLiteral("^([a-z0-9][a-z0-9+.-]*)_([^_]+)_([a-z0-9]+)\\.deb$"));
    QMap<QString, QStringList> filesByVersion;
    QSet<QString> otherReleases;
    for (const QString &name : fileNames) {
        const QRegularExpressionMatch match = debName.match(name);
        if (!match.hasMatch())
            continue;
        const QString package = match.captured(1);
        const QString version = match.captured(2);
        if (!package.startsWith(QLatin1String("dovecot-")) || package.endsWith(QLatin1String("-dbgsym"))
            || !version.contains(QLatin1String("+mailmesh")))
            continue;
        if (match.captured(3) != arch && match.captured(3) != QLatin1String("all"))
            continue;
        const QString builtFor = debianReleaseOf(version);
        if (builtFor != release) {
            otherReleases.insert(builtFor.isEmpty() ? version : QStringLiteral("Debian ") + builtFor);
            continue;
        }
        filesByVersion[version] << name;
    }
    if (filesByVersion.isEmpty()) {
        QStringList others(otherReleases.begin(), otherReleases.end());
        others.sort();
        return fail(ErrorCode::Unsupported,
                    QStringLiteral("no cur/-only Dovecot package (dovecot-*_*+mailmesh*_%1.deb) for Debian %2%3; build "
                                   "them with installers/dovecot/build-debs.sh %2")
                        .arg(arch, release,
                             others.isEmpty() ? QString() : QStringLiteral(" (found builds for %1)").arg(others.join(QStringLiteral(", "))))
                        .toStdString());
    }
    if (filesByVersion.size() > 1)
        return fail(ErrorCode::Conflict,
                    QStringLiteral("several builds for Debian %1: %2; keep one version in the directory")
                        .arg(release, QStringList(filesByVersion.keys()).join(QStringLiteral(", ")))
                        .toStdString());
    Selection selection;
    selection.version = filesByVersion.firstKey();
    selection.files = filesByVersion.first();
    selection.files.sort();
    const bool hasCore = std::any_of(selection.files.begin(), selection.files.end(), [](const QString &file) {
        return file.startsWith(QLatin1String("dovecot-core_"));
    });
    if (!hasCore)
        return fail(ErrorCode::Unsupported,
                    QStringLiteral("dovecot-core %1 is missing beside %2").arg(selection.version, selection.files.join(QStringLiteral(", "))).toStdString());
    return selection;
}

} // namespace mm::cluster::dovecotpackages
