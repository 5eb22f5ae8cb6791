#include "ui/mainwindow.h"

#include "ui/statuspresentation.h"

#include "cluster/session/agentlocator.h"
#include "cluster/monitor/clustermonitor.h"
#include "ui/dashboardwidget.h"
#include "ui/duplicatesdialog.h"
#include "ui/eventlogmodel.h"
#include "ui/homesdialog.h"
#include "ui/migrationdialog.h"
#include "ui/rekeydialog.h"
#include "ui/notificationsettingsdialog.h"
#include "ui/wizard/setupwizard.h"
#include "ui/statuspresentation.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QVBoxLayout>

namespace mm::ui {

namespace {

const QString kRecentKey = QStringLiteral("clusters/recent");
const QString kLastKey = QStringLiteral("clusters/last");
const QString kGeometryKey = QStringLiteral("window/geometry");
const QString kStateKey = QStringLiteral("window/state");
constexpr int kMaxRecent = 8;

// Until the monitor has contacted the nodes, the dashboard lists them as not yet seen.
cluster::ClusterSnapshot snapshotFromConfig(const cluster::ClusterConfig &config)
{
    auto state = std::make_shared<cluster::ClusterState>();
    state->takenAt = QDateTime::currentDateTimeUtc();
    for (const cluster::NodeConfig &node : config.nodes) {
        cluster::NodeState nodeState;
        nodeState.id = node.id;
        nodeState.dovecotVersion = node.dovecot.version;
        nodeState.dovecotCurOnlyBuild = node.dovecot.curOnlyBuild;
        nodeState.dovecotCurOnlyEnabled = node.dovecot.curOnlyEnabled;
        state->nodes << nodeState;
    }
    return state;
}

} // namespace

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
    , m_pages(new QStackedWidget(this))
    , m_dashboard(new DashboardWidget(this))
{
    setWindowTitle(tr("Mailmesh"));
    setWindowIcon(applicationIcon());
    m_pages->addWidget(createEmptyState());
    m_pages->addWidget(m_dashboard);
    setCentralWidget(m_pages);
    createMenus();
    m_alerts.setThresholds(NotificationSettingsDialog::load());
    if (QSystemTrayIcon::isSystemTrayAvailable()) {
        m_tray = new QSystemTrayIcon(trayIcon(cluster::Health::Unknown), this);
        m_tray->setToolTip(tr("Mailmesh"));
        connect(m_tray, &QSystemTrayIcon::activated, this, [this] {
            showNormal();
            raise();
            activateWindow();
        });
        m_tray->show();
    }
    connect(m_dashboard, &DashboardWidget::exportEventLogRequested, this, &MainWindow::exportEventLog);
    connect(m_dashboard, &DashboardWidget::migrateRequested, this, &MainWindow::openMigrationDialog);
    connect(m_dashboard, &DashboardWidget::duplicatesRequested, this, &MainWindow::openDuplicatesDialog);
    connect(m_dashboard, &DashboardWidget::rekeyRequested, this, &MainWindow::openRekeyDialog);
    statusBar()->showMessage(tr("No cluster open"));

    resize(1180, 760);
    const QSettings settings;
    restoreGeometry(settings.value(kGeometryKey).toByteArray());
    restoreState(settings.value(kStateKey).toByteArray());
}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&Cluster"));
    QAction *create = file->addAction(tr("&New Cluster…"), this, &MainWindow::newCluster);
    create->setShortcut(QKeySequence::New);
    QAction *open = file->addAction(tr("&Open Cluster File…"), this, &MainWindow::chooseClusterFile);
    open->setShortcut(QKeySequence::Open);
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    updateRecentMenu();
    file->addSeparator();
    file->addAction(tr("&Export Event Log…"), this, &MainWindow::exportEventLog);
    // Read-only: who lives where (docs/home-nodes.md); changing it stays with mailmeshctl.
    file->addAction(tr("&Home Nodes…"), this, [this] {
        if (m_clusterPath.isEmpty())
            return;
        if (m_workflowOptions.agentBinary.isEmpty())
            m_workflowOptions.agentBinary = cluster::locateAgentBinary();
        auto *dialog = new HomesDialog(m_cluster, m_workflowOptions, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->open();
        dialog->refresh();
    });
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), qApp, &QApplication::closeAllWindows);
    quit->setShortcut(QKeySequence::Quit);

    QMenu *settings = menuBar()->addMenu(tr("&Settings"));
    settings->addAction(tr("&Notifications…"), this, [this] {
        NotificationSettingsDialog dialog(this);
        if (dialog.exec() == QDialog::Accepted)
            m_alerts.setThresholds(dialog.thresholds());
    });

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Mailmesh"), this, [this] {
        QMessageBox::about(this, tr("About Mailmesh"),
                           tr("<h3>Mailmesh %1</h3><p>Multi-master Maildir clusters: Dovecot nodes kept in "
                              "sync by Syncthing, with a cur/-only Dovecot so nodes never race into "
                              "duplicates.</p>")
                               .arg(QApplication::applicationVersion()));
    });
}

