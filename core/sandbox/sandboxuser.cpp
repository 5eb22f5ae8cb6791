#include "sandbox/sandboxuser.h"

#include <QProcess>

#include <cerrno>
#include <cstring>
#include <pwd.h>
#include <shadow.h>
#include <unistd.h>

namespace mm::sandbox {

namespace {

Status runTool(const QString &program, const QStringList &arguments)
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.start(program, arguments);
    if (!process.waitForFinished(30000) || process.exitStatus() != QProcess::NormalExit)
        return fail(ErrorCode::IoError, program.toStdString() + " did not finish");
    if (process.exitCode() != 0)
        return fail(ErrorCode::IoError,
                    program.toStdString() + " failed: " +
                        QString::fromLocal8Bit(process.readAll()).trimmed().toStdString());
    return {};
}

} // namespace

Result<SandboxUser> SandboxUser::lookup(const QString &name)
{
    const QByteArray encoded = name.toLocal8Bit();
    passwd entry{};
    passwd *found = nullptr;
    std::string buffer(16384, '\0');
    if (::getpwnam_r(encoded.constData(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
        !found)
        return fail(ErrorCode::NotFound, "no such user: " + name.toStdString());
    SandboxUser user;
    user.m_name = name;
    user.m_home = QString::fromLocal8Bit(entry.pw_dir);
    user.m_uid = entry.pw_uid;
    user.m_gid = entry.pw_gid;
    return user;
}

Result<SandboxUser> SandboxUser::current()
{
    passwd entry{};
    passwd *found = nullptr;
    std::string buffer(16384, '\0');
    if (::getpwuid_r(::geteuid(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found)
        return fail(ErrorCode::NotFound, "the current uid has no passwd entry");
    return lookup(QString::fromLocal8Bit(entry.pw_name));
}

Result<SandboxUser> SandboxUser::ensure()
{
    if (::geteuid() != 0)
        return current();
    const QString name = QString::fromLatin1(kSystemUserName);
    if (!lookup(name)) {
        // --system keeps it out of the login range; a real shell because ssh runs commands
        // through it; a home because ssh and syncthing want one.
        Status created = runTool(QStringLiteral("useradd"),
                                 {QStringLiteral("--system"), QStringLiteral("--user-group"),
                                  QStringLiteral("--create-home"), QStringLiteral("--home-dir"),
                                  QStringLiteral("/var/lib/") + name, QStringLiteral("--shell"),
                                  QStringLiteral("/bin/bash"), QStringLiteral("--comment"),
                                  QStringLiteral("Mailmesh sandbox tests"), name});
        // A concurrent run may have created it between our lookup and useradd.
        if (!created && !lookup(name))
            return fail(created.error());
    }
    // sshd without PAM refuses a locked account ("!" password) even for key logins: "*" means
    // no password is valid, without locking the account.
    const QByteArray encoded = name.toLocal8Bit();
    if (const spwd *shadow = ::getspnam(encoded.constData());
        shadow && shadow->sp_pwdp && shadow->sp_pwdp[0] == '!') {
        if (Status unlocked = runTool(QStringLiteral("usermod"),
                                      {QStringLiteral("-p"), QStringLiteral("*"), name});
            !unlocked)
            return fail(unlocked.error());
    }
    return lookup(name);
}

Status SandboxUser::own(const QString &path) const
{
    if (!needsSwitch())
        return {};
    const QByteArray encoded = path.toLocal8Bit();
    if (::lchown(encoded.constData(), m_uid, m_gid) != 0)
        return fail(ErrorCode::IoError, std::string("chown failed: ") + std::strerror(errno),
                    path.toStdString());
    return {};
}

} // namespace mm::sandbox
