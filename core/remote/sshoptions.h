#pragma once

#include <QString>
#include <QStringList>

namespace mm::remote {

// How Mailmesh runs the admin's own OpenSSH client. Everything not set here comes from the
// admin's ~/.ssh/config (or configFile), so ProxyJump, identity files and the agent keep working.
struct SshOptions
{
    QString program = QStringLiteral("ssh");
    QString configFile;              // -F; empty: ssh's default (~/.ssh/config)
    QString knownHostsFile;          // Mailmesh's own known_hosts: accepted keys are appended here
    QStringList readKnownHostsFiles; // also trusted, never written (the admin's known_hosts)
    QString askpassProgram;   // set: passphrases are asked through it (SSH_ASKPASS_REQUIRE=force)
    QStringList extraOptions; // more "-o" values; they cannot override the host-key policy
    int connectTimeoutSeconds = 10;
    int serverAliveIntervalSeconds = 15;
    int serverAliveCountMax = 3;
    int loginTimeoutSeconds = 60; // the whole connect, authentication included

    // Mailmesh's known_hosts under the user's config dir, and the admin's ~/.ssh/known_hosts.
    static SshOptions defaults();
};

} // namespace mm::remote
