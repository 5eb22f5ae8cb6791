#pragma once

#include "cluster/clusterconfig.h"
#include "cluster/monitoroptions.h"
#include "common/result.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <vector>

namespace mm::cluster {

class NodeConnection;

// `pair`: every node's Syncthing knows every other node (full mesh, explicit addresses, so
// discovery and relays may stay off), the mail root is shared as one folder with Mailmesh's
// options and ignores, and the workflow waits until every device is connected, every folder
// idle and every completion 100%. Every step is idempotent: adding a device or folder that is
// already there replaces it with the same content, so a rerun continues where one stopped.
class PairWorkflow : public QObject
{
    Q_OBJECT

public:
    PairWorkflow(ClusterConfig cluster, MonitorOptions options, QObject *parent = nullptr);
    ~PairWorkflow() override;

    void start();
    void cancel();

    // The cluster with every node's Syncthing device id filled in (valid after success).
    const ClusterConfig &cluster() const { return m_cluster; }

Q_SIGNALS:
    void progress(const QString &step, int done, int total);
    void succeeded();
    void failed(const mm::Error &error);

private:
    void onNodeReady(std::size_t index);
    void configureNode(std::size_t index);
    void checkInSync();
    void finish(const Status &outcome);
    void stepDone();
    void resumeDevices();

    ClusterConfig m_cluster;
    MonitorOptions m_options;
    std::vector<NodeConnection *> m_connections;
    int m_pending = 0;
    int m_configured = 0;
    QTimer m_syncCheck;
    QElapsedTimer m_waiting;
    bool m_finished = false;
};

} // namespace mm::cluster
