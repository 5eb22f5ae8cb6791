#include "ui/duplicatesdialog.h"

#include "cluster/workflows/duplicatesworkflow.h"
#include "cluster/workflows/headersworkflow.h"
#include "cluster/workflows/quarantineworkflow.h"
#include "ui/jsontablemodel.h"
#include "ui/mimeheader.h"
#include "ui/tableviewsetup.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace mm::ui {

namespace {

QStringList strings(const QJsonValue &value)
{
    QStringList list;
    for (const QJsonValue &item : value.toArray())
        list << item.toString();
    return list;
}

QString memberNames(const QJsonObject &group)
{
    QStringList names;
    for (const QJsonValue &member : group.value(QStringLiteral("members")).toArray())
        names << member.toObject().value(QStringLiteral("name")).toString();
    return names.join(QStringLiteral(", "));
}

// One of the first copy's Subject, From and Date, decoded for reading ("" when the agent could
// not read that copy, or the message has no such field).
QString groupHeader(const QJsonObject &group, const QString &field)
{
    const QJsonObject headers = group.value(QStringLiteral("headers")).toObject();
    return decodeHeaderForDisplay(rawJsonField(headers, field)).simplified();
}

QString orDash(const QString &text)
{
    return text.isEmpty() ? QStringLiteral("—") : text;
}

// A Date header as a time to sort by and show in the local zone; the text as it is when it does
// not parse (RFC 5322 allows a trailing comment such as "(UTC)").
QVariant groupDate(const QJsonObject &group)
{
    QString text = groupHeader(group, QStringLiteral("date"));
    if (const qsizetype comment = text.indexOf(u'('); comment > 0)
        text = text.left(comment).trimmed();
    const QDateTime date = QDateTime::fromString(text, Qt::RFC2822Date);
    return date.isValid() ? QVariant(date.toLocalTime()) : QVariant(orDash(groupHeader(group, QStringLiteral("date"))));
}

QTableView *makeTable(QAbstractItemModel *model, QWidget *parent)
{
    auto *proxy = new QSortFilterProxyModel(parent);
    proxy->setSourceModel(model);
    auto *view = new QTableView(parent);
    view->setModel(proxy);
    view->setSortingEnabled(true);
    view->sortByColumn(0, Qt::AscendingOrder);
    setUpTableView(view);
    return view;
}

// The source rows selected in a view over a proxy.
QList<int> selectedRows(const QTableView *view)
{
    QList<int> rows;
    const auto *proxy = static_cast<const QSortFilterProxyModel *>(view->model());
    for (const QModelIndex &index : view->selectionModel()->selectedRows())
        rows << proxy->mapToSource(index).row();
    return rows;
}

} // namespace

