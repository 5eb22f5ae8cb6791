#include "cluster/dovecot/dovecotsnippet.h"

#include <QFile>
#include <QRegularExpression>

#include <vector>

namespace mm::cluster::dovecotsnippet {

namespace {

std::string str(const QString &text)
{
    return text.toStdString();
}

// mail_location doubles a ':' inside a value; 2.4's settings take it as it is.
QString unescapedColons(QString value)
{
    return value.replace(QStringLiteral("::"), QStringLiteral(":"));
}

// mail_location's options and the 2.4 settings that replace them.
const QMap<QString, QString> &optionSettings24()
{
    static const QMap<QString, QString> names{{QStringLiteral("INDEX"), QStringLiteral("mail_index_path")},
                                              {QStringLiteral("CONTROL"), QStringLiteral("mail_control_path")},
                                              {QStringLiteral("VOLATILEDIR"), QStringLiteral("mail_volatile_path")},
                                              {QStringLiteral("INBOX"), QStringLiteral("mail_inbox_path")}};
    return names;
}

// 2.4 spells mail_location's options as settings of their own.
Result<QString> settingsFor24(const MailLocation &location)
{
    const QMap<QString, QString> &names = optionSettings24();
    QStringList lines;
    for (auto it = location.options.begin(); it != location.options.end(); ++it) {
        if (it.key() == QLatin1String("LAYOUT")) {
            lines << QStringLiteral("mailbox_list_layout = ") + it.value();
            continue;
        }
        const QString name = names.value(it.key());
        if (name.isEmpty())
            return fail(ErrorCode::Unsupported,
                        str(QStringLiteral("mail_location option %1 has no Dovecot 2.4 setting Mailmesh knows; "
                                           "write the 2.4 settings by hand")
                                .arg(it.key())));
        lines << name + QStringLiteral(" = ") + unescapedColons(it.value());
    }
    return lines.isEmpty() ? QString() : lines.join(u'\n') + u'\n';
}

QString escapedColons(QString value)
{
    return value.replace(u':', QStringLiteral("::"));
}

} // namespace

QStringList settingNames24()
{
    // Not mailbox_list_layout: doveconf prints its global default (fs), not the maildir driver's
    // own (Maildir++). Written into the snippet, it turned a node's Maildir++ folders into fs
    // ones (seen on a Debian 13 lab node). Left out, the node's own layout stays in effect.
    QStringList names{QStringLiteral("mail_driver"), QStringLiteral("mail_path")};
    names << optionSettings24().values();
    return names;
}

QString mailLocationFrom24(const QMap<QString, QString> &settings)
{
    const QString driver = settings.value(QStringLiteral("mail_driver")).trimmed();
    if (driver.isEmpty())
        return {};
    QString location = driver + u':' + escapedColons(settings.value(QStringLiteral("mail_path")).trimmed());
    const QMap<QString, QString> &names = optionSettings24();
    for (auto it = names.begin(); it != names.end(); ++it)
        if (const QString value = settings.value(it.value()).trimmed(); !value.isEmpty())
            location += u':' + it.key() + u'=' + escapedColons(value);
    return location;
}

Result<QByteArray> render(const QByteArray &text, const QMap<QString, QString> &values)
{
    static const QRegularExpression placeholder(QStringLiteral("\\{\\{([^{}]*)\\}\\}"));
    const QString input = QString::fromUtf8(text);
    QString output;
    qsizetype at = 0;
    QRegularExpressionMatchIterator it = placeholder.globalMatch(input);
    while (it.hasNext()) {
        const QRegularExpressionMatch match = it.next();
        const QString name = match.captured(1).trimmed();
        if (!values.contains(name))
            return fail(ErrorCode::InvalidData,
                        str(QStringLiteral("template placeholder {{%1}} has no value (known: %2)")
                                .arg(name, QStringList(values.keys()).join(QStringLiteral(", ")))));
        output += input.mid(at, match.capturedStart() - at) + values.value(name);
        at = match.capturedEnd();
    }
    const QString rest = input.mid(at);
    if (const qsizetype open = rest.indexOf(QLatin1String("{{")); open >= 0)
        return fail(ErrorCode::InvalidData,
                    str(QStringLiteral("template has an unclosed placeholder: \"%1\"").arg(rest.mid(open, 30).trimmed())));
    output += rest;
    return output.toUtf8();
}

Result<QByteArray> loadTemplate(const QString &line)
{
    return loadTemplateFile(QStringLiteral("90-mailmesh-%1.conf.in").arg(line));
}

Result<QByteArray> loadTemplateFile(const QString &name)
{
    const QString dir = qEnvironmentVariable(kTemplateDirVariable);
    const QString path = dir.isEmpty() ? QStringLiteral(":/mailmesh/dovecot/") + name : dir + u'/' + name;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return fail(ErrorCode::Unsupported,
                    str(QStringLiteral("no configuration template %1 (%2)").arg(name, path)));
    return file.readAll();
}

std::optional<MailLocation> MailLocation::parse(const QString &text)
{
    const QString trimmed = text.trimmed();
    const qsizetype colon = trimmed.indexOf(u':');
    if (colon <= 0)
        return std::nullopt;
    MailLocation location;
    location.driver = trimmed.left(colon);
    // Dovecot escapes a ':' inside a path as "::"; keep such pairs inside one part.
    QStringList parts;
    QString current;
    const QString rest = trimmed.mid(colon + 1);
    for (qsizetype i = 0; i < rest.size(); ++i) {
        if (rest[i] == u':') {
            if (i + 1 < rest.size() && rest[i + 1] == u':') {
                current += QStringLiteral("::");
                ++i;
                continue;
            }
            parts << current;
            current.clear();
            continue;
        }
        current += rest[i];
    }
    parts << current;
    location.path = parts.takeFirst();
    for (const QString &part : std::as_const(parts)) {
        const qsizetype equals = part.indexOf(u'=');
        if (equals <= 0)
            location.options.insert(part.toUpper(), QString());
        else
            location.options.insert(part.left(equals).toUpper(), part.mid(equals + 1));
    }
    if (location.path.isEmpty())
        return std::nullopt;
    return location;
}

Result<QByteArray> renderFor(const QString &line, const QString &mailLocation, const QMap<QString, QString> &runtimeDirs)
{
    const std::optional<MailLocation> location = MailLocation::parse(mailLocation);
    if (!location)
        return fail(ErrorCode::Unsupported,
                    str(QStringLiteral("mail_location \"%1\" is not DRIVER:PATH[:OPTIONS]; set it to maildir:PATH first")
                            .arg(mailLocation)));
    if (location->driver != QLatin1String("maildir"))
        return fail(ErrorCode::Unsupported,
                    str(QStringLiteral("mail_location \"%1\" is not a Maildir; Mailmesh replicates Maildirs only")
                            .arg(mailLocation)));
    Result<QByteArray> text = loadTemplate(line);
    if (!text)
        return text;
    QString dirs;
    for (auto it = runtimeDirs.begin(); it != runtimeDirs.end(); ++it)
        if (!it.value().trimmed().isEmpty())
            dirs += QStringLiteral("%1 = %2\n").arg(it.key(), it.value().trimmed());
    if (!dirs.isEmpty())
        dirs.prepend(QStringLiteral("\n# Sockets and state where the node's Dovecot keeps them, whichever build runs.\n"));
    QMap<QString, QString> values{
        {QStringLiteral("runtimeDirs"), dirs},
        {QStringLiteral("dovecotLine"), line},
        {QStringLiteral("indexNote"),
         location->hasSeparateIndexes()
             ? QStringLiteral("indexes under %1, outside the replicated tree").arg(location->options.value(QStringLiteral("INDEX")))
             : QStringLiteral("indexes stay in the Maildir; Syncthing ignores dovecot.index*")}};
    if (line == QLatin1String("2.3")) {
        values.insert(QStringLiteral("mailLocation"), mailLocation.trimmed());
    } else {
        const Result<QString> settings = settingsFor24(*location);
        if (!settings)
            return fail(settings.error());
        values.insert(QStringLiteral("mailDriver"), location->driver);
        values.insert(QStringLiteral("mailPath"), unescapedColons(location->path));
        values.insert(QStringLiteral("locationSettings"), *settings);
    }
    return render(*text, values);
}

QString lineDiff(const QByteArray &before, const QByteArray &after)
{
    const auto lines = [](const QByteArray &text) {
        QStringList list = QString::fromUtf8(text).split(u'\n');
        if (list.last().isEmpty())
            list.removeLast(); // the newline that ends the last line
        return list;
    };
    const QStringList a = lines(before);
    const QStringList b = lines(after);
    // Longest common subsequence: snippets are a few dozen lines.
    const std::size_t n = std::size_t(a.size()), m = std::size_t(b.size());
    std::vector<std::vector<int>> common(n + 1, std::vector<int>(m + 1, 0));
    for (std::size_t i = n; i-- > 0;)
        for (std::size_t j = m; j-- > 0;)
            common[i][j] = a[qsizetype(i)] == b[qsizetype(j)] ? common[i + 1][j + 1] + 1
                                                              : std::max(common[i + 1][j], common[i][j + 1]);
    QStringList out;
    std::size_t i = 0, j = 0;
    while (i < n || j < m) {
        if (i < n && j < m && a[qsizetype(i)] == b[qsizetype(j)]) {
            ++i;
            ++j;
        } else if (i < n && (j == m || common[i + 1][j] >= common[i][j + 1])) {
            out << u'-' + a[qsizetype(i++)];
        } else {
            out << u'+' + b[qsizetype(j++)];
        }
    }
    return out.join(u'\n');
}

} // namespace mm::cluster::dovecotsnippet
