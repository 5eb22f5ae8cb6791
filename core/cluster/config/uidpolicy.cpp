#include "cluster/config/uidpolicy.h"

namespace mm::cluster {

QString uidPolicyName(UidPolicy policy)
{
    switch (policy) {
    case UidPolicy::Replicated:
        return QStringLiteral("replicated");
    case UidPolicy::PerNode:
        return QStringLiteral("per-node");
    }
    return {};
}

std::optional<UidPolicy> uidPolicyFromName(const QString &name)
{
    if (name == QLatin1String("replicated"))
        return UidPolicy::Replicated;
    if (name == QLatin1String("per-node"))
        return UidPolicy::PerNode;
    return std::nullopt;
}

} // namespace mm::cluster
