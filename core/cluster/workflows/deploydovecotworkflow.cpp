#include "cluster/workflows/deploydovecotworkflow.h"

#include "cluster/session/clustersession.h"
#include "cluster/workflows/deploydovecotpackages.h"
#include "cluster/workflows/deploydovecotprefix.h"
#include "cluster/dovecot/dovecotcontrol.h"
#include "cluster/dovecot/dovecotsnippet.h"
#include "cluster/session/remotecalls.h"
#include "remote/agentcall.h"
#include "remote/sshsession.h"

#include <QDir>
#include <QElapsedTimer>
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
    : ClusterWorkflow(QStringLiteral("deploy-dovecot"), options.dryRun, std::move(cluster), std::move(monitorOptions),
                      parent)
    , m_options(std::move(options))
{
    if (!m_options.prefix.isEmpty())
        m_options.prefix = QDir::cleanPath(m_options.prefix);
    // Giving both --prefix and --packages, or neither, is refused by the connect step.
    if (!m_options.prefix.isEmpty())
        m_strategy = std::make_unique<DeployDovecotPrefix>(*this);
    else
        m_strategy = std::make_unique<DeployDovecotPackages>(*this);
    // The facts of the nodes that now run the target build, whatever the outcome.
    keepClusterChanges(ClusterChanges::KeptWhateverTheOutcome);
    addStep(QStringLiteral("connect"), tr("Connect to the nodes"), [this] { connectSelected(); });
    addStep(QStringLiteral("detect"), tr("Detect each node's system and Dovecot, and the target build"),
            [this] { detect(); });
    // Installed before rendering, so the snippet is read and checked by the doveconf it is for.
    if (m_strategy->hasInstallStep() && !m_options.dryRun)
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
    DeployDovecotWorkflow::cleanUp();
}

