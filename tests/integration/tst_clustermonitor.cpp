// PairWorkflow and ClusterMonitor against three real sandbox nodes (sshd, syncthing, dovecot on
// 127.0.0.1): pairing through SSH tunnels, then live snapshots while nodes misbehave.

#include "cluster/monitor/clustermonitor.h"
#include "cluster/workflows/pairworkflow.h"
#include "cluster/config/sandboxcluster.h"
#include "sandbox/sandbox.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QSignalSpy>
#include <QTest>

#include <csignal>

using namespace mm;

namespace {

const cluster::NodeState *nodeState(const cluster::ClusterSnapshot &snapshot, const QString &id)
{
    for (const cluster::NodeState &node : snapshot->nodes)
        if (node.id == id)
            return &node;
    return nullptr;
}

bool everyoneHealthyAndInSync(const cluster::ClusterSnapshot &snapshot, QString *why)
{
    for (const cluster::NodeState &node : snapshot->nodes) {
        // Every sandbox node runs mailmesh-agent watch-changes beside Syncthing, as prepare
        // makes a real node do: the probe must have found it.
        if (node.reachability != cluster::Reachability::Reachable || node.agentVersion.isEmpty()
            || node.syncthingVersion.isEmpty() || !node.problems.isEmpty() || node.changeWatcherRunning != true) {
            *why = QStringLiteral("%1: reachability %2, agent '%3', syncthing '%4', change watcher %5, problems %6")
                       .arg(node.id)
                       .arg(int(node.reachability))
                       .arg(node.agentVersion, node.syncthingVersion,
                            node.changeWatcherRunning ? QString::number(*node.changeWatcherRunning) : QStringLiteral("?"),
                            node.problems.join(QStringLiteral("; ")));
            return false;
        }
    }
    for (const cluster::PeerSync &peer : snapshot->peers) {
        if (!peer.connected || peer.completion < 100) {
            *why = QStringLiteral("%1 -> %2: connected %3, %4%").arg(peer.nodeId, peer.peerId).arg(peer.connected).arg(peer.completion);
            return false;
        }
    }
    const QStringList ids = snapshot->nodeIds();
    for (const cluster::MailboxCounts &mailbox : snapshot->mailboxes) {
        if (!mailbox.agrees(ids)) {
            *why = QStringLiteral("mailbox %1 differs").arg(mailbox.mailbox);
            return false;
        }
    }
    if (snapshot->mailboxes.isEmpty()) {
        *why = QStringLiteral("no mailboxes yet");
        return false;
    }
    return true;
}

sandbox::SandboxOptions sandboxOptions()
{
    sandbox::SandboxOptions options;
    options.changeWatcher = QStringLiteral(MAILMESH_AGENT_BINARY);
    return options;
}

} // namespace

