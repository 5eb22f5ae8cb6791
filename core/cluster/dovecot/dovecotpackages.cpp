#include "cluster/dovecot/dovecotpackages.h"

#include "remote/shellquote.h"

#include <QFile>
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

QString packageOf(const QString &fileName)
{
    return fileName.section(u'/', -1).section(u'_', 0, 0);
}

Result<QByteArray> controlHead(const QString &debPath)
{
    QFile file(debPath);
    if (!file.open(QIODevice::ReadOnly))
        return fail(ErrorCode::IoError, file.errorString().toStdString(), debPath.toStdString());
    const auto invalid = [&debPath](const char *why) {
        return fail(ErrorCode::InvalidData, QStringLiteral("%1 is not a Debian package: %2").arg(debPath, QLatin1String(why)).toStdString(),
                    debPath.toStdString());
    };
    QByteArray head = file.read(8);
    if (head != "!<arch>\n")
        return invalid("no ar archive magic");
    // ar members: a 60-byte header (name 16, dates and ids 32, size 10, "`\n") and the data,
    // padded to an even length. dpkg puts debian-binary first and the control archive second.
    for (int member = 0; member < 3; ++member) {
        const QByteArray header = file.read(60);
        if (header.size() != 60 || header.mid(58, 2) != "`\n")
            return invalid("a truncated member header");
        bool ok = false;
        const qint64 size = header.mid(48, 10).trimmed().toLongLong(&ok);
        if (!ok || size < 0 || size > 16 * 1024 * 1024)
            return invalid("a member size out of range");
        const QByteArray data = file.read(size + (size & 1));
        if (data.size() < size)
            return invalid("a truncated member");
        head += header + data;
        if (header.left(16).trimmed().startsWith("control.tar"))
            return head;
    }
    return invalid("no control member among the first ones");
}

NodePackages NodePackages::parse(const QByteArray &dpkgQueryOutput)
{
    NodePackages packages;
    for (const QByteArray &line : dpkgQueryOutput.split('\n')) {
        const QList<QByteArray> fields = line.split('\t');
        if (fields.size() < 3 || fields[2].size() < 2 || fields[2][1] != 'i')
            continue; // not installed (only known, or config files left)
        const QString package = QString::fromUtf8(fields[0].trimmed());
        packages.installed.insert(package, QString::fromUtf8(fields[1].trimmed()));
        if (fields[2][0] == 'h')
            packages.held.insert(package);
    }
    return packages;
}

QStringList queryInstalledCommand()
{
    // dpkg-query exits 1 when no package matches: that is an answer (none), not a failure.
    return {QStringLiteral("sh"), QStringLiteral("-c"),
            QStringLiteral("dpkg-query -W -f '${Package}\\t${Version}\\t${db:Status-Abbrev}\\n' 'dovecot-*' "
                           "2>/dev/null; [ $? -le 1 ]")};
}

Result<InstallPlan> planInstall(const QStringList &selectedFiles, const DebianVersion &version, const NodePackages &node)
{
    QMap<QString, QString> fileByPackage;
    for (const QString &file : selectedFiles)
        fileByPackage.insert(packageOf(file), file);
    QStringList wanted{QStringLiteral("dovecot-core"), QStringLiteral("dovecot-imapd")};
    for (const QString &package : node.installed.keys())
        if (!wanted.contains(package))
            wanted << package;
    InstallPlan plan;
    plan.version = version;
    QStringList missing;
    for (const QString &package : std::as_const(wanted)) {
        if (!fileByPackage.contains(package)) {
            missing << package;
            continue;
        }
        plan.packages << package;
        plan.files << fileByPackage.value(package);
    }
    if (!missing.isEmpty())
        return fail(ErrorCode::NotFound,
                    QStringLiteral("the package directory has no %1 %2 (the node needs %3: every dovecot package "
                                   "must come from the same build, since they depend on the exact dovecot-core)")
                        .arg(missing.join(QStringLiteral(", ")), version.toString(),
                             missing.size() == 1 ? QStringLiteral("it") : QStringLiteral("them"))
                        .toStdString());
    plan.unchanged = std::all_of(plan.packages.begin(), plan.packages.end(), [&](const QString &package) {
        const std::optional<DebianVersion> installed = DebianVersion::parse(node.installed.value(package));
        return installed && *installed == version && node.held.contains(package);
    });
    if (const std::optional<DebianVersion> core = DebianVersion::parse(node.installed.value(QStringLiteral("dovecot-core")));
        core && version < *core) {
        plan.downgrade = true;
        plan.downgradeFrom = core->toString();
    }
    return plan;
}

