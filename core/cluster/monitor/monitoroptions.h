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
    // The replication canary (docs/monitoring.md, "The replication canary"): a probe file from
    // every node to every other, timed. 0: only on demand (ClusterMonitor::runCanary()).
    int canaryIntervalMs = 300000;
    int canaryTimeoutMs = 60000;     // for a probe to arrive everywhere, and again to be gone
    int canaryPollMs = 1000;         // the agents' canary-list, beside Syncthing's events
    int quarantinePollMs = 300000;   // the quarantine's size; it changes only with dedupe and friends
};

} // namespace mm::cluster
