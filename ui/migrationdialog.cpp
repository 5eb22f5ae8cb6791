#include "ui/migrationdialog.h"

#include "ui/migrationplanmodel.h"
#include "ui/tableviewsetup.h"

#include <QDialogButtonBox>
#include <QGridLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace mm::ui {

namespace {

QString eta(int seconds)
{
    if (seconds < 0)
        return QObject::tr("ETA —");
    return QObject::tr("ETA %1:%2").arg(seconds / 60).arg(seconds % 60, 2, 10, QLatin1Char('0'));
}

QString stepDetail(const cluster::WorkflowReport &report, const QString &id)
{
    for (const cluster::WorkflowStep &step : report.steps)
        if (step.id == id)
            return step.detail;
    return {};
}

} // namespace

MigrationDialog::MigrationDialog(cluster::ClusterConfig cluster, cluster::MonitorOptions options, QWidget *parent)
    : QDialog(parent)
    , m_cluster(std::move(cluster))
    , m_options(std::move(options))
    , m_model(new MigrationPlanModel(this))
    , m_table(new QTableView(this))
    , m_intro(new QLabel(this))
    , m_step(new QLabel(this))
    , m_verdict(new QLabel(this))
    , m_progressGrid(new QGridLayout)
{
    setWindowTitle(tr("Migrate to cur/-only — %1").arg(m_cluster.name));
    m_intro->setWordWrap(true);
    m_intro->setText(tr("Every Maildir on the %n node(s) becomes cur/-only: <tt>new</tt> turns into a link to "
                        "<tt>cur</tt>, so no node ever moves a message behind the others' backs. While it runs, "
                        "replication is paused and each node's hold commands keep delivery and IMAP out; then "
                        "Dovecot's cur/-only setting is switched on, every node is checked to hold the same "
                        "mail, and everything resumes. Nothing is deleted, and every change is journaled.",
                        nullptr, int(m_cluster.nodes.size())));

    auto *proxy = new QSortFilterProxyModel(this);
    proxy->setSourceModel(m_model);
    m_table->setModel(proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(MigrationPlanModel::NodeColumn, Qt::AscendingOrder);
    setUpTableView(m_table);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);

    m_step->setWordWrap(true);
    m_verdict->setWordWrap(true);
    m_verdict->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *buttons = new QDialogButtonBox(this);
    m_migrateButton = buttons->addButton(tr("&Migrate"), QDialogButtonBox::AcceptRole);
    m_migrateButton->setObjectName(QStringLiteral("migrateButton"));
    m_cancelButton = buttons->addButton(tr("&Cancel Run"), QDialogButtonBox::ActionRole);
    m_cancelButton->setObjectName(QStringLiteral("cancelButton"));
    m_resumeButton = buttons->addButton(tr("&Resume"), QDialogButtonBox::ActionRole);
    m_resumeButton->setObjectName(QStringLiteral("resumeButton"));
    m_revertButton = buttons->addButton(tr("Re&vert"), QDialogButtonBox::ActionRole);
    m_revertButton->setObjectName(QStringLiteral("revertButton"));
    m_closeButton = buttons->addButton(QDialogButtonBox::Close);
    // The buttons are wired by hand: none of them may close the dialog while a run is going.
    disconnect(buttons, nullptr, this, nullptr);
    connect(m_migrateButton, &QPushButton::clicked, this, &MigrationDialog::primaryAction);
    connect(m_cancelButton, &QPushButton::clicked, this, &MigrationDialog::cancelRun);
    connect(m_resumeButton, &QPushButton::clicked, this, &MigrationDialog::resume);
    connect(m_revertButton, &QPushButton::clicked, this, &MigrationDialog::revert);
    connect(m_closeButton, &QPushButton::clicked, this, &MigrationDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_intro);
    layout->addWidget(m_table, 1);
    layout->addLayout(m_progressGrid);
    layout->addWidget(m_step);
    layout->addWidget(m_verdict);
    layout->addWidget(buttons);
    resize(760, 480);
    setButtons(false, false, false);
}

MigrationDialog::~MigrationDialog()
{
    if (m_workflow && !m_workflow->isFinished())
        m_workflow->cancel();
}

void MigrationDialog::setButtons(bool planReady, bool running, bool failed)
{
    m_migrateButton->setEnabled(planReady && !running);
    m_migrateButton->setVisible(!failed);
    m_cancelButton->setVisible(running);
    m_resumeButton->setVisible(failed && !running);
    m_revertButton->setVisible(failed && !running);
    m_closeButton->setEnabled(!running);
}

void MigrationDialog::primaryAction()
{
    if (m_planned)
        migrate();
    else
        plan();
}

void MigrationDialog::plan()
{
    run(cluster::MigrationWorkflow::Direction::Migrate, true);
}

void MigrationDialog::migrate()
{
    run(cluster::MigrationWorkflow::Direction::Migrate, false);
}

void MigrationDialog::resume()
{
    run(cluster::MigrationWorkflow::Direction::Migrate, false);
}

void MigrationDialog::revert()
{
    if (QMessageBox::question(this, tr("Revert the migration?"),
                              tr("Every Maildir on every node turns classic again and Dovecot's cur/-only setting is "
                                 "switched off. Nothing is lost.")) != QMessageBox::Yes)
        return;
    run(cluster::MigrationWorkflow::Direction::Revert, false);
}

