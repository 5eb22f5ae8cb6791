#pragma once

#include "cluster/clusterconfig.h"

#include <QJsonObject>
#include <QStringList>

namespace mm::cluster {

// How the mail root is shared as one Syncthing folder (FIELD-NOTES.md, "What must and must not
// replicate"). Ignores are per node and do not replicate, so pairing pushes them to every node.
QStringList mailFolderIgnores(UidPolicy policy);

// The Syncthing folder object for the mail root of `node`, shared with `deviceIds` (all nodes).
QJsonObject mailFolderObject(const ClusterConfig &cluster, const NodeConfig &node, const QStringList &deviceIds);

} // namespace mm::cluster
