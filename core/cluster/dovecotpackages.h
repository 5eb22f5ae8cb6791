#pragma once

#include "common/result.h"

#include <QString>
#include <QStringList>

namespace mm::cluster {

// Which of the .deb files that installers/dovecot/build-debs.sh makes fit a node.
// build-debs names them as dpkg does, NAME_VERSION_ARCH.deb, VERSION being Debian's with
// "+mailmesh1" appended: dovecot-core_2.3.19.1+dfsg1-2.1+deb12u6+mailmesh1_amd64.deb.
namespace dovecotpackages {

struct Selection
{
    QStringList files; // file names, sorted; dovecot-core among them
    QString version;   // the one Debian version they share
};

// fileNames: the names in the package directory (other files are ignored). osId/versionId as
// /etc/os-release says (the agent's probe: "debian", "12"); architecture as uname (x86_64).
// Fails with the reason when nothing, or more than one build, fits the node.
Result<Selection> select(const QStringList &fileNames, const QString &osId, const QString &versionId,
                         const QString &architecture);

// The Debian release a package version was built for: "12" for "...+deb12u6+mailmesh1";
// without a debNN tag, from the Dovecot line (2.3 ships in 12, 2.4 in 13). Empty: unknown.
QString debianReleaseOf(const QString &version);

} // namespace dovecotpackages

} // namespace mm::cluster