void MigrationDialog::cancelRun()
{
    if (m_workflow && !m_workflow->isFinished()) {
        m_step->setText(tr("Cancelling: the running step finishes its current item, then the run stops…"));
        m_workflow->cancel();
    }
}

void MigrationDialog::reject()
{
    if (m_workflow && !m_workflow->isFinished())
        return; // closing mid-run would hide it; Cancel Run first
    QDialog::reject();
}

void MigrationDialog::run(cluster::MigrationWorkflow::Direction direction, bool dryRun)
{
    if (m_workflow && !m_workflow->isFinished())
        return;
    delete m_workflow;
    cluster::MigrationWorkflow::Options options;
    options.dryRun = dryRun;
    m_workflow = new cluster::MigrationWorkflow(m_cluster, direction, options, m_options, this);
    connect(m_workflow, &cluster::Workflow::stepStarted, this,
            [this](int, const QString &, const QString &title) { m_step->setText(title + QStringLiteral("…")); });
    connect(m_workflow, &cluster::Workflow::progressed, this, &MigrationDialog::onProgress);
    connect(m_workflow, &cluster::Workflow::finished, this, &MigrationDialog::onFinished);
    m_verdict->clear();
    setButtons(false, true, false);
    if (!dryRun) {
        showNodeProgress();
        for (const cluster::NodeConfig &node : m_cluster.nodes)
            m_model->setState(node.id, tr("waiting"));
    }
    m_workflow->start();
}

void MigrationDialog::showNodeProgress()
{
    if (!m_bars.isEmpty())
        return;
    int row = 0;
    for (const cluster::NodeConfig &node : m_cluster.nodes) {
        auto *bar = new QProgressBar(this);
        bar->setRange(0, 0);
        bar->setTextVisible(true);
        bar->setObjectName(QStringLiteral("progress-") + node.id);
        auto *etaLabel = new QLabel(eta(-1), this);
        m_progressGrid->addWidget(new QLabel(node.id, this), row, 0);
        m_progressGrid->addWidget(bar, row, 1);
        m_progressGrid->addWidget(etaLabel, row, 2);
        m_bars.insert(node.id, bar);
        m_etas.insert(node.id, etaLabel);
        ++row;
    }
}

void MigrationDialog::onProgress(const cluster::WorkflowProgress &progress)
{
    if (progress.node.isEmpty()) {
        if (!progress.message.isEmpty())
            m_step->setText(progress.message);
        return;
    }
    if (progress.step == QLatin1String("convert"))
        m_model->setState(progress.node, progress.done >= progress.total && progress.total > 0 ? tr("converted") : tr("converting"));
    QProgressBar *bar = m_bars.value(progress.node);
    if (!bar || progress.step != QLatin1String("convert"))
        return;
    if (progress.total > 0) {
        bar->setRange(0, 1000);
        bar->setValue(int(1000 * std::min<qint64>(progress.done, progress.total) / progress.total));
        bar->setFormat(tr("%1 of %2").arg(progress.done).arg(progress.total));
    }
    m_etas.value(progress.node)->setText(eta(progress.etaSeconds));
}

void MigrationDialog::onFinished(const cluster::WorkflowReport &report)
{
    m_cluster = m_workflow->cluster();
    const bool dryRun = report.dryRun;
    if (dryRun && report.succeeded) {
        m_planned = true;
        m_model->setPlan(report.details.value(QStringLiteral("nodes")).toArray());
        m_step->setText(tr("Nothing has changed yet. Hover a node's problems for details; folders with problems "
                           "are left untouched."));
        m_migrateButton->setText(tr("&Migrate %n Node(s)", nullptr, int(m_cluster.nodes.size())));
        setButtons(true, false, false);
    } else if (report.succeeded) {
        for (QProgressBar *bar : std::as_const(m_bars)) {
            bar->setRange(0, 1);
            bar->setValue(1);
            bar->setFormat(tr("done"));
        }
        for (const cluster::NodeConfig &node : m_cluster.nodes)
            m_model->setState(node.id, tr("done"));
        m_step->setText(tr("%1 finished.").arg(report.workflow == QLatin1String("revert") ? tr("Revert") : tr("Migration")));
        m_verdict->setText(QStringLiteral("<b>%1</b>").arg(stepDetail(report, QStringLiteral("verify")).toHtmlEscaped()));
        setButtons(false, false, false);
        m_migrateButton->setVisible(false);
    } else {
        const QString reason = report.error ? QString::fromStdString(report.error->describe()) : tr("unknown");
        m_verdict->setText(tr("<b>%1 stopped:</b> %2<br>%3")
                               .arg(dryRun ? tr("Planning") : tr("The run"), reason.toHtmlEscaped(),
                                    report.nextAction.toHtmlEscaped()));
        m_step->clear();
        if (dryRun) {
            m_planned = false;
            m_migrateButton->setText(tr("&Plan Again"));
            setButtons(true, false, false);
        } else {
            setButtons(false, false, true);
        }
    }
    Q_EMIT runFinished(report);
}

} // namespace mm::ui
