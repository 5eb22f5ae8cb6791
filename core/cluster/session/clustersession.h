#pragma once

#include "cluster/config/clusterconfig.h"
#include "cluster/monitor/monitoroptions.h"
#include "common/result.h"

#include <QObject>

#include <vector>

namespace mm::remote {
class AgentClient;
class SshSession;
class SyncthingClient;
} // namespace mm::remote

namespace mm::cluster {

class NodeConnection;

// Every node of a cluster opened for a workflow: SSH with the pinned host key, Syncthing's
// REST API through a tunnel, and the agent deployed and started. ready() once every node is
// open; failed() for the first node that could not be opened (the others are closed).
class ClusterSession : public QObject
{
    Q_OBJECT

public:
    enum Part
    {
        Ssh = 0x0,
        Syncthing = 0x1,
        Agent = 0x2,
    };
    Q_DECLARE_FLAGS(Parts, Part)

    ClusterSession(QList<NodeConfig> nodes, MonitorOptions options, Parts parts, QObject *parent = nullptr);
    ~ClusterSession() override;

    void open();
    void close();

    int size() const { return static_cast<int>(m_nodes.size()); }
    const NodeConfig &node(int index) const { return m_nodes[index]; }
    NodeConnection *connection(int index) const { return m_entries[std::size_t(index)].connection; }
    remote::SshSession *ssh(int index) const;
    remote::SyncthingClient *syncthing(int index) const;
    remote::AgentClient *agent(int index) const { return m_entries[std::size_t(index)].agent; }
    // The user node-side work runs as: the mail user unless it is the login user.
    QString runAs(int index) const;

Q_SIGNALS:
    void nodeOpened(int index);
    void ready();
    void failed(const QString &nodeId, const mm::Error &error);

private:
    struct Entry
    {
        NodeConnection *connection = nullptr;
        remote::AgentClient *agent = nullptr;
        bool syncthingReady = false;
        bool agentReady = false;
        bool opened = false;
    };

    void startAgent(int index);
    void checkOpened(int index);
    void fail(int index, const Error &error);

    QList<NodeConfig> m_nodes;
    MonitorOptions m_options;
    Parts m_parts;
    std::vector<Entry> m_entries;
    int m_opened = 0;
    bool m_failed = false;
};

Q_DECLARE_OPERATORS_FOR_FLAGS(ClusterSession::Parts)

} // namespace mm::cluster