DuplicatesDialog::DuplicatesDialog(cluster::ClusterConfig cluster, cluster::MonitorOptions options, QWidget *parent)
    : QDialog(parent)
    , m_cluster(std::move(cluster))
    , m_options(std::move(options))
    , m_confirm([this](const QString &title, const QString &text) {
        return QMessageBox::question(this, title, text) == QMessageBox::Yes;
    })
    , m_tabs(new QTabWidget(this))
    , m_preview(new QPlainTextEdit(this))
    , m_previewDelay(new QTimer(this))
    , m_findings(new QPlainTextEdit(this))
    , m_purgeDays(new QSpinBox(this))
    , m_status(new QLabel(this))
{
    setWindowTitle(tr("Duplicates — %1").arg(m_cluster.name));
    const QLocale locale;
    m_groups = new JsonTableModel(
        {{tr("Subject"), tr("The Subject of the group's first copy; hover for the group's id"),
          [](const QJsonObject &g) { return orDash(groupHeader(g, QStringLiteral("subject"))); }, false,
          [](const QJsonObject &g) {
              return tr("%1\nGroup %2 (the same id on every node that has it)")
                  .arg(orDash(groupHeader(g, QStringLiteral("subject"))), g.value(QStringLiteral("id")).toString());
          }},
         {tr("From"), tr("The sender, from the first copy's header"),
          [](const QJsonObject &g) { return orDash(groupHeader(g, QStringLiteral("from"))); }},
         {tr("Date"), tr("The Date header of the first copy, in your time zone"),
          [](const QJsonObject &g) { return groupDate(g); }},
         {tr("Kind"),
          tr("flag-divergence: one message under several names; sync-conflict: a Syncthing conflict copy; "
             "same-message: the same Message-ID and body under different names"),
          [](const QJsonObject &g) { return g.value(QStringLiteral("kind")); }},
         {tr("Folder"), tr("The Maildir folder, relative to the mail root"),
          [](const QJsonObject &g) { return g.value(QStringLiteral("folder")); }},
         {tr("Copies"), tr("The files of the group; hover for their names"),
          [](const QJsonObject &g) { return tr("%n copies", nullptr, int(g.value(QStringLiteral("members")).toArray().size())); },
          true, [](const QJsonObject &g) { return memberNames(g); }},
         {tr("Size"), tr("Bytes of the first copy"),
          [locale](const QJsonObject &g) {
              return locale.formattedDataSize(
                  g.value(QStringLiteral("members")).toArray().first().toObject().value(QStringLiteral("size")).toInteger());
          },
          true},
         {tr("Nodes"), tr("Nodes that have the group; only groups on every node are settled"),
          [](const QJsonObject &g) { return strings(g.value(QStringLiteral("presentOn"))).join(QStringLiteral(", ")); }},
         {tr("Keeper"), tr("What stays: chosen the same way on every node"),
          [](const QJsonObject &g) {
              return g.value(QStringLiteral("removable")).toBool()
                         ? g.value(QStringLiteral("keeper")).toString()
                         : tr("(kept as is: the copies' bytes differ)");
          }}},
        this);
    m_quarantine = new JsonTableModel(
        {{tr("Node"), tr("The node whose quarantine holds the file"),
          [](const QJsonObject &e) { return e.value(QStringLiteral("node")); }},
         {tr("Quarantined"), tr("When it was moved out of the Maildir"),
          [](const QJsonObject &e) { return e.value(QStringLiteral("time")); }},
         {tr("Reason"), tr("Which command moved it, and why"),
          [](const QJsonObject &e) { return e.value(QStringLiteral("reason")); }},
         {tr("Original path"), tr("Where it was, relative to the mail root"),
          [](const QJsonObject &e) { return e.value(QStringLiteral("originalPath")); }},
         {tr("Size"), tr("Bytes"),
          [locale](const QJsonObject &e) { return locale.formattedDataSize(e.value(QStringLiteral("size")).toInteger()); },
          true},
         {tr("State"), tr("In quarantine; missing when the file was removed from the quarantine by hand"),
          [](const QJsonObject &e) {
              return e.value(QStringLiteral("restored")).toBool() ? tr("restored")
                     : e.value(QStringLiteral("present")).toBool() ? tr("in quarantine")
                                                                  : tr("missing");
          }}},
        this);
    m_groupsView = makeTable(m_groups, this);
    m_groupsView->setObjectName(QStringLiteral("groupsView"));
    m_groupsView->setTextElideMode(Qt::ElideMiddle);
    m_quarantineView = makeTable(m_quarantine, this);
    m_quarantineView->setObjectName(QStringLiteral("quarantineView"));

    // Groups tab: the table, the preview of the selected group's first copy, the actions.
    auto *groupsTab = new QWidget(this);
    auto *scanButton = new QPushButton(tr("&Scan"), groupsTab);
    auto *resolveSelectedButton = new QPushButton(tr("Resolve &Selected…"), groupsTab);
    auto *resolveAllButton = new QPushButton(tr("Resolve &All…"), groupsTab);
    resolveSelectedButton->setObjectName(QStringLiteral("resolveSelected"));
    resolveAllButton->setObjectName(QStringLiteral("resolveAll"));
    connect(scanButton, &QPushButton::clicked, this, &DuplicatesDialog::scan);
    // The preview follows the selection; a short pause lets arrow keys run over rows without a
    // header read for each one.
    m_previewDelay->setSingleShot(true);
    m_previewDelay->setInterval(250);
    connect(m_previewDelay, &QTimer::timeout, this, &DuplicatesDialog::previewSelected);
    connect(m_groupsView->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        m_preview->clear();
        m_preview->setPlaceholderText(selectedRows(m_groupsView).isEmpty()
                                          ? tr("Select a group to read its first copy's header.")
                                          : tr("Reading the header…"));
        m_previewDelay->start();
    });
    connect(resolveSelectedButton, &QPushButton::clicked, this, &DuplicatesDialog::resolveSelected);
    connect(resolveAllButton, &QPushButton::clicked, this, &DuplicatesDialog::resolveAll);
    m_preview->setObjectName(QStringLiteral("preview"));
    m_preview->setReadOnly(true);
    m_preview->setTabChangesFocus(true);
    m_preview->setPlaceholderText(tr("Select a group to read its first copy's header."));
    auto *splitter = new QSplitter(Qt::Vertical, groupsTab);
    splitter->addWidget(m_groupsView);
    splitter->addWidget(m_preview);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);
    auto *groupButtons = new QHBoxLayout;
    groupButtons->addWidget(scanButton);
    groupButtons->addStretch(1);
    groupButtons->addWidget(resolveSelectedButton);
    groupButtons->addWidget(resolveAllButton);
    auto *groupsLayout = new QVBoxLayout(groupsTab);
    groupsLayout->addWidget(splitter, 1);
    groupsLayout->addLayout(groupButtons);

    // Quarantine tab.
    auto *quarantineTab = new QWidget(this);
    auto *refreshButton = new QPushButton(tr("&Refresh"), quarantineTab);
    auto *restoreButton = new QPushButton(tr("Res&tore Selected"), quarantineTab);
    restoreButton->setObjectName(QStringLiteral("restoreSelected"));
    auto *purgeButton = new QPushButton(tr("P&urge…"), quarantineTab);
    m_purgeDays->setRange(0, 3650);
    m_purgeDays->setValue(30);
    m_purgeDays->setSuffix(tr(" days"));
    m_purgeDays->setToolTip(tr("Entries quarantined longer ago than this are deleted for good"));
    connect(refreshButton, &QPushButton::clicked, this, &DuplicatesDialog::refreshQuarantine);
    connect(restoreButton, &QPushButton::clicked, this, &DuplicatesDialog::restoreSelected);
    connect(purgeButton, &QPushButton::clicked, this, &DuplicatesDialog::purgeOld);
    auto *quarantineButtons = new QHBoxLayout;
    quarantineButtons->addWidget(refreshButton);
    quarantineButtons->addWidget(restoreButton);
    quarantineButtons->addStretch(1);
    quarantineButtons->addWidget(new QLabel(tr("Older than"), quarantineTab));
    quarantineButtons->addWidget(m_purgeDays);
    quarantineButtons->addWidget(purgeButton);
    auto *quarantineLayout = new QVBoxLayout(quarantineTab);
    quarantineLayout->addWidget(m_quarantineView, 1);
    quarantineLayout->addLayout(quarantineButtons);

    m_findings->setReadOnly(true);
    m_findings->setTabChangesFocus(true);
    m_findings->setPlaceholderText(tr("Scan to compare the nodes."));

    m_tabs->addTab(groupsTab, tr("&Groups"));
    m_tabs->addTab(quarantineTab, tr("&Quarantine"));
    m_tabs->addTab(m_findings, tr("&Nodes Disagree On"));

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &DuplicatesDialog::reject);
    m_status->setWordWrap(true);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_tabs, 1);
    layout->addWidget(m_status);
    layout->addWidget(buttons);
    resize(1100, 560);
}

