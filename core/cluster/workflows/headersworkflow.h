#pragma once

#include "cluster/workflows/clusterworkflow.h"

namespace mm::cluster {

// One message's header, read on the node by the agent, for previews (a duplicate's copies, a
// quarantined file): only results cross the wire, and only the header is read.
class HeadersWorkflow : public ClusterWorkflow
{
    Q_OBJECT

public:
    // path: relative to the node's mail root.
    HeadersWorkflow(ClusterConfig cluster, const QString &nodeId, QString path, MonitorOptions monitorOptions,
                    QObject *parent = nullptr);
    ~HeadersWorkflow() override;

private:
    QString m_path;
};

} // namespace mm::cluster
