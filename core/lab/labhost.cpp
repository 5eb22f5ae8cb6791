#include "lab/labhost.h"

#include "lab/labprocess.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTemporaryFile>

#include <sys/file.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace mm::lab::labhost {

namespace {

constexpr int kImageBuildTimeoutMs = 45 * 60'000;

QByteArray imageScript()
{
    QFile script(u":/mailmesh/lab/lab-image.sh"_s);
    return script.open(QIODevice::ReadOnly) ? script.readAll() : QByteArray();
}

bool fileSystemSupported(const QString &name)
{
    QFile filesystems(u"/proc/filesystems"_s);
    if (!filesystems.open(QIODevice::ReadOnly))
        return false;
    for (const QByteArray &line : filesystems.readAll().split('\n'))
        if (line.trimmed().split('\t').last() == name.toLatin1())
            return true;
    return false;
}

} // namespace

QString whyLabCannotRun()
{
    if (::geteuid() != 0)
        return u"lab nodes need root (systemd-nspawn, network namespaces, overlay mounts)"_s;
    if (!fileSystemSupported(u"overlay"_s))
        return u"the kernel has no overlayfs (modprobe overlay)"_s;
    const bool unified = QFileInfo::exists(u"/sys/fs/cgroup/cgroup.controllers"_s);
    const bool hybrid = QFileInfo::exists(u"/sys/fs/cgroup/systemd/cgroup.procs"_s);
    if (!unified && !hybrid)
        return u"no cgroup hierarchy for systemd (neither cgroup2 at /sys/fs/cgroup nor name=systemd)"_s;
    if (!QFileInfo(u"/run"_s).isWritable())
        return u"/run is not writable (network namespaces are named there)"_s;
    return {};
}

