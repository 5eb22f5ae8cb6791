#pragma once

#include "cluster/workflows/clusterworkflow.h"

#include <QByteArray>

#include <optional>

namespace mm::cluster {

// `rekey ID`: replaces a node's pinned SSH host key after the node was reinstalled, never
// silently.
//
//   validate → look (connect with the pinned key; learn the key the node offers)
//   [without a confirmed key this is a dry run: it stops here and the report carries both
//   fingerprints] → pin (the confirmed key must still be the one the node offers; connect with
//   it as the new pin)
//
// The admin confirms by passing the offered fingerprint back (acceptHostKey) after comparing it
// on the node itself. A node that offers yet another key by then is refused, and so is a
// confirmation for a node that still offers its pinned key. details: pinnedHostKey,
// offeredHostKey, offeredKeyType, keyChanged. cluster() carries the new pin once it succeeded.
class RekeyNodeWorkflow : public ClusterWorkflow
{
    Q_OBJECT

public:
    RekeyNodeWorkflow(ClusterConfig cluster, QString nodeId, QString acceptHostKey, MonitorOptions monitorOptions,
                      QObject *parent = nullptr);
    ~RekeyNodeWorkflow() override;

    // What to run on the node, at its console, to read its key: compare before confirming.
    static QString compareCommand();

protected:
    void cleanUp() override;

private:
    void validate();
    void look();
    void pin();
    void closeProbe();

    QString m_nodeId;
    QString m_acceptHostKey;
    QString m_pinned;
    QString m_offered;
    std::optional<QByteArray> m_knownHostsBefore; // Mailmesh's known_hosts before the swap
    ClusterSession *m_probe = nullptr;
};

} // namespace mm::cluster
