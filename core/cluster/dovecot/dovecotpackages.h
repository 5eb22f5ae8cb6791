#pragma once

#include "cluster/dovecot/debianversion.h"
#include "common/result.h"

#include <QByteArray>
#include <QMap>
#include <QSet>
#include <QString>
#include <QStringList>

namespace mm::cluster {

// Which of the .deb files that installers/dovecot/build-debs.sh makes fit a node.
// build-debs names them as dpkg does, NAME_VERSION_ARCH.deb, VERSION being Debian's with
// "+mailmesh5" appended: dovecot-core_2.3.19.1+dfsg1-2.1+deb12u6+mailmesh5_amd64.deb.
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

// The Debian release a package version was built for: "12" for "...+deb12u6+mailmesh5";
// without a debNN tag, from the Dovecot line (2.3 ships in 12, 2.4 in 13). Empty: unknown.
QString debianReleaseOf(const QString &version);

// The package name a file of the selection carries: "dovecot-core" for dovecot-core_..._amd64.deb.
QString packageOf(const QString &fileName);

// The start of a .deb up to its control member (ar magic, debian-binary, control.tar.*): a few
// kB from which `dpkg-deb -f /dev/stdin` on the node reads the fields, so the node is asked
// about the real version (with its epoch, which file names leave out) without an upload.
Result<QByteArray> controlHead(const QString &debPath);

// The dovecot packages dpkg knows on a node, from
// `dpkg-query -W -f '${Package}\t${Version}\t${db:Status-Abbrev}\n' 'dovecot-*'`.
struct NodePackages
{
    QMap<QString, QString> installed; // package → version, only those installed (status "?i")
    QSet<QString> held;               // installed and on hold (status "hi")

    static NodePackages parse(const QByteArray &dpkgQueryOutput);
};
// The command that prints what NodePackages::parse reads; it succeeds when nothing matches.
QStringList queryInstalledCommand();

// What installing a selection on one node means.
struct InstallPlan
{
    QStringList files;    // the selection's files to install: dovecot-core, dovecot-imapd and every
                          // other dovecot-* package the node has (they depend on the exact core)
    QStringList packages; // their package names, in the same order
    DebianVersion version;
    bool unchanged = false;  // all of them installed at exactly this version and held
    bool downgrade = false;  // dovecot-core is installed at a newer Debian version
    QString downgradeFrom;   // that installed version
};

// Fails when the node has a dovecot-* package the selection lacks (apt would have to remove it).
Result<InstallPlan> planInstall(const QStringList &selectedFiles, const DebianVersion &version,
                                const NodePackages &node);

// Why a downgrade is refused, for the admin: what it would lose.
QString downgradeRefusal(const InstallPlan &plan);

// apt-get install of the staged files (absolute paths in dir), keeping the node's conffiles.
QStringList installCommand(const QString &dir, const InstallPlan &plan, const NodePackages &before);
// apt-get back to the versions `before` had: older versions reinstalled (from the node's
// repositories), packages that were not there removed (conffiles kept). Empty: nothing to do.
QStringList restoreCommand(const NodePackages &before, const InstallPlan &plan);
// apt-mark lines that put the holds back as `before` had them.
QList<QStringList> restoreHoldCommands(const NodePackages &before, const InstallPlan &plan);
// What the admin runs by hand when the restore failed, e.g. because the old versions are no
// longer offered by the node's repositories.
QString manualRestoreAdvice(const NodePackages &before, const InstallPlan &plan);

} // namespace dovecotpackages

} // namespace mm::cluster
