#include "cluster/session/nodeconnection.h"

#include "remote/sshsession.h"
#include "remote/syncthingclient.h"
#include "remote/syncthingtunnel.h"

#include <QTimer>

namespace mm::cluster {

NodeConnection::NodeConnection(NodeConfig node, const MonitorOptions &options, QObject *parent)
    : QObject(parent)
    , m_node(std::move(node))
    , m_options(options)
{
}

NodeConnection::~NodeConnection()
{
    close();
}

void NodeConnection::open()
{
    close();
    const auto address = remote::SshAddress::parse(m_node.ssh);
    if (!address) {
        QTimer::singleShot(0, this, [this, error = address.error()] { Q_EMIT failed(error); });
        return;
    }
    remote::SshOptions options = m_options.ssh;
    options.extraOptions += m_node.sshOptions;
    // Whatever known_hosts file vouches for the node, the key it offers must be the pinned one.
    options.pinnedHostKey = m_node.hostKey;
    m_session = new remote::SshSession(*address, options, this);
    connect(m_session, &remote::SshSession::connected, this, [this] {
        Q_EMIT sshConnected();
        openTunnel();
    });
    connect(m_session, &remote::SshSession::connectFailed, this, &NodeConnection::onConnectFailed);
    connect(m_session, &remote::SshSession::disconnected, this, &NodeConnection::disconnected);
    m_session->connectToHost();
}

void NodeConnection::close()
{
    delete m_tunnel;
    delete m_syncthing;
    m_tunnel = nullptr;
    m_syncthing = nullptr;
    if (m_session) {
        m_session->disconnectFromHost();
        m_session->deleteLater();
        m_session = nullptr;
    }
}

QString NodeConnection::runAs() const
{
    if (!m_session || m_node.mailUser.isEmpty() || m_node.mailUser == m_session->loginUser())
        return {};
    return m_node.mailUser;
}

void NodeConnection::onConnectFailed(const Error &error)
{
    const auto &offered = m_session->offeredHostKey();
    if (error.code == ErrorCode::UnknownHostKey && offered && !m_retriedWithPinnedKey && !m_node.hostKey.isEmpty()
        && offered->fingerprint() == m_node.hostKey && m_session->acceptHostKey(*offered)) {
        // The cluster file pins exactly this key: record it for ssh and connect again.
        m_retriedWithPinnedKey = true;
        QTimer::singleShot(0, this, &NodeConnection::open);
        return;
    }
    Q_EMIT failed(error);
}

void NodeConnection::openTunnel()
{
    m_syncthing = new remote::SyncthingClient(m_options.network, this);
    m_tunnel = new remote::SyncthingTunnel(m_session, m_syncthing, m_node.syncthing.home, runAs(), this);
    connect(m_tunnel, &remote::SyncthingTunnel::opened, this, &NodeConnection::syncthingReady);
    connect(m_tunnel, &remote::SyncthingTunnel::failed, this, &NodeConnection::syncthingFailed);
    m_tunnel->open();
}

} // namespace mm::cluster