Status ensureTools()
{
    const QList<std::pair<QString, QString>> tools{
        {u"systemd-nspawn"_s, u"systemd-container"_s},
        {u"debootstrap"_s, u"debootstrap"_s},
        {u"ip"_s, u"iproute2"_s},
        {u"nsenter"_s, u"util-linux"_s},
        {u"ssh-keygen"_s, u"openssh-client"_s},
        {u"openssl"_s, u"openssl"_s},
        {u"chroot"_s, u"coreutils"_s},
        {u"findmnt"_s, u"util-linux"_s},
    };
    QStringList missing;
    for (const auto &[tool, package] : tools)
        if (findProgram(tool).isEmpty() && !missing.contains(package))
            missing << package;
    if (missing.isEmpty())
        return {};
    const ProgramRun install{
        u"apt-get"_s,
        QStringList{u"install"_s, u"-y"_s, u"-q"_s, u"--no-install-recommends"_s} + missing,
        {},
        15 * 60'000};
    Result<ProgramOutput> installed = runProgram(install);
    // Package lists older than the mirror's files: once more after an update.
    if (!installed && runProgram({u"apt-get"_s, {u"update"_s, u"-q"_s}, {}, 10 * 60'000}))
        installed = runProgram(install);
    if (!installed)
        return fail(ErrorCode::NotFound,
                    "the lab needs " + missing.join(u", "_s).toStdString() +
                        " and apt-get could not install them: " + installed.error().message);
    return {};
}

QString suiteOf(const QString &debianRelease)
{
    if (debianRelease == u"12"_s)
        return u"bookworm"_s;
    if (debianRelease == u"13"_s)
        return u"trixie"_s;
    return {};
}

QString defaultCacheDir()
{
    const QString fromEnvironment = qEnvironmentVariable("MAILMESH_CACHE");
    return fromEnvironment.isEmpty() ? u"/var/cache/mailmesh"_s : fromEnvironment;
}

QString hostMirrorFor(const QString &suite, const QString &fallback)
{
    QStringList files{u"/etc/apt/sources.list"_s};
    const QDir listDir(u"/etc/apt/sources.list.d"_s);
    for (const QString &name :
         listDir.entryList({u"*.sources"_s, u"*.list"_s}, QDir::Files, QDir::Name))
        files << listDir.filePath(name);
    for (const QString &path : std::as_const(files)) {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            continue;
        QString uris;
        for (const QString &rawLine : QString::fromUtf8(file.readAll()).split(u'\n')) {
            const QString line = rawLine.trimmed();
            const QStringList fields =
                line.split(QRegularExpression(u"\\s+"_s), Qt::SkipEmptyParts);
            if (fields.isEmpty())
                continue;
            if (fields.first().compare(u"URIs:"_s, Qt::CaseInsensitive) == 0 && fields.size() > 1)
                uris = fields[1];
            else if (fields.first().compare(u"Suites:"_s, Qt::CaseInsensitive) == 0 &&
                     !uris.isEmpty() && fields.mid(1).contains(suite))
                return uris;
            else if (fields.first() == u"deb"_s && fields.size() > 3) {
                // deb [options] URI SUITE COMPONENTS...
                const int uriAt = fields[1].startsWith(u'[') ? 2 : 1;
                if (fields.size() > uriAt + 1 && fields[uriAt + 1] == suite)
                    return fields[uriAt];
            } else if (line.isEmpty())
                uris.clear();
        }
    }
    return fallback;
}

QString imagePath(const QString &debianRelease, const QString &cacheDir)
{
    const QString suite = suiteOf(debianRelease);
    const QString mirror = hostMirrorFor(suite, u"http://deb.debian.org/debian"_s);
    const QString security =
        hostMirrorFor(suite + u"-security"_s, u"http://deb.debian.org/debian-security"_s);
    QCryptographicHash key(QCryptographicHash::Sha256);
    key.addData(imageScript());
    for (const QString &input : {suite, mirror, security})
        key.addData(QByteArray('\0' + input.toUtf8()));
    return cacheDir + u"/lab-"_s + suite + u'-' +
           QString::fromLatin1(key.result().toHex().left(16));
}

Result<QString> ensureImage(const QString &debianRelease, const QString &cacheDir, qint64 *builtMs)
{
    if (builtMs)
        *builtMs = 0;
    const QString suite = suiteOf(debianRelease);
    if (suite.isEmpty())
        return fail(ErrorCode::Unsupported,
                    "Debian " + debianRelease.toStdString() + " is not a lab release (12 or 13)");
    const QString target = imagePath(debianRelease, cacheDir);
    const QString marker = target + u"/.mailmesh-complete"_s;
    if (QFileInfo::exists(marker))
        return target;
    if (!QDir().mkpath(cacheDir))
        return fail(ErrorCode::IoError, "cannot create the cache directory",
                    cacheDir.toStdString());

    // One build at a time per cache: a second lab waits for the first one's image.
    QFile lock(cacheDir + u"/.lab-image.lock"_s);
    if (!lock.open(QIODevice::ReadWrite))
        return fail(ErrorCode::IoError, "cannot open the image lock",
                    lock.fileName().toStdString());
    if (::flock(lock.handle(), LOCK_EX) != 0)
        return fail(ErrorCode::IoError, "cannot lock the image cache",
                    lock.fileName().toStdString());
    if (QFileInfo::exists(marker))
        return target;

    QTemporaryFile script(cacheDir + u"/lab-image-XXXXXX.sh"_s);
    const QByteArray text = imageScript();
    if (text.isEmpty() || !script.open() || script.write(text) != text.size() || !script.flush())
        return fail(ErrorCode::IoError, "cannot write the image script",
                    script.fileName().toStdString());
    QElapsedTimer clock;
    clock.start();
    Result<ProgramOutput> built = runProgram(
        {u"bash"_s,
         {script.fileName(), suite, hostMirrorFor(suite, u"http://deb.debian.org/debian"_s),
          hostMirrorFor(suite + u"-security"_s, u"http://deb.debian.org/debian-security"_s),
          target},
         {},
         kImageBuildTimeoutMs});
    if (!built)
        return fail(built.error().code, "building the lab's Debian " + debianRelease.toStdString() +
                                            " root file system failed: " + built.error().message);
    if (!QFileInfo::exists(marker))
        return fail(ErrorCode::IoError, "the image build ended without its completion mark",
                    target.toStdString());
    if (builtMs)
        *builtMs = clock.elapsed();
    return target;
}

} // namespace mm::lab::labhost
