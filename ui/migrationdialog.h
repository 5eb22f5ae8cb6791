#pragma once

#include "cluster/config/clusterconfig.h"
#include "cluster/workflows/migrationworkflow.h"
#include "cluster/monitor/monitoroptions.h"

#include <QDialog>
#include <QMap>

class QLabel;
class QProgressBar;
class QPushButton;
class QGridLayout;
class QTableView;

namespace mm::ui {

class MigrationPlanModel;

// The one-click migration from the dashboard: the plan first (a dry run: per node the folders,
// the messages to move, the problems), one question, then the run with a progress bar and an
// ETA per node and Cancel, and a closing verdict. A failed or cancelled run shows why and
// offers Resume (run it again: it continues where it stopped) or Revert.
class MigrationDialog : public QDialog
{
    Q_OBJECT

public:
    MigrationDialog(cluster::ClusterConfig cluster, cluster::MonitorOptions options, QWidget *parent = nullptr);
    ~MigrationDialog() override;

    // The cluster with what the runs learnt (Dovecot's setting per node), for the caller to save.
    const cluster::ClusterConfig &cluster() const { return m_cluster; }
    cluster::MigrationWorkflow *currentWorkflow() const { return m_workflow; }

public Q_SLOTS:
    void plan();
    void migrate();
    void resume();
    void revert();
    void cancelRun();

Q_SIGNALS:
    void runFinished(const mm::cluster::WorkflowReport &report);

protected:
    void reject() override;

private:
    void run(cluster::MigrationWorkflow::Direction direction, bool dryRun);
    void onProgress(const cluster::WorkflowProgress &progress);
    void onFinished(const cluster::WorkflowReport &report);
    void showNodeProgress();
    void setButtons(bool planReady, bool running, bool failed);
    void primaryAction();

    cluster::ClusterConfig m_cluster;
    cluster::MonitorOptions m_options;
    cluster::MigrationWorkflow *m_workflow = nullptr;
    bool m_planned = false; // the primary button migrates once a plan was shown, else plans
    MigrationPlanModel *m_model;
    QTableView *m_table;
    QLabel *m_intro;
    QLabel *m_step;
    QLabel *m_verdict;
    QGridLayout *m_progressGrid;
    QMap<QString, QProgressBar *> m_bars;
    QMap<QString, QLabel *> m_etas;
    QPushButton *m_migrateButton;
    QPushButton *m_cancelButton;
    QPushButton *m_resumeButton;
    QPushButton *m_revertButton;
    QPushButton *m_closeButton;
};

} // namespace mm::ui
