#include "remote/sshaddress.h"

#include <QHostAddress>
#include <QRegularExpression>

namespace mm::remote {

namespace {

bool isPlausibleHost(const QString &host)
{
    // anchoredPattern: "$" alone would also accept a final newline.
    static const QRegularExpression hostPattern(
        QRegularExpression::anchoredPattern(QStringLiteral("[A-Za-z0-9._%-]+")));
    return !host.isEmpty() && !host.startsWith(QLatin1Char('-')) &&
           hostPattern.match(host).hasMatch();
}

} // namespace

Result<SshAddress> SshAddress::parse(const QString &text)
{
    const QString trimmed = text.trimmed();
    const auto bad = [&](const QString &why) {
        return fail(ErrorCode::BadRequest,
                    QStringLiteral("invalid ssh address \"%1\": %2").arg(text, why).toStdString());
    };
    if (trimmed.isEmpty())
        return bad(QStringLiteral("it is empty"));

    SshAddress address;
    QString rest = trimmed;
    if (!rest.startsWith(QLatin1String("ssh://"))) {
        // A bare alias or host, resolved by ssh through the admin's ~/.ssh/config.
        if (!isPlausibleHost(rest))
            return bad(QStringLiteral("use ssh://[user@]host[:port] or an ssh_config alias"));
        address.host = rest;
        return address;
    }
    rest = rest.mid(6);
    if (rest.endsWith(QLatin1Char('/')))
        rest.chop(1);
    if (const qsizetype at = rest.lastIndexOf(QLatin1Char('@')); at >= 0) {
        address.user = rest.left(at);
        rest = rest.mid(at + 1);
        // ssh pastes the user (%r) into ProxyCommand lines it runs through sh: plain names only.
        static const QRegularExpression userPattern(
            QRegularExpression::anchoredPattern(QStringLiteral("[A-Za-z0-9_][A-Za-z0-9._@-]*")));
        if (!userPattern.match(address.user).hasMatch())
            return bad(QStringLiteral("the user name must be letters, digits and ._@- and not "
                                      "start with '-'"));
    }
    QString portText;
    if (rest.startsWith(QLatin1Char('['))) {
        const qsizetype close = rest.indexOf(QLatin1Char(']'));
        if (close < 0)
            return bad(QStringLiteral("an IPv6 address needs a closing ']'"));
        address.host = rest.mid(1, close - 1);
        const QString after = rest.mid(close + 1);
        if (!after.isEmpty()) {
            if (!after.startsWith(QLatin1Char(':')))
                return bad(QStringLiteral("unexpected text after ']'"));
            portText = after.mid(1);
        }
        if (QHostAddress(address.host).protocol() != QAbstractSocket::IPv6Protocol)
            return bad(QStringLiteral("\"%1\" is not an IPv6 address").arg(address.host));
    } else {
        const qsizetype colon = rest.lastIndexOf(QLatin1Char(':'));
        address.host = colon >= 0 ? rest.left(colon) : rest;
        if (colon >= 0)
            portText = rest.mid(colon + 1);
        if (!isPlausibleHost(address.host))
            return bad(QStringLiteral("\"%1\" is not a host name").arg(address.host));
    }
    if (!portText.isEmpty() || rest.endsWith(QLatin1Char(':'))) {
        bool ok = false;
        const int port = portText.toInt(&ok);
        if (!ok || port < 1 || port > 65535)
            return bad(QStringLiteral("the port must be a number from 1 to 65535"));
        address.port = port;
    }
    return address;
}

QString SshAddress::toString() const
{
    if (user.isEmpty() && port == 0 && !host.contains(QLatin1Char(':')))
        return host;
    QString text = QStringLiteral("ssh://");
    if (!user.isEmpty())
        text += user + QLatin1Char('@');
    text += host.contains(QLatin1Char(':')) ? QLatin1Char('[') + host + QLatin1Char(']') : host;
    if (port != 0)
        text += QLatin1Char(':') + QString::number(port);
    return text;
}

QStringList SshAddress::sshArguments() const
{
    QStringList arguments;
    if (port != 0)
        arguments << QStringLiteral("-p") << QString::number(port);
    if (!user.isEmpty())
        arguments << QStringLiteral("-l") << user;
    // "--" is not accepted before the destination by every ssh; isPlausibleHost already refused
    // a leading '-', so the host can never be read as an option.
    arguments << host;
    return arguments;
}

} // namespace mm::remote
