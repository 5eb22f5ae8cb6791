#include "cluster/deploydovecotworkflow.h"

#include "cluster/aptpolicy.h"
#include "cluster/clustersession.h"
#include "cluster/dovecotcontrol.h"
#include "cluster/dovecotpackages.h"
#include "cluster/dovecotsnippet.h"
#include "cluster/remotecalls.h"
#include "remote/agentcall.h"
#include "remote/agentclient.h"
#include "remote/sshsession.h"

#include <QCryptographicHash>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QJsonArray>
#include <QTcpSocket>
#include <QTimer>

#include <memory>

namespace mm::cluster {

namespace {

Error nodeError(ErrorCode code, const QString &message)
{
    return Error{code, message.toStdString(), {}};
}

// Speaks just enough IMAP on 127.0.0.1:port (an ssh forward to the node's IMAP port): the
// greeting, CAPABILITY, LOGOUT. done() gets the capability line. No login: no password stored.
void imapCapability(quint16 port, QObject *context, int timeoutMs, std::function<void(const Result<QString> &)> done)
{
    auto *socket = new QTcpSocket(context);
    auto *timer = new QTimer(socket);
    timer->setSingleShot(true);
    auto buffer = std::make_shared<QByteArray>();
    auto capability = std::make_shared<QString>();
    auto greeted = std::make_shared<bool>(false);
    auto over = std::make_shared<bool>(false);
    auto finish = [socket, over, done](const Result<QString> &result) {
        if (*over)
            return;
        *over = true;
        // No disconnect(): that would destroy this very lambda while it runs. `over` keeps
        // the signals abort() emits from coming back here.
        socket->abort();
        socket->deleteLater();
        done(result);
    };
    QObject::connect(socket, &QTcpSocket::readyRead, socket, [socket, buffer, capability, greeted, finish] {
        buffer->append(socket->readAll());
        qsizetype end;
        while ((end = buffer->indexOf("\r\n")) >= 0) {
            const QString line = QString::fromUtf8(buffer->left(end));
            buffer->remove(0, end + 2);
            if (!*greeted) {
                if (!line.startsWith(QLatin1String("* OK"))) {
                    finish(fail(ErrorCode::Unreachable, "IMAP greeting was \"" + line.left(120).toStdString() + "\""));
                    return;
                }
                *greeted = true;
                socket->write("a CAPABILITY\r\n");
            } else if (line.startsWith(QLatin1String("* CAPABILITY "))) {
                *capability = line.mid(13);
            } else if (line.startsWith(QLatin1String("a OK"))) {
                socket->write("b LOGOUT\r\n");
                finish(*capability);
                return;
            } else if (line.startsWith(QLatin1String("a "))) {
                finish(fail(ErrorCode::Unreachable, "CAPABILITY answered \"" + line.left(120).toStdString() + "\""));
                return;
            }
        }
    });
    QObject::connect(socket, &QTcpSocket::errorOccurred, socket, [socket, finish](QAbstractSocket::SocketError) {
        finish(fail(ErrorCode::Unreachable, "IMAP: " + socket->errorString().toStdString()));
    });
    QObject::connect(timer, &QTimer::timeout, socket,
                     [finish] { finish(fail(ErrorCode::Timeout, "IMAP did not answer CAPABILITY in time")); });
    timer->start(timeoutMs);
    socket->connectToHost(QHostAddress::LocalHost, port);
}

} // namespace

DeployDovecotWorkflow::DeployDovecotWorkflow(ClusterConfig cluster, Options options, MonitorOptions monitorOptions,
                                             QObject *parent)
    : Workflow(QStringLiteral("deploy-dovecot"), options.dryRun, parent)
    , m_cluster(std::move(cluster))
    , m_options(std::move(options))
    , m_monitorOptions(std::move(monitorOptions))
{
    if (!m_options.prefix.isEmpty())
        m_options.prefix = QDir::cleanPath(m_options.prefix);
    // The facts of the nodes that now run the target build, whatever the outcome.
    keepClusterChanges(ClusterChanges::KeptWhateverTheOutcome);
    addStep(QStringLiteral("connect"), tr("Connect to the nodes"), [this] { connectNodes(); });
    addStep(QStringLiteral("detect"), tr("Detect each node's system and Dovecot, and the target build"),
            [this] { detect(); });
    // Installed before rendering, so the snippet is read and checked by the doveconf it is for.
    if (!m_options.packagesDir.isEmpty() && !m_options.dryRun)
        addStep(QStringLiteral("install"), tr("Install and hold the packages, one node at a time"), [this] { install(); });
    addStep(QStringLiteral("render"), tr("Render conf.d/%1 for each node").arg(QLatin1String(dovecotsnippet::kSnippetName)),
            [this] { render(); });
    if (m_options.dryRun)
        return;
    addStep(QStringLiteral("configure"), tr("Write the configuration snippets"), [this] { configure(); });
    addStep(QStringLiteral("validate"), tr("Validate the configuration with the target doveconf"), [this] { validate(); });
    addStep(QStringLiteral("restart"), tr("Restart Dovecot on the target build, one node at a time"), [this] { restart(); });
    addStep(QStringLiteral("verify"), tr("Check the running build, IMAP and a mailbox"), [this] { verify(); });
    addStep(QStringLiteral("updates"), tr("Look for security updates"), [this] { checkUpdates(); });
}

DeployDovecotWorkflow::~DeployDovecotWorkflow()
{
    cleanUp();
}

void DeployDovecotWorkflow::cancelRunningWork()
{
    for (remote::AgentCall *call : std::as_const(m_runningCalls))
        call->cancel();
}

void DeployDovecotWorkflow::cleanUp()
{
    publishDetails();
    if (m_session) {
        m_session->close();
        m_session->deleteLater();
        m_session = nullptr;
    }
}

void DeployDovecotWorkflow::publishDetails()
{
    QJsonArray nodes;
    for (const NodeState &node : m_nodes)
        nodes.append(node.details);
    m_report.details.insert(QStringLiteral("nodes"), nodes);
    if (!m_warnings.isEmpty())
        m_report.details.insert(QStringLiteral("warnings"), QJsonArray::fromStringList(m_warnings));
    m_report.details.insert(QStringLiteral("target"), m_options.prefix.isEmpty()
                                                          ? QJsonObject{{QStringLiteral("packages"), m_options.packagesDir}}
                                                          : QJsonObject{{QStringLiteral("prefix"), m_options.prefix}});
}

remote::SshCommand::Options DeployDovecotWorkflow::asRoot(QByteArray input)
{
    remote::SshCommand::Options options;
    options.runAs = QStringLiteral("root");
    options.input = std::move(input);
    return options;
}

void DeployDovecotWorkflow::addWarning(const QString &warning)
{
    if (!m_warnings.contains(warning))
        m_warnings << warning;
}

// Packages install into /usr, like Debian's own.
QString DeployDovecotWorkflow::targetBinary() const
{
    return (packagesMode() ? QStringLiteral("/usr") : m_options.prefix) + QStringLiteral("/sbin/dovecot");
}

QString DeployDovecotWorkflow::targetTool(const QString &name) const
{
    return (packagesMode() ? QStringLiteral("/usr") : m_options.prefix) + QStringLiteral("/bin/") + name;
}

QString DeployDovecotWorkflow::snippetPath(int position) const
{
    return dovecotcontrol::confDir(m_nodes[std::size_t(position)].before) + u'/'
           + QLatin1String(dovecotsnippet::kSnippetName);
}

QStringList DeployDovecotWorkflow::changingNodes() const
{
    QStringList ids;
    for (const NodeState &node : m_nodes)
        if (!node.unchanged)
            ids << m_cluster.nodes[node.clusterIndex].id;
    return ids;
}

QString DeployDovecotWorkflow::nothingChangedAdvice() const
{
    return tr("Nothing was changed on any node. Fix the cause, then run `mailmeshctl deploy-dovecot` again.");
}

void DeployDovecotWorkflow::forEachNode(const NodeTask &perNode, std::function<void()> allDone, bool changingOnly,
                                        bool rollBackOnFailure)
{
    QList<int> positions;
    for (int i = 0; i < int(m_nodes.size()); ++i)
        if (!changingOnly || !m_nodes[std::size_t(i)].unchanged)
            positions << i;
    if (positions.isEmpty()) {
        allDone();
        return;
    }
    // Every node's work ends before the step does, failed or not: a rollback never races a
    // write still under way on another node.
    auto left = std::make_shared<int>(int(positions.size()));
    auto firstError = std::make_shared<std::optional<Error>>();
    for (int position : std::as_const(positions)) {
        perNode(position, [this, position, left, firstError, allDone, rollBackOnFailure](const Status &outcome) {
            if (isFinished())
                return;
            if (!outcome && !*firstError)
                *firstError = onNode(nodeConfig(position).id, outcome.error());
            if (--*left > 0)
                return;
            // Queued: ending the step closes the session, which must not happen inside the
            // signal of an agent call or ssh command that session owns.
            QTimer::singleShot(0, this, [this, firstError, allDone, rollBackOnFailure] {
                if (isFinished())
                    return;
                if (!*firstError)
                    allDone();
                else if (rollBackOnFailure)
                    failAndRollBack(**firstError, tr("Fix the cause, then run `mailmeshctl deploy-dovecot` again."));
                else
                    failStep(**firstError, nothingChangedAdvice());
            });
        });
    }
}

void DeployDovecotWorkflow::connectNodes()
{
    if (m_options.prefix.isEmpty() == m_options.packagesDir.isEmpty()) {
        failStep(nodeError(ErrorCode::BadRequest, QStringLiteral("give either --prefix DIR or --packages DIR")),
                 nothingChangedAdvice());
        return;
    }
    if (!m_options.prefix.isEmpty() && !m_options.prefix.startsWith(u'/')) {
        failStep(nodeError(ErrorCode::BadRequest,
                           QStringLiteral("--prefix %1 must be an absolute path on the nodes").arg(m_options.prefix)),
                 nothingChangedAdvice());
        return;
    }
    QList<NodeConfig> selected;
    for (int i = 0; i < m_cluster.nodes.size(); ++i) {
        if (!m_options.nodeIds.isEmpty() && !m_options.nodeIds.contains(m_cluster.nodes[i].id))
            continue;
        NodeState node;
        node.clusterIndex = i;
        node.before = m_cluster.nodes[i].dovecot;
        // The configuration stays where it is whatever binary reads it next.
        node.before.configFile = dovecotcontrol::configFile(node.before);
        node.details.insert(QStringLiteral("id"), m_cluster.nodes[i].id);
        m_nodes.push_back(node);
        selected << m_cluster.nodes[i];
    }
    for (const QString &id : std::as_const(m_options.nodeIds))
        if (!m_cluster.node(id)) {
            failStep(nodeError(ErrorCode::BadRequest, QStringLiteral("no node \"%1\" in the cluster").arg(id)),
                     tr("Name nodes by their id in the cluster file, or leave them out for every node."));
            return;
        }
    if (selected.isEmpty()) {
        failStep(nodeError(ErrorCode::BadRequest, QStringLiteral("the cluster has no nodes")),
                 tr("Add nodes with `mailmeshctl add-node` first."));
        return;
    }
    m_session = new ClusterSession(selected, m_monitorOptions, ClusterSession::Agent, this);
    connect(m_session, &ClusterSession::nodeOpened, this,
            [this](int index) { reportProgress({{}, m_session->node(index).id, 1, 1, -1, tr("connected")}); });
    connect(m_session, &ClusterSession::ready, this,
            [this] { completeStep(tr("%n node(s) reachable, agent running", nullptr, m_session->size())); });
    connect(m_session, &ClusterSession::failed, this, [this](const QString &, const Error &error) {
        if (!isFinished())
            failStep(error, tr("Nothing was changed. Check that the node is up and that `mailmeshctl add-node` settled "
                               "its host key, then run this command again."));
    });
    m_session->open();
}

void DeployDovecotWorkflow::detect()
{
    auto summary = std::make_shared<QStringList>();
    forEachNode([this, summary](int position, Done done) {
        detectNode(position, [this, position, summary, done](const Status &outcome) {
            if (outcome) {
                const NodeState &node = state(position);
                *summary << tr("%1: %2 %3, Dovecot %4 → %5")
                                .arg(nodeConfig(position).id, node.osId, node.osVersionId,
                                     node.current ? node.current->text : tr("none"),
                                     node.target ? node.target->text : QString());
            }
            done(outcome);
        });
    },
                [this, summary] {
                    summary->sort();
                    completeStep(summary->join(QStringLiteral("; ")));
                },
                false, false);
}

void DeployDovecotWorkflow::detectNode(int position, Done done)
{
    const NodeConfig &node = nodeConfig(position);
    QJsonObject params{{QStringLiteral("path"), node.mailRoot}, {QStringLiteral("skipInventory"), true},
                       {QStringLiteral("dovecotConfig"), state(position).before.configFile}};
    if (const QString binary = dovecotcontrol::dovecotBinary(node.dovecot); !binary.isEmpty())
        params.insert(QStringLiteral("dovecot"), binary);
    remote::AgentCall *call = m_session->agent(position)->call(QStringLiteral("probe"), params);
    m_runningCalls.append(call);
    connect(call, &QObject::destroyed, this, [this, call] { m_runningCalls.removeAll(call); });
    whenAgentFinished(call, this, [this, position, done](const Result<QJsonObject> &probe) {
        if (!m_session)
            return;
        if (!probe) {
            done(fail(probe.error()));
            return;
        }
        NodeState &node = state(position);
        const QJsonObject os = probe->value(QStringLiteral("os")).toObject();
        node.osId = os.value(QStringLiteral("id")).toString();
        node.osVersionId = os.value(QStringLiteral("versionId")).toString();
        node.architecture = probe->value(QStringLiteral("architecture")).toString();
        const QJsonObject dovecot = probe->value(QStringLiteral("dovecot")).toObject();
        if (dovecot.value(QStringLiteral("found")).toBool())
            node.current = DovecotVersion::parse(dovecot.value(QStringLiteral("version")).toString());
        node.details.insert(QStringLiteral("os"), QJsonObject{{QStringLiteral("id"), node.osId},
                                                              {QStringLiteral("versionId"), node.osVersionId},
                                                              {QStringLiteral("architecture"), node.architecture}});
        node.details.insert(QStringLiteral("currentVersion"), node.current ? node.current->text : QString());
        node.details.insert(QStringLiteral("currentCurOnlyBuild"), dovecot.value(QStringLiteral("curOnlyBuild")).toBool());

        if (packagesMode()) {
            detectPackages(position, done);
            return;
        }

        runOn(position, {targetBinary(), QStringLiteral("--version")}, {}, this,
                       [this, position, done](const Result<remote::SshCommand::Output> &version) {
                           if (!version) {
                               done(fail(ErrorCode::Unsupported,
                                         QStringLiteral("%1 holds no Dovecot this node can run: %2")
                                             .arg(m_options.prefix, QString::fromStdString(version.error().message))
                                             .toStdString()));
                               return;
                           }
                           NodeState &node = state(position);
                           node.target = DovecotVersion::parse(QString::fromUtf8(version->standardOutput));
                           if (!node.target || !node.target->isMailmeshBuild()) {
                               done(fail(ErrorCode::Unsupported,
                                         QStringLiteral("%1 is \"%2\", not the cur/-only build (its version carries "
                                                        "+mailmesh); build it with installers/dovecot/build-prefix.sh")
                                             .arg(targetBinary(), QString::fromUtf8(version->standardOutput).trimmed())
                                             .toStdString()));
                               return;
                           }
                           node.details.insert(QStringLiteral("targetVersion"), node.target->text);
                           if (node.current && DovecotVersion::compare(*node.target, *node.current) < 0) {
                               node.details.insert(QStringLiteral("downgrade"), true);
                               if (!m_options.allowDowngrade) {
                                   done(fail(ErrorCode::Unsupported,
                                             QStringLiteral("%1 is older than the running %2: a downgrade gives up the "
                                                            "security fixes of the newer release, and Dovecot may not "
                                                            "read index files a newer version wrote (they are rebuilt, "
                                                            "slowly, and clients may resync); pass --allow-downgrade if "
                                                            "you mean it")
                                                 .arg(node.target->numeric(), node.current->numeric())
                                                 .toStdString()));
                                   return;
                               }
                           }
                           // build-prefix.sh records when it had to build from an older Debian
                           // revision than the one installed: the same upstream numbers, fewer fixes.
                           runOn(position,
                                          {QStringLiteral("sh"), QStringLiteral("-c"),
                                           QStringLiteral("cat \"$1/MAILMESH-BUILD-INFO\" 2>/dev/null; true"),
                                           QStringLiteral("sh"), m_options.prefix},
                                          {}, this, [this, position, done](const Result<remote::SshCommand::Output> &info) {
                                              if (info) {
                                                  for (const QByteArray &line : info->standardOutput.split('\n'))
                                                      if (line.startsWith("warning="))
                                                          state(position).details.insert(
                                                              QStringLiteral("buildWarning"), QString::fromUtf8(line.mid(8)));
                                              }
                                              decideRoot(position, [this, position, done] { detectMaster(position, done); });
                                          });
                       });
    });
}

void DeployDovecotWorkflow::decideRoot(int position, std::function<void()> next)
{
    NodeState &node = state(position);
    if (packagesMode() || m_session->ssh(position)->loginUser() == QLatin1String("root")) {
        node.asRoot = packagesMode();
        next();
        return;
    }
    const QString confD = QFileInfo(node.before.configFile).path() + QStringLiteral("/conf.d");
    runNodeCommand(m_session->ssh(position), {QStringLiteral("test"), QStringLiteral("-w"), confD}, {}, this,
                   [this, position, next = std::move(next)](const Result<remote::SshCommand::Output> &writable) {
                       if (!m_session)
                           return;
                       state(position).asRoot = !writable;
                       state(position).details.insert(QStringLiteral("asRoot"), state(position).asRoot);
                       next();
                   });
}

void DeployDovecotWorkflow::detectPackages(int position, Done done)
{
    NodeState &node = state(position);
    const QStringList files = QDir(m_options.packagesDir).entryList({QStringLiteral("*.deb")}, QDir::Files);
    const auto selection = dovecotpackages::select(files, node.osId, node.osVersionId, node.architecture);
    if (!selection) {
        done(fail(selection.error()));
        return;
    }
    const QString coreFile = *std::find_if(selection->files.begin(), selection->files.end(), [](const QString &file) {
        return dovecotpackages::packageOf(file) == QLatin1String("dovecot-core");
    });
    if (!m_controlHeads.contains(coreFile)) {
        const Result<QByteArray> head = dovecotpackages::controlHead(QDir(m_options.packagesDir).filePath(coreFile));
        if (!head) {
            done(fail(head.error()));
            return;
        }
        m_controlHeads.insert(coreFile, *head);
    }
    remote::SshCommand::Options control;
    control.input = m_controlHeads.value(coreFile);
    // File names leave the epoch out ("1:"): the version that counts is the one in the package.
    runOn(position, {QStringLiteral("dpkg-deb"), QStringLiteral("-f"), QStringLiteral("/dev/stdin"), QStringLiteral("Version")},
          control, this, [this, position, done, selection = *selection, coreFile](const Result<remote::SshCommand::Output> &read) {
              if (!read) {
                  done(fail(ErrorCode::Unsupported, QStringLiteral("the node's dpkg-deb cannot read %1: %2")
                                                        .arg(coreFile, QString::fromStdString(read.error().message))
                                                        .toStdString()));
                  return;
              }
              const QString text = QString::fromUtf8(read->standardOutput).trimmed();
              const std::optional<DebianVersion> version = DebianVersion::parse(text);
              if (!version || !version->isMailmeshBuild() || version->toString().section(u':', -1) != selection.version) {
                  done(fail(ErrorCode::InvalidData,
                            QStringLiteral("%1 says it is version \"%2\", which does not match its file name")
                                .arg(coreFile, text)
                                .toStdString()));
                  return;
              }
              runOn(position, dovecotpackages::queryInstalledCommand(), {}, this,
                    [this, position, done, selection, version = *version](const Result<remote::SshCommand::Output> &query) {
                        if (!query) {
                            done(fail(query.error()));
                            return;
                        }
                        NodeState &node = state(position);
                        node.packagesBefore = dovecotpackages::NodePackages::parse(query->standardOutput);
                        QJsonObject installed;
                        for (auto it = node.packagesBefore.installed.cbegin(); it != node.packagesBefore.installed.cend(); ++it)
                            installed.insert(it.key(), it.value() + (node.packagesBefore.held.contains(it.key())
                                                                         ? QStringLiteral(" (held)")
                                                                         : QString()));
                        node.details.insert(QStringLiteral("packagesBefore"), installed);
                        const auto plan = dovecotpackages::planInstall(selection.files, version, node.packagesBefore);
                        if (!plan) {
                            done(fail(plan.error()));
                            return;
                        }
                        node.plan = *plan;
                        node.details.insert(QStringLiteral("packages"), QJsonArray::fromStringList(plan->files));
                        node.details.insert(QStringLiteral("packageVersion"), version.toString());
                        node.details.insert(QStringLiteral("packagesUnchanged"), plan->unchanged);
                        // What `dovecot --version` of this build prints, less the git id.
                        const QString upstream = version.upstream();
                        node.target = DovecotVersion::parse(upstream.left(upstream.indexOf(u'+')) + QStringLiteral("+mailmesh")
                                                            + version.toString().section(QStringLiteral("+mailmesh"), 1));
                        node.details.insert(QStringLiteral("targetVersion"), node.target ? node.target->text : QString());
                        if (plan->downgrade) {
                            node.details.insert(QStringLiteral("downgrade"), true);
                            if (!m_options.allowDowngrade) {
                                done(fail(ErrorCode::Unsupported, dovecotpackages::downgradeRefusal(*plan).toStdString()));
                                return;
                            }
                        }
                        readDistributionVersion(position, [this, position, done](const Status &) {
                            detectMaster(position, done);
                        });
                    });
          });
}

// Whether the node's distribution offers a newer Dovecot than the patched build: the fixes
// in it are not in our packages until the patch is rebuilt on top of it. A node whose apt
// cannot answer is reported, never failed for it.
void DeployDovecotWorkflow::readDistributionVersion(int position, Done done)
{
    runOn(position, {QStringLiteral("env"), QStringLiteral("LC_ALL=C"), QStringLiteral("apt-cache"), QStringLiteral("policy"),
                     QStringLiteral("dovecot-core")},
          {}, this, [this, position, done](const Result<remote::SshCommand::Output> &read) {
              NodeState &node = state(position);
              const std::optional<AptPolicy> policy = read ? AptPolicy::parse(read->standardOutput) : std::nullopt;
              if (!policy) {
                  node.details.insert(QStringLiteral("distributionVersion"),
                                      QStringLiteral("unknown: %1").arg(read ? QStringLiteral("unreadable apt-cache policy output")
                                                                             : QString::fromStdString(read.error().message)));
                  done({});
                  return;
              }
              const std::optional<DebianVersion> offered = policy->newestOffered();
              node.details.insert(QStringLiteral("distributionVersion"), offered ? offered->toString() : QString());
              node.newerDistributionVersion = newerDistributionVersion(*policy, node.plan->version);
              node.details.insert(QStringLiteral("securityUpdate"), node.newerDistributionVersion
                                                                        ? node.newerDistributionVersion->toString()
                                                                        : QString());
              if (node.newerDistributionVersion)
                  addWarning(tr("%1: a security update is waiting (%2; the packages are built from %3); rebuild the patch "
                                "with installers/dovecot/build-debs.sh")
                                 .arg(nodeConfig(position).id, node.newerDistributionVersion->toString(),
                                      node.plan->version.withoutMailmeshSuffix().toString()));
              done({});
          });
}

// The running master's pid and binary: which Dovecot really serves, whatever is installed.
void DeployDovecotWorkflow::detectMaster(int position, Done done)
{
    const QStringList argv{QStringLiteral("sh"), QStringLiteral("-c"),
                           QStringLiteral("b=$(\"$1\" -c \"$2\" -h base_dir) || exit 1; p=$(cat \"$b/master.pid\" 2>/dev/null) "
                                          "|| exit 0; echo \"$p\"; readlink \"/proc/$p/exe\" || true"),
                           QStringLiteral("sh"), targetTool(QStringLiteral("doveconf")),
                           state(position).before.configFile};
    runOn(position, argv, {}, this,
                   [this, position, done](const Result<remote::SshCommand::Output> &read) {
                       NodeState &node = state(position);
                       node.masterPid = 0;
                       node.runningBinary.clear();
                       node.runningReplaced = false;
                       if (read) {
                           const QList<QByteArray> lines = read->standardOutput.trimmed().split('\n');
                           node.masterPid = lines.value(0).trimmed().toLongLong();
                           node.runningBinary = QString::fromUtf8(lines.value(1).trimmed());
                           // An upgrade replaced the file since the master started.
                           node.runningReplaced = node.runningBinary.endsWith(QLatin1String(" (deleted)"));
                           node.runningBinary.remove(QStringLiteral(" (deleted)"));
                       }
                       node.details.insert(QStringLiteral("masterPid"), node.masterPid);
                       node.details.insert(QStringLiteral("runningBinary"), node.runningBinary);
                       done({});
                   });
}

void DeployDovecotWorkflow::render()
{
    auto summary = std::make_shared<QStringList>();
    forEachNode([this, summary](int position, Done done) {
        renderNode(position, [this, position, summary, done](const Status &outcome) {
            if (outcome) {
                const NodeState &node = state(position);
                *summary << (node.unchanged ? tr("%1: unchanged").arg(nodeConfig(position).id)
                                            : node.previousSnippet == node.rendered && node.hadSnippet
                                                  ? tr("%1: snippet as it is, Dovecot to restart").arg(nodeConfig(position).id)
                                                  : tr("%1: snippet to write").arg(nodeConfig(position).id));
            }
            done(outcome);
        });
    },
                [this, summary] {
                    summary->sort();
                    completeStep(summary->join(QStringLiteral("; ")));
                },
                false, false);
}

void DeployDovecotWorkflow::renderNode(int position, Done done)
{
    // Where the Dovecot the node runs now keeps its sockets and state: the snippet keeps them.
    const QString currentDoveconf = state(position).before.prefix.isEmpty()
                                        ? QStringLiteral("doveconf")
                                        : state(position).before.prefix + QStringLiteral("/bin/doveconf");
    runOn(position,
          {currentDoveconf, QStringLiteral("-c"), state(position).before.configFile, QStringLiteral("-h"),
           QStringLiteral("base_dir"), QStringLiteral("state_dir")},
          {}, this, [this, position, done](const Result<remote::SshCommand::Output> &dirs) {
              const QList<QByteArray> lines = dirs ? dirs->standardOutput.trimmed().split('\n') : QList<QByteArray>();
              state(position).runtimeDirs.clear();
              if (lines.size() == 2) {
                  state(position).runtimeDirs.insert(QStringLiteral("base_dir"), QString::fromUtf8(lines[0]).trimmed());
                  state(position).runtimeDirs.insert(QStringLiteral("state_dir"), QString::fromUtf8(lines[1]).trimmed());
              }
              renderSnippet(position, done);
          });
}

void DeployDovecotWorkflow::renderSnippet(int position, Done done)
{
    const QString confFile = state(position).before.configFile;
    runOn(
        position,
        // Read as the target build reads it: it knows maildir_cur_only, which a stock doveconf
        // rejects once migrate (or an earlier deploy) wrote 99-mailmesh-cur-only.conf.
        {targetTool(QStringLiteral("doveconf")), QStringLiteral("-c"), confFile, QStringLiteral("-h"),
         QStringLiteral("mail_location")},
        {}, this, [this, position, done](const Result<remote::SshCommand::Output> &location) {
            if (!location) {
                done(fail(location.error()));
                return;
            }
            state(position).mailLocation = QString::fromUtf8(location->standardOutput).trimmed();
            const QString curOnlyPath = dovecotcontrol::curOnlySnippetPath(state(position).before);
            runOn(
                position,
                {QStringLiteral("sh"), QStringLiteral("-c"),
                 QStringLiteral("if [ -e \"$2\" ]; then grep -q '^maildir_cur_only *= *yes' \"$2\" && echo curonly=yes "
                                "|| echo curonly=no; else echo curonly=absent; fi; "
                                "if [ -e \"$1\" ]; then echo snippet=present; cat \"$1\"; else echo snippet=absent; fi"),
                 QStringLiteral("sh"), snippetPath(position), curOnlyPath},
                {}, this, [this, position, done](const Result<remote::SshCommand::Output> &read) {
                    if (!read) {
                        done(fail(read.error()));
                        return;
                    }
                    NodeState &node = state(position);
                    QByteArray output = read->standardOutput;
                    const qsizetype first = output.indexOf('\n');
                    const qsizetype second = output.indexOf('\n', first + 1);
                    const QByteArray curOnly = output.left(first);
                    node.curOnlyExists = curOnly != "curonly=absent";
                    node.curOnlyOn = curOnly == "curonly=yes";
                    node.hadSnippet = output.mid(first + 1, second - first - 1) == "snippet=present";
                    node.previousSnippet = node.hadSnippet ? output.mid(second + 1) : QByteArray();

                    Result<QByteArray> rendered =
                        dovecotsnippet::renderFor(node.target->line(), node.mailLocation, node.runtimeDirs);
                    if (!rendered) {
                        done(fail(rendered.error()));
                        return;
                    }
                    node.rendered = *rendered;
                    const std::optional<dovecotsnippet::MailLocation> parsed =
                        dovecotsnippet::MailLocation::parse(node.mailLocation);
                    const bool separateIndexes = parsed && parsed->hasSeparateIndexes();
                    // Packages keep their path across versions: the build is told by what dpkg
                    // has installed and by the running master's binary not being replaced since.
                    const bool runsTheTarget =
                        packagesMode() ? node.plan->unchanged && !node.runningReplaced && node.current
                                             && node.current->isMailmeshBuild()
                                             && node.current->numeric() == node.target->numeric()
                                       : node.current && node.current->text == node.target->text;
                    node.unchanged = node.hadSnippet && node.previousSnippet == node.rendered && node.curOnlyExists
                                     && node.runningBinary == targetBinary() && runsTheTarget;
                    node.details.insert(QStringLiteral("snippet"), snippetPath(position));
                    node.details.insert(QStringLiteral("mailLocation"), node.mailLocation);
                    node.details.insert(QStringLiteral("indexes"),
                                        separateIndexes
                                            ? tr("kept under %1 (INDEX= of mail_location)")
                                                  .arg(parsed->options.value(QStringLiteral("INDEX")))
                                            : tr("left in the Maildir: mail_location has no INDEX=, and Syncthing "
                                                 "ignores dovecot.index* there"));
                    node.details.insert(QStringLiteral("dovecotLine"), node.target->line());
                    node.details.insert(QStringLiteral("diff"),
                                        dovecotsnippet::lineDiff(node.previousSnippet, node.rendered));
                    node.details.insert(QStringLiteral("curOnlySnippet"),
                                        node.curOnlyExists ? (node.curOnlyOn ? QStringLiteral("on") : QStringLiteral("off"))
                                                           : QStringLiteral("to write, off"));
                    node.details.insert(QStringLiteral("unchanged"), node.unchanged);
                    done({});
                });
        });
}

void DeployDovecotWorkflow::configure()
{
    forEachNode([this](int position, Done done) {
        NodeState &node = state(position);
        auto writeCurOnly = [this, position, done] {
            NodeState &node = state(position);
            if (node.curOnlyExists) {
                done({});
                return;
            }
            remote::SshCommand::Options input;
            input.input = dovecotcontrol::curOnlySnippet(false);
            node.curOnlyWritten = true;
            runOn(position, dovecotcontrol::writeFileAtomically(dovecotcontrol::curOnlySnippetPath(node.before)),
                           input, this, [done](const Result<remote::SshCommand::Output> &written) {
                               done(written ? Status{} : fail(written.error()));
                           });
        };
        if (node.hadSnippet && node.previousSnippet == node.rendered) {
            writeCurOnly();
            return;
        }
        auto write = [this, position, writeCurOnly, done] {
            NodeState &node = state(position);
            remote::SshCommand::Options input;
            input.input = node.rendered;
            node.snippetWritten = true;
            runOn(position, dovecotcontrol::writeFileAtomically(snippetPath(position)), input, this,
                           [writeCurOnly, done](const Result<remote::SshCommand::Output> &written) {
                               if (!written) {
                                   done(fail(written.error()));
                                   return;
                               }
                               writeCurOnly();
                           });
        };
        if (!node.hadSnippet) {
            write();
            return;
        }
        runOn(position,
                       {QStringLiteral("cp"), QStringLiteral("-p"), snippetPath(position),
                        snippetPath(position) + QLatin1String(dovecotsnippet::kPreviousSuffix)},
                       {}, this, [write, done](const Result<remote::SshCommand::Output> &saved) {
                           if (!saved) {
                               done(fail(saved.error()));
                               return;
                           }
                           write();
                       });
    },
                [this] {
                    completeStep(changingNodes().isEmpty()
                                     ? tr("nothing to write: every node is unchanged")
                                     : tr("written on %1; the running Dovecots still use their old configuration")
                                           .arg(changingNodes().join(QStringLiteral(", "))));
                },
                true, true);
}

void DeployDovecotWorkflow::validate()
{
    forEachNode([this](int position, Done done) {
        runOn(position,
                       {targetTool(QStringLiteral("doveconf")), QStringLiteral("-c"), state(position).before.configFile,
                        QStringLiteral("-n")},
                       {}, this, [done](const Result<remote::SshCommand::Output> &checked) {
                           // A rejected configuration fails the run (exit 3) after the rollback.
                           done(checked ? Status{}
                                        : fail(ErrorCode::IoError, "the target doveconf rejects the configuration: "
                                                                       + checked.error().message));
                       });
    },
                [this] {
                    completeStep(changingNodes().isEmpty()
                                     ? tr("nothing to validate: every node is unchanged")
                                     : tr("%1's doveconf accepts the configuration on %2")
                                           .arg(targetBinary(), changingNodes().join(QStringLiteral(", "))));
                },
                true, true);
}

void DeployDovecotWorkflow::restartNode(int position, const QString &prefix, Done done)
{
    const NodeConfig &config = nodeConfig(position);
    const QStringList environment{QStringLiteral("env"),
                                  QStringLiteral("MAILMESH_DOVECOT_PREFIX=") + (prefix.isEmpty() ? QStringLiteral("/usr") : prefix),
                                  QStringLiteral("MAILMESH_DOVECOT_CONFIG=") + state(position).before.configFile};
    auto run = [this, position, done](const QList<QStringList> &commands, bool systemd) {
        state(position).restarted = true;
        // systemd's side (drop-ins under /etc, systemctl) is root's, whoever logs in.
        const auto runCommands = [this, position, systemd](const QList<QStringList> &argvs, Done finished) {
            if (systemd)
                runNodeCommands(m_session->ssh(position), argvs, asRoot(), this, [this, finished](const Status &result) {
                    if (m_session)
                        finished(result);
                });
            else
                runAllOn(position, argvs, finished);
        };
        runCommands(commands, [this, position, done](const Status &restarted) {
            if (!restarted) {
                done(restarted);
                return;
            }
            waitForImap(position, m_options.imapTimeoutMs, done);
        });
    };
    if (!config.dovecot.restartCommand.isEmpty()) {
        QList<QStringList> commands;
        for (const QStringList &argv : config.dovecot.restartCommand)
            commands << environment + argv;
        run(commands, false);
        return;
    }
    runOn(position, {QStringLiteral("test"), QStringLiteral("-d"), QStringLiteral("/run/systemd/system")}, {}, this,
                   [this, position, prefix, run, done](const Result<remote::SshCommand::Output> &systemd) {
                       if (!systemd) {
                           done(fail(ErrorCode::Unsupported,
                                     QStringLiteral("the node runs no systemd and has no Dovecot restart command; add "
                                                    "one with `mailmeshctl add-node %1 ... --dovecot-restart CMD` (it "
                                                    "gets the prefix to start in $MAILMESH_DOVECOT_PREFIX)")
                                         .arg(nodeConfig(position).id)
                                         .toStdString()));
                           return;
                       }
                       run(systemdRestart(position, prefix), true);
                   });
}

QList<QStringList> DeployDovecotWorkflow::systemdRestart(int position, const QString &prefix) const
{
    // Debian's dovecot.service starts /usr/sbin/dovecot (Type=notify): a build in another prefix
    // runs under the same unit through a drop-in, removed again when the packaged one returns.
    const QString dropIn = QStringLiteral("/etc/systemd/system/dovecot.service.d/90-mailmesh-prefix.conf");
    const QStringList restart{QStringLiteral("systemctl"), QStringLiteral("restart"), QStringLiteral("dovecot")};
    if (prefix.isEmpty() || prefix == QLatin1String("/usr"))
        return {{QStringLiteral("sh"), QStringLiteral("-c"),
                 QStringLiteral("if [ -e \"$1\" ]; then rm -f \"$1\" && systemctl daemon-reload; fi"),
                 QStringLiteral("sh"), dropIn},
                restart};
    const QString config = m_nodes[std::size_t(position)].before.configFile;
    const QString content =
        QStringLiteral("# Written by Mailmesh (mailmeshctl deploy-dovecot): Dovecot from %1. Removed when the packaged\n"
                       "# Dovecot comes back (deploy-dovecot --packages, or a rollback).\n"
                       "[Service]\n"
                       "Type=simple\n" // a prefix build may lack systemd's notify support
                       "ExecStart=\n"
                       "ExecStart=%1/sbin/dovecot -F -c %2\n"
                       "ExecReload=\n"
                       "ExecReload=%1/bin/doveadm -c %2 reload\n"
                       "ExecStop=\n"
                       "ExecStop=%1/bin/doveadm -c %2 stop\n")
            .arg(prefix, config);
    return {{QStringLiteral("sh"), QStringLiteral("-c"),
             QStringLiteral("mkdir -p \"${1%/*}\" && printf '%s' \"$2\" > \"$1.mailmesh-tmp\" && mv -f \"$1.mailmesh-tmp\" \"$1\""),
             QStringLiteral("sh"), dropIn, content},
            {QStringLiteral("systemctl"), QStringLiteral("daemon-reload")},
            restart};
}

void DeployDovecotWorkflow::waitForImap(int position, int timeoutMs, Done done)
{
    if (!m_session)
        return;
    const quint16 port = quint16(nodeConfig(position).dovecot.imapPort);
    m_session->ssh(position)->addForward(QStringLiteral("127.0.0.1"), port, this, [this, position, timeoutMs, done](Result<quint16> local) {
        if (!m_session)
            return;
        if (!local) {
            done(fail(local.error()));
            return;
        }
        auto clock = std::make_shared<QElapsedTimer>();
        clock->start();
        auto attempt = std::make_shared<std::function<void()>>();
        const quint16 localPort = *local;
        const auto stop = [this, position, localPort, attempt] {
            *attempt = nullptr; // breaks the cycle
            if (m_session)
                m_session->ssh(position)->removeForward(localPort);
        };
        *attempt = [this, position, timeoutMs, done, clock, attempt, localPort, stop] {
            imapCapability(localPort, this, 5000,
                           [this, position, timeoutMs, done, clock, attempt, stop](const Result<QString> &capability) {
                               if (!m_session)
                                   return;
                               if (capability && capability->contains(QLatin1String("IMAP4rev1"))) {
                                   stop();
                                   state(position).details.insert(QStringLiteral("imapCapability"), *capability);
                                   done({});
                                   return;
                               }
                               if (clock->elapsed() > timeoutMs) {
                                   stop();
                                   done(fail(ErrorCode::Unreachable,
                                             QStringLiteral("IMAP on port %1 did not answer CAPABILITY with IMAP4rev1 "
                                                            "within %2 s (%3)")
                                                 .arg(nodeConfig(position).dovecot.imapPort)
                                                 .arg(timeoutMs / 1000)
                                                 .arg(capability ? *capability
                                                                 : QString::fromStdString(capability.error().message))
                                                 .toStdString()));
                                   return;
                               }
                               QTimer::singleShot(300, this, [attempt] {
                                   if (*attempt)
                                       (*attempt)();
                               });
                           });
        };
        (*attempt)();
    });
}

void DeployDovecotWorkflow::runOn(int position, const QStringList &argv, const remote::SshCommand::Options &options,
                                  QObject *context, std::function<void(const Result<remote::SshCommand::Output> &)> done)
{
    // After the workflow ended (a node dropped its connection) nothing more is run or reported.
    if (!m_session)
        return;
    // A system package is installed, configured, checked and restarted as root (/etc/dovecot,
    // the master's /proc entry): directly, or through sudo -n for another login user.
    remote::SshCommand::Options effective = options;
    if ((packagesMode() || state(position).asRoot) && effective.runAs.isEmpty())
        effective.runAs = QStringLiteral("root");
    runNodeCommand(m_session->ssh(position), argv, effective, context,
                   [this, done = std::move(done)](const Result<remote::SshCommand::Output> &result) {
                       if (m_session)
                           done(result);
                   });
}

void DeployDovecotWorkflow::runAllOn(int position, const QList<QStringList> &commands, Done done)
{
    if (!m_session)
        return;
    runNodeCommands(m_session->ssh(position), commands,
                    packagesMode() || state(position).asRoot ? asRoot() : remote::SshCommand::Options{}, this,
                    [this, done = std::move(done)](const Status &result) {
        if (m_session)
            done(result);
    });
}

void DeployDovecotWorkflow::restart()
{
    QList<int> positions;
    for (int i = 0; i < int(m_nodes.size()); ++i)
        if (!m_nodes[std::size_t(i)].unchanged)
            positions << i;
    auto next = std::make_shared<std::function<void(qsizetype)>>();
    *next = [this, positions, next](qsizetype at) {
        if (at == positions.size()) {
            // Not `*next = nullptr` here: that would destroy the function running now.
            QTimer::singleShot(0, this, [next] { *next = nullptr; });
            QStringList restarted;
            for (int position : positions)
                restarted << nodeConfig(position).id;
            completeStep(restarted.isEmpty() ? tr("nothing to restart: every node is unchanged")
                                             : tr("restarted on %1: %2").arg(targetBinary(), restarted.join(QStringLiteral(", "))));
            return;
        }
        const int position = positions[at];
        reportProgress({{}, nodeConfig(position).id, at, positions.size(), -1, tr("restarting")});
        restartNode(position, m_options.prefix, [this, position, at, next](const Status &outcome) {
            if (isFinished())
                return;
            if (!outcome) {
                *next = nullptr;
                failAndRollBack(onNode(nodeConfig(position).id, outcome.error()),
                                tr("Fix the cause (the restart command, the node's Dovecot log), then run "
                                   "`mailmeshctl deploy-dovecot` again."));
                return;
            }
            NodeState &node = state(position);
            DovecotFacts &facts = nodeConfig(position).dovecot;
            facts.prefix = m_options.prefix;
            facts.configFile = node.before.configFile;
            facts.version = node.target->text;
            facts.curOnlyBuild = node.target->isMailmeshBuild();
            facts.curOnlyEnabled = node.curOnlyOn;
            (*next)(at + 1);
        });
    };
    (*next)(0);
}

void DeployDovecotWorkflow::verify()
{
    auto summary = std::make_shared<QStringList>();
    forEachNode([this, summary](int position, Done done) {
        // The master must now be the target build, whatever the restart command started.
        detectMaster(position, [this, position, summary, done](const Status &) {
            NodeState &node = state(position);
            if (node.runningBinary != targetBinary() || node.runningReplaced) {
                done(fail(ErrorCode::Conflict,
                          QStringLiteral("the running Dovecot master (pid %1) is \"%2\", not %3; the restart command "
                                         "starts another binary")
                              .arg(node.masterPid)
                              .arg(node.runningBinary.isEmpty() ? QStringLiteral("unknown")
                                                                : node.runningBinary
                                                                      + (node.runningReplaced ? QStringLiteral(" (replaced on disk since it started)")
                                                                                              : QString()),
                                   targetBinary())
                              .toStdString()));
                return;
            }
            waitForImap(position, 10'000, [this, position, summary, done](const Status &imap) {
                if (!imap) {
                    done(imap);
                    return;
                }
                if (m_options.checkUser.isEmpty()) {
                    *summary << tr("%1: %2, IMAP answers").arg(nodeConfig(position).id, state(position).target->text);
                    done({});
                    return;
                }
                runOn(position,
                               {targetTool(QStringLiteral("doveadm")), QStringLiteral("-c"),
                                state(position).before.configFile, QStringLiteral("mailbox"), QStringLiteral("status"),
                                QStringLiteral("-u"), m_options.checkUser, QStringLiteral("messages"), QStringLiteral("INBOX")},
                               {}, this, [this, position, summary, done](const Result<remote::SshCommand::Output> &status) {
                                   if (!status) {
                                       done(fail(status.error()));
                                       return;
                                   }
                                   const QString line = QString::fromUtf8(status->standardOutput).trimmed();
                                   const qint64 messages = line.section(u'=', 1).toLongLong();
                                   state(position).details.insert(QStringLiteral("checkUserMessages"), messages);
                                   *summary << tr("%1: %2, IMAP answers, %3's INBOX holds %4")
                                                   .arg(nodeConfig(position).id, state(position).target->text,
                                                        m_options.checkUser,
                                                        tr("%n message(s)", nullptr, int(messages)));
                                   done({});
                               });
            });
        });
    },
                [this, summary] {
                    summary->sort();
                    completeStep(summary->join(QStringLiteral("; ")));
                },
                false, true);
}

