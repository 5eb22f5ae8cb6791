#include "cluster/workflows/duplicatesworkflow.h"

#include "cluster/session/remotecalls.h"
#include "maildir/manifestdiff.h"
#include "remote/agentcall.h"
#include "remote/syncthingclient.h"

#include <QJsonDocument>

#include <nlohmann/json.hpp>

#include <memory>

namespace mm::cluster {

namespace {

// The resolver: the first node in cluster order, so every run picks the same one.
constexpr int kResolver = 0;

QJsonObject toQt(const nlohmann::json &json)
{
    return QJsonDocument::fromJson(QByteArray::fromStdString(json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)))
        .object();
}

} // namespace

DuplicatesWorkflow::DuplicatesWorkflow(ClusterConfig cluster, Options options, MonitorOptions monitorOptions,
                                       QObject *parent)
    : ClusterWorkflow(options.mode == Mode::Report ? QStringLiteral("dupes") : QStringLiteral("dedupe"),
                      options.dryRun, std::move(cluster), std::move(monitorOptions), parent)
    , m_options(std::move(options))
{
    const bool resolving = m_options.mode == Mode::Resolve;
    addStep(QStringLiteral("connect"), tr("Connect to every node"), [this, resolving] {
        connectNodes(resolving ? ClusterSession::Syncthing | ClusterSession::Agent : ClusterSession::Parts(ClusterSession::Agent),
                     tr("Nothing was changed. Check that the node is up, then run this command again."));
    });
    if (resolving)
        addStep(QStringLiteral("preflight"), tr("Check that every node is in sync"), [this] { preflight(); });
    addStep(QStringLiteral("dupes"), tr("Find duplicates on every node"), [this] { findDuplicates(); });
    if (!resolving) {
        addStep(QStringLiteral("diff"), tr("Compare the nodes' manifests"), [this] { compareManifests(); });
        return;
    }
    addStep(QStringLiteral("choose"), tr("Choose the groups to settle"), [this] { chooseGroups(); });
    addStep(QStringLiteral("resolve"), tr("Settle them on one node"), [this] { resolve(); });
    if (m_options.dryRun)
        return;
    addStep(QStringLiteral("settle"), tr("Wait until every node is in sync"), [this] { settle(); });
    addStep(QStringLiteral("verify"), tr("Check that the groups are gone everywhere"), [this] { verify(); });
}

DuplicatesWorkflow::~DuplicatesWorkflow() = default;

QJsonArray DuplicatesWorkflow::groupsJson() const
{
    QJsonArray groups;
    for (auto it = m_groups.cbegin(); it != m_groups.cend(); ++it) {
        QJsonObject group = it->group;
        group.insert(QStringLiteral("presentOn"), QJsonArray::fromStringList(it->presentOn));
        QStringList missingOn;
        for (const NodeConfig &node : m_cluster.nodes)
            if (!it->presentOn.contains(node.id))
                missingOn << node.id;
        group.insert(QStringLiteral("missingOn"), QJsonArray::fromStringList(missingOn));
        groups.append(group);
    }
    return groups;
}

void DuplicatesWorkflow::preflight()
{
    waitUntilInSync(
        60'000, m_options.pollMs, [this] { completeStep(tr("every node connected, idle and at 100%")); },
        [this](const QStringList &lagging) {
            failStep(Error{ErrorCode::Conflict,
                           tr("the nodes are not in sync: %1").arg(lagging.join(QStringLiteral(", "))).toStdString(), {}},
                     tr("Nothing was changed. Duplicates are settled on a cluster in sync only; wait until Syncthing "
                        "catches up, then run dedupe again."));
        });
}

