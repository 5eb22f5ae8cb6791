#pragma once

#include "cluster/monitor/clusterstate.h"
#include "ui/synchistory.h"

#include <QWidget>

class QLabel;
class QLineEdit;
class QPushButton;
class QCheckBox;
class QTableView;
class QSortFilterProxyModel;
class QTabWidget;

namespace mm::ui {

class ClusterMapWidget;
class EventLogModel;
class LagChartsWidget;
class MailboxesModel;
class MailboxFilterProxy;
class NodesModel;
class SyncMatrixModel;

// The cluster at a glance: summary strip, nodes, the cluster map (or the sync matrix) beside
// the last hour's lag charts, mailboxes side by side and the event log. It only shows
// snapshots; it never talks to nodes.
class DashboardWidget : public QWidget
{
    Q_OBJECT

public:
    explicit DashboardWidget(QWidget *parent = nullptr);

    void setSnapshot(const cluster::ClusterSnapshot &snapshot);
    EventLogModel *eventLog() const { return m_eventLog; }
    QTableView *nodesView() const { return m_nodesView; }
    QTableView *mailboxesView() const { return m_mailboxesView; }
    ClusterMapWidget *clusterMap() const { return m_clusterMap; }
    LagChartsWidget *lagCharts() const { return m_lagCharts; }
    const SyncHistory &syncHistory() const { return m_history; }

Q_SIGNALS:
    void exportEventLogRequested();
    // The one-click migration's button.
    void migrateRequested();
    void duplicatesRequested();
    // A node offers another host key than its pinned one: the admin asked to re-key it.
    void rekeyRequested(const QString &nodeId);

private:
    QWidget *createSummaryStrip();
    QWidget *createSyncPictures();
    void fitNodesTableHeight();
    QWidget *createMailboxesTab();
    QWidget *createEventLogTab();
    void updateSummary(const cluster::ClusterState &state);

    NodesModel *m_nodes;
    SyncMatrixModel *m_syncMatrix;
    MailboxesModel *m_mailboxes;
    MailboxFilterProxy *m_mailboxFilter;
    EventLogModel *m_eventLog;
    QSortFilterProxyModel *m_eventFilter;

    QTableView *m_nodesView = nullptr;
    QTableView *m_syncView = nullptr;
    QTableView *m_mailboxesView = nullptr;
    QTableView *m_eventView = nullptr;
    ClusterMapWidget *m_clusterMap = nullptr;
    LagChartsWidget *m_lagCharts = nullptr;
    QLabel *m_okLabel = nullptr;
    QLabel *m_warningLabel = nullptr;
    QLabel *m_errorLabel = nullptr;
    QLabel *m_duplicatesLabel = nullptr;
    QLabel *m_keywordClashesLabel = nullptr; // shown only when there are any
    QLabel *m_uidConflictsLabel = nullptr;
    QLabel *m_updatedLabel = nullptr;
    QPushButton *m_rekeyButton = nullptr; // shown while a node's host key changed
    QString m_rekeyNode;

    cluster::ClusterSnapshot m_snapshot;
    SyncHistory m_history;
};

} // namespace mm::ui