void DeployDovecotWorkflow::checkUpdates()
{
    if (packagesMode()) {
        // Read at detect, before anything changed: the repositories do not move during a run.
        QStringList waiting;
        for (const NodeState &node : m_nodes)
            if (node.newerDistributionVersion)
                waiting << tr("%1: %2").arg(m_cluster.nodes[node.clusterIndex].id, node.newerDistributionVersion->toString());
        completeStep(waiting.isEmpty()
                         ? tr("no node's repositories offer a newer Dovecot than the held build (as of their last apt-get "
                              "update)")
                         : tr("a security update is waiting (%1); rebuild the patch with installers/dovecot/build-debs.sh")
                               .arg(waiting.join(QStringLiteral("; "))));
        return;
    }
    // Only package installs have an apt candidate to compare with the held build.
    skipStep(tr("prefix builds are not managed by apt: nothing to compare; rebuild the prefix with "
                "installers/dovecot/build-prefix.sh when Debian publishes a Dovecot fix"));
}

void DeployDovecotWorkflow::install()
{
    // One node at a time, like the restart: on a node with systemd the packages' own scripts
    // restart Dovecot, so at most one node's IMAP is down at once.
    QList<int> positions;
    for (int i = 0; i < int(m_nodes.size()); ++i)
        positions << i;
    auto installed = std::make_shared<QStringList>();
    auto next = std::make_shared<std::function<void(qsizetype)>>();
    *next = [this, positions, next, installed](qsizetype at) {
        if (at == positions.size()) {
            QTimer::singleShot(0, this, [next] { *next = nullptr; });
            completeStep(installed->isEmpty() ? tr("nothing to install: every node has these packages, held")
                                              : tr("installed and held on %1").arg(installed->join(QStringLiteral(", "))));
            return;
        }
        const int position = positions[at];
        if (state(position).plan->unchanged) {
            (*next)(at + 1);
            return;
        }
        reportProgress({{}, nodeConfig(position).id, at, positions.size(), -1, tr("installing")});
        installNode(position, [this, position, at, next, installed](const Status &outcome) {
            if (isFinished())
                return;
            if (!outcome) {
                *next = nullptr;
                failAndRollBack(onNode(nodeConfig(position).id, outcome.error()),
                                tr("Fix the cause (apt's message above), then run `mailmeshctl deploy-dovecot` again."));
                return;
            }
            *installed << nodeConfig(position).id;
            (*next)(at + 1);
        });
    };
    (*next)(0);
}

