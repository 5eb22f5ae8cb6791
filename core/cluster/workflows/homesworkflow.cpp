#include "cluster/workflows/homesworkflow.h"

#include "cluster/session/clustersession.h"
#include "cluster/dovecot/dovecotcontrol.h"
#include "cluster/dovecot/dovecotsnippet.h"
#include "cluster/dovecot/dovecotversion.h"
#include "cluster/pluralforms.h"
#include "cluster/session/remotecalls.h"
#include "remote/sshaddress.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QUrl>

#include <memory>

namespace mm::cluster {

namespace {

QString tool(const DovecotFacts &dovecot, const QString &directory, const QString &name)
{
    if (!dovecot.prefix.isEmpty())
        return dovecot.prefix + u'/' + directory + u'/' + name;
    // A login user's PATH may lack /usr/sbin.
    return directory == QLatin1String("sbin") ? QStringLiteral("/usr/sbin/") + name : name;
}

// One line of an error for a table note: Dovecot's tools can add a backtrace to stderr.
QString brief(const std::string &message)
{
    QString text = QString::fromStdString(message);
    for (const QString &cut : {QStringLiteral(" Raw backtrace"), QStringLiteral("\n")})
        if (const qsizetype at = text.indexOf(cut); at >= 0)
            text.truncate(at);
    return text.size() > 240 ? text.left(240) + QStringLiteral("…") : text;
}

QStringList withConfig(const DovecotFacts &dovecot, QStringList argv)
{
    return argv << QStringLiteral("-c") << dovecotcontrol::configFile(dovecot);
}

QString hostOfSyncAddress(const QString &syncAddress)
{
    if (syncAddress.isEmpty() || syncAddress == QLatin1String("dynamic"))
        return {};
    const QUrl url(syncAddress);
    return url.isValid() ? url.host() : QString();
}

} // namespace

QMap<QString, homenodes::Endpoint> homeEndpoints(const ClusterConfig &cluster)
{
    QMap<QString, homenodes::Endpoint> endpoints;
    for (const NodeConfig &node : cluster.nodes) {
        homenodes::Endpoint endpoint;
        if (const QString address = cluster.homes.imapAddresses.value(node.id);
            !address.isEmpty()) {
            endpoint = homenodes::parseAddress(address, node.dovecot.imapPort);
        } else if (const QString host = hostOfSyncAddress(node.syncthing.syncAddress);
                   !host.isEmpty()) {
            endpoint = {host, node.dovecot.imapPort};
        } else if (const auto ssh = remote::SshAddress::parse(node.ssh)) {
            endpoint = {ssh->host, node.dovecot.imapPort};
        }
        if (!endpoint.host.isEmpty())
            endpoints.insert(node.id, endpoint);
    }
    return endpoints;
}

namespace homefiles {

QString passwdPath(const DovecotFacts &dovecot)
{
    return QFileInfo(dovecotcontrol::configFile(dovecot)).path() + u'/' +
           QLatin1String(kPasswdName);
}

QString snippetPath(const DovecotFacts &dovecot)
{
    return dovecotcontrol::confDir(dovecot) + u'/' + QLatin1String(kSnippetName);
}

Result<QByteArray> snippet(const QString &line, const QString &passwdPath)
{
    const Result<QByteArray> text =
        dovecotsnippet::loadTemplateFile(QStringLiteral("95-mailmesh-homes-%1.conf.in").arg(line));
    if (!text)
        return text;
    return dovecotsnippet::render(*text, {{QStringLiteral("passwdFile"), passwdPath}});
}

} // namespace homefiles

HomesWorkflow::HomesWorkflow(ClusterConfig cluster, Options options, MonitorOptions monitorOptions,
                             QObject *parent)
    : ClusterWorkflow(options.mode == Mode::Show || options.mode == Mode::Deploy ? QStringLiteral("homes")
                                                                                 : QStringLiteral("failover"),
                      options.dryRun || options.mode == Mode::Show, std::move(cluster), std::move(monitorOptions),
                      parent)
    , m_settingsBefore(m_cluster.homes)
    , m_options(std::move(options))
    , m_dovecotLines(std::size_t(m_cluster.nodes.size()))
{
    const bool changesTheFile = m_options.mode == Mode::Failover || m_options.mode == Mode::Return;
    if (changesTheFile) {
        keepClusterChanges(ClusterChanges::KeptOnSuccess);
        addStep(QStringLiteral("mark"),
                m_options.mode == Mode::Failover ? tr("Mark %1 drained").arg(m_options.node)
                                                 : tr("Mark %1 serving again").arg(m_options.node),
                [this] { mark(); });
    }
    addStep(QStringLiteral("connect"), tr("Connect to the nodes"), [this] {
        // One session per node: a drained node that is down is left out, the others go on.
        connectEachNode(
            ClusterSession::Ssh, [this](int index, const Error &error) { return tolerate(index, error); },
            [this](int index) {
                return tr("%1 must answer to take part. If it is down, `mailmeshctl failover %1` moves its users to "
                          "the other nodes.")
                    .arg(m_cluster.nodes[index].id);
            });
    });
    addStep(QStringLiteral("users"), tr("List the mail users (doveadm user '*')"),
            [this] { listUsers(); });
    addStep(QStringLiteral("plan"), tr("Give every user a home node"), [this] { plan(); });
    if (m_options.mode == Mode::Show || m_options.dryRun)
        return;
    addStep(QStringLiteral("write"), tr("Write the home table and its passdb on every node"),
            [this] { write(); });
    addStep(QStringLiteral("reload"), tr("Reload Dovecot"), [this] { reload(); });
}

HomesWorkflow::~HomesWorkflow() = default;

void HomesWorkflow::mark()
{
    const QString &node = m_options.node;
    if (!m_cluster.node(node)) {
        failStep(Error{ErrorCode::BadRequest,
                       "there is no node " + node.toStdString() + " in the cluster",
                       {}},
                 tr("Name one of the cluster's nodes."));
        return;
    }
    QStringList &drained = m_cluster.homes.drained;
    if (m_options.mode == Mode::Return) {
        if (!drained.removeAll(node)) {
            skipStep(tr("%1 is not drained").arg(node));
            return;
        }
        completeStep(tr("%1 is a home node again; its users move back to it").arg(node));
        return;
    }
    if (drained.contains(node)) {
        skipStep(tr("%1 is drained already").arg(node));
        return;
    }
    int serving = 0;
    for (const NodeConfig &candidate : std::as_const(m_cluster.nodes))
        if (!drained.contains(candidate.id) && candidate.id != node)
            ++serving;
    if (serving == 0) {
        failStep(
            Error{ErrorCode::BadRequest,
                  node.toStdString() + " is the last node serving users; nothing to fail over to",
                  {}},
            tr("Return another node first (`mailmeshctl failover --return NODE`)."));
        return;
    }
    drained << node;
    completeStep(tr("%1 drained: it is home to no one").arg(node));
}

bool HomesWorkflow::isRequired(int index) const
{
    return !m_cluster.homes.drained.contains(m_cluster.nodes[index].id);
}

bool HomesWorkflow::tolerate(int index, const Error &error)
{
    if (isRequired(index))
        return false;
    const QString id = m_cluster.nodes[index].id;
    m_leftOut.insert(index);
    m_notes << tr("%1 (drained) left out: %2").arg(id, brief(error.message));
    reportProgress({{}, id, 1, 1, -1, tr("left out: %1").arg(brief(error.message))});
    return true;
}

QList<int> HomesWorkflow::reachedNodes() const
{
    QList<int> reached;
    for (int i = 0; i < m_cluster.nodes.size(); ++i)
        if (!m_leftOut.contains(i) && isConnected(i))
            reached << i;
    return reached;
}

void HomesWorkflow::forReachedNodes(
    const std::function<void(int index, std::function<void(const Status &)> done)> &perNode,
    std::function<void()> allDone, const QString &nextAction)
{
    const QList<int> nodes = reachedNodes();
    auto left = std::make_shared<int>(int(nodes.size()));
    if (nodes.isEmpty()) {
        allDone();
        return;
    }
    for (const int i : nodes) {
        perNode(i, [this, i, left, allDone, nextAction](const Status &outcome) {
            if (isFinished())
                return;
            if (!outcome && !tolerate(i, outcome.error())) {
                Error error = outcome.error();
                error.message = brief(error.message).toStdString();
                failStep(onNode(m_cluster.nodes[i].id, error), nextAction);
                return;
            }
            if (--*left == 0)
                allDone();
        });
    }
}

void HomesWorkflow::listUsers()
{
    auto found = std::make_shared<QStringList>();
    const QString nextAction =
        tr("Check that `doveadm user '*'` lists the users on that node (its userdb must support "
           "listing: passwd-file and SQL with iterate_query do).");
    forReachedNodes(
        [this, found](int i, std::function<void(const Status &)> done) {
            const DovecotFacts &dovecot = m_cluster.nodes[i].dovecot;
            const QString versionCommand =
                tool(dovecot, QStringLiteral("sbin"), QStringLiteral("dovecot")) +
                QStringLiteral(" --version");
            const QStringList list =
                withConfig(dovecot,
                           {tool(dovecot, QStringLiteral("bin"), QStringLiteral("doveadm"))})
                << QStringLiteral("user") << QStringLiteral("*");
            remote::SshSession *nodeSsh = ssh(i);
            runAdminCommand(
                nodeSsh, list, {}, this,
                [this, i, found, done, nodeSsh, dovecot,
                 versionCommand](const Result<remote::SshCommand::Output> &users) {
                    if (!users) {
                        done(fail(
                            ErrorCode::IoError,
                            (QStringLiteral("doveadm user '*' failed (is Dovecot running?): ") +
                             brief(users.error().message))
                                .toStdString()));
                        return;
                    }
                    const QStringList listed = homenodes::parseUserList(users->standardOutput);
                    for (const QString &user : listed)
                        if (!found->contains(user))
                            *found << user;
                    reportProgress({{},
                                    m_cluster.nodes[i].id,
                                    1,
                                    1,
                                    -1,
                                    counted(listed.size(), "user", "users")});
                    const auto known = DovecotVersion::parse(dovecot.version);
                    if (known) {
                        m_dovecotLines[std::size_t(i)] = known->line();
                        done({});
                        return;
                    }
                    runNodeCommand(
                        nodeSsh,
                        {QStringLiteral("sh"), QStringLiteral("-c"), versionCommand}, {}, this,
                        [this, i, done](const Result<remote::SshCommand::Output> &version) {
                            const auto parsed =
                                version ? DovecotVersion::parse(
                                              QString::fromUtf8(version->standardOutput).trimmed())
                                        : std::nullopt;
                            if (!parsed) {
                                done(fail(
                                    ErrorCode::Unsupported,
                                    "cannot tell which Dovecot runs here (dovecot --version)"));
                                return;
                            }
                            m_dovecotLines[std::size_t(i)] = parsed->line();
                            done({});
                        });
                });
        },
        [this, found] {
            m_users = *found;
            m_users.sort();
            completeStep(counted(m_users.size(), "user", "users"));
        },
        nextAction);
}

void HomesWorkflow::plan()
{
    QStringList nodeIds;
    for (const NodeConfig &node : std::as_const(m_cluster.nodes))
        nodeIds << node.id;
    QStringList usable;
    QStringList unusable;
    for (const QString &user : std::as_const(m_users))
        (homenodes::isUsableUserName(user) ? usable : unusable) << user;
    for (const QString &user : std::as_const(unusable))
        m_notes << tr("user \"%1\" left out: a passwd-file cannot hold that name; it is served "
                      "wherever it connects")
                       .arg(user);
    m_homes = homenodes::assign(usable, nodeIds, m_cluster.homes);
    const QMap<QString, homenodes::Endpoint> endpoints = homeEndpoints(m_cluster);
    for (const QString &id : std::as_const(nodeIds))
        if (!endpoints.contains(id)) {
            failStep(
                Error{ErrorCode::BadRequest, "no IMAP address known for " + id.toStdString(), {}},
                tr("Set it in the cluster file: \"homes\": {\"imapAddresses\": {\"%1\": "
                   "\"HOST[:PORT]\"}}.")
                    .arg(id));
            return;
        }
    m_passwdFile = homenodes::passwdFile(m_homes, endpoints);

    // What moves compared with the homes before this run (failover, return).
    QMap<QString, QString> before;
    for (const HomeAssignment &home : homenodes::assign(usable, nodeIds, m_settingsBefore))
        before.insert(home.user, home.node);
    QJsonArray homes;
    QMap<QString, int> perNode;
    int moved = 0;
    for (const HomeAssignment &home : std::as_const(m_homes)) {
        const homenodes::Endpoint endpoint = endpoints.value(home.node);
        QJsonObject entry{{QStringLiteral("user"), home.user},
                          {QStringLiteral("node"), home.node},
                          {QStringLiteral("reason"), homeReasonName(home.reason)},
                          {QStringLiteral("preferred"), home.preferred}};
        if (!home.node.isEmpty())
            entry.insert(QStringLiteral("address"),
                         QStringLiteral("%1:%2").arg(endpoint.host).arg(endpoint.port));
        if (before.value(home.user) != home.node) {
            entry.insert(QStringLiteral("movedFrom"), before.value(home.user));
            ++moved;
        }
        homes.append(entry);
        ++perNode[home.node];
    }
    QJsonObject counts;
    QStringList summary;
    for (const QString &id : std::as_const(nodeIds)) {
        counts.insert(id, perNode.value(id));
        summary << QStringLiteral("%1 %2%3")
                       .arg(id)
                       .arg(perNode.value(id))
                       .arg(m_cluster.homes.drained.contains(id) ? QStringLiteral(" (drained)")
                                                                 : QString());
    }
    m_report.details.insert(QStringLiteral("homes"), homes);
    m_report.details.insert(QStringLiteral("usersPerNode"), counts);
    m_report.details.insert(QStringLiteral("drained"),
                            QJsonArray::fromStringList(m_cluster.homes.drained));
    m_report.details.insert(QStringLiteral("moved"), moved);
    QString detail = counted(m_homes.size(), "user", "users") + QStringLiteral(": ") +
                     summary.join(QStringLiteral(", "));
    if (m_options.mode == Mode::Failover || m_options.mode == Mode::Return)
        detail += QStringLiteral("; ") + counted(moved, "user moves", "users move");
    if (!m_notes.isEmpty())
        m_report.details.insert(QStringLiteral("notes"), QJsonArray::fromStringList(m_notes));
    completeStep(detail);
}

void HomesWorkflow::write()
{
    forReachedNodes(
        [this](int i, std::function<void(const Status &)> done) {
            const DovecotFacts &dovecot = m_cluster.nodes[i].dovecot;
            const QString passwd = homefiles::passwdPath(dovecot);
            const Result<QByteArray> snippet =
                homefiles::snippet(m_dovecotLines[std::size_t(i)], passwd);
            if (!snippet) {
                done(fail(snippet.error()));
                return;
            }
            remote::SshSession *ssh = this->ssh(i);
            remote::SshCommand::Options table;
            table.input = m_passwdFile;
            remote::SshCommand::Options config;
            config.input = *snippet;
            const QString snippetFile = homefiles::snippetPath(dovecot);
            const QStringList check =
                withConfig(dovecot,
                           {tool(dovecot, QStringLiteral("bin"), QStringLiteral("doveconf"))})
                << QStringLiteral("-n");
            // What the node has now, the two files with a separator no passwd-file holds: a
            // node that has both already is left alone and not reloaded, so a deploy from cron
            // changes nothing when nothing changed.
            const QStringList current{
                QStringLiteral("sh"),
                QStringLiteral("-c"),
                QStringLiteral(
                    "cat -- \"$1\" 2>/dev/null; printf '\\001'; cat -- \"$2\" 2>/dev/null; true"),
                QStringLiteral("sh"),
                passwd,
                snippetFile};
            const QByteArray wanted = m_passwdFile + '\x01' + *snippet;
            runAdminCommand(
                ssh, current, {}, this,
                [this, i, ssh, passwd, table, snippetFile, config, check, wanted,
                 done](const Result<remote::SshCommand::Output> &present) {
                    if (present && present->standardOutput == wanted) {
                        m_unchanged.insert(i);
                        reportProgress({{}, m_cluster.nodes[i].id, 1, 1, -1, tr("unchanged")});
                        done({});
                        return;
                    }
                    // The table first: the snippet never points at a file that is not there yet.
                    runInOrder(
                        {[this, ssh, passwd, table](auto next) {
                             runAdminCommand(ssh, dovecotcontrol::writeFileAtomically(passwd),
                                             table, this,
                                             [next](const Result<remote::SshCommand::Output> &r) {
                                                 next(r ? Status{} : Status(fail(r.error())));
                                             });
                         },
                         [this, ssh, snippetFile, config](auto next) {
                             runAdminCommand(ssh, dovecotcontrol::writeFileAtomically(snippetFile),
                                             config, this,
                                             [next](const Result<remote::SshCommand::Output> &r) {
                                                 next(r ? Status{} : Status(fail(r.error())));
                                             });
                         },
                         [this, ssh, check, snippetFile](auto next) {
                             runAdminCommand(
                                 ssh, check, {}, this,
                                 [this, ssh, snippetFile,
                                  next](const Result<remote::SshCommand::Output> &r) {
                                     if (r) {
                                         next({});
                                         return;
                                     }
                                     // A snippet Dovecot refuses would stop its next start:
                                     // take it away again.
                                     runAdminCommand(
                                         ssh,
                                         {QStringLiteral("rm"), QStringLiteral("-f"), snippetFile},
                                         {}, this, [next, error = r.error()](const auto &) {
                                             Error refused = error;
                                             refused.message = "doveconf refuses the home table's "
                                                               "passdb (removed again): " +
                                                               error.message;
                                             next(fail(refused));
                                         });
                                 });
                         }},
                        [this, i, done](const Status &outcome) {
                            if (outcome)
                                reportProgress(
                                    {{}, m_cluster.nodes[i].id, 1, 1, -1, tr("written")});
                            done(outcome);
                        });
                });
        },
        [this] {
            QJsonArray written;
            QJsonArray unchanged;
            for (const int i : reachedNodes())
                (m_unchanged.contains(i) ? unchanged : written).append(m_cluster.nodes[i].id);
            m_report.details.insert(QStringLiteral("written"), written);
            m_report.details.insert(QStringLiteral("unchanged"), unchanged);
            QString detail = tr("%1 on %2")
                                 .arg(QString::fromLatin1(homefiles::kSnippetName),
                                      counted(written.size(), "node", "nodes"));
            if (!unchanged.isEmpty())
                detail += QStringLiteral("; ") +
                          counted(unchanged.size(), "node had it already", "nodes had it already");
            completeStep(detail);
        },
        tr("Fix the node's Dovecot configuration, then run the command again."));
}

void HomesWorkflow::reload()
{
    forReachedNodes(
        [this](int i, std::function<void(const Status &)> done) {
            if (m_unchanged.contains(i)) {
                done({});
                return;
            }
            runAdminCommands(ssh(i),
                             dovecotcontrol::reload(m_cluster.nodes[i].dovecot), {}, this, done);
        },
        [this] {
            if (!m_notes.isEmpty())
                m_report.details.insert(QStringLiteral("notes"),
                                        QJsonArray::fromStringList(m_notes));
            const qsizetype reloaded = reachedNodes().size() - m_unchanged.size();
            if (reloaded == 0) {
                skipStep(tr("nothing changed on any node"));
                return;
            }
            completeStep(counted(reloaded, "node reloaded", "nodes reloaded"));
        },
        tr("Reload Dovecot on that node by hand (doveadm reload), or run the command again."));
}

} // namespace mm::cluster
