#pragma once

#include "cluster/clusterstate.h"

#include <QWidget>

class QLabel;
class QLineEdit;
class QCheckBox;
class QTableView;
class QSortFilterProxyModel;

namespace mm::ui {

class EventLogModel;
class MailboxesModel;
class MailboxFilterProxy;
class NodesModel;
class SyncMatrixModel;

// The cluster at a glance: summary strip, nodes, the sync matrix, mailboxes side by side and
// the event log. It only shows snapshots; it never talks to nodes.
class DashboardWidget : public QWidget
{
    Q_OBJECT

public:
    explicit DashboardWidget(QWidget *parent = nullptr);

    void setSnapshot(const cluster::ClusterSnapshot &snapshot);
    EventLogModel *eventLog() const { return m_eventLog; }
    QTableView *nodesView() const { return m_nodesView; }
    QTableView *mailboxesView() const { return m_mailboxesView; }

Q_SIGNALS:
    void exportEventLogRequested();
    // The one-click migration's button.
    void migrateRequested();
    void duplicatesRequested();

private:
    QWidget *createSummaryStrip();
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
    QLabel *m_okLabel = nullptr;
    QLabel *m_warningLabel = nullptr;
    QLabel *m_errorLabel = nullptr;
    QLabel *m_duplicatesLabel = nullptr;
    QLabel *m_keywordClashesLabel = nullptr; // shown only when there are any
    QLabel *m_uidConflictsLabel = nullptr;
    QLabel *m_updatedLabel = nullptr;

    cluster::ClusterSnapshot m_snapshot;
};

} // namespace mm::ui
