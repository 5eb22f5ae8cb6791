#pragma once

#include "cluster/config/clusterconfig.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

namespace mm::cluster {

// The command lines Mailmesh runs on a node to read and change its Dovecot: built from the
// node's DovecotFacts, so a package install and a prefix build are driven the same way.
namespace dovecotcontrol {

// Mailmesh's snippet that switches the cur/-only setting; included last by dovecot.conf's
// `!include conf.d/*.conf`, so it wins over the admin's own files.
inline constexpr const char *kCurOnlySnippetName = "99-mailmesh-cur-only.conf";

QString configFile(const DovecotFacts &dovecot);
QString confDir(const DovecotFacts &dovecot);
QString curOnlySnippetPath(const DovecotFacts &dovecot);
// maildir_cur_only = yes|no. Switched on, it also names the node and its keyword letters
// (maildir_cur_only_node, maildir_cur_only_keyword_letters): with them the patched Dovecot keeps
// the node's new keywords and subscription changes in files of its own (docs/mailbox-state.md).
QByteArray curOnlySnippet(bool enabled, const QString &nodeId = {}, const QString &keywordLetters = {});

// `doveconf [-c FILE] -h maildir_cur_only` (`maildir/maildir_cur_only` on 2.4, by the node's
// probed version): prints yes/no on the patched build.
QStringList readCurOnlySetting(const DovecotFacts &dovecot);
// The node's reload command, or `doveadm [-c FILE] reload`.
QList<QStringList> reload(const DovecotFacts &dovecot);
// Writes `content` (given on stdin) to path atomically: a reader never sees half a file.
QStringList writeFileAtomically(const QString &path);
// The dovecot binary the agent's probe should look at.
QString dovecotBinary(const DovecotFacts &dovecot);

} // namespace dovecotcontrol

} // namespace mm::cluster
