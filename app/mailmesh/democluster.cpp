#include "democluster.h"

#include "cluster/agentlocator.h"
#include "cluster/clustermonitor.h"
#include "cluster/pairworkflow.h"
#include "cluster/sandboxcluster.h"
#include "sandbox/sandbox.h"

#include <QDir>
#include <QFile>

#include <unistd.h>

namespace mm::app {

namespace {

constexpr int kDemoNodes = 3;

} // namespace

SandboxThread::SandboxThread(QString dir, QByteArray seedScript, QObject *parent)
    : QThread(parent)
    , m_dir(std::move(dir))
    , m_seedScript(std::move(seedScript))
{
}

SandboxThread::~SandboxThread()
{
    quit();
    wait();
}

void SandboxThread::run()
{
    // A demo left running by a crashed app: stop its daemons and start afresh.
    if (QFile::exists(m_dir + QStringLiteral("/sandbox.json")))
        sandbox::Sandbox::tearDownDirectory(m_dir);
    QDir(m_dir).removeRecursively();

    sandbox::SandboxOptions options;
    options.nodeCount = kDemoNodes;
    options.dir = m_dir;
    options.changeWatcher = cluster::locateAgentBinary();
    sandbox::Sandbox sandbox(options);
    if (const Status started = sandbox.start(); !started) {
        Q_EMIT failed(tr("The demo nodes did not start: %1").arg(QString::fromStdString(started.error().describe())));
        return;
    }
    const sandbox::NodeInfo first = sandbox.node(0);
    const auto seeded = sandbox.runOnNode(
        0, QStringLiteral("cd '%1' && sh -s '%2'").arg(first.mailRoot, first.imapUser.section(QLatin1Char('@'), 1)), 60000,
        m_seedScript);
    if (!seeded || seeded->exitCode != 0) {
        Q_EMIT failed(tr("Could not put sample mail on node 1: %1")
                          .arg(seeded ? QString::fromUtf8(seeded->standardError)
                                      : QString::fromStdString(seeded.error().describe())));
        return;
    }
    Q_EMIT sandboxReady(sandbox.description());
    exec(); // until quit(): the daemons live exactly as long as this thread
    sandbox.tearDown();
    QDir(m_dir).removeRecursively();
}

DemoCluster::DemoCluster(QObject *parent)
    : QObject(parent)
{
}

DemoCluster::~DemoCluster()
{
    stop();
}

QString DemoCluster::demoDirectory()
{
    return QDir::tempPath() + QStringLiteral("/mailmesh-demo-%1").arg(::getuid());
}

void DemoCluster::start()
{
    m_options.agentBinary = cluster::locateAgentBinary();
    if (m_options.agentBinary.isEmpty()) {
        Q_EMIT failed(tr("mailmesh-agent was not found beside the app; set MAILMESH_AGENT to its path."));
        return;
    }
    QFile seed(QStringLiteral(":/demo/seed-mail.sh"));
    if (!seed.open(QIODevice::ReadOnly)) {
        Q_EMIT failed(tr("The demo's sample mail script is missing from this build."));
        return;
    }
    Q_EMIT progress(tr("Starting three local nodes (sshd, Syncthing, Dovecot)…"));
    m_thread = new SandboxThread(demoDirectory(), seed.readAll(), this);
    connect(m_thread, &SandboxThread::sandboxReady, this, &DemoCluster::onSandboxStarted, Qt::QueuedConnection);
    connect(m_thread, &SandboxThread::failed, this, &DemoCluster::failed, Qt::QueuedConnection);
    m_thread->start();
}

void DemoCluster::stop()
{
    if (m_monitor)
        m_monitor->stop();
    delete m_pair;
    m_pair = nullptr;
    if (m_thread) {
        m_thread->quit();
        m_thread->wait();
        delete m_thread;
        m_thread = nullptr;
    }
}

void DemoCluster::onSandboxStarted(const QJsonObject &description)
{
    auto cluster = cluster::clusterFromSandboxDescription(description, tr("Mailmesh demo"));
    if (!cluster) {
        Q_EMIT failed(QString::fromStdString(cluster.error().describe()));
        return;
    }
    m_cluster = std::move(*cluster);
    const QString dir = description.value(QStringLiteral("dir")).toString();
    m_clusterFile = dir + QStringLiteral("/cluster.json");
    m_options.network = &m_network;
    m_options.ssh.configFile = description.value(QStringLiteral("sshConfigFile")).toString();
    m_options.ssh.knownHostsFile = dir + QStringLiteral("/client/mailmesh_known_hosts");
    m_options.ssh.readKnownHostsFiles.clear(); // the demo trusts only the keys it pinned
    m_options.syncPollMs = 2000;
    m_options.inventoryPollMs = 15000;

    Q_EMIT progress(tr("Pairing the nodes' Syncthing and sharing the mail root…"));
    m_pair = new cluster::PairWorkflow(m_cluster, m_options, this);
    connect(m_pair, &cluster::PairWorkflow::progress, this, [this](const QString &step) { Q_EMIT progress(step); });
    connect(m_pair, &cluster::PairWorkflow::failed, this, [this](const Error &error) {
        Q_EMIT failed(tr("Pairing failed: %1").arg(QString::fromStdString(error.describe())));
    });
    connect(m_pair, &cluster::PairWorkflow::succeeded, this, &DemoCluster::onPaired);
    m_pair->start();
}

void DemoCluster::onPaired()
{
    m_cluster = m_pair->cluster();
    if (const Status saved = m_cluster.save(m_clusterFile); !saved) {
        Q_EMIT failed(QString::fromStdString(saved.error().describe()));
        return;
    }
    m_monitor = new cluster::ClusterMonitor(m_cluster, m_options, this);
    Q_EMIT clusterReady(m_clusterFile, m_monitor);
    m_monitor->start();
    Q_EMIT progress(tr("Demo cluster ready: 3 nodes, paired and in sync"));
}

} // namespace mm::app