class TestClusterMonitor : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_sandbox.start(), "sandbox did not start");
        // Mail on node 1 only, some of it in new/ and in a Maildir++ folder: pairing must carry it.
        const auto seeded = m_sandbox.runOnNode(0, QStringLiteral(
            "set -e; cd '%1'; mkdir -p .Sent/cur .Sent/new .Sent/tmp; touch .Sent/maildirfolder; "
            "for i in 1 2 3 4 5; do printf 'Message-ID: <m%s@example.org>\\r\\nSubject: %s\\r\\n\\r\\nbody\\r\\n' "
            "\"$i\" \"$i\" > \"cur/170000000$i.M${i}P1.node1:2,S\"; done; "
            "printf 'Subject: new\\r\\n\\r\\nfresh\\r\\n' > new/1700000100.M1P1.node1; "
            "printf 'Subject: sent\\r\\n\\r\\nsent\\r\\n' > .Sent/cur/1700000200.M1P1.node1:2,S")
            .arg(m_sandbox.node(0).maildir));
        QVERIFY2(seeded && seeded->exitCode == 0, seeded ? seeded->standardError.constData() : "ssh failed");

        auto config = cluster::clusterFromSandboxDescription(m_sandbox.description(), QStringLiteral("monitor test"));
        QVERIFY2(config, config ? "" : config.error().message.c_str());
        m_cluster = *config;
        m_options.agentBinary = QStringLiteral(MAILMESH_AGENT_BINARY);
        m_options.network = &m_network;
        m_options.ssh.configFile = m_sandbox.sshConfigFile();
        // An empty known_hosts: the keys pinned in the cluster file must be enough.
        m_options.ssh.knownHostsFile = m_sandbox.dir() + QStringLiteral("/client/mailmesh_known_hosts");
        m_options.ssh.readKnownHostsFiles.clear();
        m_options.syncPollMs = 500;
        m_options.inventoryPollMs = 2000;
    }

    void cleanupTestCase() { m_sandbox.tearDown(); }

    void pairsTheNodesThroughTheirTunnels()
    {
        cluster::ClusterConfig unpaired = m_cluster;
        for (cluster::NodeConfig &node : unpaired.nodes)
            node.syncthing.deviceId.clear(); // the workflow must learn them itself
        cluster::PairWorkflow pair(unpaired, m_options);
        QSignalSpy finished(&pair, &cluster::Workflow::finished);
        QSignalSpy progress(&pair, &cluster::Workflow::progressed);
        pair.start();
        QVERIFY(finished.wait(200'000));
        const auto report = finished.first().first().value<cluster::WorkflowReport>();
        QVERIFY2(report.succeeded, report.error ? report.error->message.c_str() : "failed");
        QVERIFY(report.saveCluster); // the device ids belong in the cluster file
        QVERIFY(progress.count() >= 3);
        for (qsizetype i = 0; i < m_cluster.nodes.size(); ++i)
            QCOMPARE(pair.cluster().nodes[i].syncthing.deviceId, m_cluster.nodes[i].syncthing.deviceId);

        // Everything from node 1 is on node 3 now, new/ included.
        const auto listing = m_sandbox.runOnNode(2, QStringLiteral("cd '%1' && ls cur new .Sent/cur | wc -l").arg(m_sandbox.node(2).maildir));
        QVERIFY(listing && listing->exitCode == 0);
        QVERIFY2(listing->standardOutput.trimmed().toInt() >= 7, listing->standardOutput.constData());

        // Pairing again changes nothing and succeeds.
        cluster::PairWorkflow again(m_cluster, m_options);
        QSignalSpy againFinished(&again, &cluster::Workflow::finished);
        again.start();
        QVERIFY(againFinished.wait(200'000));
        QVERIFY(againFinished.first().first().value<cluster::WorkflowReport>().succeeded);
    }

    void eventsReachTheMonitorBetweenPolls()
    {
        cluster::MonitorOptions slow = m_options;
        slow.syncPollMs = 600'000; // one poll when the tunnel opens; later changes come by events
        cluster::ClusterMonitor monitor(m_cluster, slow);
        monitor.start();
        QString why;
        QTRY_VERIFY2_WITH_TIMEOUT(everyoneHealthyAndInSync(monitor.snapshot(), &why), qPrintable(why), 90'000);
        const auto node1SeesNode3 = [&monitor] {
            const cluster::PeerSync *peer = monitor.snapshot()->peer(QStringLiteral("node1"), QStringLiteral("node3"));
            return peer && peer->connected;
        };
        QVERIFY(m_sandbox.stopSyncthing(2));
        QTRY_VERIFY_WITH_TIMEOUT(!node1SeesNode3(), 60'000);
        QVERIFY(m_sandbox.startSyncthing(2));
        QTRY_VERIFY_WITH_TIMEOUT(node1SeesNode3(), 60'000);
        monitor.stop();
    }

    void snapshotsFollowTheCluster()
    {
        cluster::ClusterMonitor monitor(m_cluster, m_options);
        monitor.start();
        QString why;
        QTRY_VERIFY2_WITH_TIMEOUT(everyoneHealthyAndInSync(monitor.snapshot(), &why), qPrintable(why), 90'000);
        const cluster::ClusterSnapshot healthy = monitor.snapshot();
        QCOMPARE(healthy->nodes.size(), 3);
        QVERIFY(healthy->mailboxes.size() >= 2); // INBOX and .Sent
        QCOMPARE(healthy->summary().errors, 0);

        // A node whose Syncthing stops is seen as disconnected by its peers.
        QVERIFY(m_sandbox.stopSyncthing(2));
        QTRY_VERIFY_WITH_TIMEOUT(monitor.snapshot()->peer(QStringLiteral("node1"), QStringLiteral("node3"))
                                     && !monitor.snapshot()->peer(QStringLiteral("node1"), QStringLiteral("node3"))->connected,
                                 60'000);
        QVERIFY(m_sandbox.startSyncthing(2));
        QTRY_VERIFY2_WITH_TIMEOUT(everyoneHealthyAndInSync(monitor.snapshot(), &why), qPrintable(why), 90'000);

        monitor.stop();

        // A node that comes back with another host key (reinstalled, or someone in between) is
        // refused and named: here as the app sees it when it next starts.
        QVERIFY(m_sandbox.restartSshdWithNewHostKey(1));
        cluster::ClusterMonitor restarted(m_cluster, m_options);
        restarted.start();
        QTRY_VERIFY_WITH_TIMEOUT(nodeState(restarted.snapshot(), QStringLiteral("node2"))->hostKey
                                     == cluster::HostKeyState::Changed,
                                 60'000);
        const cluster::NodeState *refused = nodeState(restarted.snapshot(), QStringLiteral("node2"));
        QCOMPARE(refused->health(), cluster::Health::Error);
        QVERIFY2(refused->problems.join(QLatin1Char(' ')).contains(m_cluster.nodes[1].hostKey), qPrintable(refused->problems.join(QLatin1Char(' '))));
        restarted.stop();
    }

    // Last: it stops node3's watch-changes for good (the sandbox does not restart it).
    void aNodeWithoutItsChangeWatcherIsNamed()
    {
        QFile state(m_sandbox.dir() + QStringLiteral("/sandbox.json"));
        QVERIFY(state.open(QIODevice::ReadOnly));
        qint64 pid = 0;
        for (const QJsonValue &process : QJsonDocument::fromJson(state.readAll())[QStringLiteral("processes")].toArray())
            if (process[QStringLiteral("node")].toString() == QLatin1String("node3")
                && process[QStringLiteral("daemon")].toString() == QLatin1String("watch-changes"))
                pid = process[QStringLiteral("pid")].toInteger();
        QVERIFY(pid > 0);
        QCOMPARE(::kill(pid_t(pid), SIGTERM), 0);
        // The node's probe lists processes from /proc: wait until the watcher has really exited
        // (a zombie has an empty command line), or the monitor's first probe may still see it.
        const QString cmdline = QStringLiteral("/proc/%1/cmdline").arg(pid);
        QTRY_VERIFY_WITH_TIMEOUT(
            [&cmdline] {
                QFile file(cmdline);
                return !file.open(QIODevice::ReadOnly) || file.readAll().isEmpty();
            }(),
            30'000);

        cluster::ClusterMonitor monitor(m_cluster, m_options);
        monitor.start();
        const auto watcherOf = [&monitor](const char *id) {
            const cluster::NodeState *node = nodeState(monitor.snapshot(), QLatin1String(id));
            return node ? node->changeWatcherRunning : std::nullopt;
        };
        QTRY_VERIFY_WITH_TIMEOUT(watcherOf("node3").has_value(), 60'000);
        QCOMPARE(watcherOf("node3"), std::optional<bool>(false));
        const QString problems = nodeState(monitor.snapshot(), QStringLiteral("node3"))->problems.join(u' ');
        QVERIFY2(problems.contains(QLatin1String("mailmesh-agent watch-changes is not running"))
                     && problems.contains(QLatin1String("mailmeshctl prepare node3")),
                 qPrintable(problems));
        QTRY_COMPARE_WITH_TIMEOUT(watcherOf("node1"), std::optional<bool>(true), 60'000);
        monitor.stop();
    }

private:
    sandbox::Sandbox m_sandbox{sandboxOptions()};
    cluster::ClusterConfig m_cluster;
    cluster::MonitorOptions m_options;
    QNetworkAccessManager m_network;
};

QTEST_GUILESS_MAIN(TestClusterMonitor)
#include "tst_clustermonitor.moc"
