#pragma once

#include "cluster/monitor/clusteralerts.h"
#include "cluster/config/clusterconfig.h"
#include "cluster/monitor/clusterstate.h"
#include "cluster/monitor/monitoroptions.h"

#include <QMainWindow>

class QSystemTrayIcon;

class QMenu;
class QStackedWidget;

namespace mm::cluster {
class ClusterMonitor;
}

namespace mm::ui {

class DashboardWidget;

class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    explicit MainWindow(QWidget *parent = nullptr);

    // Loads a cluster file and shows its dashboard; with remember, it becomes the last and a
    // recent cluster (the demo's throw-away cluster is not remembered).
    bool openCluster(const QString &path, bool remember = true);
    // Reopens the cluster of the previous session, if its file still exists.
    void reopenLastCluster();

    void setSnapshot(const cluster::ClusterSnapshot &snapshot);
    // Shows this monitor's snapshots from now on (it stays owned by the caller).
    void followMonitor(cluster::ClusterMonitor *monitor);

    DashboardWidget *dashboard() const { return m_dashboard; }
    QString clusterPath() const { return m_clusterPath; }

Q_SIGNALS:
    void clusterOpened(const QString &path);

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createMenus();
    QWidget *createEmptyState();
    void updateRecentMenu();
    void chooseClusterFile();
    void newCluster();
    void exportEventLog();
    void openMigrationDialog();
    void openDuplicatesDialog();
    void openRekeyDialog(const QString &nodeId);
    void notify(const QList<cluster::ClusterAlerts::Alert> &alerts);
    // The tray shows the cluster's worst health as a badge, and the counts as its tooltip.
    void updateTray(const cluster::ClusterState &state);

    QStackedWidget *m_pages;
    DashboardWidget *m_dashboard;
    QMenu *m_recentMenu = nullptr;
    QString m_clusterPath;
    cluster::ClusterConfig m_cluster;
    // How the monitor reaches the nodes; workflows started here reach them the same way.
    cluster::MonitorOptions m_workflowOptions;
    // The tray, where the desktop has one (offscreen has none): alerts go to the status bar too.
    cluster::ClusterAlerts m_alerts;
    QSystemTrayIcon *m_tray = nullptr;
    cluster::Health m_trayHealth = cluster::Health::Unknown;
};

} // namespace mm::ui
