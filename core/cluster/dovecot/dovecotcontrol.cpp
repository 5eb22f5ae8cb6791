#include "cluster/dovecot/dovecotcontrol.h"

#include "node/dovecotversion.h"

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

QByteArray curOnlySnippet(bool enabled, const QString &nodeId, const QString &keywordLetters)
{
    QByteArray text = QByteArrayLiteral("# Written by Mailmesh (migrate/revert). The cur/-only Maildir layout needs the\n"
                                        "# patched Dovecot; see installers/dovecot/README.md.\n"
                                        "maildir_cur_only = ")
                      + (enabled ? QByteArrayLiteral("yes\n") : QByteArrayLiteral("no\n"));
    if (enabled && !nodeId.isEmpty())
        text += QByteArrayLiteral("# This node's own files for new keywords and subscription changes, and the\n"
                                  "# keyword letters only it gives out (docs/mailbox-state.md).\n"
                                  "maildir_cur_only_node = ")
                + nodeId.toUtf8() + QByteArrayLiteral("\nmaildir_cur_only_keyword_letters = ")
                + keywordLetters.toUtf8() + '\n';
    return text;
}

QStringList readCurOnlySetting(const DovecotFacts &dovecot)
{
    // 2.4 keeps maildir settings in the `maildir` named filter; the bare name would print the
    // global default.
    return withConfig(dovecot, {tool(dovecot, QStringLiteral("doveconf"))})
           << QStringLiteral("-h")
           << QString::fromStdString(node::curOnlySettingName(dovecot.version.toStdString()));
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
