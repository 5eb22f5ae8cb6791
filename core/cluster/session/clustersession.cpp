#include "cluster/session/clustersession.h"

#include "cluster/session/nodeconnection.h"
#include "cluster/workflows/workflow.h"
#include "remote/agentclient.h"
#include "remote/sshsession.h"

namespace mm::cluster {

ClusterSession::ClusterSession(QList<NodeConfig> nodes, MonitorOptions options, Parts parts, QObject *parent)
    : QObject(parent)
    , m_nodes(std::move(nodes))
    , m_options(std::move(options))
    , m_parts(parts)
{
}

ClusterSession::~ClusterSession()
{
    close();
}

void ClusterSession::open()
{
    close();
    m_failed = false;
    m_opened = 0;
    m_entries.resize(std::size_t(m_nodes.size()));
    if (m_nodes.isEmpty()) {
        QMetaObject::invokeMethod(this, &ClusterSession::ready, Qt::QueuedConnection);
        return;
    }
    for (int i = 0; i < m_nodes.size(); ++i) {
        auto *connection = new NodeConnection(m_nodes[i], m_options, this);
        m_entries[std::size_t(i)].connection = connection;
        connect(connection, &NodeConnection::sshConnected, this, [this, i] {
            if (m_parts & Agent)
                startAgent(i);
            checkOpened(i);
        });
        connect(connection, &NodeConnection::syncthingReady, this, [this, i] {
            m_entries[std::size_t(i)].syncthingReady = true;
            checkOpened(i);
        });
        connect(connection, &NodeConnection::failed, this, [this, i](const Error &error) { fail(i, error); });
        connect(connection, &NodeConnection::syncthingFailed, this, [this, i](const Error &error) {
            if (m_parts & Syncthing)
                fail(i, error);
        });
        connect(connection, &NodeConnection::disconnected, this, [this, i](const Error &reason) { fail(i, reason); });
        connection->open();
    }
}

void ClusterSession::close()
{
    // An agent's destructor still uses its ssh session: agents go first.
    for (Entry &entry : m_entries) {
        delete entry.agent;
        entry.agent = nullptr;
    }
    for (Entry &entry : m_entries) {
        if (entry.connection) {
            entry.connection->disconnect(this);
            entry.connection->close();
            entry.connection->deleteLater();
        }
    }
    m_entries.clear();
}

remote::SshSession *ClusterSession::ssh(int index) const
{
    return connection(index)->session();
}

remote::SyncthingClient *ClusterSession::syncthing(int index) const
{
    return connection(index)->syncthing();
}

QString ClusterSession::runAs(int index) const
{
    return connection(index)->runAs();
}

void ClusterSession::startAgent(int index)
{
    Entry &entry = m_entries[std::size_t(index)];
    if (entry.agent)
        return;
    remote::AgentClient::Options options;
    options.agentBinary = m_options.agentBinary;
    options.runAs = entry.connection->runAs();
    options.forbiddenRoots = {m_nodes[index].mailRoot};
    entry.agent = new remote::AgentClient(entry.connection->session(), options, this);
    connect(entry.agent, &remote::AgentClient::ready, this, [this, index] {
        m_entries[std::size_t(index)].agentReady = true;
        checkOpened(index);
    });
    connect(entry.agent, &remote::AgentClient::failed, this, [this, index](const Error &error) { fail(index, error); });
    connect(entry.agent, &remote::AgentClient::disconnected, this,
            [this, index](const Error &reason) { fail(index, reason); });
    entry.agent->start();
}

void ClusterSession::checkOpened(int index)
{
    Entry &entry = m_entries[std::size_t(index)];
    if (m_failed || entry.opened)
        return;
    if ((m_parts & Syncthing) && !entry.syncthingReady)
        return;
    if ((m_parts & Agent) && !entry.agentReady)
        return;
    if (!entry.connection->session())
        return;
    entry.opened = true;
    Q_EMIT nodeOpened(index);
    if (++m_opened == size())
        Q_EMIT ready();
}

void ClusterSession::fail(int index, const Error &error)
{
    if (m_failed)
        return;
    m_failed = true;
    Q_EMIT failed(m_nodes[index].id, onNode(m_nodes[index].id, error));
}

} // namespace mm::cluster
