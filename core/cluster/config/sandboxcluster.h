#pragma once

#include "cluster/config/clusterconfig.h"
#include "common/result.h"

#include <QJsonObject>

namespace mm::cluster {

// The cluster file for a sandbox (what `mailmeshctl sandbox up` prints, Sandbox::description()):
// nodes addressed as ssh://user@127.0.0.1:port with the sandbox's identity and pinned host
// keys, so the file works without the sandbox's ssh_config. Used by `mailmesh --demo` and the
// integration tests.
Result<ClusterConfig> clusterFromSandboxDescription(const QJsonObject &description, const QString &name);

} // namespace mm::cluster