void DuplicatesWorkflow::findDuplicates()
{
    m_groups.clear();
    forEachNode(
        [this](int index, std::function<void(const Status &)> done) {
            remote::AgentCall *call = callAgent(index, QStringLiteral("dupes"), mailParams(index, false));
            connect(call, &remote::AgentCall::progress, this,
                    [this, index](qint64 doneCount, qint64 total, const QString &current, int eta) {
                        reportProgress({{}, m_cluster.nodes[index].id, doneCount, total, eta, current});
                    });
            whenAgentFinished(call, this, [this, index, done](const Result<QJsonObject> &report) {
                if (!report) {
                    done(fail(report.error()));
                    return;
                }
                const QJsonArray groups = report->value(QStringLiteral("groups")).toArray();
                for (const QJsonValue &value : groups) {
                    const QJsonObject group = value.toObject();
                    Group &entry = m_groups[group.value(QStringLiteral("id")).toString()];
                    if (entry.group.isEmpty())
                        entry.group = group;
                    entry.presentOn << m_cluster.nodes[index].id;
                }
                nodeDetails(index).insert(QStringLiteral("duplicateGroups"), groups.size());
                nodeDetails(index).insert(QStringLiteral("messages"), report->value(QStringLiteral("messages")));
                done({});
            });
        },
        [this] {
            for (Group &group : m_groups)
                group.presentOn.sort();
            m_report.details.insert(QStringLiteral("groups"), groupsJson());
            completeStep(tr("%n group(s) across the cluster", nullptr, int(m_groups.size())));
        },
        tr("Nothing was changed. Fix the cause on that node, then run this command again."));
}

void DuplicatesWorkflow::compareManifests()
{
    auto manifests = std::make_shared<std::vector<maildir::NodeManifest>>(std::size_t(m_cluster.nodes.size()));
    forEachNode(
        [this, manifests](int index, std::function<void(const Status &)> done) {
            auto lines = std::make_shared<QByteArray>();
            remote::AgentCall *call = callAgent(index, QStringLiteral("manifest"), mailParams(index, false));
            connect(call, &remote::AgentCall::item, this, [lines](const QJsonObject &item) {
                *lines += QJsonDocument(item).toJson(QJsonDocument::Compact) + '\n';
            });
            whenAgentFinished(call, this, [this, index, manifests, lines, done](const Result<QJsonObject> &summary) {
                if (!summary) {
                    done(fail(summary.error()));
                    return;
                }
                Result<maildir::NodeManifest> parsed =
                    maildir::NodeManifest::parse(lines->toStdString(), m_cluster.nodes[index].id.toStdString());
                if (!parsed) {
                    done(fail(parsed.error()));
                    return;
                }
                (*manifests)[std::size_t(index)] = std::move(*parsed);
                done({});
            });
        },
        [this, manifests] {
            const maildir::ManifestDiff diff = maildir::ManifestDiff::compare(*manifests);
            nlohmann::json json = diff;
            m_report.details.insert(QStringLiteral("diff"), toQt(json));
            completeStep(tr("%1 compared, %2 equal everywhere; %3, %4, %5, %6")
                             .arg(tr("%n folder(s)", nullptr, int(diff.foldersCompared)))
                             .arg(diff.foldersEqual)
                             .arg(tr("%n missing message(s)", nullptr, int(diff.missingMessages.size())),
                                  tr("%n flag disagreement(s)", nullptr, int(diff.flagDisagreements.size())),
                                  tr("%n keyword clash(es)", nullptr, int(diff.keywordClashes.size())),
                                  tr("%n UID conflict(s)", nullptr, int(diff.uidConflicts.size()))));
        },
        tr("Nothing was changed. Fix the cause on that node, then run this command again."));
}

void DuplicatesWorkflow::chooseGroups()
{
    m_chosen.clear();
    QStringList unknown, partial, unsafe;
    const QStringList wanted = m_options.groups.isEmpty() ? QStringList(m_groups.keys()) : m_options.groups;
    for (const QString &id : wanted) {
        const auto group = m_groups.constFind(id);
        if (group == m_groups.cend())
            unknown << id;
        else if (group->presentOn.size() != m_cluster.nodes.size())
            partial << id;
        else if (!group->group.value(QStringLiteral("removable")).toBool())
            unsafe << id;
        else
            m_chosen << id;
    }
    if (!unknown.isEmpty()) {
        failStep(Error{ErrorCode::NotFound, tr("no such duplicate group: %1").arg(unknown.join(QStringLiteral(", "))).toStdString(),
                       {}},
                 tr("Nothing was changed. Take the ids from a fresh `mailmeshctl dupes`."));
        return;
    }
    m_report.details.insert(QStringLiteral("chosen"), QJsonArray::fromStringList(m_chosen));
    QStringList notes{tr("%n group(s) to settle", nullptr, int(m_chosen.size()))};
    if (!partial.isEmpty()) {
        m_report.skippedItems = !m_options.groups.isEmpty() || m_report.skippedItems;
        notes << tr("left alone, not on every node yet: %1").arg(partial.join(QStringLiteral(", ")));
    }
    if (!unsafe.isEmpty()) {
        m_report.skippedItems = !m_options.groups.isEmpty() || m_report.skippedItems;
        notes << tr("left alone, the copies' bytes differ: %1").arg(unsafe.join(QStringLiteral(", ")));
    }
    completeStep(notes.join(QStringLiteral("; ")));
}

