#pragma once

#include "cluster/config/clusterconfig.h"
#include "cluster/monitor/monitoroptions.h"
#include "cluster/workflows/workflow.h"

#include <QDialog>

class QLabel;
class QPushButton;
class QTableView;

namespace mm::ui {

class JsonTableModel;

// Read-only: every mail user's home node and why (hash, override, failover), and how many users
// each node is home to, from `homes show` (HomesWorkflow, Show mode). Changing homes stays with
// mailmeshctl (homes set/deploy, failover), which the dialog names.
class HomesDialog : public QDialog
{
    Q_OBJECT

public:
    HomesDialog(cluster::ClusterConfig cluster, cluster::MonitorOptions options,
                QWidget *parent = nullptr);

    // Shows a finished `homes show` report (also what refresh() ends with).
    void showReport(const cluster::WorkflowReport &report);
    bool isBusy() const { return m_running; }

public Q_SLOTS:
    void refresh();

Q_SIGNALS:
    void refreshed(const mm::cluster::WorkflowReport &report);

private:
    cluster::ClusterConfig m_cluster;
    cluster::MonitorOptions m_options;
    JsonTableModel *m_model = nullptr;
    QTableView *m_table = nullptr;
    QLabel *m_summary = nullptr;
    QPushButton *m_refresh = nullptr;
    bool m_running = false;
};

} // namespace mm::ui
