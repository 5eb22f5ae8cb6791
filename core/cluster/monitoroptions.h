#pragma once

#include "remote/sshoptions.h"

#include <QString>

class QNetworkAccessManager;

namespace mm::cluster {

struct MonitorOptions
{
    QString agentBinary;             // the local mailmesh-agent to deploy on nodes
    remote::SshOptions ssh = remote::SshOptions::defaults();
    QNetworkAccessManager *network = nullptr; // shared by every node's Syncthing client
    int syncPollMs = 3000;           // Syncthing status and completion, besides its events
    int eventPollSeconds = 50;       // one long-poll on Syncthing's events lasts at most this
    int inventoryPollMs = 30000;     // agent scan and dupes: walks the mail root on the node
    int maxReconnectDelayMs = 60000; // backoff ceiling after a node went away
};

} // namespace mm::cluster
