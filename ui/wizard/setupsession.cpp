#include "ui/wizard/setupsession.h"

#include "cluster/session/agentlocator.h"
#include "ui/wizard/setupwizard.h"

#include <QCryptographicHash>
#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QSettings>

namespace mm::ui {

namespace {

const QString kLastDraftKey = QStringLiteral("setupWizard/lastDraft");

// One settings key per cluster file, whatever characters its path holds.
QString progressKey(const QString &path)
{
    const QByteArray hash = QCryptographicHash::hash(QFileInfo(path).absoluteFilePath().toUtf8(),
                                                     QCryptographicHash::Sha256);
    return QStringLiteral("setupWizard/progress/") + QString::fromLatin1(hash.toHex().left(16));
}

} // namespace

SetupSession::SetupSession(QObject *parent)
    : QObject(parent)
    , m_clusterPath(cluster::ClusterConfig::defaultPath())
    , m_network(new QNetworkAccessManager(this))
    , m_agentBinary(cluster::locateAgentBinary())
{
}

cluster::MonitorOptions SetupSession::monitorOptions() const
{
    cluster::MonitorOptions options;
    options.agentBinary = m_agentBinary;
    options.network = m_network;
    return options;
}

void SetupSession::setNodeInputs(const QList<cluster::NodeConfig> &inputs)
{
    const cluster::ClusterConfig before = m_cluster;
    m_inputs = inputs;
    m_cluster.nodes.clear();
    for (const cluster::NodeConfig &input : inputs) {
        const cluster::NodeConfig *previous = before.node(input.id);
        if (previous && isConnected(input.id)) {
            m_cluster.nodes << *previous;
            continue;
        }
        cluster::NodeConfig node = input;
        if (previous && previous->ssh == input.ssh && node.hostKey.isEmpty())
            node.hostKey = previous->hostKey;
        m_cluster.nodes << node;
    }
    Q_EMIT changed();
}

bool SetupSession::isConnected(const QString &id) const
{
    const auto connected = m_connectedInputs.constFind(id);
    if (connected == m_connectedInputs.cend())
        return false;
    for (const cluster::NodeConfig &input : m_inputs)
        if (input.id == id)
            return input == *connected;
    return false;
}

void SetupSession::recordConnected(const cluster::NodeConfig &connected, const QJsonObject &probe)
{
    for (const cluster::NodeConfig &input : std::as_const(m_inputs))
        if (input.id == connected.id)
            m_connectedInputs.insert(connected.id, input);
    if (!probe.isEmpty())
        m_probes.insert(connected.id, probe);
    if (cluster::NodeConfig *node = m_cluster.node(connected.id))
        *node = connected;
    Q_EMIT changed();
}

bool SetupSession::allConnected() const
{
    if (m_inputs.isEmpty())
        return false;
    for (const cluster::NodeConfig &input : m_inputs)
        if (!isConnected(input.id))
            return false;
    return true;
}

bool SetupSession::isPaired() const
{
    if (!m_paired || m_pairedNodes.size() != m_cluster.nodes.size())
        return false;
    // Pairing depends on who is in the cluster and how their Syncthing is reached.
    for (int i = 0; i < m_cluster.nodes.size(); ++i) {
        const cluster::NodeConfig &now = m_cluster.nodes[i];
        const cluster::NodeConfig &then = m_pairedNodes[i];
        if (now.id != then.id || now.ssh != then.ssh || now.mailRoot != then.mailRoot || now.syncthing != then.syncthing)
            return false;
    }
    return true;
}

void SetupSession::recordPaired(const cluster::ClusterConfig &paired)
{
    for (const cluster::NodeConfig &node : paired.nodes)
        if (cluster::NodeConfig *mine = m_cluster.node(node.id))
            mine->syncthing.deviceId = node.syncthing.deviceId;
    m_pairedNodes = m_cluster.nodes;
    m_paired = true;
    Q_EMIT changed();
}

void SetupSession::recordMigration(Migration migration, const QString &verdict)
{
    m_migration = migration;
    m_migrationVerdict = verdict;
    Q_EMIT changed();
}

Status SetupSession::saveDraft(int completedPage)
{
    if (Status saved = m_cluster.save(m_clusterPath); !saved)
        return saved;
    QSettings settings;
    settings.setValue(progressKey(m_clusterPath), completedPage);
    settings.setValue(kLastDraftKey, QFileInfo(m_clusterPath).absoluteFilePath());
    return {};
}

Status SetupSession::resume(const QString &path)
{
    auto loaded = cluster::ClusterConfig::load(path);
    if (!loaded)
        return tl::unexpected(loaded.error());
    m_cluster = std::move(*loaded);
    m_clusterPath = path;
    m_inputs = m_cluster.nodes;
    const int completed = lastCompletedPage(path);
    if (completed >= SetupWizard::ConnectPage)
        for (const cluster::NodeConfig &node : std::as_const(m_cluster.nodes))
            m_connectedInputs.insert(node.id, node);
    if (completed >= SetupWizard::PairingPage) {
        m_pairedNodes = m_cluster.nodes;
        m_paired = true;
    }
    if (completed >= SetupWizard::MigrationPage) {
        // A migrated cluster has the cur/-only setting on everywhere; otherwise it was put off.
        const bool migrated = std::all_of(m_cluster.nodes.cbegin(), m_cluster.nodes.cend(),
                                          [](const cluster::NodeConfig &node) { return node.dovecot.curOnlyEnabled; });
        m_migration = migrated ? Migration::Done : Migration::Later;
        m_migrationVerdict = migrated ? tr("every node was migrated") : QString();
    }
    Q_EMIT changed();
    return {};
}

int SetupSession::lastCompletedPage(const QString &path)
{
    return QSettings().value(progressKey(path), -1).toInt();
}

void SetupSession::forgetProgress(const QString &path)
{
    QSettings settings;
    settings.remove(progressKey(path));
    if (settings.value(kLastDraftKey).toString() == QFileInfo(path).absoluteFilePath())
        settings.remove(kLastDraftKey);
}

QString SetupSession::unfinishedDraft()
{
    const QString path = QSettings().value(kLastDraftKey).toString();
    if (path.isEmpty() || !QFileInfo::exists(path) || lastCompletedPage(path) < 0)
        return {};
    return path;
}

} // namespace mm::ui