void DeployDovecotWorkflow::cleanUp()
{
    if (!m_warnings.isEmpty())
        m_report.details.insert(QStringLiteral("warnings"), QJsonArray::fromStringList(m_warnings));
    m_report.details.insert(QStringLiteral("target"), m_strategy->describeTarget());
    ClusterWorkflow::cleanUp();
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

QString DeployDovecotWorkflow::targetBinary() const
{
    return m_strategy->targetPrefix() + QStringLiteral("/sbin/dovecot");
}

QString DeployDovecotWorkflow::targetTool(const QString &name) const
{
    return m_strategy->targetPrefix() + QStringLiteral("/bin/") + name;
}

QString DeployDovecotWorkflow::snippetPath(int position) const
{
    return dovecotcontrol::confDir(state(position).before) + u'/' + QLatin1String(dovecotsnippet::kSnippetName);
}

QList<int> DeployDovecotWorkflow::positions(bool changingOnly) const
{
    QList<int> selected;
    for (int i = 0; i < int(m_nodes.size()); ++i)
        if (!changingOnly || !state(i).unchanged)
            selected << i;
    return selected;
}

QStringList DeployDovecotWorkflow::changingNodes() const
{
    QStringList ids;
    for (int position : positions(true))
        ids << node(position).id;
    return ids;
}

QString DeployDovecotWorkflow::nothingChangedAdvice() const
{
    return tr("Nothing was changed on any node. Fix the cause, then run `mailmeshctl deploy-dovecot` again.");
}

void DeployDovecotWorkflow::forEachSelected(const NodeTask &perNode, std::function<void()> allDone, bool changingOnly,
                                            bool rollBackOnFailure)
{
    forEachNodeSettled(positions(changingOnly), perNode,
                       [this, allDone, rollBackOnFailure](const std::optional<Error> &firstError) {
                           if (!firstError)
                               allDone();
                           else if (rollBackOnFailure)
                               failAndRollBack(*firstError, tr("Fix the cause, then run `mailmeshctl deploy-dovecot` again."));
                           else
                               failStep(*firstError, nothingChangedAdvice());
                       });
}

void DeployDovecotWorkflow::completeWithSummary(const std::shared_ptr<QStringList> &summary)
{
    summary->sort();
    completeStep(summary->join(QStringLiteral("; ")));
}

void DeployDovecotWorkflow::connectSelected()
{
    // Until the options are known to be good, the report lists no node.
    selectNodes({});
    if (m_options.prefix.isEmpty() == m_options.packagesDir.isEmpty()) {
        failStep(nodeError(ErrorCode::BadRequest, QStringLiteral("give either --prefix DIR or --packages DIR")),
                 nothingChangedAdvice());
        return;
    }
    if (const std::optional<Error> bad = m_strategy->checkOptions()) {
        failStep(*bad, nothingChangedAdvice());
        return;
    }
    QList<int> selected;
    for (int i = 0; i < m_cluster.nodes.size(); ++i)
        if (m_options.nodeIds.isEmpty() || m_options.nodeIds.contains(m_cluster.nodes[i].id))
            selected << i;
    selectNodes(selected);
    m_nodes.assign(std::size_t(selected.size()), DeployNodeState{});
    for (int position = 0; position < nodeCount(); ++position) {
        DovecotFacts &before = state(position).before;
        before = node(position).dovecot;
        // The configuration stays where it is whatever binary reads it next.
        before.configFile = dovecotcontrol::configFile(before);
    }
    for (const QString &id : std::as_const(m_options.nodeIds))
        if (!m_cluster.node(id)) {
            failStep(nodeError(ErrorCode::BadRequest, QStringLiteral("no node \"%1\" in the cluster").arg(id)),
                     tr("Name nodes by their id in the cluster file, or leave them out for every node."));
            return;
        }
    connectNodes(ClusterSession::Agent, tr("Nothing was changed. Check that the node is up and that `mailmeshctl add-node` "
                                           "settled its host key, then run this command again."));
}

void DeployDovecotWorkflow::detect()
{
    auto summary = std::make_shared<QStringList>();
    forEachSelected(
        [this, summary](int position, Done done) {
            detectNode(position, [this, position, summary, done](const Status &outcome) {
                if (outcome) {
                    const DeployNodeState &found = state(position);
                    *summary << tr("%1: %2 %3, Dovecot %4 → %5")
                                    .arg(node(position).id, found.osId, found.osVersionId,
                                         found.current ? found.current->text : tr("none"),
                                         found.target ? found.target->text : QString());
                }
                done(outcome);
            });
        },
        [this, summary] { completeWithSummary(summary); }, false, false);
}

void DeployDovecotWorkflow::detectNode(int position, Done done)
{
    const NodeConfig &config = node(position);
    QJsonObject params{{QStringLiteral("path"), config.mailRoot}, {QStringLiteral("skipInventory"), true},
                       {QStringLiteral("dovecotConfig"), state(position).before.configFile}};
    if (const QString binary = dovecotcontrol::dovecotBinary(config.dovecot); !binary.isEmpty())
        params.insert(QStringLiteral("dovecot"), binary);
    whenAgentFinished(callAgent(position, QStringLiteral("probe"), params), this,
                      [this, position, done](const Result<QJsonObject> &probe) {
        if (!m_session)
            return;
        if (!probe) {
            done(fail(probe.error()));
            return;
        }
        DeployNodeState &node = state(position);
        QJsonObject &details = nodeDetails(position);
        const QJsonObject os = probe->value(QStringLiteral("os")).toObject();
        node.osId = os.value(QStringLiteral("id")).toString();
        node.osVersionId = os.value(QStringLiteral("versionId")).toString();
        node.architecture = probe->value(QStringLiteral("architecture")).toString();
        const QJsonObject dovecot = probe->value(QStringLiteral("dovecot")).toObject();
        if (dovecot.value(QStringLiteral("found")).toBool())
            node.current = DovecotVersion::parse(dovecot.value(QStringLiteral("version")).toString());
        details.insert(QStringLiteral("os"), QJsonObject{{QStringLiteral("id"), node.osId},
                                                         {QStringLiteral("versionId"), node.osVersionId},
                                                         {QStringLiteral("architecture"), node.architecture}});
        details.insert(QStringLiteral("currentVersion"), node.current ? node.current->text : QString());
        details.insert(QStringLiteral("currentCurOnlyBuild"), dovecot.value(QStringLiteral("curOnlyBuild")).toBool());
        m_strategy->detectTarget(position, [this, position, done](const Status &target) {
            if (!target) {
                done(target);
                return;
            }
            detectMaster(position, done);
        });
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
    runOn(position, argv, {},
                   [this, position, done](const Result<remote::SshCommand::Output> &read) {
                       DeployNodeState &node = state(position);
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
                       nodeDetails(position).insert(QStringLiteral("masterPid"), node.masterPid);
                       nodeDetails(position).insert(QStringLiteral("runningBinary"), node.runningBinary);
                       done({});
                   });
}

void DeployDovecotWorkflow::render()
{
    auto summary = std::make_shared<QStringList>();
    forEachSelected([this, summary](int position, Done done) {
        renderNode(position, [this, position, summary, done](const Status &outcome) {
            if (outcome) {
                const DeployNodeState &node = state(position);
                *summary << (node.unchanged ? tr("%1: unchanged").arg(this->node(position).id)
                                            : node.previousSnippet == node.rendered && node.hadSnippet
                                                  ? tr("%1: snippet as it is, Dovecot to restart").arg(this->node(position).id)
                                                  : tr("%1: snippet to write").arg(this->node(position).id));
            }
            done(outcome);
        });
    },
                [this, summary] { completeWithSummary(summary); },
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
          {}, [this, position, done](const Result<remote::SshCommand::Output> &dirs) {
              const QList<QByteArray> lines = dirs ? dirs->standardOutput.trimmed().split('\n') : QList<QByteArray>();
              state(position).runtimeDirs.clear();
              if (lines.size() == 2) {
                  state(position).runtimeDirs.insert(QStringLiteral("base_dir"), QString::fromUtf8(lines[0]).trimmed());
                  state(position).runtimeDirs.insert(QStringLiteral("state_dir"), QString::fromUtf8(lines[1]).trimmed());
              }
              renderSnippet(position, done);
          });
}

bool DeployDovecotWorkflow::targets24(int position)
{
    return state(position).target && state(position).target->line() == QLatin1String("2.4");
}

void DeployDovecotWorkflow::renderSnippet(int position, Done done)
{
    const QString confFile = state(position).before.configFile;
    runOn(
        position,
        // Read as the target build reads it: it knows maildir_cur_only, which a stock doveconf
        // rejects once migrate (or an earlier deploy) wrote 99-mailmesh-cur-only.conf.
        // 2.4 has no mail_location: its settings of their own ("name = value" lines) make one.
        QStringList{targetTool(QStringLiteral("doveconf")), QStringLiteral("-c"), confFile}
            << (targets24(position) ? dovecotsnippet::settingNames24()
                                    : QStringList{QStringLiteral("-h"), QStringLiteral("mail_location")}),
        {}, [this, position, done](const Result<remote::SshCommand::Output> &location) {
            if (!location) {
                done(fail(location.error()));
                return;
            }
            const QString output = QString::fromUtf8(location->standardOutput);
            if (targets24(position)) {
                QMap<QString, QString> settings;
                for (const QString &line : output.split(u'\n'))
                    if (const qsizetype equals = line.indexOf(QStringLiteral(" = ")); equals > 0)
                        settings.insert(line.left(equals).trimmed(), line.mid(equals + 3));
                state(position).mailLocation = dovecotsnippet::mailLocationFrom24(settings);
            } else {
                state(position).mailLocation = output.trimmed();
            }
            const QString curOnlyPath = dovecotcontrol::curOnlySnippetPath(state(position).before);
            runOn(
                position,
                {QStringLiteral("sh"), QStringLiteral("-c"),
                 QStringLiteral("if [ -e \"$2\" ]; then grep -q '^maildir_cur_only *= *yes' \"$2\" && echo curonly=yes "
                                "|| echo curonly=no; else echo curonly=absent; fi; "
                                "if [ -e \"$1\" ]; then echo snippet=present; cat \"$1\"; else echo snippet=absent; fi"),
                 QStringLiteral("sh"), snippetPath(position), curOnlyPath},
                {}, [this, position, done](const Result<remote::SshCommand::Output> &read) {
                    if (!read) {
                        done(fail(read.error()));
                        return;
                    }
                    DeployNodeState &node = state(position);
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
                    node.unchanged = node.hadSnippet && node.previousSnippet == node.rendered && node.curOnlyExists
                                     && node.runningBinary == targetBinary() && m_strategy->runsTheTarget(position);
                    nodeDetails(position).insert(QStringLiteral("snippet"), snippetPath(position));
                    nodeDetails(position).insert(QStringLiteral("mailLocation"), node.mailLocation);
                    nodeDetails(position).insert(QStringLiteral("indexes"),
                                        separateIndexes
                                            ? tr("kept under %1 (INDEX= of mail_location)")
                                                  .arg(parsed->options.value(QStringLiteral("INDEX")))
                                            : tr("left in the Maildir: mail_location has no INDEX=, and Syncthing "
                                                 "ignores dovecot.index* there"));
                    nodeDetails(position).insert(QStringLiteral("dovecotLine"), node.target->line());
                    nodeDetails(position).insert(QStringLiteral("diff"),
                                        dovecotsnippet::lineDiff(node.previousSnippet, node.rendered));
                    nodeDetails(position).insert(QStringLiteral("curOnlySnippet"),
                                        node.curOnlyExists ? (node.curOnlyOn ? QStringLiteral("on") : QStringLiteral("off"))
                                                           : QStringLiteral("to write, off"));
                    nodeDetails(position).insert(QStringLiteral("unchanged"), node.unchanged);
                    done({});
                });
        });
}

void DeployDovecotWorkflow::configure()
{
    forEachSelected([this](int position, Done done) {
        DeployNodeState &node = state(position);
        auto writeCurOnly = [this, position, done] {
            DeployNodeState &node = state(position);
            if (node.curOnlyExists) {
                done({});
                return;
            }
            remote::SshCommand::Options input;
            input.input = dovecotcontrol::curOnlySnippet(false);
            node.curOnlyWritten = true;
            runOn(position, dovecotcontrol::writeFileAtomically(dovecotcontrol::curOnlySnippetPath(node.before)),
                           input, [done](const Result<remote::SshCommand::Output> &written) {
                               done(written ? Status{} : fail(written.error()));
                           });
        };
        if (node.hadSnippet && node.previousSnippet == node.rendered) {
            writeCurOnly();
            return;
        }
        auto write = [this, position, writeCurOnly, done] {
            DeployNodeState &node = state(position);
            remote::SshCommand::Options input;
            input.input = node.rendered;
            node.snippetWritten = true;
            runOn(position, dovecotcontrol::writeFileAtomically(snippetPath(position)), input,
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
                       {}, [write, done](const Result<remote::SshCommand::Output> &saved) {
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
    forEachSelected([this](int position, Done done) {
        runOn(position,
                       {targetTool(QStringLiteral("doveconf")), QStringLiteral("-c"), state(position).before.configFile,
                        QStringLiteral("-n")},
                       {}, [done](const Result<remote::SshCommand::Output> &checked) {
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
    const NodeConfig &config = node(position);
    const QStringList environment{QStringLiteral("env"),
                                  QStringLiteral("MAILMESH_DOVECOT_PREFIX=") + (prefix.isEmpty() ? QStringLiteral("/usr") : prefix),
                                  QStringLiteral("MAILMESH_DOVECOT_CONFIG=") + state(position).before.configFile};
    auto run = [this, position, done](const QList<QStringList> &commands, bool systemd) {
        state(position).restarted = true;
        // systemd's side (drop-ins under /etc, systemctl) is root's, whoever logs in.
        runAllOn(position, commands, systemd ? asRoot() : remote::SshCommand::Options{}, [this, position, done](const Status &restarted) {
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
    runOn(position, {QStringLiteral("test"), QStringLiteral("-d"), QStringLiteral("/run/systemd/system")}, {},
                   [this, position, prefix, run, done](const Result<remote::SshCommand::Output> &systemd) {
                       if (!systemd) {
                           done(fail(ErrorCode::Unsupported,
                                     QStringLiteral("the node runs no systemd and has no Dovecot restart command; add "
                                                    "one with `mailmeshctl add-node %1 ... --dovecot-restart CMD` (it "
                                                    "gets the prefix to start in $MAILMESH_DOVECOT_PREFIX)")
                                         .arg(node(position).id)
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
    const QString config = state(position).before.configFile;
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
    const quint16 port = quint16(node(position).dovecot.imapPort);
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
                                   nodeDetails(position).insert(QStringLiteral("imapCapability"), *capability);
                                   done({});
                                   return;
                               }
                               if (clock->elapsed() > timeoutMs) {
                                   stop();
                                   done(fail(ErrorCode::Unreachable,
                                             QStringLiteral("IMAP on port %1 did not answer CAPABILITY with IMAP4rev1 "
                                                            "within %2 s (%3)")
                                                 .arg(node(position).dovecot.imapPort)
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

void DeployDovecotWorkflow::verify()
{
    auto summary = std::make_shared<QStringList>();
    forEachSelected([this, summary](int position, Done done) {
        // The master must now be the target build, whatever the restart command started.
        detectMaster(position, [this, position, summary, done](const Status &) {
            DeployNodeState &node = state(position);
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
                    *summary << tr("%1: %2, IMAP answers").arg(this->node(position).id, state(position).target->text);
                    done({});
                    return;
                }
                runOn(position,
                               {targetTool(QStringLiteral("doveadm")), QStringLiteral("-c"),
                                state(position).before.configFile, QStringLiteral("mailbox"), QStringLiteral("status"),
                                QStringLiteral("-u"), m_options.checkUser, QStringLiteral("messages"), QStringLiteral("INBOX")},
                               {}, [this, position, summary, done](const Result<remote::SshCommand::Output> &status) {
                                   if (!status) {
                                       done(fail(status.error()));
                                       return;
                                   }
                                   const QString line = QString::fromUtf8(status->standardOutput).trimmed();
                                   const qint64 messages = line.section(u'=', 1).toLongLong();
                                   nodeDetails(position).insert(QStringLiteral("checkUserMessages"), messages);
                                   *summary << tr("%1: %2, IMAP answers, %3's INBOX holds %4")
                                                   .arg(this->node(position).id, state(position).target->text,
                                                        m_options.checkUser,
                                                        tr("%n message(s)", nullptr, int(messages)));
                                   done({});
                               });
            });
        });
    },
                [this, summary] { completeWithSummary(summary); },
                false, true);
}

void DeployDovecotWorkflow::runOn(int position, const QStringList &argv, const remote::SshCommand::Options &options,
                                  std::function<void(const Result<remote::SshCommand::Output> &)> done)
{
    // After the workflow ended (a node dropped its connection) nothing more is run or reported.
    if (!m_session)
        return;
    // A system package is installed, configured, checked and restarted as root (/etc/dovecot,
    // the master's /proc entry): directly, or through sudo -n for another login user.
    remote::SshCommand::Options effective = options;
    if ((m_strategy->alwaysAsRoot() || state(position).asRoot) && effective.runAs.isEmpty())
        effective.runAs = QStringLiteral("root");
    runNodeCommand(m_session->ssh(position), argv, effective, this,
                   [this, done = std::move(done)](const Result<remote::SshCommand::Output> &result) {
                       if (m_session)
                           done(result);
                   });
}

void DeployDovecotWorkflow::runAllOn(int position, const QList<QStringList> &commands,
                                     const remote::SshCommand::Options &options, Done done)
{
    if (!m_session)
        return;
    remote::SshCommand::Options effective = options;
    if ((m_strategy->alwaysAsRoot() || state(position).asRoot) && effective.runAs.isEmpty())
        effective.runAs = QStringLiteral("root");
    runNodeCommands(m_session->ssh(position), commands, effective, this, [this, done = std::move(done)](const Status &result) {
        if (m_session)
            done(result);
    });
}

void DeployDovecotWorkflow::install()
{
    // One node at a time, like the restart: on a node with systemd the packages' own scripts
    // restart Dovecot, so at most one node's IMAP is down at once.
    QList<int> installing;
    for (int position : positions(false))
        if (m_strategy->needsInstall(position))
            installing << position;
    auto installed = std::make_shared<QStringList>();
    forEachNodeInTurn(
        installing,
        [this, installing, installed](int position, Done done) {
            reportProgress({{}, node(position).id, installing.indexOf(position), installing.size(), -1, tr("installing")});
            m_strategy->install(position, [this, position, installed, done](const Status &outcome) {
                if (outcome)
                    *installed << node(position).id;
                done(outcome);
            });
        },
        [this, installed] {
            completeStep(installed->isEmpty() ? tr("nothing to install: every node has these packages, held")
                                              : tr("installed and held on %1").arg(installed->join(QStringLiteral(", "))));
        },
        [this](const Error &error) {
            failAndRollBack(error, tr("Fix the cause (apt's message above), then run `mailmeshctl deploy-dovecot` again."));
        });
}

void DeployDovecotWorkflow::restart()
{
    const QList<int> restarting = positions(true);
    forEachNodeInTurn(
        restarting,
        [this, restarting](int position, Done done) {
            reportProgress({{}, node(position).id, restarting.indexOf(position), restarting.size(), -1, tr("restarting")});
            restartNode(position, m_strategy->restartPrefix(), [this, position, done](const Status &outcome) {
                if (outcome) {
                    const DeployNodeState &state = this->state(position);
                    DovecotFacts &facts = node(position).dovecot;
                    facts.prefix = m_strategy->restartPrefix();
                    facts.configFile = state.before.configFile;
                    facts.version = state.target->text;
                    facts.curOnlyBuild = state.target->isMailmeshBuild();
                    facts.curOnlyEnabled = state.curOnlyOn;
                }
                done(outcome);
            });
        },
        [this, restarting] {
            QStringList restarted;
            for (int position : restarting)
                restarted << node(position).id;
            completeStep(restarted.isEmpty() ? tr("nothing to restart: every node is unchanged")
                                             : tr("restarted on %1: %2").arg(targetBinary(), restarted.join(QStringLiteral(", "))));
        },
        [this](const Error &error) {
            failAndRollBack(error, tr("Fix the cause (the restart command, the node's Dovecot log), then run "
                                      "`mailmeshctl deploy-dovecot` again."));
        });
}

void DeployDovecotWorkflow::checkUpdates()
{
    const DovecotInstallStrategy::Updates updates = m_strategy->checkUpdates();
    if (updates.skipped)
        skipStep(updates.detail);
    else
        completeStep(updates.detail);
}

void DeployDovecotWorkflow::rollBack(int position, Done done)
{
    const DeployNodeState &node = state(position);
    if (!m_session || (!node.snippetWritten && !node.curOnlyWritten && !node.restarted && !m_strategy->installChanged(position))) {
        done({});
        return;
    }
    auto notes = std::make_shared<QStringList>();
    auto finish = [this, position, notes, done](const Status &outcome) {
        if (!outcome)
            *notes << tr("FAILED: %1").arg(QString::fromStdString(outcome.error().message));
        nodeDetails(position).insert(QStringLiteral("rolledBack"), notes->join(QStringLiteral("; ")));
        done(outcome);
    };
    auto restartOld = [this, position, notes, finish] {
        const DeployNodeState &node = state(position);
        if (!node.restarted) {
            finish({});
            return;
        }
        restartNode(position, node.before.prefix, [this, position, notes, finish](const Status &restarted) {
            if (restarted) {
                const DovecotFacts &before = state(position).before;
                this->node(position).dovecot = before;
                *notes << tr("restarted on %1").arg(before.prefix.isEmpty() ? QStringLiteral("the packaged Dovecot")
                                                                           : before.prefix + QStringLiteral("/sbin/dovecot"));
            }
            finish(restarted);
        });
    };
    // What the install changed goes back before the restart, so it starts the previous build.
    auto undoInstall = [this, position, notes, restartOld, finish] {
        m_strategy->rollBackInstall(position, [notes, restartOld, finish](const Status &undone, const QString &note) {
            if (!undone) {
                finish(undone);
                return;
            }
            if (!note.isEmpty())
                *notes << note;
            restartOld();
        });
    };
    auto removeCurOnly = [this, position, notes, undoInstall, finish] {
        const DeployNodeState &node = state(position);
        if (!node.curOnlyWritten) {
            undoInstall();
            return;
        }
        runOn(position, {QStringLiteral("rm"), QStringLiteral("-f"), dovecotcontrol::curOnlySnippetPath(node.before)}, {},
              [notes, undoInstall, finish](const Result<remote::SshCommand::Output> &removed) {
                  if (!removed) {
                      finish(fail(removed.error()));
                      return;
                  }
                  *notes << tr("%1 removed").arg(QLatin1String(dovecotcontrol::kCurOnlySnippetName));
                  undoInstall();
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
    runOn(position, argv, input, [this, position, notes, removeCurOnly, finish](const Result<remote::SshCommand::Output> &restored) {
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
            const QString notes = nodeDetails(i).value(QStringLiteral("rolledBack")).toString();
            if (!outcome)
                *failures << node(i).id;
            if (!notes.isEmpty())
                *summary << node(i).id + QStringLiteral(": ") + notes;
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