DuplicatesDialog::~DuplicatesDialog()
{
    if (m_running)
        m_running->cancel();
}

void DuplicatesDialog::setBusy(const QString &message)
{
    m_status->setText(message);
}

void DuplicatesDialog::runWorkflow(cluster::ClusterWorkflow *workflow,
                                   std::function<void(const cluster::WorkflowReport &)> done)
{
    m_running = workflow;
    connect(workflow, &cluster::Workflow::stepStarted, this,
            [this](int, const QString &, const QString &title) { setBusy(title + QStringLiteral("…")); });
    connect(workflow, &cluster::Workflow::finished, this, [this, workflow, done](const cluster::WorkflowReport &report) {
        m_running = nullptr;
        workflow->deleteLater();
        if (report.error)
            m_status->setText(tr("<b>Failed:</b> %1<br>%2")
                                  .arg(QString::fromStdString(report.error->describe()).toHtmlEscaped(),
                                       report.nextAction.toHtmlEscaped()));
        else
            m_status->clear();
        done(report);
        Q_EMIT workflowFinished(report);
        // A selection made while this ran still wants its preview.
        if (!m_running && m_previewWanted)
            m_previewDelay->start();
    });
    workflow->start();
}

void DuplicatesDialog::scan()
{
    if (m_running)
        return;
    runWorkflow(new cluster::DuplicatesWorkflow(m_cluster, {}, m_options, this), [this](const cluster::WorkflowReport &report) {
        if (!report.succeeded)
            return;
        const QJsonArray groups = report.details.value(QStringLiteral("groups")).toArray();
        m_groups->setRows(groups);
        m_groupsView->resizeColumnsToContents();
        // Subject, From and Date stay whole where they can; file and folder names give way first
        // (elided in the middle, whole in their tooltips), so that a row fits without scrolling.
        enum { Subject, From, Date, Kind, Folder, Copies, Size, Nodes, Keeper };
        int total = 0;
        for (int column = 0; column < m_groups->columnCount(); ++column)
            total += m_groupsView->columnWidth(column);
        const int available = m_groupsView->viewport()->width();
        for (int column : {Keeper, Folder, Nodes, From, Subject}) {
            if (total <= available)
                break;
            const int width = m_groupsView->columnWidth(column);
            const int narrower = std::max(std::min(width, 120), width - (total - available));
            m_groupsView->setColumnWidth(column, narrower);
            total -= width - narrower;
        }
        showFindings(report.details.value(QStringLiteral("diff")).toObject());
        m_status->setText(groups.isEmpty() ? tr("No duplicates on any node.")
                                           : tr("%n duplicate group(s).", nullptr, int(groups.size())));
    });
}

