#include "cluster/workflows/quarantineworkflow.h"

#include "cluster/session/remotecalls.h"

#include <QJsonArray>

#include <memory>

namespace mm::cluster {

QuarantineWorkflow::QuarantineWorkflow(ClusterConfig cluster, Options options, MonitorOptions monitorOptions,
                                       QObject *parent)
    : ClusterWorkflow(QStringLiteral("quarantine"), options.dryRun, std::move(cluster), std::move(monitorOptions), parent)
    , m_options(std::move(options))
{
    addStep(QStringLiteral("connect"), tr("Connect to every node"), [this] {
        connectNodes(ClusterSession::Agent, tr("Nothing was changed. Check that the node is up, then run this command again."));
    });
    const QString title = m_options.action == Action::List      ? tr("List every node's quarantine")
                          : m_options.action == Action::Restore ? tr("Restore quarantined files")
                                                                : tr("Purge old quarantine entries");
    addStep(QStringLiteral("run"), title, [this] { run(); });
}

QuarantineWorkflow::~QuarantineWorkflow() = default;

void QuarantineWorkflow::run()
{
    if (m_options.action == Action::Restore && !m_cluster.node(m_options.node)) {
        failStep(Error{ErrorCode::NotFound, tr("no node \"%1\" in the cluster").arg(m_options.node).toStdString(), {}},
                 tr("Name the node that holds the files (`mailmeshctl quarantine list` shows it)."));
        return;
    }
    auto totals = std::make_shared<qint64>(0);
    forEachNode(
        [this, totals](int index, std::function<void(const Status &)> done) {
            QJsonObject params = mailParams(index, m_options.dryRun);
            QString command;
            switch (m_options.action) {
            case Action::List:
                command = QStringLiteral("quarantine-list");
                params.remove(QStringLiteral("dryRun"));
                break;
            case Action::Restore:
                if (m_cluster.nodes[index].id != m_options.node) {
                    done({});
                    return;
                }
                command = QStringLiteral("restore");
                if (m_options.all)
                    params.insert(QStringLiteral("all"), true);
                else
                    params.insert(QStringLiteral("ids"), QJsonArray::fromStringList(m_options.ids));
                break;
            case Action::Purge:
                command = QStringLiteral("quarantine-purge");
                params.insert(QStringLiteral("olderThan"), m_options.olderThanDays);
                break;
            }
            whenAgentFinished(callAgent(index, command, params), this,
                              [this, index, totals, done](const Result<QJsonObject> &result) {
                                  if (!result) {
                                      done(fail(result.error()));
                                      return;
                                  }
                                  nodeDetails(index).insert(QStringLiteral("result"), *result);
                                  if (!result->value(QStringLiteral("problems")).toArray().isEmpty())
                                      m_report.skippedItems = true;
                                  switch (m_options.action) {
                                  case Action::List:
                                      *totals += result->value(QStringLiteral("count")).toInteger();
                                      break;
                                  case Action::Restore:
                                      *totals += result->value(QStringLiteral("items")).toArray().size();
                                      break;
                                  case Action::Purge:
                                      *totals += result->value(QStringLiteral("purged")).toArray().size();
                                      break;
                                  }
                                  done({});
                              });
        },
        [this, totals] {
            switch (m_options.action) {
            case Action::List:
                completeStep(tr("%n entr(ies) across the cluster", nullptr, int(*totals)));
                break;
            case Action::Restore:
                completeStep(tr("%1 %2 on %3")
                                 .arg(tr("%n file(s)", nullptr, int(*totals)),
                                      m_options.dryRun ? tr("would be restored") : tr("restored"), m_options.node));
                break;
            case Action::Purge:
                completeStep(tr("%n entr(ies) %1", nullptr, int(*totals))
                                 .arg(m_options.dryRun ? tr("would be purged") : tr("purged")));
                break;
            }
        },
        tr("See the node's journal in its state dir; run the command again once the cause is fixed."));
}

} // namespace mm::cluster
