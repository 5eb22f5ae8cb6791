#include "ui/wizard/migrationpage.h"

#include "cluster/workflows/migrationworkflow.h"
#include "ui/wizard/setupsession.h"
#include "ui/wizard/workflowview.h"

#include <QGridLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace mm::ui {

MigrationPage::MigrationPage(SetupSession *session, QWidget *parent)
    : SetupPage(session, parent)
    , m_intro(new QLabel(this))
    , m_rows(new QGridLayout)
    , m_view(new WorkflowView(this))
    , m_verdict(new QLabel(this))
    , m_migrate(new QPushButton(tr("&Migrate Now"), this))
    , m_later(new QPushButton(tr("&Later"), this))
{
    setTitle(tr("Convert the Maildirs to cur/-only"));
    setSubTitle(tr("First a dry run shows what would change on each node; nothing is changed until you say so."));
    m_intro->setWordWrap(true);
    m_intro->setText(tr("The migration pauses replication, holds delivery and IMAP on every node, converts every "
                        "Maildir (new/ becomes a link to cur/), switches Dovecot's cur/-only setting on, checks that "
                        "every node holds the same mail, and resumes. Every change is journaled: a failure stops with "
                        "the nodes held and can be continued or reverted."));
    m_verdict->setWordWrap(true);
    m_verdict->setTextFormat(Qt::RichText);
    m_verdict->setObjectName(QStringLiteral("verdict"));
    m_verdict->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_verdict->hide();
    m_migrate->setObjectName(QStringLiteral("migrateNow"));
    m_migrate->setToolTip(tr("Convert every node now, as planned above"));
    m_later->setObjectName(QStringLiteral("migrateLater"));
    m_later->setToolTip(tr("Finish the setup without converting; run it later with `mailmeshctl migrate`"));
    connect(m_migrate, &QPushButton::clicked, this, &MigrationPage::migrateNow);
    connect(m_later, &QPushButton::clicked, this, &MigrationPage::migrateLater);
    connect(m_view, &WorkflowView::retryRequested, this, [this] { run(m_lastRunWasDry); });
    m_rows->setColumnStretch(1, 1);
    m_rows->setHorizontalSpacing(12);

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_migrate);
    buttons->addWidget(m_later);
    buttons->addStretch(1);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_intro);
    layout->addSpacing(8);
    layout->addLayout(m_rows);
    layout->addLayout(buttons);
    layout->addWidget(m_verdict);
    layout->addWidget(m_view);
    layout->addStretch(1);
}

void MigrationPage::buildRows()
{
    qDeleteAll(m_rowWidgets);
    m_rowWidgets.clear();
    m_planLabels.clear();
    m_progressBars.clear();
    int row = 0;
    for (const QString &header : {tr("Node"), tr("Plan"), tr("Progress")}) {
        auto *label = new QLabel(QStringLiteral("<b>%1</b>").arg(header), this);
        m_rows->addWidget(label, 0, row++);
        m_rowWidgets << label;
    }
    row = 1;
    for (const cluster::NodeConfig &node : session()->cluster().nodes) {
        auto *name = new QLabel(node.id, this);
        auto *plan = new QLabel(tr("planning…"), this);
        plan->setWordWrap(true);
        plan->setTextFormat(Qt::RichText);
        auto *progress = new QProgressBar(this);
        progress->setObjectName(QStringLiteral("progress-") + node.id);
        progress->setRange(0, 1);
        progress->setValue(0);
        progress->setMinimumWidth(180);
        progress->setFormat(tr("waiting"));
        m_rows->addWidget(name, row, 0);
        m_rows->addWidget(plan, row, 1);
        m_rows->addWidget(progress, row, 2);
        m_rowWidgets << name << plan << progress;
        m_planLabels.insert(node.id, plan);
        m_progressBars.insert(node.id, progress);
        ++row;
    }
}

