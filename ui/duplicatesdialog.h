#pragma once

#include "cluster/config/clusterconfig.h"
#include "cluster/monitor/monitoroptions.h"
#include "cluster/workflows/workflow.h"

#include <QDialog>

#include <functional>

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTableView;
class QTimer;

namespace mm::cluster {
class ClusterWorkflow;
} // namespace mm::cluster

namespace mm::ui {

class JsonTableModel;

// Duplicates across the cluster: the groups (the first copy's Subject, From and Date, kind,
// copies, sizes, the nodes they are on, the keeper), a preview of the selected group's header, Resolve for the selection or all after one
// confirmation; the quarantine of every node with Restore and Purge; and what the nodes
// disagree on (UID conflicts, flag disagreements, missing messages) with what that means for
// IMAP clients. Every action is a core/cluster workflow; this dialog only shows them.
class DuplicatesDialog : public QDialog
{
    Q_OBJECT

public:
    DuplicatesDialog(cluster::ClusterConfig cluster, cluster::MonitorOptions options, QWidget *parent = nullptr);
    ~DuplicatesDialog() override;

    // Asks the admin to confirm; tests replace it (a modal box would block them).
    using Confirmation = std::function<bool(const QString &title, const QString &text)>;
    void setConfirmation(Confirmation confirm) { m_confirm = std::move(confirm); }

    bool isBusy() const { return m_running != nullptr; }

public Q_SLOTS:
    void scan();
    void resolveSelected();
    void resolveAll();
    void previewSelected();
    void refreshQuarantine();
    void restoreSelected();
    void purgeOld();

Q_SIGNALS:
    void workflowFinished(const mm::cluster::WorkflowReport &report);

private:
    void runWorkflow(cluster::ClusterWorkflow *workflow, std::function<void(const cluster::WorkflowReport &)> done);
    void resolve(const QStringList &groups);
    void showFindings(const QJsonObject &diff);
    void setBusy(const QString &message);

    cluster::ClusterConfig m_cluster;
    cluster::MonitorOptions m_options;
    Confirmation m_confirm;
    cluster::ClusterWorkflow *m_running = nullptr;
    QTabWidget *m_tabs;
    JsonTableModel *m_groups;
    JsonTableModel *m_quarantine;
    QTableView *m_groupsView;
    QTableView *m_quarantineView;
    QPlainTextEdit *m_preview;
    QTimer *m_previewDelay;
    bool m_previewWanted = false; // the selection changed while another workflow ran
    QPlainTextEdit *m_findings;
    QSpinBox *m_purgeDays;
    QLabel *m_status;
};

} // namespace mm::ui
