#pragma once

#include <QJsonObject>
#include <QString>

namespace mm::sandbox {

// Everything a client needs to reach one sandbox node. Ports are on 127.0.0.1.
struct NodeInfo
{
    QString id; // node1..nodeN, also the ssh Host alias
    QString dir;

    // ssh: `ssh -F sshConfigFile id COMMAND` logs in as sshUser.
    quint16 sshPort = 0;
    QString sshUser;
    QString sshConfigFile;
    QString sshIdentityFile;
    QString sshKnownHostsFile;
    QString sshHostKeyFile;        // public part
    QString sshHostKeyFingerprint; // "SHA256:..." as ssh-keygen -l prints it
    QString sshdConfigFile;
    QString sshdLogFile;

    // Mail: mailRoot/<domain>/<user>/Maildir, owned by mailUser (what Syncthing shares).
    QString mailRoot;
    QString mailUser;
    QString maildir;
    QString stateDir; // journal and quarantine for the agent, beside the mail root, the mail user's

    // syncthing
    QString syncthingHome;
    quint16 syncthingGuiPort = 0;
    QString syncthingApiKey;
    QString syncthingDeviceId;
    quint16 syncthingSyncPort = 0;
    QString syncthingLogFile;

    // dovecot
    quint16 imapPort = 0;
    QString imapUser;     // user@domain
    QString imapPassword; // throw-away, generated, test only
    QString dovecotPrefix;
    QString dovecotConfigFile;
    QString dovecotConfD;
    QString dovecotLogFile;
    QString dovecotBaseDir;

    QString syncthingGuiAddress() const;  // "127.0.0.1:P"
    QString syncthingSyncAddress() const; // "tcp://127.0.0.1:Q"
    QString dovecotBinary() const;

    QJsonObject toJson() const;
};

} // namespace mm::sandbox
