#include "cluster/workflows/clusterworkflow.h"

#include "cluster/session/syncround.h"
#include "remote/agentcall.h"
#include "remote/agentclient.h"

#include <QJsonArray>

#include <memory>

namespace mm::cluster {

ClusterWorkflow::ClusterWorkflow(QString name, bool dryRun, ClusterConfig cluster, MonitorOptions monitorOptions,
                                 QObject *parent)
    : Workflow(std::move(name), dryRun, parent)
    , m_cluster(std::move(cluster))
    , m_monitorOptions(std::move(monitorOptions))
{
    QList<int> every;
    for (int i = 0; i < m_cluster.nodes.size(); ++i)
        every << i;
    selectNodes(every);
    m_pollTimer.setSingleShot(true);
}

void ClusterWorkflow::selectNodes(const QList<int> &clusterIndices)
{
    m_selected = clusterIndices;
    m_nodeDetails.assign(std::size_t(m_selected.size()), QJsonObject{});
    for (int i = 0; i < nodeCount(); ++i)
        m_nodeDetails[std::size_t(i)].insert(QStringLiteral("id"), node(i).id);
}

ClusterWorkflow::~ClusterWorkflow()
{
    ClusterWorkflow::cleanUp();
}

void ClusterWorkflow::cancelRunningWork()
{
    for (remote::AgentCall *call : std::as_const(m_runningCalls))
        call->cancel();
    if (m_pollTimer.isActive()) {
        m_pollTimer.stop();
        failStep(Error{ErrorCode::Cancelled, "cancelled while waiting for sync", {}},
                 tr("Run %1 again to continue.").arg(m_report.workflow));
    }
}

void ClusterWorkflow::cleanUp()
{
    m_pollTimer.stop();
    publishDetails();
    if (m_session) {
        m_session->close();
        m_session->deleteLater();
        m_session = nullptr;
    }
    for (std::vector<ClusterSession *> *sessions : {&m_nodeSessions, &m_leftOutSessions}) {
        for (ClusterSession *session : *sessions) {
            if (!session)
                continue;
            session->disconnect(this);
            session->close();
            session->deleteLater();
        }
        sessions->clear();
    }
}

void ClusterWorkflow::publishDetails()
{
    QJsonArray nodes;
    for (const QJsonObject &node : m_nodeDetails)
        nodes.append(node);
    m_report.details.insert(QStringLiteral("nodes"), nodes);
}

void ClusterWorkflow::connectNodes(ClusterSession::Parts parts, const QString &nextAction, ConnectJudge judge)
{
    if (nodeCount() == 0) {
        failStep(Error{ErrorCode::BadRequest, "the cluster has no nodes", {}},
                 tr("Add nodes with `mailmeshctl add-node` first."));
        return;
    }
    QList<NodeConfig> nodes;
    for (int i = 0; i < nodeCount(); ++i)
        nodes << node(i);
    m_session = new ClusterSession(nodes, m_monitorOptions, parts, this);
    connect(m_session, &ClusterSession::nodeOpened, this, [this](int index) {
        reportProgress({{}, node(index).id, 1, 1, -1, tr("connected")});
    });
    connect(m_session, &ClusterSession::ready, this, [this, parts, judge] {
        if (judge.ready) {
            if (const std::optional<QString> detail = judge.ready())
                completeStep(*detail);
            return;
        }
        completeStep(parts.testFlag(ClusterSession::Agent)
                         ? tr("%n node(s) reachable, agent running", nullptr, m_session->size())
                         : tr("%n node(s) reachable", nullptr, m_session->size()));
    });
    connect(m_session, &ClusterSession::failed, this,
            [this, nextAction, judge](const QString &, const Error &error) {
                if (isFinished())
                    return;
                if (judge.failed)
                    judge.failed(error);
                else
                    failStep(error, nextAction);
            });
    m_session->open();
}

void ClusterWorkflow::connectEachNode(ClusterSession::Parts parts,
                                      std::function<bool(int, const Error &)> mayLeaveOut,
                                      std::function<QString(int)> failAdvice)
{
    if (nodeCount() == 0) {
        failStep(Error{ErrorCode::BadRequest, "the cluster has no nodes", {}},
                 tr("Add nodes with `mailmeshctl add-node` first."));
        return;
    }
    m_nodeSessions.assign(std::size_t(nodeCount()), nullptr);
    auto left = std::make_shared<int>(nodeCount());
    auto reached = std::make_shared<int>(0);
    const auto settle = [this, left, reached] {
        if (--*left > 0 || isFinished())
            return;
        completeStep(tr("%n node(s) reachable", nullptr, *reached));
    };
    for (int i = 0; i < nodeCount(); ++i) {
        auto *session = new ClusterSession({node(i)}, m_monitorOptions, parts, this);
        m_nodeSessions[std::size_t(i)] = session;
        connect(session, &ClusterSession::ready, this, [this, i, reached, settle] {
            reportProgress({{}, node(i).id, 1, 1, -1, tr("connected")});
            ++*reached;
            settle();
        });
        connect(session, &ClusterSession::failed, this,
                [this, i, settle, mayLeaveOut, failAdvice](const QString &, const Error &error) {
                    if (isFinished())
                        return;
                    if (!mayLeaveOut(i, error)) {
                        failStep(error, failAdvice(i));
                        return;
                    }
                    // Closed later, with the others: this runs inside the session's own signal.
                    m_nodeSessions[std::size_t(i)]->disconnect(this);
                    m_leftOutSessions.push_back(std::exchange(m_nodeSessions[std::size_t(i)], nullptr));
                    settle();
                });
        session->open();
    }
}

bool ClusterWorkflow::isConnected(int index) const
{
    return sessionOf(index).first != nullptr;
}

std::pair<ClusterSession *, int> ClusterWorkflow::sessionOf(int index) const
{
    if (m_session)
        return {m_session, index};
    if (std::size_t(index) < m_nodeSessions.size())
        return {m_nodeSessions[std::size_t(index)], 0};
    return {nullptr, 0};
}

remote::SshSession *ClusterWorkflow::ssh(int index) const
{
    const auto [session, at] = sessionOf(index);
    return session->ssh(at);
}

void ClusterWorkflow::forEachNode(const NodeTask &perNode, std::function<void()> allDone, const QString &nextAction)
{
    auto left = std::make_shared<int>(nodeCount());
    auto failed = std::make_shared<bool>(false);
    for (int i = 0; i < nodeCount(); ++i) {
        perNode(i, [this, i, left, failed, allDone, nextAction](const Status &outcome) {
            if (*failed || isFinished())
                return;
            if (!outcome) {
                *failed = true;
                failStep(onNode(node(i).id, outcome.error()), nextAction);
                return;
            }
            if (--*left == 0)
                allDone();
        });
    }
}

void ClusterWorkflow::forEachNodeSettled(const QList<int> &indices, const NodeTask &perNode,
                                         std::function<void(const std::optional<Error> &)> settled)
{
    if (indices.isEmpty()) {
        settled(std::nullopt);
        return;
    }
    auto left = std::make_shared<int>(int(indices.size()));
    auto firstError = std::make_shared<std::optional<Error>>();
    for (int index : indices) {
        perNode(index, [this, index, left, firstError, settled](const Status &outcome) {
            if (isFinished())
                return;
            if (!outcome && !*firstError)
                *firstError = onNode(node(index).id, outcome.error());
            if (--*left > 0)
                return;
            QTimer::singleShot(0, this, [this, firstError, settled] {
                if (!isFinished())
                    settled(*firstError);
            });
        });
    }
}

void ClusterWorkflow::forEachNodeInTurn(const QList<int> &indices, const NodeTask &perNode, std::function<void()> allDone,
                                        std::function<void(const Error &)> failed)
{
    auto next = std::make_shared<std::function<void(qsizetype)>>();
    *next = [this, indices, perNode, allDone, failed, next](qsizetype at) {
        if (at == indices.size()) {
            // Not `*next = nullptr` here: that would destroy the function running now.
            QTimer::singleShot(0, this, [next] { *next = nullptr; });
            allDone();
            return;
        }
        const int index = indices[at];
        perNode(index, [this, index, at, next, failed](const Status &outcome) {
            if (isFinished())
                return;
            if (!outcome) {
                *next = nullptr;
                failed(onNode(node(index).id, outcome.error()));
                return;
            }
            (*next)(at + 1);
        });
    };
    (*next)(0);
}

remote::AgentCall *ClusterWorkflow::callAgent(int index, const QString &command, const QJsonObject &params)
{
    const auto [session, at] = sessionOf(index);
    remote::AgentCall *call = session->agent(at)->call(command, params);
    m_runningCalls.append(call);
    connect(call, &QObject::destroyed, this, [this, call] { m_runningCalls.removeAll(call); });
    return call;
}

QJsonObject ClusterWorkflow::mailParams(int index, bool dryRun) const
{
    const NodeConfig &config = node(index);
    QJsonObject params{{QStringLiteral("root"), config.mailRoot}};
    if (dryRun)
        params.insert(QStringLiteral("dryRun"), true);
    if (!config.stateDir.isEmpty())
        params.insert(QStringLiteral("stateDir"), config.stateDir);
    return params;
}

void ClusterWorkflow::waitUntilInSync(int timeoutMs, int pollMs, std::function<void()> inSync,
                                      std::function<void(const QStringList &)> timedOut)
{
    m_waiting.start();
    auto round = std::make_shared<std::function<void()>>();
    *round = [this, timeoutMs, pollMs, inSync, timedOut, round] {
        std::vector<remote::SyncthingClient *> clients;
        for (int i = 0; i < m_session->size(); ++i)
            clients.push_back(m_session->syncthing(i));
        QList<NodeConfig> nodes;
        for (int i = 0; i < nodeCount(); ++i)
            nodes << node(i);
        checkClusterInSync(nodes, clients, m_cluster.folderId, this,
                           [this, timeoutMs, pollMs, inSync, timedOut, round](const QStringList &lagging) {
                               if (isFinished())
                                   return;
                               if (lagging.isEmpty()) {
                                   inSync();
                                   return;
                               }
                               if (m_waiting.elapsed() > timeoutMs) {
                                   timedOut(lagging);
                                   return;
                               }
                               reportProgress({{}, {}, 0, 0, -1, tr("waiting: %1").arg(lagging.join(QStringLiteral(", ")))});
                               m_pollTimer.disconnect();
                               connect(&m_pollTimer, &QTimer::timeout, this, [round] { (*round)(); });
                               m_pollTimer.start(pollMs);
                           });
    };
    (*round)();
}

} // namespace mm::cluster
