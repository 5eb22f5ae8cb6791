#pragma once

#include <QString>

#include <optional>

namespace mm::cluster {

// Whether dovecot-uidlist replicates between nodes (docs/architecture.md, "UIDs across nodes").
enum class UidPolicy {
    Replicated, // one UID space for the cluster; clients may move between nodes
    PerNode,    // Syncthing ignores dovecot-uidlist; each client must stay on one node
};

QString uidPolicyName(UidPolicy policy);
std::optional<UidPolicy> uidPolicyFromName(const QString &name);

} // namespace mm::cluster