QString downgradeRefusal(const InstallPlan &plan)
{
    const std::optional<DebianVersion> installed = DebianVersion::parse(plan.downgradeFrom);
    const bool olderUpstream = installed && installed->upstream() != plan.version.withoutMailmeshSuffix().upstream();
    return QStringLiteral("dovecot-core %1 is installed and the packages are %2, built from an older Debian version: "
                          "installing them gives up the fixes Debian published in between (security fixes among "
                          "them: `apt changelog dovecot-core` on the node lists them)%3. Rebuild the packages from "
                          "the installed version with installers/dovecot/build-debs.sh, or pass --allow-downgrade "
                          "if you mean it")
        .arg(plan.downgradeFrom, plan.version.toString(),
             olderUpstream ? QStringLiteral(", and an older Dovecot may not read index files the newer one wrote "
                                            "(they are rebuilt, slowly, and clients may resync)")
                           : QString());
}

namespace {

QStringList aptGetInstall()
{
    return {QStringLiteral("env"), QStringLiteral("DEBIAN_FRONTEND=noninteractive"), QStringLiteral("apt-get"),
            QStringLiteral("install"), QStringLiteral("-y"), QStringLiteral("-q"), QStringLiteral("-o"),
            QStringLiteral("Dpkg::Options::=--force-confold")};
}

} // namespace

QStringList installCommand(const QString &dir, const InstallPlan &plan, const NodePackages &before)
{
    QStringList argv = aptGetInstall();
    if (plan.downgrade)
        argv << QStringLiteral("--allow-downgrades");
    if (std::any_of(plan.packages.begin(), plan.packages.end(), [&](const QString &p) { return before.held.contains(p); }))
        argv << QStringLiteral("--allow-change-held-packages");
    for (const QString &file : plan.files)
        argv << dir + u'/' + file; // a path, so apt reads the file instead of a repository
    return argv;
}

QStringList restoreCommand(const NodePackages &before, const InstallPlan &plan)
{
    QStringList changes;
    for (const QString &package : plan.packages) {
        if (!before.installed.contains(package)) {
            changes << package + u'-'; // apt-get install's way of saying remove
            continue;
        }
        const std::optional<DebianVersion> old = DebianVersion::parse(before.installed.value(package));
        if (!old || !(*old == plan.version))
            changes << package + u'=' + before.installed.value(package);
    }
    if (changes.isEmpty())
        return {};
    return aptGetInstall() << QStringLiteral("--allow-downgrades") << QStringLiteral("--allow-change-held-packages")
                           << changes;
}

QList<QStringList> restoreHoldCommands(const NodePackages &before, const InstallPlan &plan)
{
    QStringList unhold, hold;
    for (const QString &package : plan.packages)
        (before.held.contains(package) ? hold : unhold) << package;
    QList<QStringList> commands;
    // Unholding comes first, while every package is still installed; holding last.
    if (!unhold.isEmpty())
        commands << (QStringList{QStringLiteral("apt-mark"), QStringLiteral("unhold")} + unhold);
    if (!hold.isEmpty())
        commands << (QStringList{QStringLiteral("apt-mark"), QStringLiteral("hold")} + hold);
    return commands;
}

QString manualRestoreAdvice(const NodePackages &before, const InstallPlan &plan)
{
    QStringList lines;
    const QList<QStringList> holds = restoreHoldCommands(before, plan);
    // Package names and versions come from the node: quoted like every value pasted for the admin.
    for (const QStringList &command : holds)
        if (command.value(1) == QLatin1String("unhold"))
            lines << remote::shellJoin(command);
    QStringList restore = restoreCommand(before, plan);
    if (!restore.isEmpty())
        lines << remote::shellJoin(restore.mid(2)); // without env, for a root shell
    for (const QStringList &command : holds)
        if (command.value(1) == QLatin1String("hold"))
            lines << remote::shellJoin(command);
    QStringList versions;
    for (const QString &package : plan.packages)
        if (before.installed.contains(package))
            versions << package + u'=' + before.installed.value(package);
    QString advice = QStringLiteral("as root on the node: %1").arg(lines.join(QStringLiteral("; ")));
    if (!versions.isEmpty())
        advice += QStringLiteral(". If apt cannot find %1 any more (the node's repositories moved on), download those "
                                 ".debs from https://snapshot.debian.org/package/dovecot/ and install them with "
                                 "`apt-get install --allow-downgrades ./FILE.deb ...`")
                      .arg(versions.join(QStringLiteral(", ")));
    return advice;
}

} // namespace mm::cluster::dovecotpackages
