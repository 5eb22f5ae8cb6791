#include "remote/hostkey.h"

#include <QCryptographicHash>
#include <QStringList>

namespace mm::remote {

QString HostKey::fingerprint() const
{
    const QByteArray blob = QByteArray::fromBase64(keyBase64.toLatin1());
    const QByteArray digest = QCryptographicHash::hash(blob, QCryptographicHash::Sha256);
    return QStringLiteral("SHA256:") +
           QString::fromLatin1(digest.toBase64(QByteArray::OmitTrailingEquals));
}

QString HostKey::knownHostsLine() const
{
    return hostName + QLatin1Char(' ') + type + QLatin1Char(' ') + keyBase64;
}

Result<HostKey> HostKey::fromKnownHostsLine(const QString &line)
{
    QStringList fields = line.trimmed().split(QLatin1Char(' '), Qt::SkipEmptyParts);
    if (!fields.isEmpty() && fields.first().startsWith(QLatin1Char('@')))
        fields.removeFirst();
    if (fields.size() < 3)
        return fail(ErrorCode::InvalidData,
                    QStringLiteral("not a known_hosts entry: \"%1\"").arg(line).toStdString());
    const QByteArray blob =
        QByteArray::fromBase64(fields[2].toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
    if (blob.isEmpty())
        return fail(ErrorCode::InvalidData,
                    QStringLiteral("the key in \"%1\" is not base64").arg(line).toStdString());
    return HostKey{fields[0], fields[1], fields[2]};
}

} // namespace mm::remote
