#include "cluster/config/homenodes.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QRegularExpression>
#include <QSet>
#include <QtEndian>

#include <algorithm>

namespace mm::cluster {

namespace {

const QString kOverrides = QStringLiteral("overrides");
const QString kDrained = QStringLiteral("drained");
const QString kImapAddresses = QStringLiteral("imapAddresses");

const QRegularExpression &nodeIdPattern()
{
    static const QRegularExpression pattern(
        QRegularExpression::anchoredPattern(QStringLiteral("[a-z0-9][a-z0-9-]{0,31}")));
    return pattern;
}

// A weight that does not change between versions, platforms or Qt releases: the first 8 bytes
// of SHA-256 over "node\0user".
quint64 weight(const QString &nodeId, const QString &user)
{
    QCryptographicHash hash(QCryptographicHash::Sha256);
    hash.addData(nodeId.toUtf8());
    hash.addData(QByteArrayView("\0", 1));
    hash.addData(user.toUtf8());
    return qFromBigEndian<quint64>(hash.result().constData());
}

} // namespace

QString homeReasonName(HomeReason reason)
{
    switch (reason) {
    case HomeReason::Hash:
        return QStringLiteral("hash");
    case HomeReason::Override:
        return QStringLiteral("override");
    case HomeReason::Failover:
        return QStringLiteral("failover");
    case HomeReason::Nowhere:
        return QStringLiteral("nowhere");
    }
    return {};
}

QStringList HomesSettings::validate() const
{
    QStringList problems;
    for (auto it = overrides.begin(); it != overrides.end(); ++it) {
        const QString at = QStringLiteral("homes.overrides.%1: ").arg(it.key());
        if (!homenodes::isUsableUserName(it.key()))
            problems << at + QStringLiteral("is not a user name a passwd-file can hold (no ':', "
                                            "spaces or control characters)");
        if (!nodeIdPattern().match(it.value()).hasMatch())
            problems << at + QStringLiteral("\"%1\" is not a node id").arg(it.value());
    }
    for (qsizetype i = 0; i < drained.size(); ++i)
        if (!nodeIdPattern().match(drained[i]).hasMatch())
            problems << QStringLiteral("homes.drained[%1]: \"%2\" is not a node id")
                            .arg(i)
                            .arg(drained[i]);
    for (auto it = imapAddresses.begin(); it != imapAddresses.end(); ++it) {
        const homenodes::Endpoint endpoint = homenodes::parseAddress(it.value(), 143);
        if (endpoint.host.isEmpty() || endpoint.port == 0)
            problems << QStringLiteral("homes.imapAddresses.%1: \"%2\" is not HOST or HOST:PORT")
                            .arg(it.key(), it.value());
    }
    return problems;
}

QJsonObject HomesSettings::toJson() const
{
    QJsonObject object;
    if (!overrides.isEmpty()) {
        QJsonObject map;
        for (auto it = overrides.begin(); it != overrides.end(); ++it)
            map.insert(it.key(), it.value());
        object.insert(kOverrides, map);
    }
    if (!drained.isEmpty())
        object.insert(kDrained, QJsonArray::fromStringList(drained));
    if (!imapAddresses.isEmpty()) {
        QJsonObject map;
        for (auto it = imapAddresses.begin(); it != imapAddresses.end(); ++it)
            map.insert(it.key(), it.value());
        object.insert(kImapAddresses, map);
    }
    return object;
}

HomesSettings HomesSettings::fromJson(const QJsonObject &object, QStringList &problems)
{
    HomesSettings settings;
    const auto readMap = [&](const QString &key, QMap<QString, QString> &target) {
        const QJsonValue value = object.value(key);
        if (value.isUndefined() || value.isNull())
            return;
        if (!value.isObject()) {
            problems << QStringLiteral("homes.%1: must be an object").arg(key);
            return;
        }
        const QJsonObject map = value.toObject();
        for (auto it = map.begin(); it != map.end(); ++it) {
            if (!it.value().isString())
                problems << QStringLiteral("homes.%1.%2: must be a string").arg(key, it.key());
            else
                target.insert(it.key(), it.value().toString());
        }
    };
    readMap(kOverrides, settings.overrides);
    readMap(kImapAddresses, settings.imapAddresses);
    const QJsonValue drained = object.value(kDrained);
    if (!drained.isUndefined() && !drained.isNull()) {
        if (!drained.isArray()) {
            problems << QStringLiteral("homes.drained: must be a list of node ids");
        } else {
            const QJsonArray array = drained.toArray();
            for (qsizetype i = 0; i < array.size(); ++i) {
                if (!array[i].isString())
                    problems << QStringLiteral("homes.drained[%1]: must be a string").arg(i);
                else if (!settings.drained.contains(array[i].toString()))
                    settings.drained << array[i].toString();
            }
        }
    }
    return settings;
}

namespace homenodes {

QString hashedHome(const QString &user, const QStringList &nodeIds)
{
    QString best;
    quint64 bestWeight = 0;
    for (const QString &node : nodeIds) {
        const quint64 w = weight(node, user);
        // Ties (never seen with SHA-256, but possible) go to the smaller id, so every caller
        // agrees.
        if (best.isEmpty() || w > bestWeight || (w == bestWeight && node < best)) {
            best = node;
            bestWeight = w;
        }
    }
    return best;
}

QList<HomeAssignment> assign(const QStringList &users, const QStringList &nodeIds,
                             const HomesSettings &settings)
{
    QStringList available;
    for (const QString &node : nodeIds)
        if (!settings.drained.contains(node))
            available << node;
    QStringList sorted = users;
    sorted.sort();
    sorted.removeDuplicates();
    QList<HomeAssignment> homes;
    homes.reserve(sorted.size());
    for (const QString &user : std::as_const(sorted)) {
        HomeAssignment home;
        home.user = user;
        const QString chosen = settings.overrides.value(user);
        const bool overridden = !chosen.isEmpty() && nodeIds.contains(chosen);
        home.preferred = overridden ? chosen : hashedHome(user, nodeIds);
        if (available.contains(home.preferred)) {
            home.node = home.preferred;
            home.reason = overridden ? HomeReason::Override : HomeReason::Hash;
        } else if (!available.isEmpty()) {
            home.node = hashedHome(user, available);
            home.reason = HomeReason::Failover;
        } else {
            home.reason = HomeReason::Nowhere;
        }
        homes << home;
    }
    return homes;
}

bool isUsableUserName(const QString &user)
{
    if (user.isEmpty() || user.startsWith(u'#'))
        return false;
    return std::none_of(user.begin(), user.end(), [](QChar c) {
        return c == u':' || c.isSpace() || c.category() == QChar::Other_Control;
    });
}

QByteArray passwdFile(const QList<HomeAssignment> &homes, const QMap<QString, Endpoint> &endpoints)
{
    QByteArray text = QByteArrayLiteral(
        "# Written by Mailmesh (mailmeshctl homes --deploy / failover). Do not edit: change the\n"
        "# cluster file's \"homes\" section and deploy again. Each line sends a login to the "
        "user's\n"
        "# home node (proxy_maybe: served here when this node is the home); the password is still\n"
        "# checked by the node's own passdb (noauthenticate).\n");
    for (const HomeAssignment &home : homes) {
        const Endpoint endpoint = endpoints.value(home.node);
        if (home.node.isEmpty() || endpoint.host.isEmpty() || !isUsableUserName(home.user))
            continue;
        text += home.user.toUtf8() +
                QByteArrayLiteral(":::::::noauthenticate proxy_maybe=y host=") +
                endpoint.host.toUtf8() + QByteArrayLiteral(" port=") +
                QByteArray::number(endpoint.port) + '\n';
    }
    return text;
}

Endpoint parseAddress(const QString &address, int defaultPort)
{
    const QString text = address.trimmed();
    Endpoint endpoint;
    endpoint.port = defaultPort;
    QString portText;
    if (text.startsWith(u'[')) {
        const qsizetype close = text.indexOf(u']');
        if (close < 0)
            return {};
        endpoint.host = text.mid(1, close - 1);
        const QString rest = text.mid(close + 1);
        if (!rest.isEmpty()) {
            if (!rest.startsWith(u':'))
                return {};
            portText = rest.mid(1);
        }
    } else if (text.count(u':') == 1) {
        endpoint.host = text.section(u':', 0, 0);
        portText = text.section(u':', 1);
    } else {
        endpoint.host = text; // a name, an IPv4 address, or a bare IPv6 address
    }
    if (!portText.isEmpty()) {
        bool ok = false;
        endpoint.port = portText.toInt(&ok);
        if (!ok || endpoint.port < 1 || endpoint.port > 65535)
            return {};
    }
    if (endpoint.host.isEmpty() || endpoint.host.contains(u' ') || endpoint.host.contains(u'/'))
        return {};
    return endpoint;
}

QStringList parseUserList(const QByteArray &output)
{
    QStringList users;
    QSet<QString> seen;
    for (const QByteArray &line : output.split('\n')) {
        const QString user = QString::fromUtf8(line).trimmed();
        if (!user.isEmpty() && !seen.contains(user)) {
            seen.insert(user);
            users << user;
        }
    }
    return users;
}

} // namespace homenodes

} // namespace mm::cluster
