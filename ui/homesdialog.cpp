#include "ui/homesdialog.h"

#include "cluster/workflows/homesworkflow.h"
#include "ui/jsontablemodel.h"
#include "ui/tableviewsetup.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace mm::ui {

namespace {

QString why(const QJsonObject &row)
{
    const QString reason = row.value(QStringLiteral("reason")).toString();
    if (reason == QLatin1String("hash"))
        return HomesDialog::tr("hash");
    if (reason == QLatin1String("override"))
        return HomesDialog::tr("set by the admin");
    if (reason == QLatin1String("failover"))
        return HomesDialog::tr("failover from %1")
            .arg(row.value(QStringLiteral("preferred")).toString());
    return HomesDialog::tr("no home: every node is drained");
}

} // namespace

HomesDialog::HomesDialog(cluster::ClusterConfig cluster, cluster::MonitorOptions options,
                         QWidget *parent)
    : QDialog(parent)
    , m_cluster(std::move(cluster))
    , m_options(std::move(options))
{
    setWindowTitle(tr("Home Nodes — %1").arg(m_cluster.name));
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_model = new JsonTableModel(
        {{tr("User"), tr("The mail user, as the nodes' Dovecot lists it"),
          [](const QJsonObject &row) { return row.value(QStringLiteral("user")).toString(); }},
         {tr("Home node"), tr("Every node sends this user's IMAP logins here"),
          [](const QJsonObject &row) {
              const QString node = row.value(QStringLiteral("node")).toString();
              return node.isEmpty() ? QStringLiteral("—") : node;
          }},
         {tr("Why"),
          tr("Rendezvous hash over the nodes, the admin's choice, or a failover from a drained "
             "node"),
          [](const QJsonObject &row) { return why(row); }},
         {tr("IMAP address"), tr("Where the other nodes proxy the user's logins to"),
          [](const QJsonObject &row) { return row.value(QStringLiteral("address")).toString(); }}},
        this);
    auto *sorted = new QSortFilterProxyModel(this);
    sorted->setSourceModel(m_model);
    m_table = new QTableView(this);
    m_table->setObjectName(QStringLiteral("homesTable"));
    m_table->setModel(sorted);
    setUpTableView(m_table);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(0, Qt::AscendingOrder);

    auto *hint =
        new QLabel(tr("Change homes with <tt>mailmeshctl homes set</tt>, <tt>homes deploy</tt> and "
                      "<tt>failover</tt> (docs/home-nodes.md)."),
                   this);
    hint->setWordWrap(true);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    m_refresh = buttons->addButton(tr("&Refresh"), QDialogButtonBox::ActionRole);
    connect(m_refresh, &QPushButton::clicked, this, &HomesDialog::refresh);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_summary);
    layout->addWidget(m_table, 1);
    layout->addWidget(hint);
    layout->addWidget(buttons);
    resize(760, 520);
}

void HomesDialog::refresh()
{
    if (m_running)
        return;
    m_running = true;
    m_refresh->setEnabled(false);
    m_summary->setText(tr("Asking every node's Dovecot for its users…"));
    cluster::HomesWorkflow::Options options;
    options.mode = cluster::HomesWorkflow::Mode::Show;
    auto *workflow = new cluster::HomesWorkflow(m_cluster, options, m_options, this);
    connect(workflow, &cluster::Workflow::finished, this,
            [this, workflow](const cluster::WorkflowReport &report) {
                m_running = false;
                m_refresh->setEnabled(true);
                showReport(report);
                workflow->deleteLater();
                Q_EMIT refreshed(report);
            });
    workflow->start();
}

void HomesDialog::showReport(const cluster::WorkflowReport &report)
{
    if (!report.succeeded) {
        m_summary->setText(
            tr("Could not read the homes: %1")
                .arg(report.error ? QString::fromStdString(report.error->message) : QString()));
        return;
    }
    const QJsonArray homes = report.details.value(QStringLiteral("homes")).toArray();
    m_model->setRows(homes);
    const QJsonObject perNode = report.details.value(QStringLiteral("usersPerNode")).toObject();
    const QJsonArray drained = report.details.value(QStringLiteral("drained")).toArray();
    QStringList parts;
    for (const cluster::NodeConfig &node : std::as_const(m_cluster.nodes)) {
        const int users = perNode.value(node.id).toInt();
        parts << (drained.contains(node.id) ? tr("%1: %2 (drained)") : tr("%1: %2"))
                     .arg(node.id)
                     .arg(users);
    }
    m_summary->setText(tr("Users per home node — %1").arg(parts.join(QStringLiteral(", "))));
    m_table->resizeColumnsToContents();
}

} // namespace mm::ui
