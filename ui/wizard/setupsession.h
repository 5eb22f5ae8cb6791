#pragma once

#include "cluster/config/clusterconfig.h"
#include "cluster/monitor/monitoroptions.h"
#include "common/result.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>

class QNetworkAccessManager;

namespace mm::ui {

// What the setup wizard has learnt and done so far, shared by its pages: the draft cluster,
// where it is saved, and per node what already ran with which input, so that going back and
// forth does not repeat a step whose input did not change.
class SetupSession : public QObject
{
    Q_OBJECT

public:
    explicit SetupSession(QObject *parent = nullptr);

    cluster::ClusterConfig &cluster() { return m_cluster; }
    const cluster::ClusterConfig &cluster() const { return m_cluster; }
    QString clusterPath() const { return m_clusterPath; }
    void setClusterPath(const QString &path) { m_clusterPath = path; }
    cluster::MonitorOptions monitorOptions() const;

    // The nodes as the admin typed them. A node whose input did not change keeps what add-node
    // learnt about it; a changed one starts over (its pinned host key stays while its ssh
    // address is the same).
    QList<cluster::NodeConfig> nodeInputs() const { return m_inputs; }
    void setNodeInputs(const QList<cluster::NodeConfig> &inputs);

    // add-node succeeded for the node's current input.
    bool isConnected(const QString &id) const;
    void recordConnected(const cluster::NodeConfig &connected, const QJsonObject &probe);
    QJsonObject probe(const QString &id) const { return m_probes.value(id); }
    bool allConnected() const;

    bool isPaired() const;
    void recordPaired(const cluster::ClusterConfig &paired);

    enum class Migration
    {
        NotRun,
        Done,
        Later
    };
    Migration migration() const { return m_migration; }
    QString migrationVerdict() const { return m_migrationVerdict; }
    void recordMigration(Migration migration, const QString &verdict);

    // Saves the draft cluster file and remembers the last completed page for it.
    Status saveDraft(int completedPage);
    // Loads a draft and marks what its last completed page says was done.
    Status resume(const QString &path);

    // The wizard-progress marker: the last completed page of the draft at path, -1 when none.
    static int lastCompletedPage(const QString &path);
    static void forgetProgress(const QString &path);
    // The most recently saved unfinished draft, if its file still exists.
    static QString unfinishedDraft();

Q_SIGNALS:
    void changed();

private:
    cluster::ClusterConfig m_cluster;
    QString m_clusterPath;
    QNetworkAccessManager *m_network;
    QString m_agentBinary;
    QList<cluster::NodeConfig> m_inputs;
    QHash<QString, cluster::NodeConfig> m_connectedInputs; // id -> the input add-node succeeded with
    QHash<QString, QJsonObject> m_probes;
    QList<cluster::NodeConfig> m_pairedNodes;
    bool m_paired = false;
    Migration m_migration = Migration::NotRun;
    QString m_migrationVerdict;
};

} // namespace mm::ui
