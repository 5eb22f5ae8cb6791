#include "cluster/workflows/rekeynodeworkflow.h"

#include "remote/sshsession.h"

#include <QRegularExpression>

#include <utility>

namespace mm::cluster {

namespace {

// What ssh-keygen -l prints for a SHA-256 fingerprint: "SHA256:" and 43 characters of unpadded
// base64.
bool looksLikeFingerprint(const QString &text)
{
    static const QRegularExpression pattern(QStringLiteral("^SHA256:[A-Za-z0-9+/]{43}$"));
    return pattern.match(text).hasMatch();
}

} // namespace

RekeyNodeWorkflow::RekeyNodeWorkflow(ClusterConfig cluster, QString nodeId, QString acceptHostKey,
                                     MonitorOptions monitorOptions, QObject *parent)
    : ClusterWorkflow(QStringLiteral("rekey"), acceptHostKey.isEmpty(), std::move(cluster), std::move(monitorOptions),
                      parent)
    , m_nodeId(std::move(nodeId))
    , m_acceptHostKey(std::move(acceptHostKey))
{
    keepClusterChanges(ClusterChanges::KeptOnSuccess);
    m_report.details.insert(QStringLiteral("node"), m_nodeId);
    addStep(QStringLiteral("validate"), tr("Check the cluster file"), [this] { validate(); });
    addStep(QStringLiteral("look"), tr("Ask the node which host key it offers"), [this] { look(); });
    if (m_acceptHostKey.isEmpty())
        return;
    addStep(QStringLiteral("pin"), tr("Pin the confirmed host key and connect with it"), [this] { pin(); });
}

RekeyNodeWorkflow::~RekeyNodeWorkflow()
{
    RekeyNodeWorkflow::cleanUp();
}

QString RekeyNodeWorkflow::compareCommand()
{
    return QStringLiteral("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub");
}

void RekeyNodeWorkflow::cleanUp()
{
    closeProbe();
    ClusterWorkflow::cleanUp();
}

void RekeyNodeWorkflow::closeProbe()
{
    if (!m_probe)
        return;
    m_probe->close();
    m_probe->deleteLater();
    m_probe = nullptr;
}

void RekeyNodeWorkflow::validate()
{
    const NodeConfig *node = std::as_const(m_cluster).node(m_nodeId);
    if (!node) {
        failStep(Error{ErrorCode::NotFound, tr("no node \"%1\" in the cluster file").arg(m_nodeId).toStdString(), {}},
                 tr("Nothing was changed. `mailmeshctl status` lists the cluster's nodes."));
        return;
    }
    if (node->hostKey.isEmpty()) {
        failStep(Error{ErrorCode::BadRequest, tr("%1 has no pinned host key").arg(m_nodeId).toStdString(), {}},
                 tr("Nothing was changed. `mailmeshctl add-node %1` pins the key the node offers.").arg(m_nodeId));
        return;
    }
    if (!m_acceptHostKey.isEmpty() && !looksLikeFingerprint(m_acceptHostKey)) {
        failStep(Error{ErrorCode::BadRequest,
                       tr("\"%1\" is no SHA-256 host key fingerprint").arg(m_acceptHostKey).toStdString(),
                       {}},
                 tr("Nothing was changed. Pass the fingerprint `mailmeshctl rekey %1` showed, like "
                    "SHA256:followed-by-43-characters.")
                     .arg(m_nodeId));
        return;
    }
    m_pinned = node->hostKey;
    m_report.details.insert(QStringLiteral("pinnedHostKey"), m_pinned);
    completeStep(tr("%1 is pinned to %2").arg(m_nodeId, m_pinned));
}

void RekeyNodeWorkflow::look()
{
    // Connecting with the pin either works (the key did not change) or is refused with the key
    // the node offered instead; nothing runs on the node either way.
    m_probe = new ClusterSession({*std::as_const(m_cluster).node(m_nodeId)}, m_monitorOptions, ClusterSession::Ssh,
                                 this);
    connect(m_probe, &ClusterSession::ready, this, [this] {
        closeProbe();
        m_offered = m_pinned;
        m_report.details.insert(QStringLiteral("offeredHostKey"), m_offered);
        m_report.details.insert(QStringLiteral("keyChanged"), false);
        if (!m_acceptHostKey.isEmpty() && m_acceptHostKey != m_pinned) {
            failStep(Error{ErrorCode::Conflict,
                           tr("%1 still offers its pinned host key %2, not %3").arg(m_nodeId, m_pinned, m_acceptHostKey)
                               .toStdString(),
                           {}},
                     tr("Nothing was changed: the node's key did not change, so there is nothing to confirm."));
            return;
        }
        completeStep(tr("%1 still offers its pinned host key: nothing to change").arg(m_nodeId));
    });
    connect(m_probe, &ClusterSession::failed, this, [this](const QString &, const Error &error) {
        remote::SshSession *ssh = m_probe->connection(0) ? m_probe->ssh(0) : nullptr;
        const std::optional<remote::HostKey> offered =
            ssh && ssh->offeredHostKey() ? ssh->offeredHostKey() : std::optional<remote::HostKey>();
        // Mailmesh's known_hosts pins the old key as well: the confirmed key replaces it there
        // now, and the previous content comes back if the next step cannot connect with it.
        Result<QByteArray> swapped = QByteArray();
        if (ssh && offered && error.code == ErrorCode::ChangedHostKey && offered->fingerprint() == m_acceptHostKey)
            swapped = ssh->replaceHostKey(*offered, m_pinned);
        closeProbe();
        if (!swapped) {
            failStep(swapped.error(), tr("Nothing was changed in the cluster file. Check Mailmesh's known_hosts file "
                                         "named in the message."));
            return;
        }
        if (!swapped->isEmpty())
            m_knownHostsBefore = *swapped;
        if (error.code != ErrorCode::ChangedHostKey || !offered) {
            failStep(error, tr("Nothing was changed. Check that the node is up and that `ssh` reaches it, then run "
                               "`mailmeshctl rekey %1` again.")
                                .arg(m_nodeId));
            return;
        }
        m_offered = offered->fingerprint();
        m_report.details.insert(QStringLiteral("offeredHostKey"), m_offered);
        m_report.details.insert(QStringLiteral("offeredKeyType"), offered->type);
        m_report.details.insert(QStringLiteral("keyChanged"), true);
        if (m_acceptHostKey.isEmpty()) {
            completeStep(tr("%1 offers %2 (%3) instead of its pinned %4").arg(m_nodeId, m_offered, offered->type, m_pinned));
            return;
        }
        if (m_acceptHostKey != m_offered) {
            failStep(Error{ErrorCode::ChangedHostKey,
                           tr("%1 now offers the host key %2, not %3 that you confirmed: it changed again")
                               .arg(m_nodeId, m_offered, m_acceptHostKey)
                               .toStdString(),
                           {}},
                     tr("Nothing was changed. Compare the node's key again on the node itself (%1) before you "
                        "confirm a key; a key that keeps changing is a reason to look for someone in the middle.")
                         .arg(compareCommand()));
            return;
        }
        completeStep(tr("%1 offers %2, the key you confirmed").arg(m_nodeId, m_offered));
    });
    m_probe->open();
}

void RekeyNodeWorkflow::pin()
{
    if (m_offered == m_pinned) {
        skipStep(tr("the pin stays %1").arg(m_pinned));
        return;
    }
    // The session compares the new pin with the key ssh really uses, so a key that changed
    // again since the last step fails here too, and nothing is kept.
    NodeConfig node = *std::as_const(m_cluster).node(m_nodeId);
    node.hostKey = m_acceptHostKey;
    m_probe = new ClusterSession({node}, m_monitorOptions, ClusterSession::Ssh, this);
    connect(m_probe, &ClusterSession::ready, this, [this] {
        closeProbe();
        m_cluster.node(m_nodeId)->hostKey = m_acceptHostKey;
        m_report.details.insert(QStringLiteral("pinnedHostKey"), m_acceptHostKey);
        m_report.details.insert(QStringLiteral("previousHostKey"), m_pinned);
        completeStep(tr("%1 is pinned to %2 and answers with it").arg(m_nodeId, m_acceptHostKey));
    });
    connect(m_probe, &ClusterSession::failed, this, [this](const QString &, const Error &error) {
        if (m_knownHostsBefore && m_probe->connection(0))
            (void)m_probe->ssh(0)->restoreKnownHosts(*m_knownHostsBefore);
        closeProbe();
        failStep(error, tr("Nothing was changed: %1 did not accept the connection with the confirmed key. Run "
                           "`mailmeshctl rekey %1` again to see what it offers now.")
                            .arg(m_nodeId));
    });
    m_probe->open();
}

} // namespace mm::cluster