void DuplicatesWorkflow::resolve()
{
    if (m_chosen.isEmpty()) {
        skipStep(tr("nothing to settle"));
        return;
    }
    QJsonObject params = mailParams(kResolver, m_options.dryRun);
    params.insert(QStringLiteral("groups"), QJsonArray::fromStringList(m_chosen));
    whenAgentFinished(callAgent(kResolver, QStringLiteral("dedupe"), params), this, [this](const Result<QJsonObject> &result) {
        if (!result) {
            failStep(onNode(m_cluster.nodes[kResolver].id, result.error()),
                     tr("What was done is in the node's journal; run dedupe again to finish, or `mailmeshctl quarantine "
                        "restore --node %1 --all` to undo.")
                         .arg(m_cluster.nodes[kResolver].id));
            return;
        }
        m_report.details.insert(QStringLiteral("resolver"), m_cluster.nodes[kResolver].id);
        m_report.details.insert(QStringLiteral("dedupe"), *result);
        if (!result->value(QStringLiteral("problems")).toArray().isEmpty())
            m_report.skippedItems = true;
        completeStep(tr("%n group(s) settled on %1%2", nullptr, result->value(QStringLiteral("groupsResolved")).toInt())
                         .arg(m_cluster.nodes[kResolver].id,
                              m_options.dryRun ? tr(" (dry run: nothing changed)") : tr("; Syncthing carries it to the others")));
    });
}

void DuplicatesWorkflow::settle()
{
    // Syncthing notices the resolver's changes only after its watcher delay; until then every
    // node would look in sync. A scan makes the change known before the wait starts.
    m_session->syncthing(kResolver)->scan(m_cluster.folderId, {}, this, [this](const Result<void> &scanned) {
        if (!scanned) {
            failStep(onNode(m_cluster.nodes[kResolver].id, scanned.error()),
                     tr("The groups are settled on %1; check its Syncthing, then run `mailmeshctl dupes`.")
                         .arg(m_cluster.nodes[kResolver].id));
            return;
        }
        waitForReplicas();
    });
}

void DuplicatesWorkflow::waitForReplicas()
{
    waitUntilInSync(
        m_options.syncTimeoutMs, m_options.pollMs, [this] { completeStep(tr("every node connected, idle and at 100%")); },
        [this](const QStringList &lagging) {
            failStep(Error{ErrorCode::Timeout,
                           tr("the resolution did not reach every node in time: %1").arg(lagging.join(QStringLiteral(", "))).toStdString(),
                           {}},
                     tr("Check the lagging nodes' Syncthing, then run `mailmeshctl dupes` to see what is left."));
        });
}

void DuplicatesWorkflow::verify()
{
    const QStringList settled = m_chosen;
    auto left = std::make_shared<QStringList>();
    forEachNode(
        [this, settled, left](int index, std::function<void(const Status &)> done) {
            whenAgentFinished(callAgent(index, QStringLiteral("dupes"), mailParams(index, false)), this,
                              [this, index, settled, left, done](const Result<QJsonObject> &report) {
                                  if (!report) {
                                      done(fail(report.error()));
                                      return;
                                  }
                                  for (const QJsonValue &group : report->value(QStringLiteral("groups")).toArray()) {
                                      const QString id = group.toObject().value(QStringLiteral("id")).toString();
                                      if (settled.contains(id))
                                          *left << QStringLiteral("%1 on %2").arg(id, m_cluster.nodes[index].id);
                                  }
                                  done({});
                              });
        },
        [this, left] {
            if (!left->isEmpty()) {
                failStep(Error{ErrorCode::Conflict, tr("still there: %1").arg(left->join(QStringLiteral(", "))).toStdString(), {}},
                         tr("Run `mailmeshctl dupes` again in a minute; if a group stays, settle it with dedupe --group."));
                return;
            }
            completeStep(tr("gone on every node"));
        },
        tr("Run `mailmeshctl dupes` to see what is left."));
}

} // namespace mm::cluster