void DuplicatesDialog::showFindings(const QJsonObject &diff)
{
    QStringList lines;
    const QJsonArray uid = diff.value(QStringLiteral("uidConflicts")).toArray();
    lines << tr("UID conflicts: %1").arg(uid.size());
    if (!uid.isEmpty())
        lines << tr("  One IMAP UID names different messages on two nodes. A client that moves between them shows "
                    "the wrong message or a stale cache; pin clients to one node (uidPolicy per-node) and let "
                    "Dovecot renumber one side.");
    for (const QJsonValue &value : uid) {
        const QJsonObject c = value.toObject();
        QStringList where;
        const QJsonObject bases = c.value(QStringLiteral("bases")).toObject();
        for (auto it = bases.begin(); it != bases.end(); ++it)
            where << QStringLiteral("%1 on %2").arg(it.value().toString(), it.key());
        lines << QStringLiteral("  %1: UID %2 is %3")
                     .arg(c.value(QStringLiteral("folder")).toString())
                     .arg(c.value(QStringLiteral("uid")).toInteger())
                     .arg(where.join(QStringLiteral(", ")));
    }
    const QJsonArray flags = diff.value(QStringLiteral("flagDisagreements")).toArray();
    lines << QString() << tr("Flag disagreements: %1").arg(flags.size());
    if (!flags.isEmpty())
        lines << tr("  A message is read, flagged or answered on one node but not on another: clients see "
                    "different states depending on the node until Syncthing settles it.");
    for (const QJsonValue &value : flags) {
        const QJsonObject f = value.toObject();
        QStringList per;
        const QJsonObject byNode = f.value(QStringLiteral("flags")).toObject();
        for (auto it = byNode.begin(); it != byNode.end(); ++it)
            per << QStringLiteral("%1 \"%2\"").arg(it.key(), it.value().toString());
        lines << QStringLiteral("  %1/%2: %3").arg(f.value(QStringLiteral("folder")).toString(),
                                                f.value(QStringLiteral("base")).toString(), per.join(QStringLiteral(", ")));
    }
    const QJsonArray missing = diff.value(QStringLiteral("missingMessages")).toArray();
    lines << QString() << tr("Messages missing on some nodes: %1").arg(missing.size());
    for (const QJsonValue &value : missing) {
        const QJsonObject m = value.toObject();
        lines << QStringLiteral("  %1/%2: missing on %3")
                     .arg(m.value(QStringLiteral("folder")).toString(), m.value(QStringLiteral("base")).toString(),
                          strings(m.value(QStringLiteral("missingOn"))).join(QStringLiteral(", ")));
    }
    const QJsonArray keywords = diff.value(QStringLiteral("keywordClashes")).toArray();
    lines << QString() << tr("Keyword clashes: %1").arg(keywords.size());
    if (!keywords.isEmpty())
        lines << tr("  One keyword letter means different keywords on two nodes (dovecot-keywords), so a label set "
                    "on one node shows as another on the other.");
    m_findings->setPlainText(lines.join(u'\n'));
}