void DeployDovecotWorkflow::installNode(int position, Done done)
{
    stagePackages(position, [this, position, done](const Status &staged) {
        if (!staged) {
            removeStagingDir(position, [done, staged](const Status &) { done(staged); });
            return;
        }
        NodeState &node = state(position);
        node.packagesTouched = true;
        runOn(position, dovecotpackages::installCommand(node.stagingDir, *node.plan, node.packagesBefore), asRoot(), this,
              [this, position, done](const Result<remote::SshCommand::Output> &installed) {
                  removeStagingDir(position, [this, position, done, installed](const Status &) {
                      if (!installed) {
                          done(fail(installed.error()));
                          return;
                      }
                      runOn(position, QStringList{QStringLiteral("apt-mark"), QStringLiteral("hold")} + state(position).plan->packages,
                            asRoot(), this, [this, position, done](const Result<remote::SshCommand::Output> &held) {
                                if (!held) {
                                    done(fail(held.error()));
                                    return;
                                }
                                checkInstalled(position, done);
                            });
                  });
              });
    });
}

// Uploads the plan's files into a fresh private directory on the node and checks that what
// arrived is byte for byte what was sent.
void DeployDovecotWorkflow::stagePackages(int position, Done done)
{
    runOn(position, {QStringLiteral("mktemp"), QStringLiteral("-d"), QStringLiteral("/tmp/mailmesh-debs.XXXXXXXX")}, asRoot(),
          this, [this, position, done](const Result<remote::SshCommand::Output> &made) {
              if (!made) {
                  done(fail(made.error()));
                  return;
              }
              const QString dir = QString::fromUtf8(made->standardOutput).trimmed();
              if (!dir.startsWith(QLatin1String("/tmp/mailmesh-debs.")) || dir.contains(u'\n')) {
                  done(fail(ErrorCode::InvalidData, QStringLiteral("mktemp answered \"%1\"").arg(dir).toStdString()));
                  return;
              }
              state(position).stagingDir = dir;
              auto hashes = std::make_shared<QMap<QString, QByteArray>>();
              auto upload = std::make_shared<std::function<void(qsizetype)>>();
              *upload = [this, position, done, dir, hashes, upload](qsizetype at) {
                  const QStringList files = state(position).plan->files;
                  if (at == files.size()) {
                      QTimer::singleShot(0, this, [upload] { *upload = nullptr; });
                      QStringList argv{QStringLiteral("sha256sum"), QStringLiteral("--")};
                      for (const QString &file : files)
                          argv << dir + u'/' + file;
                      runOn(position, argv, asRoot(), this, [done, dir, hashes](const Result<remote::SshCommand::Output> &sums) {
                          if (!sums) {
                              done(fail(sums.error()));
                              return;
                          }
                          QStringList mismatched;
                          for (auto it = hashes->cbegin(); it != hashes->cend(); ++it) {
                              const QByteArray expected = it.value() + "  " + (dir + u'/' + it.key()).toUtf8();
                              if (!sums->standardOutput.split('\n').contains(expected))
                                  mismatched << it.key();
                          }
                          done(mismatched.isEmpty()
                                   ? Status{}
                                   : fail(ErrorCode::IoError,
                                          QStringLiteral("the upload of %1 arrived damaged (sha256 differs)")
                                              .arg(mismatched.join(QStringLiteral(", ")))
                                              .toStdString()));
                      });
                      return;
                  }
                  QFile file(QDir(m_options.packagesDir).filePath(files[at]));
                  if (!file.open(QIODevice::ReadOnly)) {
                      *upload = nullptr;
                      done(fail(ErrorCode::IoError, file.errorString().toStdString(), file.fileName().toStdString()));
                      return;
                  }
                  QByteArray content = file.readAll();
                  hashes->insert(files[at], QCryptographicHash::hash(content, QCryptographicHash::Sha256).toHex());
                  reportProgress({{}, nodeConfig(position).id, at, files.size(), -1, tr("uploading %1").arg(files[at])});
                  runOn(position,
                        {QStringLiteral("sh"), QStringLiteral("-c"), QStringLiteral("umask 077 && cat > \"$1\""),
                         QStringLiteral("sh"), dir + u'/' + files[at]},
                        asRoot(std::move(content)), this,
                        [done, at, upload](const Result<remote::SshCommand::Output> &written) {
                            if (!written) {
                                *upload = nullptr;
                                done(fail(written.error()));
                                return;
                            }
                            (*upload)(at + 1);
                        });
              };
              (*upload)(0);
          });
}

