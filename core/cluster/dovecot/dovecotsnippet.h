#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QMap>
#include <QString>
#include <QStringList>

#include <optional>

namespace mm::cluster {

// conf.d/90-mailmesh.conf, the settings `deploy-dovecot` gives every node, rendered from a
// template per Dovecot line (resources/dovecot/). The cur/-only switch itself stays in
// 99-mailmesh-cur-only.conf, which migrate and revert own.
namespace dovecotsnippet {

inline constexpr const char *kSnippetName = "90-mailmesh.conf";
// The previous content, kept on the node beside the snippet for a manual rollback.
inline constexpr const char *kPreviousSuffix = ".mailmesh-previous";
// Read templates from this directory instead of the built-in ones (resources/dovecot/README.md).
inline constexpr const char *kTemplateDirVariable = "MAILMESH_DOVECOT_TEMPLATE_DIR";

// Replaces every {{name}} with values[name]. A placeholder without a value, or an unclosed
// "{{", is an error naming it: a template mistake must never reach a node half rendered.
Result<QByteArray> render(const QByteArray &text, const QMap<QString, QString> &values);

// The template for a Dovecot line ("2.3", "2.4"): built in, or from kTemplateDirVariable.
Result<QByteArray> loadTemplate(const QString &line);
// Any template by its file name ("95-mailmesh-homes-2.4.conf.in"), from the same places.
Result<QByteArray> loadTemplateFile(const QString &name);

// mail_location as 2.3 writes it: "maildir:~/Maildir:INDEX=/var/idx/%u:LAYOUT=fs".
struct MailLocation
{
    QString driver;                // "maildir"
    QString path;                  // "~/Maildir"
    QMap<QString, QString> options; // "INDEX" -> "/var/idx/%u"; keys upper case as written

    static std::optional<MailLocation> parse(const QString &text);
    bool hasSeparateIndexes() const { return options.contains(QStringLiteral("INDEX")); }
};

// A 2.4 configuration spells its mail location as settings of their own (mail_driver,
// mail_path, mail_index_path, ...), where 2.3 has one mail_location. The names to ask doveconf
// for, and the location they make, written as a mail_location (a ':' in a value doubled), so that
// both lines share MailLocation and renderFor. Empty when mail_driver is not set.
QStringList settingNames24();
QString mailLocationFrom24(const QMap<QString, QString> &settings);

// The snippet for the node: its mail location kept (indexes where they are), very dirty syncs off.
// runtimeDirs (base_dir, state_dir → the values the node's Dovecot uses now) are kept too when
// given: a build in another prefix would otherwise put its sockets and state under that prefix,
// where the node's own doveadm, Postfix's auth socket and the admin's scripts do not look (and
// which may be read-only).
Result<QByteArray> renderFor(const QString &line, const QString &mailLocation,
                             const QMap<QString, QString> &runtimeDirs = {});

// A short line diff ("-old" / "+new" lines; context left out), for dry runs and reports.
QString lineDiff(const QByteArray &before, const QByteArray &after);

} // namespace dovecotsnippet

} // namespace mm::cluster
