#pragma once

#include "common/result.h"

#include <QString>

#include <sys/types.h>

namespace mm::sandbox {

// The account that owns the mail files and runs ssh logins, syncthing and the agent. As root it
// is the unprivileged system user `mailmesh-test` (Dovecot refuses root mail access, and a
// permission test run as root could never fail); otherwise it is the current user.
// Everything is resolved before any fork, so child processes only make raw system calls.
class SandboxUser
{
public:
    static constexpr const char *kSystemUserName = "mailmesh-test";

    // Creates `mailmesh-test` once (idempotent) when running as root.
    static Result<SandboxUser> ensure();
    // The current user, never creating anything (the unprivileged case, and unit tests).
    static Result<SandboxUser> current();

    QString name() const { return m_name; }
    QString home() const { return m_home; }
    uid_t uid() const { return m_uid; }
    gid_t gid() const { return m_gid; }
    // True when the sandbox must switch to this user in its children (we are root, it is not).
    bool needsSwitch() const { return ::geteuid() == 0 && m_uid != 0; }

    // chown to this user when we run as root (no-op otherwise).
    Status own(const QString &path) const;

private:
    static Result<SandboxUser> lookup(const QString &name);

    QString m_name;
    QString m_home;
    uid_t m_uid = 0;
    gid_t m_gid = 0;
};

} // namespace mm::sandbox
