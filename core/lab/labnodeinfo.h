#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace mm::lab {

// Everything the admin side needs to reach one lab node: addresses are on the lab's private
// network, reachable from its admin namespace only.
struct LabNodeInfo
{
    QString id;       // node1..nodeN, also the Host alias in the lab's ssh_config
    QString hostName; // node1.lab.test
    QString address;  // 10.42.21.11
    QString dir;      // on this machine: console.log, the overlay's upper and work dirs
    QString rootDir;  // the node's file system as this machine sees it (the overlay mount)

    QString sshUser; // root, or admin (sudo) where root may not log in
    bool rootLoginAllowed = true;
    QString sshHostKeyFingerprint; // ed25519, "SHA256:..." as ssh-keygen -l prints it
    QStringList sshHostPublicKeys; // "type base64" lines, for a known_hosts file

    // What production looks like on the node.
    QString mailRoot = QStringLiteral("/var/vmail");
    QString mailUser = QStringLiteral("vmail");
    QString syncthingHome =
        QStringLiteral("/var/vmail/.config/syncthing"); // Debian's syncthing@vmail
    QString syncthingGuiAddress = QStringLiteral("127.0.0.1:8384");
    quint16 syncPort = 22000;
    QString dovecotConfigFile = QStringLiteral("/etc/dovecot/dovecot.conf");
    quint16 imapPort = 143;
    quint16 imapsPort = 993;
    quint16 smtpPort = 25;

    qint64 bootMs = 0; // from nspawn's start to `systemctl is-system-running` = running

    QString syncAddress() const; // tcp://ADDRESS:22000
    QString sshUrl() const;      // ssh://USER@ADDRESS
    // `mailmeshctl add-node` for this node: ssh, identity, mail root and user, Syncthing, and
    // the hold and resume commands an admin of a systemd node writes. The host key is not
    // accepted here: the caller decides that.
    QStringList addNodeArguments(const QString &identityFile) const;

    QJsonObject toJson(const QString &identityFile) const;
};

} // namespace mm::lab