void DuplicatesDialog::previewSelected()
{
    m_previewDelay->stop();
    const QList<int> rows = selectedRows(m_groupsView);
    m_previewWanted = !rows.isEmpty() && m_running;
    if (rows.isEmpty() || m_running)
        return;
    const QJsonObject group = m_groups->row(rows.first());
    const QString groupId = group.value(QStringLiteral("id")).toString();
    const QString node = strings(group.value(QStringLiteral("presentOn"))).value(0);
    const QString folder = group.value(QStringLiteral("folder")).toString();
    const QString name = group.value(QStringLiteral("members")).toArray().first().toObject().value(QStringLiteral("name")).toString();
    const QString path = folder.isEmpty() ? name : folder + u'/' + name;
    runWorkflow(new cluster::HeadersWorkflow(m_cluster, node, path, m_options, this),
                [this, node, path, groupId](const cluster::WorkflowReport &report) {
                    // The selection moved on while the header was read: its own preview follows.
                    const QList<int> selected = selectedRows(m_groupsView);
                    if (!report.succeeded || selected.isEmpty()
                        || m_groups->row(selected.first()).value(QStringLiteral("id")).toString() != groupId)
                        return;
                    QStringList lines{tr("%1 on %2").arg(path, node), QString()};
                    const QJsonObject headers = report.details.value(QStringLiteral("headers")).toObject();
                    for (const QJsonValue &value : headers.value(QStringLiteral("fields")).toArray()) {
                        const QJsonObject field = value.toObject();
                        lines << QStringLiteral("%1: %2").arg(
                            decodeHeaderForDisplay(rawJsonField(field, QStringLiteral("name"))),
                            decodeHeaderForDisplay(rawJsonField(field, QStringLiteral("value"))));
                    }
                    m_preview->setPlainText(lines.join(u'\n'));
                });
}

