#pragma once

#include "cluster/config/clusterconfig.h"

#include <QJsonObject>
#include <QStringList>

namespace mm::cluster {

// How the mail root is shared as one Syncthing folder (docs/maildir-dovecot-syncthing.md, "What
// replicates and what does not"). Ignores are per node and do not replicate, so every workflow
// that sets them (pair, join, migrate and revert on resuming) pushes this list to every node.
//
// Besides Dovecot's per-node files, it keeps out what lies inside this node's mail root but belongs
// to the node, not to the mail: Syncthing's own home when the mail user's home is the mail root
// (vmail's home is /var/vmail in the usual virtual-user setup, so syncthing@vmail keeps
// /var/vmail/.config/syncthing). Shared, it would copy one node's keys, API key and database over
// every other's. There is deliberately no variant without the node.
QStringList mailFolderIgnores(UidPolicy policy, const NodeConfig &node);

// The Syncthing folder object for the mail root of `node`, shared with `deviceIds` (all nodes).
QJsonObject mailFolderObject(const ClusterConfig &cluster, const NodeConfig &node, const QStringList &deviceIds);

} // namespace mm::cluster
