#include "cluster/monitor/clustermonitor.h"

#include "cluster/monitor/canaryrun.h"
#include "cluster/monitor/crossnodecheck.h"
#include "cluster/monitor/nodemonitor.h"

#include <QMap>

namespace mm::cluster {

ClusterMonitor::ClusterMonitor(ClusterConfig cluster, MonitorOptions options, QObject *parent)
    : QObject(parent)
    , m_cluster(std::move(cluster))
    , m_options(options)
    , m_snapshot(std::make_shared<ClusterState>())
    , m_crossNodeCheck(new CrossNodeCheck(this))
{
    // The cross-node comparison runs as often as the inventory, and first as soon as every
    // reachable node has taken its first inventory.
    m_crossNodeTimer.setInterval(options.inventoryPollMs);
    connect(&m_crossNodeTimer, &QTimer::timeout, this, &ClusterMonitor::startCrossNodeCheck);
    connect(m_crossNodeCheck, &CrossNodeCheck::finished, this,
            [this](const QStringList &uidConflicts, const QStringList &keywordClashes) {
        m_uidConflicts = uidConflicts;
        m_keywordClashes = keywordClashes;
        const bool first = !m_crossNodeChecked;
        m_crossNodeChecked = true;
        rebuildSnapshot();
        // The dashboard's first canary run as soon as the nodes answered, then on schedule.
        if (first && m_options.canaryIntervalMs > 0 && m_canaryHistory.isEmpty())
            runCanary();
    });
    m_canaryTimer.setInterval(m_options.canaryIntervalMs);
    connect(&m_canaryTimer, &QTimer::timeout, this, &ClusterMonitor::runCanary);
    m_coalesce.setSingleShot(true);
    m_coalesce.setInterval(100);
    connect(&m_coalesce, &QTimer::timeout, this, &ClusterMonitor::rebuildSnapshot);
    for (const NodeConfig &node : m_cluster.nodes) {
        auto *monitor = new NodeMonitor(m_cluster, node, options, this);
        connect(monitor, &NodeMonitor::changed, &m_coalesce, qOverload<>(&QTimer::start));
        m_nodes.push_back(monitor);
    }
    rebuildSnapshot();
}

ClusterMonitor::~ClusterMonitor()
{
    stop();
}

void ClusterMonitor::start()
{
    for (NodeMonitor *node : m_nodes)
        node->start();
    m_crossNodeTimer.start();
    if (m_options.canaryIntervalMs > 0)
        m_canaryTimer.start();
}

bool ClusterMonitor::runCanary()
{
    if (canaryRunning())
        return false;
    delete m_canaryRun;
    CanaryOptions options;
    options.timeoutMs = m_options.canaryTimeoutMs;
    options.pollMs = m_options.canaryPollMs;
    m_canaryRun = new CanaryRun(m_nodes, options, ++m_canarySequence, this);
    connect(m_canaryRun, &CanaryRun::finished, this, [this](const CanaryReport &report) {
        m_lastCanary = report;
        m_canaryHistory.add(report);
        rebuildSnapshot();
        Q_EMIT canaryFinished(report);
    });
    m_canaryRun->start();
    return true;
}

bool ClusterMonitor::canaryRunning() const
{
    return m_canaryRun && m_canaryRun->isRunning();
}

void ClusterMonitor::startCrossNodeCheck()
{
    m_crossNodeCheck->run(m_nodes);
}

void ClusterMonitor::stop()
{
    m_crossNodeTimer.stop();
    m_canaryTimer.stop();
    // Before the node monitors it calls: a run cut short reports nothing (the next run sweeps
    // its probes).
    delete m_canaryRun;
    m_canaryRun = nullptr;
    for (NodeMonitor *node : m_nodes)
        node->stop();
}

void ClusterMonitor::rebuildSnapshot()
{
    QList<NodeContribution> contributions;
    contributions.reserve(m_nodes.size());
    for (const NodeMonitor *node : m_nodes)
        contributions << NodeContribution{node->state(),           node->peers(),
                                          node->folder(),          node->mailboxCounts(),
                                          node->duplicateGroups(), node->classicFolders()};
    std::shared_ptr<ClusterState> state = assembleClusterState(contributions);
    state->takenAt = QDateTime::currentDateTimeUtc();
    state->uidConflicts = static_cast<int>(m_uidConflicts.size());
    state->uidConflictDetails = m_uidConflicts;
    state->keywordClashes = static_cast<int>(m_keywordClashes.size());
    state->keywordClashDetails = m_keywordClashes;
    state->crossNodeChecked = m_crossNodeChecked;
    state->canary = m_canaryHistory.latencies(state->takenAt);
    state->canaryLastRunAt = m_lastCanary.finishedAt;
    state->canaryLeftBehind = m_lastCanary.leftBehind;
    if (!m_crossNodeChecked && !m_crossNodeCheck->isRunning()) {
        bool inventoried = true;
        for (const NodeState &node : state->nodes)
            if (node.reachability != Reachability::Unreachable && !node.inventoryTaken)
                inventoried = false;
        if (inventoried)
            QTimer::singleShot(0, this, &ClusterMonitor::startCrossNodeCheck);
    }
    m_snapshot = std::move(state);
    Q_EMIT snapshotChanged(m_snapshot);
}

} // namespace mm::cluster
