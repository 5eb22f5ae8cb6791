#pragma once

#include "cluster/config/clusterconfig.h"

#include <QObject>
#include <QStringList>

#include <functional>
#include <vector>

namespace mm::remote {
class SyncthingClient;
} // namespace mm::remote

namespace mm::cluster {

// One round of "is the whole cluster in sync?": every node's folder idle with nothing needed,
// every node connected to every peer and seeing it at 100%. `done` gets what lags, in plain
// words ("node2 syncing", "node1→node3 97%"); an empty list means in sync. A paused folder
// counts as lagging: its completion cannot be known.
void checkClusterInSync(const QList<NodeConfig> &nodes, const std::vector<remote::SyncthingClient *> &clients,
                        const QString &folderId, QObject *context, std::function<void(const QStringList &lagging)> done);

} // namespace mm::cluster