void DeployDovecotWorkflow::removeStagingDir(int position, Done done)
{
    const QString dir = state(position).stagingDir;
    if (dir.isEmpty() || !m_session) {
        done({});
        return;
    }
    runOn(position, {QStringLiteral("rm"), QStringLiteral("-rf"), QStringLiteral("--"), dir}, asRoot(), this,
          [this, position, done](const Result<remote::SshCommand::Output> &removed) {
              if (removed)
                  state(position).stagingDir.clear();
              done(removed ? Status{} : fail(removed.error()));
          });
}

// dpkg must now hold the plan's packages at the target version, on hold.
void DeployDovecotWorkflow::checkInstalled(int position, Done done)
{
    runOn(position, dovecotpackages::queryInstalledCommand(), {}, this,
          [this, position, done](const Result<remote::SshCommand::Output> &query) {
              if (!query) {
                  done(fail(query.error()));
                  return;
              }
              NodeState &node = state(position);
              const dovecotpackages::NodePackages now = dovecotpackages::NodePackages::parse(query->standardOutput);
              QStringList wrong;
              QJsonObject installed;
              for (const QString &package : std::as_const(node.plan->packages)) {
                  const std::optional<DebianVersion> version = DebianVersion::parse(now.installed.value(package));
                  installed.insert(package, now.installed.value(package) + (now.held.contains(package) ? QStringLiteral(" (held)")
                                                                                                      : QString()));
                  if (!version || !(*version == node.plan->version) || !now.held.contains(package))
                      wrong << QStringLiteral("%1 is %2").arg(package, installed.value(package).toString());
              }
              node.details.insert(QStringLiteral("packagesInstalled"), installed);
              done(wrong.isEmpty() ? Status{}
                                   : fail(ErrorCode::Conflict, QStringLiteral("after the install, %1 (expected %2, held)")
                                                                   .arg(wrong.join(QStringLiteral(", ")), node.plan->version.toString())
                                                                   .toStdString()));
          });
}

