#include "cluster/config/sandboxcluster.h"

#include <QJsonArray>

namespace mm::cluster {

Result<ClusterConfig> clusterFromSandboxDescription(const QJsonObject &description, const QString &name)
{
    ClusterConfig cluster;
    cluster.name = name;
    const QString identity = description.value(QStringLiteral("identityFile")).toString();
    for (const QJsonValue &value : description.value(QStringLiteral("nodes")).toArray()) {
        const QJsonObject node = value.toObject();
        const QJsonObject ssh = node.value(QStringLiteral("ssh")).toObject();
        const QJsonObject syncthing = node.value(QStringLiteral("syncthing")).toObject();
        const QJsonObject dovecot = node.value(QStringLiteral("dovecot")).toObject();
        NodeConfig config;
        config.id = node.value(QStringLiteral("id")).toString();
        config.ssh = QStringLiteral("ssh://%1@%2:%3")
                         .arg(ssh.value(QStringLiteral("user")).toString(), ssh.value(QStringLiteral("host")).toString())
                         .arg(ssh.value(QStringLiteral("port")).toInt());
        config.sshOptions = {QStringLiteral("IdentityFile=") + identity, QStringLiteral("IdentitiesOnly=yes")};
        config.hostKey = ssh.value(QStringLiteral("hostKeyFingerprint")).toString();
        config.mailRoot = node.value(QStringLiteral("mailRoot")).toString();
        config.mailUser = node.value(QStringLiteral("mailUser")).toString();
        config.stateDir = node.value(QStringLiteral("stateDir")).toString();
        config.syncthing.home = syncthing.value(QStringLiteral("home")).toString();
        config.syncthing.guiAddress = syncthing.value(QStringLiteral("guiAddress")).toString();
        config.syncthing.syncAddress = syncthing.value(QStringLiteral("syncAddress")).toString();
        config.syncthing.deviceId = syncthing.value(QStringLiteral("deviceId")).toString();
        config.dovecot.prefix = dovecot.value(QStringLiteral("prefix")).toString();
        config.dovecot.configFile = dovecot.value(QStringLiteral("configFile")).toString();
        cluster.nodes << config;
    }
    if (const QStringList problems = cluster.validate(); !problems.isEmpty())
        return fail(ErrorCode::InvalidData,
                    QStringLiteral("not a usable sandbox description: %1").arg(problems.join(QStringLiteral("; "))).toStdString());
    if (cluster.nodes.isEmpty())
        return fail(ErrorCode::InvalidData, "the sandbox description lists no nodes");
    return cluster;
}

} // namespace mm::cluster