void MigrationPage::initializePage()
{
    if (m_running)
        return;
    if (m_plannedFor != session()->cluster() || m_planLabels.isEmpty()) {
        buildRows();
        m_planned = false;
    }
    if (session()->migration() == SetupSession::Migration::Done) {
        m_verdict->setText(QStringLiteral("<span style=\"color:%1\">✔</span> <b>%2</b>")
                               .arg(okColourName(this), session()->migrationVerdict().toHtmlEscaped()));
        m_verdict->show();
        for (QLabel *plan : std::as_const(m_planLabels))
            if (plan->text() == tr("planning…"))
                plan->setText(tr("migrated"));
    } else if (!m_planned) {
        planMigration();
    }
    updateButtons();
}

void MigrationPage::planMigration()
{
    run(true);
}

void MigrationPage::migrateNow()
{
    run(false);
}

void MigrationPage::migrateLater()
{
    session()->recordMigration(SetupSession::Migration::Later, {});
    m_verdict->setText(tr("Not migrated yet. Run it later with <tt>mailmeshctl --cluster %1 migrate</tt>.")
                           .arg(session()->clusterPath().toHtmlEscaped()));
    m_verdict->show();
    updateButtons();
    Q_EMIT completeChanged();
}

void MigrationPage::run(bool dryRun)
{
    if (m_running)
        return;
    cluster::MigrationWorkflow::Options options;
    options.dryRun = dryRun;
    options.allowStockDovecot = field(QStringLiteral("allowStockDovecot")).toBool();
    auto *workflow = new cluster::MigrationWorkflow(session()->cluster(), cluster::MigrationWorkflow::Direction::Migrate,
                                                    options, session()->monitorOptions(), this);
    m_running = workflow;
    m_runningDry = dryRun;
    m_lastRunWasDry = dryRun;
    m_verdict->hide();
    if (!dryRun) {
        for (QProgressBar *bar : std::as_const(m_progressBars)) {
            bar->setRange(0, 0);
            bar->setFormat(tr("waiting"));
        }
    }
    m_view->follow(workflow);
    connect(workflow, &cluster::Workflow::progressed, this, [this](const cluster::WorkflowProgress &progress) {
        QProgressBar *bar = m_progressBars.value(progress.node);
        if (!bar || progress.step != QLatin1String("convert"))
            return;
        if (progress.total > 0) {
            bar->setRange(0, 1000);
            bar->setValue(int(qBound(qint64(0), progress.done * 1000 / progress.total, qint64(1000))));
            bar->setFormat(progress.done >= progress.total ? tr("converted") : QStringLiteral("%p%"));
        }
    });
    connect(workflow, &cluster::Workflow::finished, this, [this, dryRun, workflow](const cluster::WorkflowReport &report) {
        // What the run learnt about each node's Dovecot is kept, whatever the outcome.
        if (!dryRun)
            session()->cluster() = workflow->cluster();
        workflow->deleteLater();
        m_running = nullptr;
        finished(dryRun, report);
        updateButtons();
        Q_EMIT completeChanged();
    });
    workflow->start();
    updateButtons();
    Q_EMIT completeChanged();
}

