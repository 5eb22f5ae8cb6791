#pragma once

#include <QString>
#include <QStringList>

namespace mm::lab {

// How the admin logs in to a node: as root with a key, or as the sudo user `admin` on a node
// whose sshd refuses root (PermitRootLogin no). Mixed: odd nodes root, even nodes sudo.
enum class LoginVariant
{
    Root,
    Sudo,
    Mixed,
};

struct LabOptions
{
    int nodeCount = 3;
    // 12 (bookworm, Dovecot 2.3) or 13 (trixie, Dovecot 2.4).
    QString debianRelease = QStringLiteral("12");
    LoginVariant login = LoginVariant::Root;
    // Where the lab lives. Empty: a fresh mailmesh-lab-XXXXXX under /var/tmp, removed at
    // teardown. A given directory must be empty, new, or hold a lab that is down.
    QString dir;
    // The nodes outlive this process (`mailmeshctl lab up`); only Lab::tearDownDirectory
    // (`mailmeshctl lab down`) stops them. Otherwise they get SIGTERM when it exits.
    bool persistent = false;
    // Host directories every node sees read-only at the same path, e.g. a Dovecot prefix built
    // by installers/dovecot/build-prefix.sh for `deploy-dovecot --prefix`.
    QStringList readOnlyBinds;
    // Root file systems are cached here, keyed by what they are built from.
    QString cacheDir; // empty: $MAILMESH_CACHE, else /var/cache/mailmesh
    // Until every node's systemd says the boot is finished.
    int bootTimeoutMs = 180'000;
    // Keep a temporary dir after teardown (to read the nodes' consoles).
    bool keepDir = false;
};

} // namespace mm::lab