QWidget *MainWindow::createEmptyState()
{
    auto *page = new QWidget(this);
    auto *title = new QLabel(tr("<h2>No cluster open</h2>"), page);
    auto *text = new QLabel(tr("<p>A cluster file lists your mail nodes: how to reach each over SSH, its "
                               "mail root and its Syncthing.</p>"
                               "<p>Set up a new cluster, open one, or start <tt>mailmesh --demo</tt> to explore a "
                               "local three-node cluster first.</p>"),
                            page);
    text->setWordWrap(true);
    text->setFixedWidth(540); // a wrapped label needs a definite width to compute its height
    auto *newButton = new QPushButton(tr("&New Cluster…"), page);
    newButton->setToolTip(tr("Set up a cluster step by step: nodes, host keys, Syncthing pairing, migration"));
    connect(newButton, &QPushButton::clicked, this, &MainWindow::newCluster);
    auto *openButton = new QPushButton(tr("&Open Cluster File…"), page);
    connect(openButton, &QPushButton::clicked, this, &MainWindow::chooseClusterFile);
    for (QLabel *label : {title, text})
        label->setAlignment(Qt::AlignHCenter);

    auto *layout = new QVBoxLayout(page);
    layout->addStretch(1);
    layout->addWidget(title, 0, Qt::AlignHCenter);
    // Centred with stretches: an alignment flag would stop the wrapped label from growing in height.
    auto *textRow = new QHBoxLayout;
    textRow->addStretch(1);
    textRow->addWidget(text);
    textRow->addStretch(1);
    layout->addLayout(textRow);
    layout->addSpacing(12);
    auto *buttons = new QHBoxLayout;
    buttons->addStretch(1);
    buttons->addWidget(newButton);
    buttons->addWidget(openButton);
    buttons->addStretch(1);
    layout->addLayout(buttons);
    layout->addStretch(2);
    return page;
}

bool MainWindow::openCluster(const QString &path, bool remember)
{
    auto config = cluster::ClusterConfig::load(path);
    if (!config) {
        QMessageBox::warning(this, tr("Cannot open the cluster file"), QString::fromStdString(config.error().describe()));
        return false;
    }
    m_cluster = std::move(*config);
    m_clusterPath = QFileInfo(path).absoluteFilePath();
    setWindowTitle(tr("%1 — Mailmesh").arg(m_cluster.name));
    m_pages->setCurrentWidget(m_dashboard);
    setSnapshot(snapshotFromConfig(m_cluster));
    statusBar()->showMessage(tr("%1 nodes, from %2").arg(m_cluster.nodes.size()).arg(m_clusterPath));
    Q_EMIT clusterOpened(m_clusterPath);
    if (!remember)
        return true;

    QSettings settings;
    QStringList recent = settings.value(kRecentKey).toStringList();
    recent.removeAll(m_clusterPath);
    recent.prepend(m_clusterPath);
    settings.setValue(kRecentKey, recent.mid(0, kMaxRecent));
    settings.setValue(kLastKey, m_clusterPath);
    updateRecentMenu();
    return true;
}

void MainWindow::reopenLastCluster()
{
    const QString last = QSettings().value(kLastKey).toString();
    if (!last.isEmpty() && QFile::exists(last))
        openCluster(last);
}

void MainWindow::setSnapshot(const cluster::ClusterSnapshot &snapshot)
{
    m_dashboard->setSnapshot(snapshot);
    updateTray(*snapshot);
    if (snapshot->takenAt.isValid())
        notify(m_alerts.update(*snapshot, snapshot->takenAt));
}

void MainWindow::updateTray(const cluster::ClusterState &state)
{
    if (!m_tray)
        return;
    const cluster::ClusterState::Summary summary = state.summary();
    const cluster::Health health = state.nodes.isEmpty() ? cluster::Health::Unknown
                                   : summary.errors > 0  ? cluster::Health::Error
                                   : summary.warnings > 0 ? cluster::Health::Warning
                                                          : cluster::Health::Ok;
    if (health != m_trayHealth) {
        m_trayHealth = health;
        m_tray->setIcon(trayIcon(health));
    }
    m_tray->setToolTip(tr("Mailmesh: %1 (%2 OK, %3 warnings, %4 errors)")
                           .arg(healthText(health))
                           .arg(summary.ok)
                           .arg(summary.warnings)
                           .arg(summary.errors));
}

