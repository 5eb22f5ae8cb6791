#include "cluster/workflows/migrationworkflow.h"

#include "cluster/pluralforms.h"

#include "cluster/session/clustersession.h"
#include "cluster/dovecot/dovecotcontrol.h"
#include "cluster/dovecot/dovecotversion.h"
#include "cluster/config/keywordletters.h"
#include "cluster/monitor/maildigests.h"
#include "cluster/config/mailfolderpolicy.h"
#include "cluster/session/remotecalls.h"
#include "cluster/session/syncround.h"
#include "remote/agentcall.h"
#include "remote/agentclient.h"
#include "remote/syncthingclient.h"

#include "maildir/keywordsettle.h"

#include <nlohmann/json.hpp>

#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QMap>

#include <algorithm>
#include <memory>

namespace mm::cluster {

namespace {

QString number(qint64 value)
{
    return QLocale(QLocale::English).toString(value);
}

// Whether a node left something undone: a folder skipped or an action that failed. Other problems
// (a Syncthing transfer in flight, a Maildir++ folder without its marker file) are reported, as
// the agent's own exit code treats them.
bool leftSomethingUndone(const QJsonArray &problems)
{
    for (const QJsonValue &problem : problems) {
        const QString kind = problem.toObject().value(QStringLiteral("kind")).toString();
        if (kind == QLatin1String("action-failed") || kind == QLatin1String("folder-skipped"))
            return true;
    }
    return false;
}

// A step's details for one node, with what the agent left undone: what the admin must look at.
QJsonObject withProblems(QJsonObject details, const QJsonObject &result)
{
    if (const QJsonArray problems = result.value(QStringLiteral("problems")).toArray(); !problems.isEmpty())
        details.insert(QStringLiteral("problems"), problems);
    return details;
}

} // namespace

MigrationWorkflow::MigrationWorkflow(ClusterConfig cluster, Direction direction, Options options,
                                     MonitorOptions monitorOptions, QObject *parent)
    : ClusterWorkflow(direction == Direction::Migrate ? QStringLiteral("migrate") : QStringLiteral("revert"),
                      options.dryRun, std::move(cluster), std::move(monitorOptions), parent)
    , m_direction(direction)
    , m_options(options)
{
    keepClusterChanges(ClusterChanges::KeptWhateverTheOutcome); // what it learnt about each node's Dovecot
    addStep(QStringLiteral("connect"), tr("Connect to every node"), [this] {
        connectNodes(ClusterSession::Syncthing | ClusterSession::Agent,
                     tr("Nothing was changed. Check that the node is up and that `mailmeshctl add-node` settled its "
                        "host key, then run this command again."));
    });
    addStep(QStringLiteral("probe"), tr("Check each node's Dovecot"), [this] { probeNodes(); });
    addStep(QStringLiteral("preflight"), tr("Check that every node is in sync"), [this] { preflight(); });
    addStep(QStringLiteral("plan"), migrating() ? tr("Plan the conversion on every node") : tr("Plan the revert on every node"),
            [this] { plan(); });
    if (m_options.dryRun)
        return;
    addStep(QStringLiteral("freeze"), tr("Pause replication and hold delivery and IMAP"), [this] { freeze(); });
    addStep(QStringLiteral("convert"),
            migrating() ? tr("Convert every Maildir to cur/-only") : tr("Turn every Maildir back to classic"),
            [this] { convert(); });
    addStep(QStringLiteral("keywords"),
            migrating() ? tr("Settle keyword tables and give each node its keyword letters")
                        : tr("Fold every node's keyword and subscription files into one each"),
            [this] { migrating() ? settleKeywords() : foldSharedState(); });
    addStep(QStringLiteral("switch"),
            migrating() ? tr("Switch Dovecot's cur/-only setting on") : tr("Switch Dovecot's cur/-only setting off"),
            [this] { switchDovecot(); });
    addStep(QStringLiteral("verify"), tr("Check that every node holds the same mail"), [this] { verify(); });
    addStep(QStringLiteral("resume"), tr("Resume replication, delivery and IMAP"), [this] { resume(); });
    addStep(QStringLiteral("settle"), tr("Wait until every node is in sync"), [this] { settle(); });
}

MigrationWorkflow::~MigrationWorkflow() = default;

QString MigrationWorkflow::resumeOrRevertAdvice() const
{
    const QString again = migrating() ? QStringLiteral("mailmeshctl migrate") : QStringLiteral("mailmeshctl revert");
    const QString back = migrating() ? QStringLiteral("mailmeshctl revert") : QStringLiteral("mailmeshctl migrate");
    const QString step = currentStepId();
    if (step == QLatin1String("connect") || step == QLatin1String("probe") || step == QLatin1String("preflight")
        || step == QLatin1String("plan"))
        return tr("Nothing was changed. Fix the cause, then run `%1` again.").arg(again);
    if (step == QLatin1String("settle"))
        return tr("The nodes are live again; Syncthing is still catching up. Check the lagging nodes' Syncthing, "
                  "then run `%1 --dry-run` to confirm every node agrees.")
            .arg(again);
    return tr("Replication stays paused and delivery and IMAP stay held on every node, and each node keeps its "
              "journal. Fix the cause, then run `%1` to continue where it stopped, or `%2` to go back.")
        .arg(again, back);
}

void MigrationWorkflow::probeNodes()
{
    auto stock = std::make_shared<QStringList>();
    auto outdated = std::make_shared<QStringList>();
    forEachNode(
        [this, stock, outdated](int index, std::function<void(const Status &)> done) {
            NodeConfig &node = m_cluster.nodes[index];
            QJsonObject params{{QStringLiteral("path"), node.mailRoot}};
            if (const QString binary = dovecotcontrol::dovecotBinary(node.dovecot); !binary.isEmpty())
                params.insert(QStringLiteral("dovecot"), binary);
            whenAgentFinished(callAgent(index, QStringLiteral("probe"), params), this,
                              [this, index, stock, outdated, done](const Result<QJsonObject> &probe) {
                                  if (!probe) {
                                      done(fail(probe.error()));
                                      return;
                                  }
                                  NodeConfig &node = m_cluster.nodes[index];
                                  const QJsonObject dovecot = probe->value(QStringLiteral("dovecot")).toObject();
                                  const bool found = dovecot.value(QStringLiteral("found")).toBool();
                                  node.dovecot.version = dovecot.value(QStringLiteral("version")).toString();
                                  node.dovecot.curOnlyBuild = dovecot.value(QStringLiteral("curOnlyBuild")).toBool();
                                  nodeDetails(index).insert(
                                      QStringLiteral("dovecot"),
                                      QJsonObject{{QStringLiteral("found"), found},
                                                  {QStringLiteral("version"), node.dovecot.version},
                                                  {QStringLiteral("curOnlyBuild"), node.dovecot.curOnlyBuild}});
                                  if (found && !node.dovecot.curOnlyBuild)
                                      *stock << QStringLiteral("%1 (%2)").arg(node.id, node.dovecot.version);
                                  if (found && node.dovecot.curOnlyBuild)
                                      if (const auto version = DovecotVersion::parse(node.dovecot.version);
                                          version && version->mailmeshRevision() < DovecotVersion::kRequiredRevision)
                                          *outdated << QStringLiteral("%1 (%2)").arg(node.id, node.dovecot.version);
                                  done({});
                              });
        },
        [this, stock, outdated] {
            if (migrating() && !outdated->isEmpty()) {
                failStep(Error{ErrorCode::Unsupported,
                               tr("%1 run a cur/-only build older than revision %2: concurrent first keywords there can "
                                  "give one letter two meanings, a folder deleted on another node can get old UIDs "
                                  "reused, and a keyword removed on one node can stay on another")
                                   .arg(outdated->join(QStringLiteral(", ")))
                                   .arg(DovecotVersion::kRequiredRevision)
                                   .toStdString(),
                               {}},
                         tr("Nothing was changed. Deploy the current patched build first (`mailmeshctl "
                            "deploy-dovecot`, installers/dovecot/README.md), then run this command again."));
                return;
            }
            if (migrating() && !stock->isEmpty() && !m_options.allowStockDovecot) {
                failStep(Error{ErrorCode::Unsupported,
                               tr("stock Dovecot on %1: over cur/-only Maildirs it renames every second copy of a "
                                  "message into a new message, which then replicates everywhere")
                                   .arg(stock->join(QStringLiteral(", ")))
                                   .toStdString(),
                               {}},
                         tr("Nothing was changed. Deploy the patched Dovecot with its setting off first "
                            "(installers/dovecot/README.md), or pass --allow-stock-dovecot if those nodes will get it "
                            "before any client connects."));
                return;
            }
            completeStep(stock->isEmpty() ? tr("every Dovecot found is the cur/-only build")
                                          : tr("stock Dovecot on %1 (allowed)").arg(stock->join(QStringLiteral(", "))));
        },
        resumeOrRevertAdvice());
}

void MigrationWorkflow::preflight()
{
    // A run that failed after `freeze` left replication paused: every node was in sync when it
    // froze, and paused folders cannot report completion, so the check is the frozen state.
    auto paused = std::make_shared<QStringList>();
    forEachNode(
        [this, paused](int index, std::function<void(const Status &)> done) {
            m_session->syncthing(index)->folders(this, [this, index, paused, done](const Result<QJsonArray> &folders) {
                if (!folders) {
                    done(fail(folders.error()));
                    return;
                }
                bool shared = false;
                for (const QJsonValue &value : *folders) {
                    const QJsonObject folder = value.toObject();
                    if (folder.value(QStringLiteral("id")).toString() != m_cluster.folderId)
                        continue;
                    shared = true;
                    if (folder.value(QStringLiteral("paused")).toBool())
                        *paused << m_cluster.nodes[index].id;
                }
                if (!shared) {
                    done(fail(ErrorCode::NotFound, QStringLiteral("the mail folder \"%1\" is not shared on this node; run "
                                                                  "`mailmeshctl pair` first")
                                                       .arg(m_cluster.folderId)
                                                       .toStdString()));
                    return;
                }
                done({});
            });
        },
        [this, paused] {
            if (!paused->isEmpty()) {
                m_continuingFrozenRun = true;
                completeStep(tr("replication is paused on %1: continuing an interrupted run")
                                 .arg(paused->join(QStringLiteral(", "))));
                return;
            }
            waitUntilInSync(
                m_options.preflightTimeoutMs, m_options.pollMs, [this] { completeStep(tr("every node connected, idle and at 100%")); },
                [this](const QStringList &lagging) {
                    failStep(Error{ErrorCode::Conflict,
                                   tr("the nodes are not in sync: %1").arg(lagging.join(QStringLiteral(", "))).toStdString(),
                                   {}},
                             tr("Nothing was changed. Converting nodes that disagree would freeze the disagreement in. "
                                "Wait until Syncthing shows every node in sync, then run this command again."));
                });
        },
        resumeOrRevertAdvice());
}

void MigrationWorkflow::plan()
{
    const QString command = migrating() ? QStringLiteral("convert") : QStringLiteral("revert");
    auto summary = std::make_shared<QStringList>();
    forEachNode(
        [this, command, summary](int index, std::function<void(const Status &)> done) {
            whenAgentFinished(
                callAgent(index, command, mailParams(index, true)), this,
                [this, index, summary, done](const Result<QJsonObject> &planned) {
                    if (!planned) {
                        done(fail(planned.error()));
                        return;
                    }
                    const QString id = m_cluster.nodes[index].id;
                    QJsonObject plan;
                    if (migrating()) {
                        const QJsonObject totals = planned->value(QStringLiteral("totals")).toObject();
                        plan = totals;
                        *summary << tr("%1: %2 to convert, %3 to move from new/, %4")
                                        .arg(id,
                                             tr("%Ln folder(s)", nullptr, int(totals.value(QStringLiteral("converted")).toInteger())),
                                             tr("%Ln message(s)", nullptr, int(totals.value(QStringLiteral("moved")).toInteger())),
                                             tr("%n problem(s)", nullptr, int(totals.value(QStringLiteral("problems")).toInteger())));
                    } else {
                        const qint64 folders = planned->value(QStringLiteral("reverted")).toArray().size();
                        plan = QJsonObject{{QStringLiteral("folders"), folders},
                                           {QStringLiteral("alreadyClassic"),
                                            planned->value(QStringLiteral("alreadyClassic"))},
                                           {QStringLiteral("problems"),
                                            planned->value(QStringLiteral("problems")).toArray().size()}};
                        *summary << tr("%1: %2 to turn classic").arg(id, tr("%n folder(s)", nullptr, int(folders)));
                    }
                    plan.insert(QStringLiteral("problemList"), planned->value(QStringLiteral("problems")));
                    nodeDetails(index).insert(QStringLiteral("plan"), plan);
                    done({});
                });
        },
        [this, summary] {
            summary->sort();
            completeStep(summary->join(QStringLiteral("; ")));
        },
        resumeOrRevertAdvice());
}

void MigrationWorkflow::freeze()
{
    forEachNode(
        [this](int index, std::function<void(const Status &)> done) {
            m_session->syncthing(index)->setFolderPaused(
                m_cluster.folderId, true, this, [this, index, done](const Result<void> &paused) {
                    if (!paused) {
                        done(paused);
                        return;
                    }
                    runNodeCommands(m_session->ssh(index), m_cluster.nodes[index].holdCommands, {}, this, done);
                });
        },
        [this] {
            m_continuingFrozenRun = true;
            completeStep(tr("replication paused on every node, hold commands run"));
        },
        resumeOrRevertAdvice());
}

void MigrationWorkflow::convert()
{
    const QString command = migrating() ? QStringLiteral("convert") : QStringLiteral("revert");
    forEachNode(
        [this, command](int index, std::function<void(const Status &)> done) {
            remote::AgentCall *call = callAgent(index, command, mailParams(index, false));
            connect(call, &remote::AgentCall::progress, this,
                    [this, index](qint64 doneCount, qint64 total, const QString &current, int eta) {
                        reportProgress({{}, m_cluster.nodes[index].id, doneCount, total, eta, current});
                    });
            whenAgentFinished(call, this, [this, index, done](const Result<QJsonObject> &result) {
                if (!result) {
                    done(fail(result.error()));
                    return;
                }
                QJsonObject outcome{{QStringLiteral("runId"), result->value(QStringLiteral("runId"))},
                                    {QStringLiteral("journal"), result->value(QStringLiteral("journal"))}};
                const QJsonArray problems = result->value(QStringLiteral("problems")).toArray();
                if (migrating()) {
                    outcome.insert(QStringLiteral("totals"), result->value(QStringLiteral("totals")));
                    if (!result->value(QStringLiteral("verified")).toBool()) {
                        done(fail(ErrorCode::IoError, "the conversion could not be verified; journal "
                                                          + result->value(QStringLiteral("journal")).toString().toStdString()));
                        return;
                    }
                } else {
                    outcome.insert(QStringLiteral("reverted"), result->value(QStringLiteral("reverted")).toArray().size());
                }
                if (!problems.isEmpty()) {
                    // Folders with problems are left untouched and reported; the rest is done.
                    m_report.skippedItems = m_report.skippedItems || leftSomethingUndone(problems);
                    outcome.insert(QStringLiteral("problems"), problems);
                }
                nodeDetails(index).insert(QStringLiteral("result"), outcome);
                // The last word on this node: everything it had to do is done.
                const qint64 handled = migrating() ? outcome.value(QStringLiteral("totals")).toObject().value(QStringLiteral("moved")).toInteger()
                                                   : outcome.value(QStringLiteral("reverted")).toInteger();
                reportProgress({{}, m_cluster.nodes[index].id, std::max<qint64>(handled, 1), std::max<qint64>(handled, 1), 0, tr("done")});
                done({});
            });
        },
        [this] { completeStep(m_report.skippedItems ? tr("done; some folders were skipped, see each node's problems")
                                                     : tr("done on every node")); },
        resumeOrRevertAdvice());
}

void MigrationWorkflow::settleKeywords()
{
    // Every node's tables first: one decision for all of them needs all of them.
    auto reports = std::make_shared<std::vector<std::vector<maildir::FolderKeywordReport>>>(
        std::size_t(m_cluster.nodes.size()));
    forEachNode(
        [this, reports](int index, std::function<void(const Status &)> done) {
            remote::AgentCall *call = callAgent(index, QStringLiteral("keywords"), mailParams(index, false));
            connect(call, &remote::AgentCall::item, this, [reports, index](const QJsonObject &item) {
                const QJsonObject folder = item.value(QStringLiteral("folder")).toObject();
                const nlohmann::json parsed = nlohmann::json::parse(
                    QJsonDocument(folder).toJson(QJsonDocument::Compact).toStdString(), nullptr, false);
                if (parsed.is_object())
                    (*reports)[std::size_t(index)].push_back(parsed.get<maildir::FolderKeywordReport>());
            });
            whenAgentFinished(call, this, [this, done](const Result<QJsonObject> &summary) {
                done(summary ? Status{} : fail(summary.error()));
            });
        },
        [this, reports] {
            std::vector<std::string> ids;
            for (const NodeConfig &node : m_cluster.nodes)
                ids.push_back(node.id.toStdString());
            // Only folders where some node must change something: the nodes disagree, or a name
            // must change letters. Where every node reads the same table, it stays as it is.
            auto settlements = std::make_shared<QJsonArray>();
            auto notes = std::make_shared<QStringList>();
            for (const maildir::KeywordSettlement &s : maildir::settleKeywords(*reports, ids)) {
                bool agreed = !s.renamesLetters();
                for (const auto &nodeReports : *reports) {
                    const auto it = std::find_if(nodeReports.begin(), nodeReports.end(),
                                                 [&](const auto &r) { return r.folder == s.folder; });
                    agreed = agreed && it != nodeReports.end() && it->table.names == s.table.names;
                }
                for (const std::string &note : s.notes)
                    *notes << QStringLiteral("%1: %2").arg(s.folder.empty() ? QStringLiteral("INBOX")
                                                                            : QString::fromStdString(s.folder),
                                                           QString::fromStdString(note));
                if (agreed)
                    continue;
                settlements->append(
                    QJsonDocument::fromJson(QByteArray::fromStdString(nlohmann::json(s).dump())).object());
            }
            applySettlements(settlements, notes);
        },
        resumeOrRevertAdvice());
}

void MigrationWorkflow::applySettlements(std::shared_ptr<const QJsonArray> settlements,
                                         std::shared_ptr<QStringList> notes)
{
    const QStringList donors = assignKeywordLetters(m_cluster);
    // Donors only exist when a node joined a cur/-only cluster; migrate gives every node its
    // letters before any node uses them, so nobody gives any away here.
    Q_UNUSED(donors);
    auto renamed = std::make_shared<qint64>(0);
    forEachNode(
        [this, settlements, renamed](int index, std::function<void(const Status &)> done) {
            nodeDetails(index).insert(QStringLiteral("keywordLetters"), m_cluster.nodes[index].dovecot.keywordLetters);
            if (settlements->isEmpty()) {
                done({});
                return;
            }
            QJsonObject params = mailParams(index, false);
            params.insert(QStringLiteral("settlements"), *settlements);
            whenAgentFinished(callAgent(index, QStringLiteral("keywords-settle"), params), this,
                              [this, index, renamed, done](const Result<QJsonObject> &result) {
                                  if (!result) {
                                      done(fail(result.error()));
                                      return;
                                  }
                                  // Every node renames the same names: the trees are identical.
                                  *renamed = std::max(*renamed, result->value(QStringLiteral("renamed")).toInteger());
                                  nodeDetails(index).insert(
                                      QStringLiteral("keywords"),
                                      withProblems({{QStringLiteral("renamed"), result->value(QStringLiteral("renamed"))},
                                                    {QStringLiteral("written"), result->value(QStringLiteral("written"))},
                                                    {QStringLiteral("journal"), result->value(QStringLiteral("journal"))}},
                                                   *result));
                                  if (leftSomethingUndone(result->value(QStringLiteral("problems")).toArray()))
                                      m_report.skippedItems = true;
                                  done({});
                              });
        },
        [this, settlements, notes, renamed] {
            QStringList letters;
            for (const NodeConfig &node : m_cluster.nodes)
                letters << QStringLiteral("%1 %2").arg(node.id, node.dovecot.keywordLetters);
            QString detail = settlements->isEmpty()
                                 ? tr("every node reads the same keyword tables")
                                 : tr("keyword tables settled in %n folder(s)", nullptr, int(settlements->size()))
                                       + tr(", %n message name(s) changed", nullptr, int(*renamed));
            detail += tr("; keyword letters: %1").arg(letters.join(QStringLiteral(", ")));
            if (!notes->isEmpty()) {
                detail += tr("; %1").arg(notes->join(QStringLiteral("; ")));
                m_report.details.insert(QStringLiteral("keywordNotes"), QJsonArray::fromStringList(*notes));
            }
            completeStep(detail);
        },
        resumeOrRevertAdvice());
}

void MigrationWorkflow::foldSharedState()
{
    auto folded = std::make_shared<qint64>(0);
    forEachNode(
        [this, folded](int index, std::function<void(const Status &)> done) {
            whenAgentFinished(callAgent(index, QStringLiteral("shared-state-fold"), mailParams(index, false)), this,
                              [this, index, folded, done](const Result<QJsonObject> &result) {
                                  if (!result) {
                                      done(fail(result.error()));
                                      return;
                                  }
                                  *folded = std::max(*folded, result->value(QStringLiteral("written")).toInteger());
                                  nodeDetails(index).insert(
                                      QStringLiteral("fold"),
                                      withProblems({{QStringLiteral("written"), result->value(QStringLiteral("written"))},
                                                    {QStringLiteral("setAside"), result->value(QStringLiteral("setAside"))},
                                                    {QStringLiteral("journal"), result->value(QStringLiteral("journal"))}},
                                                   *result));
                                  if (leftSomethingUndone(result->value(QStringLiteral("problems")).toArray()))
                                      m_report.skippedItems = true;
                                  done({});
                              });
        },
        [this, folded] {
            completeStep(*folded == 0 ? tr("no node kept keyword or subscription files of its own")
                                      : tr("%n keyword table(s) or subscription file(s) written on each node", nullptr,
                                           int(*folded)));
        },
        resumeOrRevertAdvice());
}

void MigrationWorkflow::switchDovecot()
{
    const bool enable = migrating();
    auto switched = std::make_shared<QStringList>();
    auto untouched = std::make_shared<QStringList>();
    forEachNode(
        [this, enable, switched, untouched](int index, std::function<void(const Status &)> done) {
            NodeConfig &node = m_cluster.nodes[index];
            if (!node.dovecot.curOnlyBuild) {
                *untouched << node.id;
                done({});
                return;
            }
            remote::SshCommand::Options write;
            write.input = dovecotcontrol::curOnlySnippet(enable, node.id, node.dovecot.keywordLetters);
            runAdminCommand(
                m_session->ssh(index), dovecotcontrol::writeFileAtomically(dovecotcontrol::curOnlySnippetPath(node.dovecot)),
                write, this, [this, index, enable, switched, done](const Result<remote::SshCommand::Output> &written) {
                    if (!written) {
                        done(fail(written.error()));
                        return;
                    }
                    NodeConfig &node = m_cluster.nodes[index];
                    // doveconf reads the whole configuration: a snippet Dovecot would reject fails
                    // here, before any reload.
                    runAdminCommand(
                        m_session->ssh(index), dovecotcontrol::readCurOnlySetting(node.dovecot), {}, this,
                        [this, index, enable, switched, done](const Result<remote::SshCommand::Output> &read) {
                            if (!read) {
                                done(fail(read.error()));
                                return;
                            }
                            const QByteArray value = read->standardOutput.trimmed();
                            if (value != (enable ? "yes" : "no")) {
                                done(fail(ErrorCode::InvalidData,
                                          QStringLiteral("doveconf reports maildir_cur_only = \"%1\" after Mailmesh set it; "
                                                         "another file may override %2")
                                              .arg(QString::fromUtf8(value),
                                                   dovecotcontrol::curOnlySnippetPath(m_cluster.nodes[index].dovecot))
                                              .toStdString()));
                                return;
                            }
                            NodeConfig &node = m_cluster.nodes[index];
                            runAdminCommands(m_session->ssh(index), dovecotcontrol::reload(node.dovecot), {}, this,
                                            [this, index, enable, switched, done](Status reloaded) {
                                                // Hold commands like `systemctl stop postfix dovecot`
                                                // stop it: the resume commands start it with the setting.
                                                if (!reloaded && reloaded.error().message.find("Dovecot is not running")
                                                                     != std::string::npos) {
                                                    nodeDetails(index).insert(QStringLiteral("dovecotStopped"), true);
                                                    reloaded = {};
                                                }
                                                if (reloaded) {
                                                    m_cluster.nodes[index].dovecot.curOnlyEnabled = enable;
                                                    *switched << m_cluster.nodes[index].id;
                                                    nodeDetails(index).insert(QStringLiteral("curOnlyEnabled"), enable);
                                                }
                                                done(reloaded);
                                            });
                        });
                });
        },
        [this, switched, untouched] {
            switched->sort();
            untouched->sort();
            QString detail = switched->isEmpty() ? tr("no node runs the patched Dovecot")
                                                 : tr("reloaded on %1").arg(switched->join(QStringLiteral(", ")));
            if (!untouched->isEmpty())
                detail += tr("; not the patched build, left alone: %1").arg(untouched->join(QStringLiteral(", ")));
            completeStep(detail);
        },
        resumeOrRevertAdvice());
}

void MigrationWorkflow::verify()
{
    auto digests = std::make_shared<std::vector<MailDigests>>(std::size_t(m_cluster.nodes.size()));
    const QString wantedState = migrating() ? QStringLiteral("cur-only") : QStringLiteral("classic");
    forEachNode(
        [this, digests, wantedState](int index, std::function<void(const Status &)> done) {
            whenAgentFinished(
                callAgent(index, QStringLiteral("scan"), mailParams(index, false)), this,
                [this, index, digests, wantedState, done](const Result<QJsonObject> &scan) {
                    if (!scan) {
                        done(fail(scan.error()));
                        return;
                    }
                    QStringList wrong;
                    for (const QJsonValue &value : scan->value(QStringLiteral("folders")).toArray()) {
                        const QJsonObject folder = value.toObject();
                        if (folder.value(QStringLiteral("state")).toString() != wantedState)
                            wrong << folder.value(QStringLiteral("path")).toString();
                    }
                    if (!wrong.isEmpty() && !m_report.skippedItems) {
                        done(fail(ErrorCode::Conflict, QStringLiteral("%1 not %2: %3")
                                                           .arg(counted(wrong.size(), "folder is", "folders are"))
                                                           .arg(wantedState, wrong.mid(0, 5).join(QStringLiteral(", ")))
                                                           .toStdString()));
                        return;
                    }
                    remote::AgentCall *manifest = callAgent(index, QStringLiteral("manifest"), mailParams(index, false));
                    connect(manifest, &remote::AgentCall::item, this, [digests, index](const QJsonObject &item) {
                        (*digests)[std::size_t(index)].addManifestItem(item);
                    });
                    whenAgentFinished(manifest, this, [this, index, digests, done](const Result<QJsonObject> &summary) {
                        if (!summary) {
                            done(fail(summary.error()));
                            return;
                        }
                        nodeDetails(index).insert(QStringLiteral("messages"), (*digests)[std::size_t(index)].messages);
                        nodeDetails(index).insert(QStringLiteral("folders"),
                                                  (*digests)[std::size_t(index)].digestByFolder.size());
                        done({});
                    });
                });
        },
        [this, digests] {
            const MailDigests &reference = digests->front();
            QStringList differences;
            for (std::size_t i = 1; i < digests->size(); ++i)
                differences << reference.differencesFrom((*digests)[i], m_cluster.nodes.front().id,
                                                         m_cluster.nodes[qsizetype(i)].id);
            if (!differences.isEmpty()) {
                differences.sort();
                failStep(Error{ErrorCode::Conflict,
                               tr("the nodes do not hold the same mail: %1%2")
                                   .arg(differences.mid(0, 10).join(QStringLiteral("; ")),
                                        differences.size() > 10 ? tr(" (and %1 more)").arg(differences.size() - 10)
                                                                : QString())
                                   .toStdString(),
                               {}},
                         tr("Replication stays paused and delivery held. Compare the nodes with `mailmesh-agent manifest` "
                            "and `diff`; nothing was lost (see each node's journal). Run this command again once they agree, "
                            "or revert."));
                return;
            }
            completeStep(tr("all %1 messages in %2 folders accounted for on all %3 nodes")
                             .arg(number(reference.messages))
                             .arg(reference.digestByFolder.size())
                             .arg(m_cluster.nodes.size()));
        },
        resumeOrRevertAdvice());
}

void MigrationWorkflow::resume()
{
    forEachNode(
        [this](int index, std::function<void(const Status &)> done) {
            remote::SyncthingClient *syncthing = m_session->syncthing(index);
            // The ignores of this Mailmesh (mailfolderpolicy.cpp) before anything replicates again:
            // a cluster paired by an older one may still replicate per-node files. This node's own
            // list: it keeps the node's Syncthing home out when that lies inside the mail root.
            syncthing->setIgnores(
                m_cluster.folderId, mailFolderIgnores(m_cluster.uidPolicy, m_cluster.nodes[index]), this,
                [this, index, syncthing, done](const Result<void> &ignored) {
                    if (!ignored) {
                        done(ignored);
                        return;
                    }
                    syncthing->setFolderPaused(
                        m_cluster.folderId, false, this, [this, index, done](const Result<void> &resumed) {
                            if (!resumed) {
                                done(resumed);
                                return;
                            }
                            runNodeCommands(m_session->ssh(index), m_cluster.nodes[index].resumeCommands, {}, this,
                                            done);
                        });
                });
        },
        [this] {
            m_continuingFrozenRun = false;
            completeStep(tr("replication resumed, resume commands run on every node"));
        },
        resumeOrRevertAdvice());
}

void MigrationWorkflow::settle()
{
    // Each node's converted tree is a local change that Syncthing sees only after its watcher
    // delay; scanning first means "in sync" covers the conversion, not the state before it.
    forEachNode(
        [this](int index, std::function<void(const Status &)> done) {
            m_session->syncthing(index)->scan(m_cluster.folderId, {}, this, [done](const Result<void> &scanned) { done(scanned); });
        },
        [this] { waitForReplicas(); }, resumeOrRevertAdvice());
}

void MigrationWorkflow::waitForReplicas()
{
    waitUntilInSync(
        m_options.settleTimeoutMs, m_options.pollMs, [this] { completeStep(tr("every node connected, idle and at 100%")); },
        [this](const QStringList &lagging) {
            failStep(Error{ErrorCode::Timeout,
                           tr("after resuming, the nodes did not reach sync in time: %1")
                               .arg(lagging.join(QStringLiteral(", ")))
                               .toStdString(),
                           {}},
                     resumeOrRevertAdvice());
        });
}

} // namespace mm::cluster
