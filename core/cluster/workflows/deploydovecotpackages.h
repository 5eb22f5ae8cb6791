#pragma once

#include "cluster/dovecot/debianversion.h"
#include "cluster/workflows/deploydovecotstrategy.h"
#include "cluster/dovecot/dovecotpackages.h"

#include <QByteArray>
#include <QMap>

#include <optional>
#include <vector>

namespace mm::cluster {

// deploy-dovecot --packages DIR: the patched .debs (installers/dovecot/build-debs.sh) in DIR on
// this machine, installed and held on each node with its apt; the build then runs from /usr.
// Every command on the node runs as root. A rollback puts the node's previous packages back.
class DeployDovecotPackages final : public DovecotInstallStrategy
{
public:
    using DovecotInstallStrategy::DovecotInstallStrategy;

    // Packages install into /usr, like Debian's own.
    QString targetPrefix() const override { return QStringLiteral("/usr"); }
    QString restartPrefix() const override { return {}; }
    QJsonObject describeTarget() const override;
    bool alwaysAsRoot() const override { return true; }
    void detectTarget(int position, Done done) override;
    bool runsTheTarget(int position) const override;
    bool hasInstallStep() const override { return true; }
    bool needsInstall(int position) const override { return !packages(position).plan->unchanged; }
    void install(int position, Done done) override;
    bool installChanged(int position) const override { return packages(position).touched; }
    void rollBackInstall(int position, std::function<void(const Status &, const QString &note)> done) override;
    Updates checkUpdates() const override;

private:
    // What this strategy knows and did on one node.
    struct PackageState
    {
        dovecotpackages::NodePackages before;
        std::optional<dovecotpackages::InstallPlan> plan;
        std::optional<DebianVersion> newerDistributionVersion;
        QString stagingDir; // the private temp dir holding the uploaded .debs
        bool touched = false; // apt ran: roll the packages back on failure
    };
    PackageState &packages(int position);
    const PackageState &packages(int position) const;

    void planInstall(int position, const dovecotpackages::Selection &selection, const DebianVersion &version, Done done);
    void readDistributionVersion(int position, Done done);
    void stagePackages(int position, Done done);
    void checkInstalled(int position, Done done);
    void removeStagingDir(int position, Done done);
    void restorePackages(int position, Done done);

    std::vector<PackageState> m_nodes;
    // The start of each dovecot-core .deb up to its control fields, read once (what the nodes'
    // dpkg-deb reads the real version from), by file name.
    QMap<QString, QByteArray> m_controlHeads;
};

} // namespace mm::cluster