// Back to the versions and holds the node had before this run, then checked with dpkg-query.
void DeployDovecotWorkflow::restorePackages(int position, Done done)
{
    removeStagingDir(position, [this, position, done](const Status &) {
        if (!m_session)
            return;
        NodeState &node = state(position);
        QList<QStringList> commands;
        const QList<QStringList> holds = dovecotpackages::restoreHoldCommands(node.packagesBefore, *node.plan);
        for (const QStringList &command : holds)
            if (command.value(1) == QLatin1String("unhold"))
                commands << command;
        if (const QStringList restore = dovecotpackages::restoreCommand(node.packagesBefore, *node.plan); !restore.isEmpty())
            commands << restore;
        for (const QStringList &command : holds)
            if (command.value(1) == QLatin1String("hold"))
                commands << command;
        const auto manual = [this, position] {
            const NodeState &node = state(position);
            return dovecotpackages::manualRestoreAdvice(node.packagesBefore, *node.plan);
        };
        runNodeCommands(m_session->ssh(position), commands, asRoot(), this, [this, position, done, manual](const Status &ran) {
            if (!m_session)
                return;
            if (!ran) {
                done(fail(ErrorCode::IoError, QStringLiteral("the previous packages could not be put back (%1); do it by hand, %2")
                                                  .arg(QString::fromStdString(ran.error().message), manual())
                                                  .toStdString()));
                return;
            }
            runOn(position, dovecotpackages::queryInstalledCommand(), {}, this,
                  [this, position, done, manual](const Result<remote::SshCommand::Output> &query) {
                      const NodeState &node = state(position);
                      const dovecotpackages::NodePackages now =
                          query ? dovecotpackages::NodePackages::parse(query->standardOutput) : dovecotpackages::NodePackages{};
                      QStringList differing;
                      for (const QString &package : node.plan->packages)
                          if (now.installed.value(package) != node.packagesBefore.installed.value(package)
                              || now.held.contains(package) != node.packagesBefore.held.contains(package))
                              differing << package;
                      if (!query || !differing.isEmpty()) {
                          done(fail(ErrorCode::Conflict, QStringLiteral("after putting the previous packages back, %1 still "
                                                                        "differ; do it by hand, %2")
                                                             .arg(query ? differing.join(QStringLiteral(", "))
                                                                        : QString::fromStdString(query.error().message),
                                                                  manual())
                                                             .toStdString()));
                          return;
                      }
                      done({});
                  });
        });
    });
}

