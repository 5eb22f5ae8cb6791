#include "ui/dashboardwidget.h"

#include "cluster/monitor/clusterchanges.h"
#include "ui/clustermapwidget.h"
#include "ui/eventlogmodel.h"
#include "ui/lagchartswidget.h"
#include "ui/mailboxesmodel.h"
#include "ui/mailboxfilterproxy.h"
#include "ui/nodesmodel.h"
#include "ui/statuspresentation.h"
#include "ui/syncmatrixmodel.h"
#include "ui/tableviewsetup.h"

#include <QCheckBox>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

namespace mm::ui {

namespace {

QTableView *createTable(QAbstractItemModel *model, QWidget *parent)
{
    auto *view = new QTableView(parent);
    view->setModel(model);
    setUpTableView(view);
    return view;
}

QLabel *summaryLabel(QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setTextFormat(Qt::RichText);
    return label;
}


} // namespace

DashboardWidget::DashboardWidget(QWidget *parent)
    : QWidget(parent)
    , m_nodes(new NodesModel(this))
    , m_syncMatrix(new SyncMatrixModel(this))
    , m_mailboxes(new MailboxesModel(this))
    , m_mailboxFilter(new MailboxFilterProxy(this))
    , m_eventLog(new EventLogModel(this))
    , m_eventFilter(new QSortFilterProxyModel(this))
{
    auto *nodesProxy = new QSortFilterProxyModel(this);
    nodesProxy->setSourceModel(m_nodes);
    nodesProxy->setSortRole(Qt::UserRole);
    m_nodesView = createTable(nodesProxy, this);
    m_nodesView->setSortingEnabled(true);
    m_nodesView->sortByColumn(NodesModel::Node, Qt::AscendingOrder);
    m_nodesView->setObjectName(QStringLiteral("nodesView"));
    // A handful of rows: measuring them is cheap and nothing gets cut off.
    m_nodesView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_nodesView->horizontalHeader()->setSectionResizeMode(NodesModel::Problems, QHeaderView::Stretch);
    // Up to kNodesShownWhole rows stay in sight whatever the splitter below them is dragged to.
    connect(nodesProxy, &QAbstractItemModel::modelReset, m_nodesView, [this] { fitNodesTableHeight(); });
    connect(nodesProxy, &QAbstractItemModel::rowsInserted, m_nodesView, [this] { fitNodesTableHeight(); });
    connect(nodesProxy, &QAbstractItemModel::rowsRemoved, m_nodesView, [this] { fitNodesTableHeight(); });

    m_syncView = createTable(m_syncMatrix, this);
    m_syncView->verticalHeader()->setVisible(true);
    m_syncView->setSelectionBehavior(QAbstractItemView::SelectItems);
    m_syncView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_syncView->horizontalHeader()->setMinimumSectionSize(80);
    m_syncView->setObjectName(QStringLiteral("syncMatrixView"));

    auto *nodesBox = new QGroupBox(tr("Nodes"), this);
    (new QVBoxLayout(nodesBox))->addWidget(m_nodesView);

    auto *tabs = new QTabWidget(this);
    tabs->setObjectName(QStringLiteral("detailTabs"));
    tabs->addTab(createMailboxesTab(), tr("&Mailboxes"));
    tabs->addTab(createEventLogTab(), tr("&Event log"));

    // Nodes across the whole width, so that every column fits; the pictures below them; the
    // long lists at the bottom.
    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(nodesBox);
    split->addWidget(createSyncPictures());
    split->addWidget(tabs);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 3);
    split->setStretchFactor(2, 2);
    split->setSizes({150, 300, 230});

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(createSummaryStrip());
    layout->addWidget(split, 1);
}

void DashboardWidget::fitNodesTableHeight()
{
    constexpr int kNodesShownWhole = 6;
    const int rows = std::min(m_nodesView->model()->rowCount(), kNodesShownWhole);
    m_nodesView->setMinimumHeight(m_nodesView->horizontalHeader()->sizeHint().height()
                                  + std::max(rows, 1) * m_nodesView->verticalHeader()->defaultSectionSize()
                                  + 2 * m_nodesView->frameWidth());
}

QWidget *DashboardWidget::createSyncPictures()
{
    auto *views = new QTabWidget(this);
    views->setObjectName(QStringLiteral("syncViews"));
    m_clusterMap = new ClusterMapWidget(views);
    views->addTab(m_clusterMap, tr("Ma&p"));
    views->setTabToolTip(0, tr("Every pair of nodes that syncs, coloured by its state, with how long it has not been in "
                               "sync; hover for details"));
    views->addTab(m_syncView, tr("Sync ma&trix"));
    views->setTabToolTip(1, tr("Row: node, column: peer: how far each node sees each peer"));

    m_lagCharts = new LagChartsWidget(this);
    auto *scroll = new QScrollArea(this);
    scroll->setWidget(m_lagCharts);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    auto *chartsBox = new QGroupBox(tr("Last hour"), this);
    chartsBox->setToolTip(tr("Per node: how long it has not been in sync with every peer, and how many items it still "
                             "needs. Shaded: the node could not be reached."));
    (new QVBoxLayout(chartsBox))->addWidget(scroll);

    auto *row = new QSplitter(Qt::Horizontal, this);
    row->addWidget(views);
    row->addWidget(chartsBox);
    row->setStretchFactor(0, 1);
    row->setStretchFactor(1, 1);
    row->setSizes({560, 600});
    return row;
}

