#include "cluster/workflows/addnodeworkflow.h"

#include "cluster/session/clustersession.h"
#include "cluster/dovecot/dovecotcontrol.h"
#include "cluster/session/nodeconnection.h"
#include "cluster/session/remotecalls.h"
#include "remote/agentcall.h"
#include "remote/agentclient.h"
#include "remote/sshaddress.h"
#include "remote/sshsession.h"

#include <QJsonArray>
#include <QUrl>

namespace mm::cluster {

namespace {

QString hostOf(const QString &ssh)
{
    const auto address = remote::SshAddress::parse(ssh);
    return address ? address->host : QString();
}

// Syncthing's listen address "tcp://0.0.0.0:22000" or "default" says where it listens, not
// where peers reach it: peers dial the node's ssh host on that port.
QString peerAddress(const QStringList &listenAddresses, const QString &host)
{
    int port = 22000;
    for (const QString &listen : listenAddresses) {
        const QUrl url(listen);
        if (url.scheme() == QLatin1String("tcp") && url.port() > 0) {
            port = url.port();
            const QString listenHost = url.host();
            if (!listenHost.isEmpty() && listenHost != QLatin1String("0.0.0.0") && listenHost != QLatin1String("::"))
                return QStringLiteral("tcp://%1:%2").arg(listenHost.contains(u':') ? u'[' + listenHost + u']' : listenHost)
                    .arg(port);
            break;
        }
    }
    return QStringLiteral("tcp://%1:%2").arg(host.contains(u':') ? u'[' + host + u']' : host).arg(port);
}

QStringList stringList(const QJsonValue &value)
{
    QStringList list;
    for (const QJsonValue &item : value.toArray())
        list << item.toString();
    return list;
}

} // namespace

AddNodeWorkflow::AddNodeWorkflow(ClusterConfig cluster, NodeConfig node, QString acceptHostKey, MonitorOptions options,
                                 QObject *parent)
    : ClusterWorkflow(QStringLiteral("add-node"), false, std::move(cluster), std::move(options), parent)
    , m_node(std::move(node))
    , m_acceptHostKey(std::move(acceptHostKey))
{
    selectNodes({}); // the node being added, once validate put it into the cluster
    keepClusterChanges(ClusterChanges::KeptOnSuccess); // the node, once it passed every check
    addStep(QStringLiteral("validate"), tr("Check the node's settings"), [this] { validate(); });
    addStep(QStringLiteral("connect"), tr("Settle the host key and start the agent"), [this] { connectNode(); });
    addStep(QStringLiteral("probe"), tr("Probe the node"), [this] { probe(); });
    addStep(QStringLiteral("check"), tr("Check that the node can join"), [this] { check(); });
}

AddNodeWorkflow::~AddNodeWorkflow() = default;

void AddNodeWorkflow::validate()
{
    if (!m_acceptHostKey.isEmpty()) {
        if (!m_node.hostKey.isEmpty() && m_node.hostKey != m_acceptHostKey) {
            failStep(Error{ErrorCode::ChangedHostKey,
                           tr("%1 is pinned to host key %2, not %3").arg(m_node.id, m_node.hostKey, m_acceptHostKey).toStdString(),
                           {}},
                     tr("A node's host key only changes when the node was reinstalled or someone is in the middle. "
                        "If you know why it changed (a replaced node), run `mailmeshctl remove-node %1`, then add-node "
                        "and join it again.")
                         .arg(m_node.id));
            return;
        }
        m_node.hostKey = m_acceptHostKey;
    }
    ClusterConfig candidate = m_cluster;
    if (NodeConfig *existing = candidate.node(m_node.id)) {
        if (m_node.hostKey.isEmpty())
            m_node.hostKey = existing->hostKey;
        if (m_node.syncthing.deviceId.isEmpty())
            m_node.syncthing.deviceId = existing->syncthing.deviceId;
        *existing = m_node;
    } else {
        candidate.nodes << m_node;
    }
    if (const QStringList problems = candidate.validate(); !problems.isEmpty()) {
        failStep(Error{ErrorCode::BadRequest, problems.join(QStringLiteral("; ")).toStdString(), {}},
                 tr("Correct the option named in the message and run add-node again."));
        return;
    }
    m_cluster = candidate;
    for (int i = 0; i < m_cluster.nodes.size(); ++i)
        if (m_cluster.nodes[i].id == m_node.id)
            selectNodes({i});
    completeStep();
}

void AddNodeWorkflow::connectNode()
{
    // The node connects with m_node.hostKey as its pin (the --accept-host-key value, or the one
    // already in the cluster file): the session compares it with the key ssh really used.
    connectNodes(ClusterSession::Agent, QString(),
                 {[this] { return pinHostKey(); }, [this](const Error &error) { refuseConnect(error); }});
}

std::optional<QString> AddNodeWorkflow::pinHostKey()
{
    const auto &used = ssh(0)->connectedHostKey();
    if (!used) {
        failStep(Error{ErrorCode::ChangedHostKey,
                       tr("cannot tell which host key %1 offered, so nothing can be pinned").arg(m_node.id).toStdString(),
                       {}},
                 tr("Check that your ssh supports KnownHostsCommand (OpenSSH 8.5 or later), then run add-node again."));
        return std::nullopt;
    }
    QString detail;
    if (m_node.hostKey.isEmpty()) {
        // ssh accepted it from the admin's own known_hosts: pin what they already trust.
        m_node.hostKey = used->fingerprint();
        detail = tr("host key %1 (trusted by your known_hosts), pinned").arg(m_node.hostKey);
    } else {
        detail = tr("host key %1 pinned").arg(m_node.hostKey);
    }
    if (m_node.mailUser.isEmpty())
        m_report.details.insert(QStringLiteral("loginUser"), ssh(0)->loginUser());
    m_report.details.insert(QStringLiteral("hostKey"), m_node.hostKey);
    return detail;
}

void AddNodeWorkflow::refuseConnect(const Error &error)
{
    const auto *session = m_session && m_session->connection(0) ? m_session->ssh(0) : nullptr;
    const QString offered = session && session->offeredHostKey() ? session->offeredHostKey()->fingerprint() : QString();
    if (!offered.isEmpty())
        m_report.details.insert(QStringLiteral("offeredHostKey"), offered);
    if (error.code == ErrorCode::UnknownHostKey && !offered.isEmpty()) {
        failStep(Error{ErrorCode::UnknownHostKey,
                       tr("%1 offers the host key %2, which is not trusted yet%3")
                           .arg(m_node.id, offered,
                                m_node.hostKey.isEmpty() ? QString() : tr(" (you accepted %1)").arg(m_node.hostKey))
                           .toStdString(),
                       {}},
                 tr("Compare it with the node's own key (on the node: ssh-keygen -lf "
                    "/etc/ssh/ssh_host_ed25519_key.pub) and, if they match, run add-node again with "
                    "--accept-host-key %1.")
                     .arg(offered));
        return;
    }
    if (error.code == ErrorCode::ChangedHostKey && !m_acceptHostKey.isEmpty() && !offered.isEmpty()
        && offered != m_acceptHostKey) {
        // ssh trusts the node through a known_hosts file, but not with the key the admin named.
        failStep(Error{ErrorCode::ChangedHostKey,
                       tr("%1 offers the host key %2, not %3 that you passed with --accept-host-key")
                           .arg(m_node.id, offered, m_acceptHostKey)
                           .toStdString(),
                       {}},
                 tr("Nothing was recorded. Compare the node's own key (on the node: ssh-keygen -lf "
                    "/etc/ssh/ssh_host_ed25519_key.pub) with both; if the node's key is %1, run add-node "
                    "again with --accept-host-key %1, or without it.")
                     .arg(offered));
        return;
    }
    if (error.code == ErrorCode::ChangedHostKey) {
        failStep(error, tr("The node's host key changed. That happens when it was reinstalled, or when someone "
                           "intercepts the connection. Refused: check the node before you trust it again."));
        return;
    }
    failStep(error, tr("Check the ssh address, that you can log in with `ssh %1`, then run add-node again.")
                        .arg(m_node.ssh));
}

void AddNodeWorkflow::probe()
{
    QJsonObject params{{QStringLiteral("path"), m_node.mailRoot}};
    if (const QString binary = dovecotcontrol::dovecotBinary(m_node.dovecot); !binary.isEmpty())
        params.insert(QStringLiteral("dovecot"), binary);
    if (!m_node.dovecot.configFile.isEmpty())
        params.insert(QStringLiteral("dovecotConfig"), m_node.dovecot.configFile);
    if (!m_node.syncthing.home.isEmpty())
        params.insert(QStringLiteral("syncthingHome"), m_node.syncthing.home);
    remote::AgentCall *call = callAgent(0, QStringLiteral("probe"), params);
    connect(call, &remote::AgentCall::progress, this, [this](qint64 done, qint64 total, const QString &current, int eta) {
        reportProgress({{}, m_node.id, done, total, eta, current});
    });
    whenAgentFinished(call, this, [this](const Result<QJsonObject> &probe) {
        if (!probe) {
            failStep(onNode(m_node.id, probe.error()),
                     tr("Check that the mail root exists and is readable by the login or mail user, then run add-node "
                        "again."));
            return;
        }
        m_probe = *probe;
        m_report.details.insert(QStringLiteral("probe"), m_probe);
        const QJsonObject os = m_probe.value(QStringLiteral("os")).toObject();
        completeStep(tr("%1, %2").arg(os.value(QStringLiteral("prettyName")).toString(),
                                      m_probe.value(QStringLiteral("architecture")).toString()));
    });
}

void AddNodeWorkflow::check()
{
    QStringList notes;
    // Who owns the mail: Syncthing 1.19 writes every file as the one user it runs as.
    const QJsonObject inventory = m_probe.value(QStringLiteral("inventory")).toObject();
    const QJsonArray owners = inventory.value(QStringLiteral("owners")).toArray();
    if (owners.size() > 1) {
        QStringList names;
        for (const QJsonValue &value : owners) {
            const QJsonObject owner = value.toObject();
            const QString user = owner.value(QStringLiteral("user")).toString();
            names << QStringLiteral("%1 (%2 files)")
                         .arg(user.isEmpty() ? QString::number(owner.value(QStringLiteral("uid")).toInteger()) : user)
                         .arg(owner.value(QStringLiteral("files")).toInteger());
        }
        failStep(Error{ErrorCode::Unsupported,
                       tr("the mail files under %1 belong to %2 different users: %3")
                           .arg(m_node.mailRoot)
                           .arg(owners.size())
                           .arg(names.mid(0, 5).join(QStringLiteral(", ")))
                           .toStdString(),
                       {}},
                 tr("Syncthing 1.19 writes every file as the one user it runs as, so it cannot keep per-user "
                    "ownership. Move the mail to virtual users under one mail user (vmail) first, then run add-node "
                    "again."));
        return;
    }
    if (owners.size() == 1) {
        const QString owner = owners.first().toObject().value(QStringLiteral("user")).toString();
        if (m_node.mailUser.isEmpty() && !owner.isEmpty()) {
            m_node.mailUser = owner;
            notes << tr("mail user %1 (owns the mail files)").arg(owner);
        } else if (!owner.isEmpty() && owner != m_node.mailUser) {
            failStep(Error{ErrorCode::Conflict,
                           tr("the mail files belong to %1, not to the mail user %2").arg(owner, m_node.mailUser).toStdString(),
                           {}},
                     tr("Pass --mail-user %1, or fix the files' ownership, then run add-node again.").arg(owner));
            return;
        }
    }

    const QJsonObject dovecot = m_probe.value(QStringLiteral("dovecot")).toObject();
    m_node.dovecot.version = dovecot.value(QStringLiteral("version")).toString();
    m_node.dovecot.curOnlyBuild = dovecot.value(QStringLiteral("curOnlyBuild")).toBool();
    m_node.dovecot.curOnlyEnabled = dovecot.value(QStringLiteral("curOnlyEnabled")).toBool();
    if (!dovecot.value(QStringLiteral("found")).toBool())
        notes << tr("no Dovecot found");
    else
        notes << tr("Dovecot %1 (%2)").arg(m_node.dovecot.version,
                                           m_node.dovecot.curOnlyBuild ? tr("cur/-only build") : tr("stock"));

    const QJsonObject syncthing = m_probe.value(QStringLiteral("syncthing")).toObject();
    if (m_node.syncthing.guiAddress.isEmpty())
        m_node.syncthing.guiAddress = syncthing.value(QStringLiteral("guiAddress")).toString();
    if (m_node.syncthing.syncAddress.isEmpty() && !m_node.syncthing.home.isEmpty())
        m_node.syncthing.syncAddress =
            peerAddress(stringList(syncthing.value(QStringLiteral("listenAddresses"))), hostOf(m_node.ssh));
    if (!syncthing.value(QStringLiteral("found")).toBool())
        notes << tr("Syncthing not installed (run prepare)");
    else
        notes << tr("Syncthing %1").arg(syncthing.value(QStringLiteral("version")).toString());

    const QJsonArray warnings = m_probe.value(QStringLiteral("warnings")).toArray();
    for (const QJsonValue &warning : warnings)
        notes << warning.toString();

    bool clusterPaired = false;
    for (const NodeConfig &other : std::as_const(m_cluster.nodes))
        if (other.id != m_node.id && !other.syncthing.deviceId.isEmpty())
            clusterPaired = true;
    if (NodeConfig *existing = m_cluster.node(m_node.id)) {
        if (m_node.syncthing.deviceId.isEmpty())
            m_node.syncthing.deviceId = existing->syncthing.deviceId;
        *existing = m_node;
    } else {
        m_cluster.nodes << m_node;
    }
    if (clusterPaired) {
        // The other nodes serve mail already: this one must not serve before its copy is complete.
        notes << tr("next: `mailmeshctl join %1` (its Dovecot stays held until it has every message)").arg(m_node.id);
        m_report.details.insert(QStringLiteral("next"), QStringLiteral("mailmeshctl join %1").arg(m_node.id));
    }
    for (const QJsonValue &node : m_cluster.toJson().value(QStringLiteral("nodes")).toArray())
        if (node.toObject().value(QStringLiteral("id")).toString() == m_node.id)
            m_report.details.insert(QStringLiteral("node"), node);
    completeStep(notes.join(QStringLiteral("; ")));
}

} // namespace mm::cluster
