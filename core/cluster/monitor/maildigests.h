#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QMap>
#include <QString>
#include <QStringList>

namespace mm::cluster {

// Per folder, a digest of what IMAP clients see, built from an agent `manifest`: each message's
// BASE, flags, subdir, size and content. dovecot-uidlist is left out on purpose: under the
// per-node UID policy it differs by design. Two nodes hold the same mail when their digests agree.
struct MailDigests
{
    QMap<QString, QByteArray> digestByFolder;
    qint64 messages = 0;

    // One `item` of the agent's manifest stream: a folder and its messages.
    void addManifestItem(const QJsonObject &item);
    // "FOLDER differs between ID and OTHERID" for every folder on either side that differs.
    QStringList differencesFrom(const MailDigests &other, const QString &id, const QString &otherId) const;
};

} // namespace mm::cluster