QWidget *DashboardWidget::createSummaryStrip()
{
    auto *strip = new QWidget(this);
    auto *layout = new QHBoxLayout(strip);
    layout->setContentsMargins(0, 0, 0, 0);
    m_okLabel = summaryLabel(strip);
    m_warningLabel = summaryLabel(strip);
    m_errorLabel = summaryLabel(strip);
    m_duplicatesLabel = summaryLabel(strip);
    m_uidConflictsLabel = summaryLabel(strip);
    m_keywordClashesLabel = summaryLabel(strip);
    m_keywordClashesLabel->hide();
    m_updatedLabel = new QLabel(strip);
    m_updatedLabel->setForegroundRole(QPalette::PlaceholderText);
    const QList<std::pair<QLabel *, cluster::Health>> iconFor{
        {m_okLabel, cluster::Health::Ok}, {m_warningLabel, cluster::Health::Warning}, {m_errorLabel, cluster::Health::Error}};
    for (const auto &[label, health] : iconFor) {
        auto *icon = new QLabel(strip);
        icon->setPixmap(healthIcon(health).pixmap(QSize(16, 16), devicePixelRatioF()));
        layout->addWidget(icon);
        layout->addWidget(label);
        layout->addSpacing(12);
    }
    m_okLabel->setToolTip(tr("Nodes with nothing to report"));
    m_warningLabel->setToolTip(tr("Nodes or findings that need a look: problems, disagreeing mailboxes, duplicates"));
    m_errorLabel->setToolTip(tr("Unreachable nodes, changed host keys and UID conflicts"));
    m_duplicatesLabel->setToolTip(tr("Duplicate groups found by the agents on all nodes"));
    m_uidConflictsLabel->setToolTip(tr("The same IMAP UID naming different messages on two nodes"));
    layout->addWidget(m_duplicatesLabel);
    layout->addSpacing(12);
    layout->addWidget(m_uidConflictsLabel);
    layout->addSpacing(12);
    layout->addWidget(m_keywordClashesLabel);
    layout->addStretch(1);
    layout->addWidget(m_updatedLabel);
    layout->addSpacing(12);
    m_rekeyButton = new QPushButton(strip);
    m_rekeyButton->setObjectName(QStringLiteral("rekeyButton"));
    m_rekeyButton->setToolTip(tr("The node offers another SSH host key than the pinned one: compare it and decide"));
    m_rekeyButton->hide();
    connect(m_rekeyButton, &QPushButton::clicked, this, [this] { Q_EMIT rekeyRequested(m_rekeyNode); });
    layout->addWidget(m_rekeyButton);
    auto *duplicates = new QPushButton(tr("&Duplicates…"), strip);
    duplicates->setObjectName(QStringLiteral("duplicatesButton"));
    duplicates->setToolTip(tr("Duplicate groups on every node, what the nodes disagree on, and the quarantine"));
    connect(duplicates, &QPushButton::clicked, this, &DashboardWidget::duplicatesRequested);
    layout->addWidget(duplicates);
    auto *migrate = new QPushButton(tr("&Migrate to cur/-only…"), strip);
    migrate->setObjectName(QStringLiteral("migrateButton"));
    migrate->setToolTip(tr("Convert every node's Maildirs to the cur/-only layout: shows the plan first"));
    connect(migrate, &QPushButton::clicked, this, &DashboardWidget::migrateRequested);
    layout->addWidget(migrate);
    updateSummary(cluster::ClusterState{});
    return strip;
}

QWidget *DashboardWidget::createMailboxesTab()
{
    auto *page = new QWidget(this);
    auto *filter = new QLineEdit(page);
    filter->setPlaceholderText(tr("Filter mailboxes…"));
    filter->setClearButtonEnabled(true);
    auto *onlyDisagreeing = new QCheckBox(tr("Only where nodes &disagree"), page);

    m_mailboxFilter->setSourceModel(m_mailboxes);
    m_mailboxFilter->setSortRole(MailboxesModel::SortRole);
    m_mailboxFilter->setFilterKeyColumn(0);
    m_mailboxFilter->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_mailboxesView = createTable(m_mailboxFilter, page);
    m_mailboxesView->setSortingEnabled(true);
    m_mailboxesView->sortByColumn(0, Qt::AscendingOrder);
    // Fixed rows and column widths let the view skip measuring every row: thousands of mailboxes
    // scroll and update smoothly. The mailbox name takes the spare width.
    m_mailboxesView->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_mailboxesView->horizontalHeader()->setStretchLastSection(false);
    m_mailboxesView->horizontalHeader()->setDefaultSectionSize(110);
    connect(m_mailboxes, &QAbstractItemModel::modelReset, m_mailboxesView, [this] {
        m_mailboxesView->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    });
    m_mailboxesView->setObjectName(QStringLiteral("mailboxesView"));

    connect(filter, &QLineEdit::textChanged, m_mailboxFilter, &QSortFilterProxyModel::setFilterFixedString);
    connect(onlyDisagreeing, &QCheckBox::toggled, m_mailboxFilter, &MailboxFilterProxy::setOnlyDisagreeing);

    auto *bar = new QHBoxLayout;
    bar->addWidget(filter, 1);
    bar->addWidget(onlyDisagreeing);
    auto *layout = new QVBoxLayout(page);
    layout->addLayout(bar);
    layout->addWidget(m_mailboxesView);
    return page;
}

