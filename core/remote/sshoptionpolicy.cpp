#include "remote/sshoptionpolicy.h"

#include <QHostAddress>
#include <QRegularExpression>

#include <functional>

namespace mm::remote {

namespace {

// A value check returns an empty string when the value is fine, else what it must look like.
using ValueCheck = std::function<QString(const QString &)>;

bool fullMatch(const QString &pattern, const QString &text)
{
    // anchoredPattern: "$" alone would also match before a final "\n".
    const QRegularExpression expression(QRegularExpression::anchoredPattern(pattern));
    return expression.match(text).hasMatch();
}

bool isHostName(const QString &host)
{
    return host.size() <= 253 && fullMatch(QStringLiteral("[A-Za-z0-9_][A-Za-z0-9._-]*"), host);
}

bool isUserName(const QString &user)
{
    return user.size() <= 64 && fullMatch(QStringLiteral("[A-Za-z0-9_][A-Za-z0-9._@-]*"), user);
}

bool isPort(const QString &text)
{
    bool ok = false;
    const int port = text.toInt(&ok);
    return ok && fullMatch(QStringLiteral("[0-9]{1,5}"), text) && port >= 1 && port <= 65535;
}

// One ProxyJump hop: [ssh://][user@]host[:port], host a name, an alias or [IPv6].
bool isJumpHop(QString hop)
{
    if (hop.startsWith(QLatin1String("ssh://")))
        hop = hop.mid(6);
    if (const qsizetype at = hop.lastIndexOf(QLatin1Char('@')); at >= 0) {
        if (!isUserName(hop.left(at)))
            return false;
        hop = hop.mid(at + 1);
    }
    QString port;
    if (hop.startsWith(QLatin1Char('['))) {
        const qsizetype close = hop.indexOf(QLatin1Char(']'));
        if (close < 0 ||
            QHostAddress(hop.mid(1, close - 1)).protocol() != QAbstractSocket::IPv6Protocol)
            return false;
        const QString after = hop.mid(close + 1);
        if (!after.isEmpty() && !after.startsWith(QLatin1Char(':')))
            return false;
        port = after.mid(1);
        if (after.startsWith(QLatin1Char(':')) && !isPort(port))
            return false;
        return true;
    }
    if (const qsizetype colon = hop.lastIndexOf(QLatin1Char(':')); colon >= 0) {
        if (!isPort(hop.mid(colon + 1)))
            return false;
        hop = hop.left(colon);
    }
    return isHostName(hop);
}

ValueCheck yesNo()
{
    return [](const QString &value) {
        return value == QLatin1String("yes") || value == QLatin1String("no") ? QString()
                                                                           : QStringLiteral("yes or no");
    };
}

ValueCheck number(int lowest, int highest)
{
    return [lowest, highest](const QString &value) {
        bool ok = false;
        const int number = value.toInt(&ok);
        if (ok && fullMatch(QStringLiteral("[0-9]{1,6}"), value) && number >= lowest &&
            number <= highest)
            return QString();
        return QStringLiteral("a number from %1 to %2").arg(lowest).arg(highest);
    };
}

ValueCheck oneOf(const QStringList &words)
{
    return [words](const QString &value) {
        return words.contains(value) ? QString() : words.join(QStringLiteral(", "));
    };
}

// A key or certificate file: absolute (or ~/...), in plain characters. ssh expands %-tokens in
// these paths, which is harmless; environment variables and shell syntax are not allowed.
ValueCheck keyFile()
{
    return [](const QString &value) {
        if (value.size() <= 1024 &&
            fullMatch(QStringLiteral("[/~][A-Za-z0-9_./~%+@,:=-]*"), value) &&
            !value.contains(QLatin1String("..")))
            return QString();
        return QStringLiteral("an absolute path (or ~/...) of letters, digits and _./~%+@,:=-, "
                              "without \"..\"");
    };
}

struct Rule
{
    const char *key; // ssh's spelling
    ValueCheck check;
};

const std::vector<Rule> &rules()
{
    static const std::vector<Rule> table{
        {"ProxyJump",
         [](const QString &value) {
             if (value == QLatin1String("none"))
                 return QString();
             const QStringList hops = value.split(QLatin1Char(','));
             if (hops.size() > 8)
                 return QStringLiteral("at most 8 hops");
             for (const QString &hop : hops)
                 if (!isJumpHop(hop))
                     return QStringLiteral("comma-separated [user@]host[:port] hops (\"%1\" is not one)")
                         .arg(hop);
             return QString();
         }},
        {"Port",
         [](const QString &value) {
             return isPort(value) ? QString() : QStringLiteral("a port number from 1 to 65535");
         }},
        {"User",
         [](const QString &value) {
             return isUserName(value) ? QString()
                                      : QStringLiteral("a user name of letters, digits and ._@-");
         }},
        {"HostName",
         [](const QString &value) {
             return isHostName(value) ||
                            QHostAddress(value).protocol() == QAbstractSocket::IPv6Protocol
                        ? QString()
                        : QStringLiteral("a host name or an IP address");
         }},
        {"IdentityFile", keyFile()},
        {"CertificateFile", keyFile()},
        {"IdentitiesOnly", yesNo()},
        {"PubkeyAuthentication", yesNo()},
        {"PasswordAuthentication", yesNo()},
        {"KbdInteractiveAuthentication", yesNo()},
        {"PreferredAuthentications",
         [](const QString &value) {
             return fullMatch(QStringLiteral("[a-z0-9-]+(,[a-z0-9-]+)*"), value)
                        ? QString()
                        : QStringLiteral("a comma-separated list of method names");
         }},
        {"AddressFamily",
         oneOf({QStringLiteral("any"), QStringLiteral("inet"), QStringLiteral("inet6")})},
        {"Compression", yesNo()},
        {"TCPKeepAlive", yesNo()},
        {"ConnectTimeout", number(1, 3600)},
        {"ConnectionAttempts", number(1, 10)},
        {"ServerAliveInterval", number(0, 3600)},
        {"ServerAliveCountMax", number(0, 1000)},
    };
    return table;
}

} // namespace

QStringList SshOptionPolicy::allowedKeys()
{
    QStringList keys;
    for (const Rule &rule : rules())
        keys << QLatin1String(rule.key);
    return keys;
}

Result<QString> SshOptionPolicy::check(const QString &option)
{
    // The option is quoted back as it was written, control characters made visible.
    QString shown;
    for (const QChar c : option)
        shown += c.unicode() < 0x20 || c.unicode() == 0x7f
                     ? QStringLiteral("\\x%1").arg(c.unicode(), 2, 16, QLatin1Char('0'))
                     : QString(c);
    const auto refuse = [&](const QString &why) {
        return fail(ErrorCode::BadRequest,
                    QStringLiteral("\"%1\" is refused: %2").arg(shown, why).toStdString());
    };
    for (const QChar c : option)
        if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            return refuse(QStringLiteral("it contains a control character"));
    // ssh reads "-o" text like a config line: a keyword, then "=" and/or blanks, then arguments.
    static const QRegularExpression shape(
        QRegularExpression::anchoredPattern(QStringLiteral("\\s*([A-Za-z0-9]+)\\s*(?:=\\s*|\\s+)(\\S+)\\s*")));
    const QRegularExpressionMatch match = shape.match(option);
    if (!match.hasMatch())
        return refuse(QStringLiteral("write it as Key=Value, with one value"));
    const QString key = match.captured(1);
    const QString value = match.captured(2);
    for (const Rule &rule : rules()) {
        if (key.compare(QLatin1String(rule.key), Qt::CaseInsensitive) != 0)
            continue;
        if (value.contains(QLatin1Char('"')) || value.contains(QLatin1Char('\'')) ||
            value.contains(QLatin1Char('\\')))
            return refuse(QStringLiteral("%1 takes no quotes or backslashes").arg(QLatin1String(rule.key)));
        if (const QString expected = rule.check(value); !expected.isEmpty())
            return refuse(QStringLiteral("%1 must be %2").arg(QLatin1String(rule.key), expected));
        return QLatin1String(rule.key) + QLatin1Char('=') + value;
    }
    return refuse(QStringLiteral("%1 is not an option a cluster file may set (allowed: %2)")
                      .arg(key, allowedKeys().join(QStringLiteral(", "))));
}

} // namespace mm::remote
