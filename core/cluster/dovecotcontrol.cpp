#include "cluster/dovecotcontrol.h"

#include <QFileInfo>

namespace mm::cluster::dovecotcontrol {

namespace {

QString tool(const DovecotFacts &dovecot, const QString &name)
{
    return dovecot.prefix.isEmpty() ? name : dovecot.prefix + QStringLiteral("/bin/") + name;
}

QStringList withConfig(const DovecotFacts &dovecot, QStringList argv)
{
    if (!dovecot.configFile.isEmpty())
        argv << QStringLiteral("-c") << dovecot.configFile;
    return argv;
}

} // namespace

QString configFile(const DovecotFacts &dovecot)
{
    return dovecot.configFile.isEmpty() ? DovecotFacts::defaultConfigFile(dovecot.prefix) : dovecot.configFile;
}

QString confDir(const DovecotFacts &dovecot)
{
    return QFileInfo(configFile(dovecot)).path() + QStringLiteral("/conf.d");
}

QString curOnlySnippetPath(const DovecotFacts &dovecot)
{
    return confDir(dovecot) + u'/' + QLatin1String(kCurOnlySnippetName);
}

QByteArray curOnlySnippet(bool enabled)
{
    return QByteArrayLiteral("# Written by Mailmesh (migrate/revert). The cur/-only Maildir layout needs the\n"
                             "# patched Dovecot; see installers/dovecot/README.md.\n"
                             "maildir_cur_only = ")
           + (enabled ? QByteArrayLiteral("yes\n") : QByteArrayLiteral("no\n"));
}

QStringList readCurOnlySetting(const DovecotFacts &dovecot)
{
    return withConfig(dovecot, {tool(dovecot, QStringLiteral("doveconf"))})
           << QStringLiteral("-h") << QStringLiteral("maildir_cur_only");
}

QList<QStringList> reload(const DovecotFacts &dovecot)
{
    if (!dovecot.reloadCommand.isEmpty())
        return dovecot.reloadCommand;
    return {withConfig(dovecot, {tool(dovecot, QStringLiteral("doveadm"))}) << QStringLiteral("reload")};
}

QStringList writeFileAtomically(const QString &path)
{
    // A temporary name from mktemp in the target's directory (a predictable one could be a
    // symlink planted there), removed again if anything fails before the rename.
    return {QStringLiteral("sh"), QStringLiteral("-c"),
            QStringLiteral("set -e; t=$(mktemp \"$1.mailmesh-XXXXXXXX\"); trap 'rm -f -- \"$t\"' EXIT; "
                           "cat > \"$t\"; chmod 644 \"$t\"; mv -f -- \"$t\" \"$1\"; trap - EXIT"),
            QStringLiteral("sh"), path};
}

QString dovecotBinary(const DovecotFacts &dovecot)
{
    return dovecot.prefix.isEmpty() ? QString() : dovecot.prefix + QStringLiteral("/sbin/dovecot");
}

} // namespace mm::cluster::dovecotcontrol