void DeployDovecotWorkflow::rollBack(int position, Done done)
{
    NodeState &node = state(position);
    if (!m_session || (!node.snippetWritten && !node.curOnlyWritten && !node.restarted && !node.packagesTouched)) {
        done({});
        return;
    }
    auto notes = std::make_shared<QStringList>();
    auto finish = [this, position, notes, done](const Status &outcome) {
        NodeState &node = state(position);
        if (!outcome)
            *notes << tr("FAILED: %1").arg(QString::fromStdString(outcome.error().message));
        node.details.insert(QStringLiteral("rolledBack"), notes->join(QStringLiteral("; ")));
        done(outcome);
    };
    auto restartOld = [this, position, notes, finish] {
        NodeState &node = state(position);
        if (!node.restarted) {
            finish({});
            return;
        }
        restartNode(position, node.before.prefix, [this, position, notes, finish](const Status &restarted) {
            if (restarted) {
                NodeState &node = state(position);
                nodeConfig(position).dovecot = node.before;
                *notes << tr("restarted on %1").arg(node.before.prefix.isEmpty() ? QStringLiteral("the packaged Dovecot")
                                                                                : node.before.prefix + QStringLiteral("/sbin/dovecot"));
            }
            finish(restarted);
        });
    };
    // The packages go back before the restart, so it starts the previous build.
    auto putPackagesBack = [this, position, notes, restartOld, finish] {
        if (!state(position).packagesTouched) {
            restartOld();
            return;
        }
        restorePackages(position, [this, position, notes, restartOld, finish](const Status &restored) {
            if (!restored) {
                finish(restored);
                return;
            }
            const NodeState &node = state(position);
            QStringList versions;
            for (const QString &package : node.plan->packages)
                versions << (node.packagesBefore.installed.contains(package)
                                 ? package + u'=' + node.packagesBefore.installed.value(package)
                                 : package + QStringLiteral(" removed"));
            *notes << tr("packages back to %1").arg(versions.join(QStringLiteral(", ")));
            restartOld();
        });
    };
    auto removeCurOnly = [this, position, notes, putPackagesBack, finish] {
        NodeState &node = state(position);
        if (!node.curOnlyWritten) {
            putPackagesBack();
            return;
        }
        runOn(position, {QStringLiteral("rm"), QStringLiteral("-f"), dovecotcontrol::curOnlySnippetPath(node.before)},
                       {}, this, [notes, putPackagesBack, finish, this](const Result<remote::SshCommand::Output> &removed) {
                           if (!removed) {
                               finish(fail(removed.error()));
                               return;
                           }
                           *notes << tr("%1 removed").arg(QLatin1String(dovecotcontrol::kCurOnlySnippetName));
                           putPackagesBack();
                       });
    };
    if (!node.snippetWritten) {
        removeCurOnly();
        return;
    }
    QStringList argv;
    remote::SshCommand::Options input;
    if (node.hadSnippet) {
        argv = dovecotcontrol::writeFileAtomically(snippetPath(position));
        input.input = node.previousSnippet;
    } else {
        argv = {QStringLiteral("rm"), QStringLiteral("-f"), snippetPath(position)};
    }
    runOn(position, argv, input, this,
                   [this, position, notes, removeCurOnly, finish](const Result<remote::SshCommand::Output> &restored) {
                       if (!restored) {
                           finish(fail(restored.error()));
                           return;
                       }
                       *notes << (state(position).hadSnippet ? tr("previous %1 restored") : tr("%1 removed"))
                                     .arg(QLatin1String(dovecotsnippet::kSnippetName));
                       removeCurOnly();
                   });
}

