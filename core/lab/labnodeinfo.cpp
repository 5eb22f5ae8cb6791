#include "lab/labnodeinfo.h"

#include <QJsonArray>

using namespace Qt::StringLiterals;

namespace mm::lab {

QString LabNodeInfo::syncAddress() const
{
    return u"tcp://%1:%2"_s.arg(address).arg(syncPort);
}

QString LabNodeInfo::sshUrl() const
{
    return u"ssh://%1@%2"_s.arg(sshUser, address);
}

QStringList LabNodeInfo::addNodeArguments(const QString &identityFile) const
{
    // Hold commands run as the login user: where that is not root, the admin writes sudo.
    const QString asRoot = sshUser == u"root"_s ? QString() : u"sudo "_s;
    return {u"add-node"_s, id, u"--ssh"_s, sshUrl(), u"--ssh-option"_s,
            u"IdentityFile="_s + identityFile, u"--ssh-option"_s, u"IdentitiesOnly=yes"_s,
            u"--mail-root"_s, mailRoot, u"--mail-user"_s, mailUser, u"--syncthing-home"_s,
            syncthingHome, u"--syncthing-gui"_s, syncthingGuiAddress, u"--sync-address"_s,
            syncAddress(), u"--dovecot-config"_s, dovecotConfigFile,
            // Delivery and IMAP stop together; IMAP comes back first so that Postfix finds LMTP.
            u"--hold-command"_s, asRoot + u"systemctl stop postfix dovecot"_s,
            u"--resume-command"_s, asRoot + u"systemctl start dovecot postfix"_s};
}

QJsonObject LabNodeInfo::toJson(const QString &identityFile) const
{
    return QJsonObject{
        {u"id"_s, id},
        {u"hostName"_s, hostName},
        {u"address"_s, address},
        {u"dir"_s, dir},
        {u"rootDir"_s, rootDir},
        {u"bootMs"_s, bootMs},
        {u"ssh"_s,
         QJsonObject{
             {u"alias"_s, id},
             {u"url"_s, sshUrl()},
             {u"user"_s, sshUser},
             {u"rootLoginAllowed"_s, rootLoginAllowed},
             {u"identityFile"_s, identityFile},
             {u"hostKeyFingerprint"_s, sshHostKeyFingerprint},
         }},
        {u"mailRoot"_s, mailRoot},
        {u"mailUser"_s, mailUser},
        {u"syncthing"_s,
         QJsonObject{
             {u"home"_s, syncthingHome},
             {u"guiAddress"_s, syncthingGuiAddress},
             {u"syncAddress"_s, syncAddress()},
             {u"unit"_s, u"syncthing@%1.service"_s.arg(mailUser)},
         }},
        {u"dovecot"_s,
         QJsonObject{
             {u"configFile"_s, dovecotConfigFile},
             {u"imapPort"_s, imapPort},
             {u"imapsPort"_s, imapsPort},
         }},
        {u"smtpPort"_s, smtpPort},
        {u"addNode"_s, QJsonArray::fromStringList(addNodeArguments(identityFile))},
    };
}

} // namespace mm::lab
