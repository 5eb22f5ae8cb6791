#include "cluster/workflows/joinnodeworkflow.h"

#include "cluster/session/clustersession.h"
#include "cluster/dovecot/dovecotcontrol.h"
#include "cluster/config/keywordletters.h"
#include "cluster/monitor/maildigests.h"
#include "cluster/config/mailfolderpolicy.h"
#include "cluster/session/remotecalls.h"
#include "remote/agentcall.h"
#include "remote/agentclient.h"
#include "remote/syncthingclient.h"

#include <QJsonArray>
#include <QTimer>

#include <algorithm>
#include <memory>

namespace mm::cluster {

namespace {

QString shortId(const QString &deviceId)
{
    return deviceId.left(7);
}

QStringList argvLines(const QList<QStringList> &commands)
{
    QStringList lines;
    for (const QStringList &argv : commands)
        lines << argv.join(u' ');
    return lines;
}

} // namespace

JoinNodeWorkflow::JoinNodeWorkflow(ClusterConfig cluster, QString nodeId, Options options,
                                   MonitorOptions monitorOptions, QObject *parent)
    : ClusterWorkflow(QStringLiteral("join"), options.dryRun, std::move(cluster), std::move(monitorOptions), parent)
    , m_nodeId(std::move(nodeId))
    , m_options(options)
{
    for (int i = 0; i < m_cluster.nodes.size(); ++i)
        if (m_cluster.nodes[i].id == m_nodeId)
            m_joinIndex = i;
    // The new device id is kept only once every peer knows it: a failed run keeps the old one, so
    // that the next run still removes it from the peers it could not reach this time.
    keepClusterChanges(ClusterChanges::KeptOnSuccess);
    m_report.details.insert(QStringLiteral("node"), m_nodeId);

    addStep(QStringLiteral("validate"), tr("Check the cluster file"), [this] { validate(); });
    addStep(QStringLiteral("connect"), tr("Connect to every node"), [this] {
        connectNodes(ClusterSession::Syncthing | ClusterSession::Agent, nextActionForStep());
    });
    addStep(QStringLiteral("inspect"), tr("Read every node's Syncthing and probe the new node"), [this] { inspect(); });
    addStep(QStringLiteral("plan"), tr("Plan the join"), [this] { plan(); });
    if (m_options.dryRun)
        return;
    addStep(QStringLiteral("hold"), tr("Hold the new node's Dovecot and delivery"), [this] { hold(); });
    addStep(QStringLiteral("letters"), tr("Give the new node keyword letters of its own"),
            [this] { giveKeywordLetters(); });
    addStep(QStringLiteral("pair"), tr("Pair the new node into the mesh"), [this] { pair(); });
    addStep(QStringLiteral("sync"), tr("Wait until the new node has a complete copy"), [this] { waitForCopy(); });
    addStep(QStringLiteral("verify"), tr("Check that the new node holds the same mail"), [this] {
        m_verifyAttempt = 0;
        verify();
    });
    addStep(QStringLiteral("dovecot"), tr("Give the new node's Dovecot the cluster's Maildir setting"),
            [this] { switchDovecot(); });
    addStep(QStringLiteral("resume"), tr("Release the new node"), [this] { resume(); });
}

JoinNodeWorkflow::~JoinNodeWorkflow() = default;

QString JoinNodeWorkflow::nextActionForStep() const
{
    const QString step = currentStepId();
    if (step.isEmpty() || step == QLatin1String("validate") || step == QLatin1String("connect")
        || step == QLatin1String("inspect") || step == QLatin1String("plan"))
        return tr("Nothing was changed. Fix the cause, then run `mailmeshctl join %1` again.").arg(m_nodeId);
    return tr("%1 stays held (its hold commands ran, nothing serves from it) while the other nodes keep serving. Fix the "
              "cause, then run `mailmeshctl join %1` to continue where it stopped, or `mailmeshctl remove-node %1` to "
              "take it out of the cluster again (its mail stays on disk).")
        .arg(m_nodeId);
}

void JoinNodeWorkflow::validate()
{
    if (m_joinIndex < 0) {
        failStep(Error{ErrorCode::NotFound, tr("no node \"%1\" in the cluster file").arg(m_nodeId).toStdString(), {}},
                 tr("Add it first: `mailmeshctl add-node %1 --ssh ... --mail-root ...`.").arg(m_nodeId));
        return;
    }
    if (m_cluster.nodes.size() < 2) {
        failStep(Error{ErrorCode::BadRequest, "a join needs at least one other node to copy the mail from", {}},
                 tr("Add and pair the first nodes with `mailmeshctl pair`."));
        return;
    }
    for (const NodeConfig &node : std::as_const(m_cluster.nodes)) {
        if (node.syncthing.home.isEmpty() || node.syncthing.syncAddress.isEmpty()) {
            failStep(Error{ErrorCode::BadRequest,
                           tr("%1: syncthing.home and syncthing.syncAddress must be set").arg(node.id).toStdString(), {}},
                     tr("Run `mailmeshctl add-node %1 ...` with --syncthing-home (and --sync-address if the probe cannot "
                        "find it), then join again.")
                         .arg(node.id));
            return;
        }
    }
    if (joining().holdCommands.isEmpty() && !m_options.withoutHold) {
        failStep(Error{ErrorCode::BadRequest,
                       tr("%1 has no hold commands: its Dovecot would serve a half-copied Maildir, and messages seen "
                          "while the copy arrives come back under new UIDs")
                           .arg(m_nodeId)
                           .toStdString(),
                       {}},
                 tr("Give the node hold and resume commands, e.g. `mailmeshctl add-node %1 ... --hold-command "
                    "\"systemctl stop dovecot postfix\" --resume-command \"systemctl start dovecot postfix\"`, or stop "
                    "Dovecot and the MTA yourself and pass --without-hold.")
                     .arg(m_nodeId));
        return;
    }
    completeStep(tr("%1 joins %n other node(s)", nullptr, int(m_cluster.nodes.size()) - 1).arg(m_nodeId));
}

void JoinNodeWorkflow::inspect()
{
    m_views.assign(std::size_t(m_cluster.nodes.size()), MeshView{});
    forEachNode(
        [this](int index, std::function<void(const Status &)> done) {
            readMeshView(m_session->syncthing(index), m_cluster.folderId, this,
                         [this, index, done](const Result<MeshView> &view) {
                             if (!view) {
                                 done(fail(view.error()));
                                 return;
                             }
                             m_views[std::size_t(index)] = *view;
                             if (isPeer(index)) {
                                 done({});
                                 return;
                             }
                             const NodeConfig &node = m_cluster.nodes[index];
                             QJsonObject params{{QStringLiteral("path"), node.mailRoot}};
                             if (const QString binary = dovecotcontrol::dovecotBinary(node.dovecot); !binary.isEmpty())
                                 params.insert(QStringLiteral("dovecot"), binary);
                             if (!node.dovecot.configFile.isEmpty())
                                 params.insert(QStringLiteral("dovecotConfig"), node.dovecot.configFile);
                             whenAgentFinished(callAgent(index, QStringLiteral("probe"), params), this,
                                               [this, done](const Result<QJsonObject> &probe) {
                                                   if (!probe) {
                                                       done(fail(probe.error()));
                                                       return;
                                                   }
                                                   m_probe = *probe;
                                                   done({});
                                               });
                         });
        },
        [this] {
            QStringList notes;
            QStringList curOnly;
            QStringList classic;
            for (int i = 0; i < m_cluster.nodes.size(); ++i) {
                NodeConfig &node = m_cluster.nodes[i];
                const MeshView &view = m_views[std::size_t(i)];
                nodeDetails(i).insert(QStringLiteral("deviceId"), view.myId);
                if (!isPeer(i))
                    continue;
                if (node.syncthing.deviceId != view.myId) {
                    notes << tr("%1's device id learnt: %2").arg(node.id, shortId(view.myId));
                    node.syncthing.deviceId = view.myId;
                }
                if (!view.folderExists) {
                    failStep(onNode(node.id, Error{ErrorCode::NotFound,
                                                   tr("the mail folder \"%1\" is not shared here: the cluster is not "
                                                      "paired yet")
                                                       .arg(m_cluster.folderId)
                                                       .toStdString(),
                                                   {}}),
                             tr("Nothing was changed. Pair the first nodes with `mailmeshctl pair`; join adds a node "
                                "to a cluster that is already paired."));
                    return;
                }
                if (view.folderPaused) {
                    failStep(onNode(node.id, Error{ErrorCode::Busy,
                                                   "replication is paused here: a migrate or revert did not finish", {}}),
                             tr("Nothing was changed. Finish that run first (`mailmeshctl migrate` or `revert` "
                                "continues it), then join."));
                    return;
                }
                (node.dovecot.curOnlyEnabled ? curOnly : classic) << node.id;
            }
            if (!curOnly.isEmpty() && !classic.isEmpty()) {
                failStep(Error{ErrorCode::Conflict,
                               tr("the nodes disagree on the Maildir layout: cur/-only on %1, classic on %2")
                                   .arg(curOnly.join(QStringLiteral(", ")), classic.join(QStringLiteral(", ")))
                                   .toStdString(),
                               {}},
                         tr("Nothing was changed. Finish the migration (`mailmeshctl migrate`) or the revert first."));
                return;
            }
            m_clusterCurOnly = !curOnly.isEmpty();

            const MeshView &joiningView = m_views[std::size_t(m_joinIndex)];
            NodeConfig &node = m_cluster.nodes[m_joinIndex];
            m_joiningDeviceId = joiningView.myId;
            if (!node.syncthing.deviceId.isEmpty() && node.syncthing.deviceId != m_joiningDeviceId)
                m_previousDeviceId = node.syncthing.deviceId;
            for (int i = 0; i < m_cluster.nodes.size(); ++i)
                if (isPeer(i) && joiningView.sharesWith(m_cluster.nodes[i].syncthing.deviceId))
                    m_continuing = true;

            const QJsonObject dovecot = m_probe.value(QStringLiteral("dovecot")).toObject();
            node.dovecot.version = dovecot.value(QStringLiteral("version")).toString();
            node.dovecot.curOnlyBuild = dovecot.value(QStringLiteral("curOnlyBuild")).toBool();
            if (m_clusterCurOnly && !node.dovecot.curOnlyBuild) {
                failStep(onNode(m_nodeId, Error{ErrorCode::Unsupported,
                                                tr("the cluster is cur/-only, and this node's Dovecot (%1) is not the "
                                                   "patched build: over cur/-only Maildirs it turns every second copy "
                                                   "of a message into a new message")
                                                    .arg(node.dovecot.version.isEmpty() ? tr("none found")
                                                                                        : node.dovecot.version)
                                                    .toStdString(),
                                                {}}),
                         tr("Nothing was changed. Deploy the patched Dovecot on %1 first (`mailmeshctl deploy-dovecot "
                            "--prefix DIR %1`), then join.")
                             .arg(m_nodeId));
                return;
            }

            // A node that brings mail of its own would send it to every node: deleted messages
            // would come back, and a reused disk would mix two clusters' mail.
            const QJsonObject inventory = m_probe.value(QStringLiteral("inventory")).toObject();
            const qint64 messages = inventory.value(QStringLiteral("messages")).toInteger();
            const qint64 folders = inventory.value(QStringLiteral("folders")).toInteger();
            if (!m_continuing && (messages > 0 || folders > 0)) {
                failStep(onNode(m_nodeId, Error{ErrorCode::Conflict,
                                                tr("the mail root %1 is not empty: %2, %3; "
                                                   "a joining node gets its copy from the cluster and must start "
                                                   "empty, or its own mail would replicate to every node")
                                                    .arg(node.mailRoot)
                                                    .arg(tr("%n Maildir folder(s)", nullptr, int(folders)),
                                                         tr("%n message(s)", nullptr, int(messages)))
                                                    .toStdString(),
                                                {}}),
                         tr("Nothing was changed. Move the old mail aside on the node (e.g. `mv %1 %1.before-join && "
                            "mkdir %1`, owned by the mail user), then join again.")
                             .arg(node.mailRoot));
                return;
            }
            if (m_continuing)
                notes << tr("%1 already shares the mail folder: continuing an interrupted join").arg(m_nodeId);
            else
                notes << tr("%1's mail root is empty").arg(m_nodeId);
            if (!m_previousDeviceId.isEmpty())
                notes << tr("replacing device %1 with %2").arg(shortId(m_previousDeviceId), shortId(m_joiningDeviceId));
            notes << (m_clusterCurOnly ? tr("the cluster is cur/-only") : tr("the cluster is classic"));
            m_report.details.insert(QStringLiteral("clusterCurOnly"), m_clusterCurOnly);
            m_report.details.insert(QStringLiteral("deviceId"), m_joiningDeviceId);
            if (!m_previousDeviceId.isEmpty())
                m_report.details.insert(QStringLiteral("previousDeviceId"), m_previousDeviceId);
            completeStep(notes.join(QStringLiteral("; ")));
        },
        nextActionForStep());
}

void JoinNodeWorkflow::plan()
{
    const NodeConfig &node = joining();
    QStringList actions;
    if (!node.holdCommands.isEmpty())
        actions << tr("%1: run the hold commands (%2)").arg(m_nodeId, argvLines(node.holdCommands).join(QStringLiteral("; ")));
    else
        actions << tr("%1: no hold commands (--without-hold): Dovecot and the MTA must stay stopped").arg(m_nodeId);
    if (m_views[std::size_t(m_joinIndex)].folderExists && !m_continuing)
        actions << tr("%1: drop the mail folder left from an earlier membership from its Syncthing (with its index; no "
                      "file is touched)")
                       .arg(m_nodeId);
    actions << tr("%1: know every other node's device, share the mail root with them (paused until its ignores are set)")
                   .arg(m_nodeId);
    for (int i = 0; i < m_cluster.nodes.size(); ++i) {
        if (!isPeer(i))
            continue;
        const MeshView &view = m_views[std::size_t(i)];
        const QString peer = m_cluster.nodes[i].id;
        if (!m_previousDeviceId.isEmpty() && (view.devices.contains(m_previousDeviceId)
                                              || view.folderDeviceIds().contains(m_previousDeviceId)))
            actions << tr("%1: unshare the mail folder from %2's old device %3 and remove it")
                           .arg(peer, m_nodeId, shortId(m_previousDeviceId));
        if (!view.devices.contains(m_joiningDeviceId))
            actions << tr("%1: add device %2 (%3)").arg(peer, m_nodeId, shortId(m_joiningDeviceId));
        if (!view.sharesWith(m_joiningDeviceId))
            actions << tr("%1: share the mail folder with %2").arg(peer, m_nodeId);
    }
    actions << tr("wait until every node is connected, idle and at 100%, with %1 held").arg(m_nodeId);
    actions << tr("compare %1's messages with %2's, folder by folder").arg(m_nodeId, m_cluster.nodes[referenceIndex()].id);
    if (node.dovecot.curOnlyBuild)
        actions << tr("%1: write %2 with maildir_cur_only = %3")
                       .arg(m_nodeId, dovecotcontrol::curOnlySnippetPath(node.dovecot),
                            m_clusterCurOnly ? QStringLiteral("yes") : QStringLiteral("no"));
    if (!node.resumeCommands.isEmpty())
        actions << tr("%1: run the resume commands (%2)").arg(m_nodeId, argvLines(node.resumeCommands).join(QStringLiteral("; ")));
    m_report.details.insert(QStringLiteral("plan"), QJsonArray::fromStringList(actions));
    completeStep(actions.join(QStringLiteral("; ")));
}

void JoinNodeWorkflow::hold()
{
    const NodeConfig &node = joining();
    if (node.holdCommands.isEmpty()) {
        skipStep(tr("--without-hold: Dovecot and the MTA on %1 are stopped by the admin").arg(m_nodeId));
        return;
    }
    runNodeCommands(m_session->ssh(m_joinIndex), node.holdCommands, {}, this, [this](const Status &held) {
        if (!checkOrFail(held, m_nodeId, nextActionForStep()))
            return;
        completeStep(tr("hold commands run on %1").arg(m_nodeId));
    });
}

void JoinNodeWorkflow::pair()
{
    NodeConfig &node = m_cluster.nodes[m_joinIndex];
    node.syncthing.deviceId = m_joiningDeviceId;
    remote::SyncthingClient *syncthing = m_session->syncthing(m_joinIndex);
    QStringList deviceIds;
    QList<AsyncStep> links;
    if (m_views[std::size_t(m_joinIndex)].folderExists && !m_continuing) {
        // A folder left from an earlier membership remembers files that the (now empty) mail
        // root no longer has: resumed, Syncthing would send their deletion to every node.
        links << [this, syncthing](std::function<void(const Status &)> next) {
            forgetFolder(syncthing, m_cluster.folderId, this, next);
        };
    }
    for (int i = 0; i < m_cluster.nodes.size(); ++i) {
        const NodeConfig &peer = m_cluster.nodes[i];
        deviceIds << peer.syncthing.deviceId;
        if (!isPeer(i))
            continue;
        // Devices first: Syncthing drops unknown devices from a folder. Paused until the peers
        // know this node too (configurePeers), so that no dial is rejected and retried late.
        links << [this, syncthing, peer](std::function<void(const Status &)> next) {
            syncthing->addDevice(peer.syncthing.deviceId, peer.id, {peer.syncthing.syncAddress}, this,
                                 [next](const Result<void> &added) { next(added); }, true);
        };
    }
    // Shared paused, then its ignores, then resumed: Syncthing never scans the mail root
    // without the ignores in place.
    QJsonObject folder = mailFolderObject(m_cluster, node, deviceIds);
    folder.insert(QStringLiteral("paused"), true);
    links << [this, syncthing, folder](std::function<void(const Status &)> next) {
        syncthing->shareFolder(folder, this, [next](const Result<void> &shared) { next(shared); });
    };
    links << [this, syncthing, ignores = mailFolderIgnores(m_cluster.uidPolicy, node)](
                 std::function<void(const Status &)> next) {
        syncthing->setIgnores(m_cluster.folderId, ignores, this,
                              [next](const Result<void> &ignored) { next(ignored); });
    };
    links << [this, syncthing](std::function<void(const Status &)> next) {
        syncthing->setFolderPaused(m_cluster.folderId, false, this, [next](const Result<void> &resumed) { next(resumed); });
    };
    runInOrder(links, [this](const Status &configured) {
        if (!checkOrFail(configured, m_nodeId, nextActionForStep()))
            return;
        configurePeers();
    });
}

void JoinNodeWorkflow::configurePeers()
{
    auto changed = std::make_shared<QStringList>();
    forEachNode(
        [this, changed](int index, std::function<void(const Status &)> done) {
            if (!isPeer(index)) {
                done({});
                return;
            }
            const MeshView &view = m_views[std::size_t(index)];
            remote::SyncthingClient *syncthing = m_session->syncthing(index);
            const NodeConfig &node = joining();
            QList<AsyncStep> links;
            QStringList removed;
            if (!m_previousDeviceId.isEmpty())
                removed << m_previousDeviceId;
            const QJsonArray devices = folderDevicesWith(view.folderDevices, {m_joiningDeviceId}, removed);
            if (!view.devices.contains(m_joiningDeviceId))
                links << [this, syncthing, node](std::function<void(const Status &)> next) {
                    syncthing->addDevice(m_joiningDeviceId, node.id, {node.syncthing.syncAddress}, this,
                                         [next](const Result<void> &added) { next(added); }, true);
                };
            // Known everywhere now (or from an earlier run): dialled from here on.
            links << [this, syncthing](std::function<void(const Status &)> next) {
                syncthing->setDevicePaused(m_joiningDeviceId, false, this,
                                           [next](const Result<void> &resumed) { next(resumed); });
            };
            if (devices != view.folderDevices)
                links << [this, syncthing, devices](std::function<void(const Status &)> next) {
                    setFolderDevices(syncthing, m_cluster.folderId, devices, this, next);
                };
            if (!m_previousDeviceId.isEmpty() && view.devices.contains(m_previousDeviceId))
                links << [this, syncthing](std::function<void(const Status &)> next) {
                    forgetDevice(syncthing, m_previousDeviceId, this, next);
                };
            if (!links.isEmpty())
                *changed << m_cluster.nodes[index].id;
            runInOrder(links, done);
        },
        [this, changed] { resumeJoiningDevices(*changed); },
        nextActionForStep());
}

void JoinNodeWorkflow::resumeJoiningDevices(QStringList changed)
{
    // The new node dials its peers once every one of them knows it.
    remote::SyncthingClient *syncthing = m_session->syncthing(m_joinIndex);
    QList<AsyncStep> links;
    for (int i = 0; i < m_cluster.nodes.size(); ++i)
        if (isPeer(i))
            links << [this, syncthing, id = m_cluster.nodes[i].syncthing.deviceId](std::function<void(const Status &)> next) {
                syncthing->setDevicePaused(id, false, this, [next](const Result<void> &resumed) { next(resumed); });
            };
    runInOrder(links, [this, changed = std::move(changed)](const Status &resumed) mutable {
        if (!checkOrFail(resumed, m_nodeId, nextActionForStep()))
            return;
        changed.sort();
        completeStep(changed.isEmpty()
                             ? tr("%1 shares the mail root; every node already knew it").arg(m_nodeId)
                             : tr("%1 shares the mail root; updated %2").arg(m_nodeId, changed.join(QStringLiteral(", "))));
    });
}

void JoinNodeWorkflow::waitForCopy()
{
    waitUntilInSync(
        m_options.syncTimeoutMs, m_options.pollMs,
        [this] { completeStep(tr("every node connected, idle and at 100%, %1 included").arg(m_nodeId)); },
        [this](const QStringList &lagging) {
            failStep(Error{ErrorCode::Timeout,
                           tr("the copy is not complete yet: %1").arg(lagging.join(QStringLiteral(", "))).toStdString(), {}},
                     nextActionForStep());
        });
}

void JoinNodeWorkflow::verify()
{
    ++m_verifyAttempt;
    if (!m_clusterCurOnly) {
        compareWithReference();
        return;
    }
    // On a cur/-only cluster every folder must have arrived with its new -> cur link: the
    // patched Dovecot with the setting on would not see mail in a real new/.
    whenAgentFinished(callAgent(m_joinIndex, QStringLiteral("scan"), mailParams(m_joinIndex, false)), this,
                      [this](const Result<QJsonObject> &scan) {
                          if (!checkOrFail(scan ? Status{} : Status{fail(scan.error())}, m_nodeId, nextActionForStep()))
                              return;
                          QStringList classic;
                          bool broken = false;
                          for (const QJsonValue &value : scan->value(QStringLiteral("folders")).toArray()) {
                              const QJsonObject folder = value.toObject();
                              const QString state = folder.value(QStringLiteral("state")).toString();
                              if (state != QLatin1String("cur-only"))
                                  classic << folder.value(QStringLiteral("path")).toString();
                              broken = broken || state == QLatin1String("broken");
                          }
                          if (!classic.isEmpty()) {
                              // A broken folder arrived as the cluster holds it: typically one that
                              // lost its `new` link to a DELETE racing a message added elsewhere,
                              // which convert (through migrate) makes again on every node.
                              failStep(onNode(m_nodeId, Error{ErrorCode::Conflict,
                                                              tr("%n folder(s) not cur/-only after the copy: %1", nullptr,
                                                                 int(classic.size()))
                                                                  .arg(classic.mid(0, 5).join(QStringLiteral(", ")))
                                                                  .toStdString(),
                                                              {}}),
                                       broken ? tr("If the other nodes hold these folders the same way (`mailmeshctl status` "
                                                   "names them), run `mailmeshctl migrate`: it makes a lost new -> cur "
                                                   "link again on every node. Then run `mailmeshctl join %1` again.")
                                                    .arg(m_nodeId)
                                              : nextActionForStep());
                              return;
                          }
                          compareWithReference();
                      });
}

void JoinNodeWorkflow::compareWithReference()
{
    const int indexes[2] = {referenceIndex(), m_joinIndex};
    auto digests = std::make_shared<std::vector<MailDigests>>(2);
    auto left = std::make_shared<int>(2);
    auto failed = std::make_shared<bool>(false);
    for (int slot = 0; slot < 2; ++slot) {
        const int index = indexes[slot];
        remote::AgentCall *manifest = callAgent(index, QStringLiteral("manifest"), mailParams(index, false));
        connect(manifest, &remote::AgentCall::item, this,
                [digests, slot](const QJsonObject &item) { (*digests)[std::size_t(slot)].addManifestItem(item); });
        whenAgentFinished(manifest, this, [this, index, digests, left, failed](const Result<QJsonObject> &summary) {
            if (*failed || isFinished())
                return;
            if (!summary) {
                *failed = true;
                failStep(onNode(m_cluster.nodes[index].id, summary.error()), nextActionForStep());
                return;
            }
            if (--*left > 0)
                return;
            const MailDigests &reference = (*digests)[0];
            const MailDigests &copy = (*digests)[1];
            const QString referenceId = m_cluster.nodes[referenceIndex()].id;
            const QStringList differences = reference.differencesFrom(copy, referenceId, m_nodeId);
            if (differences.isEmpty()) {
                nodeDetails(m_joinIndex).insert(QStringLiteral("messages"), copy.messages);
                nodeDetails(m_joinIndex).insert(QStringLiteral("folders"), copy.digestByFolder.size());
                completeStep(tr("all %1 messages in %2 folders on %3 equal %4's")
                                 .arg(reference.messages)
                                 .arg(reference.digestByFolder.size())
                                 .arg(m_nodeId, referenceId));
                return;
            }
            if (m_verifyAttempt < m_options.verifyAttempts) {
                // A live cluster: mail that arrived between the two manifests. Let it settle, look again.
                reportProgress({{}, m_nodeId, m_verifyAttempt, m_options.verifyAttempts, -1,
                                tr("%1; waiting for sync and comparing again").arg(differences.first())});
                waitUntilInSync(
                    m_options.syncTimeoutMs, m_options.pollMs, [this] { verify(); },
                    [this](const QStringList &lagging) {
                        failStep(Error{ErrorCode::Timeout,
                                       tr("the nodes did not settle: %1").arg(lagging.join(QStringLiteral(", "))).toStdString(),
                                       {}},
                                 nextActionForStep());
                    });
                return;
            }
            failStep(Error{ErrorCode::Conflict,
                           tr("%1 does not hold the same mail as %2: %3").arg(m_nodeId, referenceId,
                                                                             differences.mid(0, 10).join(QStringLiteral("; ")))
                               .toStdString(),
                           {}},
                     tr("%1 stays held. Compare the two nodes with `mailmeshctl dupes` or `mailmesh-agent manifest`, "
                        "then run `mailmeshctl join %1` again.")
                         .arg(m_nodeId));
        });
    }
}

void JoinNodeWorkflow::giveKeywordLetters()
{
    if (!m_clusterCurOnly) {
        skipStep(tr("the cluster is classic: Dovecot keeps one keyword table per folder"));
        return;
    }
    QStringList withoutLetters;
    for (const NodeConfig &node : m_cluster.nodes)
        if (node.id != m_nodeId && node.dovecot.keywordLetters.isEmpty())
            withoutLetters << node.id;
    if (!withoutLetters.isEmpty()) {
        // Migrated by a Mailmesh from before keyword letters: those nodes still write one shared
        // keyword table, which a node of its own letters cannot join safely.
        failStep(Error{ErrorCode::Unsupported,
                       tr("%1 have no keyword letters yet").arg(withoutLetters.join(QStringLiteral(", "))).toStdString(),
                       {}},
                 tr("%1 stays held. Run `mailmeshctl migrate` once (it gives every node its letters and changes no "
                    "message), then `mailmeshctl join %1` again.")
                     .arg(m_nodeId));
        return;
    }
    const QStringList donors = assignKeywordLetters(m_cluster);
    nodeDetails(m_joinIndex).insert(QStringLiteral("keywordLetters"), joining().dovecot.keywordLetters);
    const QString summary = tr("%1 gets %2").arg(m_nodeId, joining().dovecot.keywordLetters);
    if (donors.isEmpty()) {
        completeStep(summary);
        return;
    }
    // The givers stop using the letters now, while the new node is held: the copy it waits for
    // then holds every keyword they gave out with them.
    auto left = std::make_shared<qsizetype>(donors.size());
    auto failed = std::make_shared<bool>(false);
    for (const QString &donorId : donors) {
        const int index = int(std::find_if(m_cluster.nodes.cbegin(), m_cluster.nodes.cend(),
                                           [&](const NodeConfig &n) { return n.id == donorId; })
                              - m_cluster.nodes.cbegin());
        const NodeConfig &donor = m_cluster.nodes[index];
        remote::SshCommand::Options write;
        write.input = dovecotcontrol::curOnlySnippet(true, donor.id, donor.dovecot.keywordLetters);
        runAdminCommand(
            m_session->ssh(index), dovecotcontrol::writeFileAtomically(dovecotcontrol::curOnlySnippetPath(donor.dovecot)),
            write, this, [this, index, left, failed, donors, summary](const Result<remote::SshCommand::Output> &written) {
                if (*failed)
                    return;
                const QString id = m_cluster.nodes[index].id;
                if (!written) {
                    *failed = true;
                    checkOrFail(Status{fail(written.error())}, id, nextActionForStep());
                    return;
                }
                runAdminCommands(m_session->ssh(index), dovecotcontrol::reload(m_cluster.nodes[index].dovecot), {}, this,
                                 [this, id, left, failed, donors, summary](const Status &reloaded) {
                                    if (*failed)
                                        return;
                                    if (!reloaded) {
                                        *failed = true;
                                        checkOrFail(reloaded, id, nextActionForStep());
                                        return;
                                    }
                                    if (--*left == 0)
                                        completeStep(tr("%1, from %2").arg(summary, donors.join(QStringLiteral(", "))));
                                });
            });
    }
}

void JoinNodeWorkflow::switchDovecot()
{
    const NodeConfig &node = joining();
    if (!node.dovecot.curOnlyBuild) {
        skipStep(tr("not the patched build, and the cluster is classic: nothing to set"));
        return;
    }
    const bool enable = m_clusterCurOnly;
    remote::SshCommand::Options write;
    write.input = dovecotcontrol::curOnlySnippet(enable, node.id, node.dovecot.keywordLetters);
    const QString snippet = dovecotcontrol::curOnlySnippetPath(node.dovecot);
    runAdminCommand(
        m_session->ssh(m_joinIndex), dovecotcontrol::writeFileAtomically(snippet), write, this,
        [this, enable, snippet](const Result<remote::SshCommand::Output> &written) {
            if (!checkOrFail(written ? Status{} : Status{fail(written.error())}, m_nodeId, nextActionForStep()))
                return;
            // doveconf reads the whole configuration: a snippet Dovecot would reject, or one
            // that another file overrides, fails here, before Dovecot starts serving.
            runAdminCommand(
                m_session->ssh(m_joinIndex), dovecotcontrol::readCurOnlySetting(joining().dovecot), {}, this,
                [this, enable, snippet](const Result<remote::SshCommand::Output> &read) {
                    if (!checkOrFail(read ? Status{} : Status{fail(read.error())}, m_nodeId, nextActionForStep()))
                        return;
                    const QByteArray value = read->standardOutput.trimmed();
                    if (value != (enable ? "yes" : "no")) {
                        failStep(onNode(m_nodeId, Error{ErrorCode::InvalidData,
                                                        tr("doveconf reports maildir_cur_only = \"%1\" after Mailmesh set "
                                                           "it; another file may override %2")
                                                            .arg(QString::fromUtf8(value), snippet)
                                                            .toStdString(),
                                                        {}}),
                                 nextActionForStep());
                        return;
                    }
                    m_cluster.nodes[m_joinIndex].dovecot.curOnlyEnabled = enable;
                    nodeDetails(m_joinIndex).insert(QStringLiteral("curOnlyEnabled"), enable);
                    // Held usually means stopped: the resume commands start it with the setting. A
                    // hold that only blocks logins leaves it running, and then it needs the reload.
                    runAdminCommands(m_session->ssh(m_joinIndex), dovecotcontrol::reload(joining().dovecot), {}, this,
                                    [this, enable, snippet](const Status &reloaded) {
                                        completeStep(tr("%1: maildir_cur_only = %2 in %3%4")
                                                         .arg(m_nodeId, enable ? QStringLiteral("yes") : QStringLiteral("no"),
                                                              snippet,
                                                              reloaded ? tr(", Dovecot reloaded")
                                                                       : tr(" (Dovecot not running: applies when it starts)")));
                                    });
                });
        });
}

void JoinNodeWorkflow::resume()
{
    const NodeConfig &node = joining();
    if (node.resumeCommands.isEmpty()) {
        skipStep(m_options.withoutHold
                     ? tr("--without-hold: start Dovecot and the MTA on %1 yourself; its copy is complete").arg(m_nodeId)
                     : tr("no resume commands: start what the hold commands stopped on %1 yourself").arg(m_nodeId));
        return;
    }
    runNodeCommands(m_session->ssh(m_joinIndex), node.resumeCommands, {}, this, [this](const Status &resumed) {
        if (!checkOrFail(resumed, m_nodeId, nextActionForStep()))
            return;
        completeStep(tr("resume commands run on %1: it serves a complete copy").arg(m_nodeId));
    });
}

} // namespace mm::cluster
