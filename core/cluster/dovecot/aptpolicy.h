#pragma once

#include "cluster/dovecot/debianversion.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace mm::cluster {

// What `LC_ALL=C apt-cache policy PACKAGE` says about one package: the installed version, apt's
// candidate and the version table with where each version comes from. Read from the node's
// package lists as of its last `apt-get update`; Mailmesh never refreshes them itself.
struct AptPolicy
{
    struct Entry
    {
        QString version;
        QStringList sources; // "http://deb.debian.org/debian-security bookworm-security/main amd64 Packages",
                             // "/var/lib/dpkg/status"
        bool installed = false;

        // Offered by a repository, not just known from dpkg's own database.
        bool fromRepository() const;
    };

    QString package;
    QString installed; // empty: not installed ("(none)")
    QString candidate; // empty: nothing apt could install
    QList<Entry> versions;

    // nullopt when the text is not apt-cache policy output for one package.
    static std::optional<AptPolicy> parse(const QByteArray &output);

    // The newest version any repository offers (Debian order), nullopt when none does.
    std::optional<DebianVersion> newestOffered() const;
};

// A newer Debian build than the one Mailmesh's cur/-only packages were made from: compares the
// repository's newest version with `held` stripped of its +mailmesh suffix. nullopt: none.
std::optional<DebianVersion> newerDistributionVersion(const AptPolicy &policy, const DebianVersion &held);

} // namespace mm::cluster