void MainWindow::notify(const QList<cluster::ClusterAlerts::Alert> &alerts)
{
    if (alerts.isEmpty())
        return;
    // The status bar has room for one: the most serious, and how many more the tray showed.
    const auto worst = std::find_if(alerts.cbegin(), alerts.cend(), [](const auto &alert) { return alert.critical; });
    const cluster::ClusterAlerts::Alert &shown = worst != alerts.cend() ? *worst : alerts.first();
    statusBar()->showMessage(alerts.size() == 1 ? QStringLiteral("%1: %2").arg(shown.title, shown.text)
                                                : tr("%1: %2 (and %n more)", nullptr, int(alerts.size() - 1))
                                                      .arg(shown.title, shown.text));
    for (const cluster::ClusterAlerts::Alert &alert : alerts) {
        if (m_tray)
            m_tray->showMessage(alert.title, alert.text,
                                alert.critical ? QSystemTrayIcon::Critical : QSystemTrayIcon::Information);
    }
}

void MainWindow::followMonitor(cluster::ClusterMonitor *monitor)
{
    m_workflowOptions = monitor->options();
    connect(monitor, &cluster::ClusterMonitor::snapshotChanged, this, &MainWindow::setSnapshot);
    setSnapshot(monitor->snapshot());
}

void MainWindow::openMigrationDialog()
{
    if (m_clusterPath.isEmpty())
        return;
    if (m_workflowOptions.agentBinary.isEmpty())
        m_workflowOptions.agentBinary = cluster::locateAgentBinary();
    auto *dialog = new MigrationDialog(m_cluster, m_workflowOptions, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &MigrationDialog::runFinished, this, [this, dialog](const cluster::WorkflowReport &report) {
        if (report.dryRun || dialog->cluster() == m_cluster)
            return;
        // What the run learnt (each node's cur/-only setting) belongs in the cluster file.
        m_cluster = dialog->cluster();
        if (Status saved = m_cluster.save(m_clusterPath); !saved)
            statusBar()->showMessage(tr("Cannot save %1: %2").arg(m_clusterPath, QString::fromStdString(saved.error().describe())));
    });
    dialog->open();
    dialog->plan();
}

void MainWindow::openDuplicatesDialog()
{
    if (m_clusterPath.isEmpty())
        return;
    if (m_workflowOptions.agentBinary.isEmpty())
        m_workflowOptions.agentBinary = cluster::locateAgentBinary();
    auto *dialog = new DuplicatesDialog(m_cluster, m_workflowOptions, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->open();
    dialog->scan();
}

void MainWindow::openRekeyDialog(const QString &nodeId)
{
    if (m_clusterPath.isEmpty() || nodeId.isEmpty())
        return;
    auto *dialog = new RekeyDialog(m_cluster, nodeId, m_workflowOptions, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &RekeyDialog::rekeyed, this, [this, dialog] {
        // The new pin belongs in the cluster file; reopening it restarts the monitor with it.
        if (Status saved = dialog->cluster().save(m_clusterPath); !saved) {
            statusBar()->showMessage(tr("Cannot save %1: %2").arg(m_clusterPath, QString::fromStdString(saved.error().describe())));
            return;
        }
        openCluster(m_clusterPath);
    });
    dialog->open();
    dialog->look();
}

void MainWindow::updateRecentMenu()
{
    m_recentMenu->clear();
    const QStringList recent = QSettings().value(kRecentKey).toStringList();
    for (const QString &path : recent)
        m_recentMenu->addAction(path, this, [this, path] { openCluster(path); });
    m_recentMenu->setEnabled(!recent.isEmpty());
}

void MainWindow::chooseClusterFile()
{
    const QString start = m_clusterPath.isEmpty() ? QFileInfo(cluster::ClusterConfig::defaultPath()).absolutePath()
                                                  : QFileInfo(m_clusterPath).absolutePath();
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Cluster File"), start,
                                                      tr("Cluster files (*.json);;All files (*)"));
    if (!path.isEmpty())
        openCluster(path);
}

void MainWindow::newCluster()
{
    SetupWizard *wizard = SetupWizard::createForNewCluster(this);
    wizard->setAttribute(Qt::WA_DeleteOnClose);
    connect(wizard, &SetupWizard::clusterCreated, this, [this](const QString &path) { openCluster(path); });
    wizard->open();
}

void MainWindow::exportEventLog()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Export Event Log"), QStringLiteral("mailmesh-events.tsv"),
                                                      tr("Tab-separated text (*.tsv *.txt)"));
    if (path.isEmpty())
        return;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(m_dashboard->eventLog()->toText().toUtf8()) < 0 || !file.commit())
        QMessageBox::warning(this, tr("Export failed"), tr("Cannot write %1: %2").arg(path, file.errorString()));
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    QSettings settings;
    settings.setValue(kGeometryKey, saveGeometry());
    settings.setValue(kStateKey, saveState());
    event->accept();
}

} // namespace mm::ui
