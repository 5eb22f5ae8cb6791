#pragma once

#include "cluster/config/clusterconfig.h"
#include "cluster/monitor/monitoroptions.h"
#include "cluster/workflows/workflow.h"

#include <QDialog>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace mm::cluster {
class RekeyNodeWorkflow;
} // namespace mm::cluster

namespace mm::ui {

// Re-keying a node from the dashboard (`mailmeshctl rekey` in a window). It asks the node which
// host key it offers, shows it beside the pinned one with what to run on the node to compare
// them, and pins the offered key only after the admin ticks that they compared it; the
// workflow refuses a key that changed again meanwhile. cluster() carries the new pin once
// rekeyed() was emitted; the caller saves it.
class RekeyDialog : public QDialog
{
    Q_OBJECT

public:
    RekeyDialog(cluster::ClusterConfig cluster, QString nodeId, cluster::MonitorOptions options,
                QWidget *parent = nullptr);

    // Starts asking the node; the dialog shows the answer.
    void look();
    const cluster::ClusterConfig &cluster() const { return m_cluster; }
    QString offeredHostKey() const { return m_offered; }

Q_SIGNALS:
    void looked(const mm::cluster::WorkflowReport &report);
    void rekeyed(const mm::cluster::WorkflowReport &report);
    void failedToPin(const mm::cluster::WorkflowReport &report);

private:
    void pin();
    void run(cluster::RekeyNodeWorkflow *workflow, std::function<void(const cluster::WorkflowReport &)> done);
    void showFailure(const cluster::WorkflowReport &report);

    cluster::ClusterConfig m_cluster;
    QString m_nodeId;
    cluster::MonitorOptions m_options;
    QString m_offered;

    QLabel *m_status = nullptr;
    QLineEdit *m_pinned = nullptr;
    QLineEdit *m_offeredEdit = nullptr;
    QLineEdit *m_compareCommand = nullptr;
    QCheckBox *m_compared = nullptr;
    QPushButton *m_pinButton = nullptr;
};

} // namespace mm::ui