void DeployDovecotWorkflow::failAndRollBack(const Error &error, const QString &nextAction)
{
    if (m_rollingBack || isFinished())
        return;
    m_rollingBack = true;
    auto left = std::make_shared<int>(int(m_nodes.size()));
    auto failures = std::make_shared<QStringList>();
    auto summary = std::make_shared<QStringList>();
    for (int i = 0; i < int(m_nodes.size()); ++i) {
        rollBack(i, [this, i, left, failures, summary, error, nextAction](const Status &outcome) {
            const QString notes = state(i).details.value(QStringLiteral("rolledBack")).toString();
            if (!outcome)
                *failures << nodeConfig(i).id;
            if (!notes.isEmpty())
                *summary << nodeConfig(i).id + QStringLiteral(": ") + notes;
            if (--*left > 0)
                return;
            summary->sort();
            Error reported = error;
            reported.message = error.describe() + ". Rolled back: "
                               + (summary->isEmpty() ? QStringLiteral("nothing had changed") : summary->join(QStringLiteral("; ")))
                                     .toStdString();
            m_report.details.insert(QStringLiteral("rolledBack"), QJsonArray::fromStringList(*summary));
            failStep(reported, failures->isEmpty()
                                   ? nextAction
                                   : tr("The rollback failed on %1: check Dovecot there by hand (its previous snippet is "
                                        "kept as %2%3). %4")
                                         .arg(failures->join(QStringLiteral(", ")), QLatin1String(dovecotsnippet::kSnippetName),
                                              QLatin1String(dovecotsnippet::kPreviousSuffix), nextAction));
        });
    }
}

} // namespace mm::cluster