void DuplicatesDialog::resolveSelected()
{
    QStringList ids;
    for (int row : selectedRows(m_groupsView))
        ids << m_groups->row(row).value(QStringLiteral("id")).toString();
    if (!ids.isEmpty())
        resolve(ids);
}

void DuplicatesDialog::resolveAll()
{
    if (m_groups->rowCount() > 0)
        resolve({});
}

void DuplicatesDialog::resolve(const QStringList &groups)
{
    if (m_running)
        return;
    const int count = groups.isEmpty() ? m_groups->rowCount() : int(groups.size());
    if (!m_confirm(tr("Resolve duplicates?"),
                   tr("%n group(s) are settled on %1 and Syncthing carries the result to the other nodes. The copies "
                      "that go are kept in %1's quarantine and can be restored.",
                      nullptr, count)
                       .arg(m_cluster.nodes.value(0).id)))
        return;
    cluster::DuplicatesWorkflow::Options options;
    options.mode = cluster::DuplicatesWorkflow::Mode::Resolve;
    options.groups = groups;
    runWorkflow(new cluster::DuplicatesWorkflow(m_cluster, options, m_options, this), [this](const cluster::WorkflowReport &report) {
        if (report.succeeded) {
            m_status->setText(tr("Resolved. The removed copies are in the Quarantine tab."));
            m_groups->setRows({});
            refreshQuarantine();
        }
    });
}

void DuplicatesDialog::refreshQuarantine()
{
    if (m_running)
        return;
    cluster::QuarantineWorkflow::Options options;
    runWorkflow(new cluster::QuarantineWorkflow(m_cluster, options, m_options, this), [this](const cluster::WorkflowReport &report) {
        if (!report.succeeded)
            return;
        QJsonArray entries;
        for (const QJsonValue &value : report.details.value(QStringLiteral("nodes")).toArray()) {
            const QJsonObject node = value.toObject();
            for (const QJsonValue &entry : node.value(QStringLiteral("result")).toObject().value(QStringLiteral("entries")).toArray()) {
                QJsonObject row = entry.toObject();
                row.insert(QStringLiteral("node"), node.value(QStringLiteral("id")));
                entries.append(row);
            }
        }
        m_quarantine->setRows(entries);
        m_quarantineView->resizeColumnsToContents();
    });
}

void DuplicatesDialog::restoreSelected()
{
    if (m_running)
        return;
    QMap<QString, QStringList> idsByNode;
    for (int row : selectedRows(m_quarantineView)) {
        const QJsonObject entry = m_quarantine->row(row);
        idsByNode[entry.value(QStringLiteral("node")).toString()] << entry.value(QStringLiteral("id")).toString();
    }
    if (idsByNode.isEmpty())
        return;
    // One node at a time; each restore replicates from its node.
    const QString node = idsByNode.firstKey();
    cluster::QuarantineWorkflow::Options options;
    options.action = cluster::QuarantineWorkflow::Action::Restore;
    options.node = node;
    options.ids = idsByNode.first();
    runWorkflow(new cluster::QuarantineWorkflow(m_cluster, options, m_options, this), [this](const cluster::WorkflowReport &report) {
        if (report.succeeded)
            refreshQuarantine();
    });
}

void DuplicatesDialog::purgeOld()
{
    if (m_running)
        return;
    const int days = m_purgeDays->value();
    if (!m_confirm(tr("Delete quarantined mail?"),
                   tr("Every quarantine entry older than %n day(s) is deleted for good on every node. This is the only "
                      "thing Mailmesh ever deletes.",
                      nullptr, days)))
        return;
    cluster::QuarantineWorkflow::Options options;
    options.action = cluster::QuarantineWorkflow::Action::Purge;
    options.olderThanDays = days;
    runWorkflow(new cluster::QuarantineWorkflow(m_cluster, options, m_options, this), [this](const cluster::WorkflowReport &report) {
        if (report.succeeded)
            refreshQuarantine();
    });
}

} // namespace mm::ui
