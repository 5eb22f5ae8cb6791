#include "cluster/workflows/headersworkflow.h"

#include "cluster/session/remotecalls.h"

namespace mm::cluster {

namespace {

// The workflow needs only the node that holds the message.
ClusterConfig onlyNode(ClusterConfig cluster, const QString &nodeId)
{
    QList<NodeConfig> kept;
    for (const NodeConfig &node : cluster.nodes)
        if (node.id == nodeId)
            kept << node;
    cluster.nodes = kept;
    return cluster;
}

} // namespace

HeadersWorkflow::HeadersWorkflow(ClusterConfig cluster, const QString &nodeId, QString path,
                                 MonitorOptions monitorOptions, QObject *parent)
    : ClusterWorkflow(QStringLiteral("headers"), false, onlyNode(std::move(cluster), nodeId), std::move(monitorOptions),
                      parent)
    , m_path(std::move(path))
{
    addStep(QStringLiteral("connect"), tr("Connect to the node"), [this] {
        connectNodes(ClusterSession::Agent, tr("Check that the node is up, then try again."));
    });
    addStep(QStringLiteral("headers"), tr("Read the message's header"), [this] {
        QJsonObject params{{QStringLiteral("root"), m_cluster.nodes.first().mailRoot}, {QStringLiteral("path"), m_path}};
        whenAgentFinished(callAgent(0, QStringLiteral("headers"), params), this, [this](const Result<QJsonObject> &headers) {
            if (!headers) {
                failStep(onNode(m_cluster.nodes.first().id, headers.error()),
                         tr("The file may have moved since the list was made: scan again."));
                return;
            }
            m_report.details.insert(QStringLiteral("headers"), *headers);
            completeStep();
        });
    });
}

HeadersWorkflow::~HeadersWorkflow() = default;

} // namespace mm::cluster
