#include "sandbox/nodeinfo.h"

using namespace Qt::StringLiterals;

namespace mm::sandbox {

QString NodeInfo::syncthingGuiAddress() const
{
    return u"127.0.0.1:%1"_s.arg(syncthingGuiPort);
}

QString NodeInfo::syncthingSyncAddress() const
{
    return u"tcp://127.0.0.1:%1"_s.arg(syncthingSyncPort);
}

QString NodeInfo::dovecotBinary() const
{
    return dovecotPrefix + u"/sbin/dovecot"_s;
}

QJsonObject NodeInfo::toJson() const
{
    return QJsonObject{
        {u"id"_s, id},
        {u"dir"_s, dir},
        {u"ssh"_s,
         QJsonObject{
             {u"alias"_s, id},
             {u"host"_s, u"127.0.0.1"_s},
             {u"port"_s, sshPort},
             {u"user"_s, sshUser},
             {u"configFile"_s, sshConfigFile},
             {u"identityFile"_s, sshIdentityFile},
             {u"knownHostsFile"_s, sshKnownHostsFile},
             {u"hostKeyFile"_s, sshHostKeyFile},
             {u"hostKeyFingerprint"_s, sshHostKeyFingerprint},
             {u"sshdConfigFile"_s, sshdConfigFile},
             {u"logFile"_s, sshdLogFile},
         }},
        {u"mailRoot"_s, mailRoot},
        {u"stateDir"_s, stateDir},
        {u"mailUser"_s, mailUser},
        {u"maildir"_s, maildir},
        {u"syncthing"_s,
         QJsonObject{
             {u"home"_s, syncthingHome},
             {u"guiAddress"_s, syncthingGuiAddress()},
             {u"apiKey"_s, syncthingApiKey},
             {u"deviceId"_s, syncthingDeviceId},
             {u"syncAddress"_s, syncthingSyncAddress()},
             {u"logFile"_s, syncthingLogFile},
         }},
        {u"imap"_s,
         QJsonObject{
             {u"host"_s, u"127.0.0.1"_s},
             {u"port"_s, imapPort},
             {u"user"_s, imapUser},
             {u"password"_s, imapPassword},
         }},
        {u"dovecot"_s,
         QJsonObject{
             {u"prefix"_s, dovecotPrefix},
             {u"binary"_s, dovecotBinary()},
             {u"configFile"_s, dovecotConfigFile},
             {u"confD"_s, dovecotConfD},
             {u"baseDir"_s, dovecotBaseDir},
             {u"logFile"_s, dovecotLogFile},
         }},
    };
}

} // namespace mm::sandbox
