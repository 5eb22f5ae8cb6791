#include "cluster/monitor/maildigests.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QSet>

namespace mm::cluster {

void MailDigests::addManifestItem(const QJsonObject &item)
{
    QCryptographicHash hash(QCryptographicHash::Sha256);
    const QJsonArray folderMessages = item.value(QStringLiteral("messages")).toArray();
    for (const QJsonValue &value : folderMessages) {
        const QJsonObject message = value.toObject();
        for (const char *key : {"base", "flags", "subdir", "sha256"}) {
            hash.addData(message.value(QLatin1String(key)).toString().toUtf8());
            hash.addData(QByteArrayView("\0", 1));
        }
        hash.addData(QByteArray::number(message.value(QStringLiteral("size")).toInteger()));
        hash.addData(QByteArrayView("\n", 1));
    }
    digestByFolder.insert(item.value(QStringLiteral("folder")).toString(), hash.result());
    messages += folderMessages.size();
}

QStringList MailDigests::differencesFrom(const MailDigests &other, const QString &id, const QString &otherId) const
{
    QSet<QString> folders(digestByFolder.keyBegin(), digestByFolder.keyEnd());
    for (auto it = other.digestByFolder.keyBegin(); it != other.digestByFolder.keyEnd(); ++it)
        folders.insert(*it);
    QStringList differences;
    for (const QString &folder : std::as_const(folders))
        if (digestByFolder.value(folder) != other.digestByFolder.value(folder))
            differences << QStringLiteral("%1 differs between %2 and %3")
                               .arg(folder.isEmpty() ? QStringLiteral("(root)") : folder, id, otherId);
    differences.sort();
    return differences;
}

} // namespace mm::cluster
