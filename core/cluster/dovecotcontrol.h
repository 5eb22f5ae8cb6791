#pragma once

#include "cluster/clusterconfig.h"

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
QByteArray curOnlySnippet(bool enabled);

// `doveconf [-c FILE] -h maildir_cur_only`: prints yes/no on the patched build.
QStringList readCurOnlySetting(const DovecotFacts &dovecot);
// The node's reload command, or `doveadm [-c FILE] reload`.
QList<QStringList> reload(const DovecotFacts &dovecot);
// Writes `content` (given on stdin) to path atomically: a reader never sees half a file.
QStringList writeFileAtomically(const QString &path);
// The dovecot binary the agent's probe should look at.
QString dovecotBinary(const DovecotFacts &dovecot);

} // namespace dovecotcontrol

} // namespace mm::cluster
