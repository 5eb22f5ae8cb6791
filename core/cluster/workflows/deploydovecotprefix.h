#pragma once

#include "cluster/workflows/deploydovecotstrategy.h"

namespace mm::cluster {

// deploy-dovecot --prefix DIR: a patched build (installers/dovecot/build-prefix.sh) already
// installed in DIR on every node. Nothing is installed; the restart starts DIR/sbin/dovecot,
// and a rollback starts the node's previous build again.
class DeployDovecotPrefix final : public DovecotInstallStrategy
{
public:
    using DovecotInstallStrategy::DovecotInstallStrategy;

    std::optional<Error> checkOptions() const override;
    QString targetPrefix() const override { return options().prefix; }
    QString restartPrefix() const override { return options().prefix; }
    QJsonObject describeTarget() const override;
    bool alwaysAsRoot() const override { return false; }
    void detectTarget(int position, Done done) override;
    bool runsTheTarget(int position) const override;
    Updates checkUpdates() const override;

private:
    // Whether the node's commands run as root: when the login user may not write conf.d.
    void decideRoot(int position, std::function<void()> next);
};

} // namespace mm::cluster