void MigrationPage::showPlan(const cluster::WorkflowReport &report)
{
    const QLocale locale;
    for (const QJsonValue &value : report.details.value(QStringLiteral("nodes")).toArray()) {
        const QJsonObject node = value.toObject();
        QLabel *label = m_planLabels.value(node.value(QStringLiteral("id")).toString());
        if (!label || !node.contains(QStringLiteral("plan")))
            continue;
        const QJsonObject plan = node.value(QStringLiteral("plan")).toObject();
        const qint64 converted = plan.value(QStringLiteral("converted")).toInteger();
        const qint64 moved = plan.value(QStringLiteral("moved")).toInteger();
        const qint64 already = plan.value(QStringLiteral("alreadyCurOnly")).toInteger();
        QString text = converted == 0
                           ? tr("nothing to convert (%1 folders already cur/-only)").arg(locale.toString(already))
                           : tr("%1 to convert, %2 to move from new/ to cur/")
                                 .arg(tr("%Ln folder(s)", nullptr, int(converted)), tr("%Ln message(s)", nullptr, int(moved)));
        QStringList problems;
        for (const QJsonValue &problem : plan.value(QStringLiteral("problemList")).toArray()) {
            const QJsonObject p = problem.toObject();
            const QString detail = p.value(QStringLiteral("detail")).toString();
            problems << QStringLiteral("%1: %2").arg(p.value(QStringLiteral("path")).toString(),
                                                      detail.isEmpty() ? p.value(QStringLiteral("kind")).toString() : detail);
        }
        if (!problems.isEmpty())
            text += QStringLiteral("<br><span style=\"color:%1\">%2</span>")
                        .arg(errorColourName(this),
                             tr("%n problem(s), left untouched: %1", nullptr, int(problems.size()))
                                 .arg(problems.mid(0, 3).join(QStringLiteral("; ")).toHtmlEscaped()));
        label->setText(text);
    }
}

void MigrationPage::finished(bool dryRun, const cluster::WorkflowReport &report)
{
    if (dryRun) {
        if (report.succeeded) {
            m_planned = true;
            m_plannedFor = session()->cluster();
            showPlan(report);
            m_view->hide(); // the plan says it; the steps are for a run that changes things
            m_view->clear();
        } else {
            m_view->show();
        }
        return;
    }
    m_view->show();
    for (QProgressBar *bar : std::as_const(m_progressBars)) {
        bar->setRange(0, 1);
        bar->setValue(report.succeeded ? 1 : 0);
        bar->setFormat(report.succeeded ? tr("done") : tr("stopped"));
    }
    if (!report.succeeded)
        return;
    // The plan column now says what was done.
    for (const QJsonValue &value : report.details.value(QStringLiteral("nodes")).toArray()) {
        const QJsonObject node = value.toObject();
        const QJsonObject totals = node.value(QStringLiteral("result")).toObject().value(QStringLiteral("totals")).toObject();
        if (QLabel *label = m_planLabels.value(node.value(QStringLiteral("id")).toString()); label && !totals.isEmpty())
            label->setText(tr("%1 converted, %2 moved from new/ to cur/")
                               .arg(tr("%Ln folder(s)", nullptr, int(totals.value(QStringLiteral("converted")).toInteger())),
                                    tr("%Ln message(s)", nullptr, int(totals.value(QStringLiteral("moved")).toInteger()))));
    }
    QString verdict = tr("Migrated.");
    for (const cluster::WorkflowStep &step : report.steps)
        if (step.id == QLatin1String("verify") && !step.detail.isEmpty())
            verdict = tr("Migrated: %1.").arg(step.detail);
    session()->recordMigration(SetupSession::Migration::Done, verdict);
    m_verdict->setText(QStringLiteral("<span style=\"color:%1\">✔</span> <b>%2</b>")
                           .arg(okColourName(this), verdict.toHtmlEscaped()));
    m_verdict->show();
}

void MigrationPage::updateButtons()
{
    const bool done = session()->migration() == SetupSession::Migration::Done;
    m_view->setVisible(m_running ? true : m_view->isVisibleTo(this));
    if (m_running && m_runningDry)
        m_view->show();
    m_migrate->setVisible(!done);
    m_later->setVisible(!done);
    m_migrate->setEnabled(!m_running && m_planned);
    m_later->setEnabled(!m_running);
}

QString MigrationPage::verdict() const
{
    return m_verdict->isVisible() ? m_verdict->text() : QString();
}

bool MigrationPage::isBusy() const
{
    return m_running;
}

void MigrationPage::cancelWork()
{
    if (m_running)
        m_running->cancel();
}

bool MigrationPage::isComplete() const
{
    return !isBusy() && session()->migration() != SetupSession::Migration::NotRun;
}

bool MigrationPage::validatePage()
{
    return saveDraftAfterThisPage();
}

} // namespace mm::ui
