#pragma once

#include "cluster/config/clusterconfig.h"
#include "cluster/monitor/monitoroptions.h"
#include "common/result.h"

#include <QObject>

namespace mm::remote {
class SshSession;
class SyncthingClient;
class SyncthingTunnel;
} // namespace mm::remote

namespace mm::cluster {

// The way into one node for every workflow: an SSH session whose host key must match the one
// pinned in the cluster file (compared with the key ssh really used, after every connect), then
// Syncthing's REST API through a tunnel. A pinned key that ssh does not know yet is recorded for
// ssh and the connect retried once; any other unknown or changed key fails naming both
// fingerprints.
class NodeConnection : public QObject
{
    Q_OBJECT

public:
    NodeConnection(NodeConfig node, const MonitorOptions &options, QObject *parent = nullptr);
    ~NodeConnection() override;

    // Connects SSH (sshConnected()), then opens the Syncthing tunnel (syncthingReady()).
    void open();
    void close();

    const NodeConfig &node() const { return m_node; }
    remote::SshSession *session() const { return m_session; }
    remote::SyncthingClient *syncthing() const { return m_syncthing; }
    // The user to run node-side commands as: the mail user unless that is the login user.
    QString runAs() const;

Q_SIGNALS:
    void sshConnected();
    void syncthingReady();
    void failed(const mm::Error &error);
    void syncthingFailed(const mm::Error &error);
    void disconnected(const mm::Error &reason);

private:
    void onConnectFailed(const Error &error);
    void openTunnel();

    NodeConfig m_node;
    MonitorOptions m_options;
    remote::SshSession *m_session = nullptr;
    remote::SyncthingClient *m_syncthing = nullptr;
    remote::SyncthingTunnel *m_tunnel = nullptr;
    bool m_retriedWithPinnedKey = false;
};

} // namespace mm::cluster
