#pragma once

#include "cluster/config/clusterconfig.h"
#include "cluster/workflows/workflow.h"
#include "ui/wizard/setuppage.h"

#include <QHash>
#include <QPointer>

class QGridLayout;
class QLabel;
class QProgressBar;
class QPushButton;

namespace mm::cluster {
class MigrationWorkflow;
}

namespace mm::ui {

class WorkflowView;

// Page 7: the migration's plan from a dry run (folders to convert, messages to move, problems
// per node), then "Migrate now" with live per-node progress and the closing verdict, or "Later".
class MigrationPage : public SetupPage
{
    Q_OBJECT

public:
    explicit MigrationPage(SetupSession *session, QWidget *parent = nullptr);

    void initializePage() override;
    bool isComplete() const override;
    bool validatePage() override;
    bool isBusy() const override;
    void cancelWork() override;

    void planMigration();
    void migrateNow();
    void migrateLater();

    QString verdict() const;

private:
    void run(bool dryRun);
    void finished(bool dryRun, const cluster::WorkflowReport &report);
    void buildRows();
    void showPlan(const cluster::WorkflowReport &report);
    void updateButtons();

    QLabel *m_intro;
    QGridLayout *m_rows;
    QHash<QString, QLabel *> m_planLabels;
    QHash<QString, QProgressBar *> m_progressBars;
    QList<QWidget *> m_rowWidgets;
    WorkflowView *m_view;
    QLabel *m_verdict;
    QPushButton *m_migrate;
    QPushButton *m_later;
    QPointer<cluster::MigrationWorkflow> m_running;
    bool m_runningDry = false;
    bool m_lastRunWasDry = true;
    bool m_planned = false;
    cluster::ClusterConfig m_plannedFor;
};

} // namespace mm::ui
