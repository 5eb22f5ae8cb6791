#pragma once

#include <QString>
#include <QStringList>

namespace mm::remote {

// How Mailmesh runs the admin's own OpenSSH client. Everything not set here comes from the
// admin's ~/.ssh/config (or configFile), so ProxyJump, identity files and the agent keep working;
// what Mailmesh forces on every ssh it runs (ProxyJump hops included) is in SshSession.
struct SshOptions
{
    QString program = QStringLiteral("ssh");
    QString configFile;              // the admin's config; empty: ~/.ssh/config + /etc/ssh/ssh_config
    QString knownHostsFile;          // Mailmesh's own known_hosts: accepted keys are appended here
    QStringList readKnownHostsFiles; // also trusted, never written (the admin's known_hosts)
    QString askpassProgram;   // set: passphrases are asked through it (SSH_ASKPASS_REQUIRE=force)
    // More "-o" values for the node (a cluster file's sshOptions). Only what SshOptionPolicy
    // allows: a session with anything else refuses to connect.
    QStringList extraOptions;
    // "SHA256:..." of the host key the node must offer (the cluster file's hostKey). Checked
    // after every connect against the key ssh really used; empty: whatever ssh trusts.
    QString pinnedHostKey;
    int connectTimeoutSeconds = 10;
    int serverAliveIntervalSeconds = 15;
    int serverAliveCountMax = 3;
    int loginTimeoutSeconds = 60; // the whole connect, authentication included

    // Mailmesh's known_hosts under the user's config dir, and the admin's ~/.ssh/known_hosts.
    static SshOptions defaults();
};

} // namespace mm::remote
