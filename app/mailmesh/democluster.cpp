#include "democluster.h"

#include "cluster/session/agentlocator.h"
#include "cluster/monitor/clustermonitor.h"
#include "cluster/workflows/pairworkflow.h"
#include "cluster/config/sandboxcluster.h"
#include "demodovecot.h"
#include "demotrafficthread.h"
#include "sandbox/sandbox.h"

#include <QDir>
#include <QFile>

#include <unistd.h>

namespace mm::app {

namespace {

constexpr int kDemoNodes = 3;

} // namespace

SandboxThread::SandboxThread(QString dir, QByteArray seedScript, QString dovecotPrefix, QObject *parent)
    : QThread(parent)
    , m_dir(std::move(dir))
    , m_seedScript(std::move(seedScript))
    , m_dovecotPrefix(std::move(dovecotPrefix))
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
    if (!m_dovecotPrefix.isEmpty()) {
        options.dovecotPrefix = m_dovecotPrefix;
        options.curOnlySettingOff = true;
    }
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
    m_seedScript = seed.readAll();
    m_dovecot = new DemoDovecot(this);
    connect(m_dovecot, &DemoDovecot::progress, this, &DemoCluster::progress);
    connect(m_dovecot, &DemoDovecot::found, this, [this](const QString &prefix) {
        m_runsCurOnlyBuild = true;
        startSandbox(prefix);
    });
    connect(m_dovecot, &DemoDovecot::unavailable, this, [this](const QString &reason) {
        m_stockReason = reason;
        startSandbox({});
    });
    m_dovecot->find();
}

void DemoCluster::startSandbox(const QString &dovecotPrefix)
{
    m_dovecotPrefix = dovecotPrefix.isEmpty() ? QStringLiteral("/usr") : dovecotPrefix;
    Q_EMIT progress(m_runsCurOnlyBuild ? tr("Starting three local nodes (sshd, Syncthing, the cur/-only Dovecot)…")
                                       : tr("Starting three local nodes (sshd, Syncthing, the stock Dovecot)…"));
    m_thread = new SandboxThread(demoDirectory(), m_seedScript, dovecotPrefix, this);
    connect(m_thread, &SandboxThread::sandboxReady, this, &DemoCluster::onSandboxStarted, Qt::QueuedConnection);
    connect(m_thread, &SandboxThread::failed, this, &DemoCluster::failed, Qt::QueuedConnection);
    m_thread->start();
}

void DemoCluster::setTrafficOn(bool on)
{
    if (m_traffic)
        m_traffic->setSwitchedOn(on);
}

bool DemoCluster::isTrafficOn() const
{
    return m_traffic && m_traffic->isSwitchedOn();
}

void DemoCluster::setTrafficHeld(bool held)
{
    if (m_traffic)
        m_traffic->setHeld(held);
}

bool DemoCluster::isTrafficHeld() const
{
    return m_traffic && m_traffic->isHeld();
}

bool DemoCluster::isTrafficBusy() const
{
    return m_traffic && m_traffic->isBusy();
}

void DemoCluster::stop()
{
    if (m_traffic) {
        Q_EMIT trafficAvailable(false);
        delete m_traffic; // waits for the round under way: it talks to the nodes
        m_traffic = nullptr;
    }
    delete m_dovecot; // a build still running is killed with it
    m_dovecot = nullptr;
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
    m_description = description;
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
    connect(m_pair, &cluster::Workflow::stepStarted, this,
            [this](int, const QString &, const QString &title) { Q_EMIT progress(title + QStringLiteral("…")); });
    connect(m_pair, &cluster::Workflow::finished, this, [this](const cluster::WorkflowReport &report) {
        if (report.succeeded)
            onPaired();
        else
            Q_EMIT failed(tr("Pairing failed: %1")
                              .arg(report.error ? QString::fromStdString(report.error->describe()) : QString()));
    });
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
    m_traffic = new DemoTrafficThread(m_description, this);
    connect(m_traffic, &DemoTrafficThread::figuresChanged, this, [this](const sandbox::DemoTraffic::Figures &figures) {
        m_trafficFigures = figures;
        Q_EMIT trafficFiguresChanged(figures);
    });
    connect(m_traffic, &DemoTrafficThread::problem, this, &DemoCluster::trafficProblem);
    m_traffic->start();
    Q_EMIT trafficAvailable(true);
    if (m_runsCurOnlyBuild)
        Q_EMIT progress(tr("Demo cluster ready: 3 nodes, paired and in sync, running the cur/-only Dovecot with its "
                           "setting off: Migrate to cur/-only… switches it on"));
    else
        Q_EMIT progress(tr("Demo cluster ready: 3 nodes on the stock Dovecot, so the migration stops at its Dovecot "
                           "check (the cur/-only build: %1; installers/dovecot/build-prefix.sh 2.3 builds it)")
                            .arg(m_stockReason));
}

} // namespace mm::app