QWidget *DashboardWidget::createEventLogTab()
{
    auto *page = new QWidget(this);
    auto *filter = new QLineEdit(page);
    filter->setPlaceholderText(tr("Filter events…"));
    filter->setClearButtonEnabled(true);
    auto *exportButton = new QPushButton(tr("E&xport…"), page);

    m_eventFilter->setSourceModel(m_eventLog);
    m_eventFilter->setFilterKeyColumn(-1); // any column: node, severity or text
    m_eventFilter->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_eventView = createTable(m_eventFilter, page);
    m_eventView->horizontalHeader()->setSectionResizeMode(EventLogModel::Time, QHeaderView::ResizeToContents);
    m_eventView->setObjectName(QStringLiteral("eventLogView"));

    connect(filter, &QLineEdit::textChanged, m_eventFilter, &QSortFilterProxyModel::setFilterFixedString);
    connect(exportButton, &QPushButton::clicked, this, &DashboardWidget::exportEventLogRequested);
    connect(m_eventLog, &QAbstractItemModel::rowsInserted, m_eventView, &QTableView::scrollToBottom);

    auto *bar = new QHBoxLayout;
    bar->addWidget(filter, 1);
    bar->addWidget(exportButton);
    auto *layout = new QVBoxLayout(page);
    layout->addLayout(bar);
    layout->addWidget(m_eventView);
    return page;
}

void DashboardWidget::setSnapshot(const cluster::ClusterSnapshot &snapshot)
{
    if (!snapshot)
        return;
    for (const cluster::ClusterChange &change : cluster::changesBetween(m_snapshot.get(), *snapshot))
        m_eventLog->append(LogEvent{snapshot->takenAt, change.severity, change.nodeId, change.message});
    m_snapshot = snapshot;
    m_nodes->setSnapshot(snapshot);
    m_syncMatrix->setSnapshot(snapshot);
    m_history.add(*snapshot);
    m_clusterMap->setState(*snapshot, m_history);
    m_lagCharts->setHistory(m_history);
    m_mailboxes->setSnapshot(snapshot);
    updateSummary(*snapshot);
}

void DashboardWidget::updateSummary(const cluster::ClusterState &state)
{
    const cluster::ClusterState::Summary summary = state.summary();
    m_okLabel->setText(tr("<b>%1</b> OK").arg(summary.ok));
    m_warningLabel->setText((summary.warnings == 1 ? tr("<b>%1</b> warning") : tr("<b>%1</b> warnings")).arg(summary.warnings));
    m_errorLabel->setText((summary.errors == 1 ? tr("<b>%1</b> error") : tr("<b>%1</b> errors")).arg(summary.errors));
    m_duplicatesLabel->setText(tr("Duplicates: <b>%1</b>").arg(state.duplicateGroups));
    m_uidConflictsLabel->setText(tr("UID conflicts: <b>%1</b>").arg(state.uidConflicts));
    m_uidConflictsLabel->setToolTip(
        state.uidConflictDetails.isEmpty()
            ? tr("The same IMAP UID naming different messages on two nodes")
            : tr("The same IMAP UID names different messages on two nodes: a client moving between them would "
                 "show the wrong message.\n%1")
                  .arg(state.uidConflictDetails.join(u'\n')));
    m_keywordClashesLabel->setVisible(state.keywordClashes > 0);
    m_keywordClashesLabel->setText(tr("Keyword clashes: <b>%1</b>").arg(state.keywordClashes));
    m_keywordClashesLabel->setToolTip(
        tr("One keyword letter in message names means different keywords on two nodes: clients there see the "
           "wrong keyword (a wrong $Junk moves mail out of sight). Run `mailmeshctl migrate` to settle the "
           "tables.\n%1")
            .arg(state.keywordClashDetails.join(u'\n')));
    m_rekeyNode.clear();
    for (const cluster::NodeState &node : state.nodes)
        if (node.hostKey == cluster::HostKeyState::Changed) {
            m_rekeyNode = node.id;
            break;
        }
    m_rekeyButton->setVisible(!m_rekeyNode.isEmpty());
    m_rekeyButton->setText(tr("&Re-key %1…").arg(m_rekeyNode));
    // Its text changes with the node: never let the strip squeeze it below what it says.
    m_rekeyButton->setMinimumWidth(m_rekeyButton->sizeHint().width());
    m_updatedLabel->setText(state.takenAt.isValid()
                                ? tr("Updated %1").arg(state.takenAt.toLocalTime().toString(QStringLiteral("HH:mm:ss")))
                                : tr("No data yet"));
}

} // namespace mm::ui
