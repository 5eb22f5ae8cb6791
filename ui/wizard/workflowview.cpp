#include "ui/wizard/workflowview.h"

#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace mm::ui {

QString stepStateMark(cluster::WorkflowStep::State state)
{
    switch (state) {
    case cluster::WorkflowStep::State::Pending:
        return QStringLiteral("○");
    case cluster::WorkflowStep::State::Running:
        return QStringLiteral("▶");
    case cluster::WorkflowStep::State::Done:
        return QStringLiteral("✔");
    case cluster::WorkflowStep::State::Skipped:
        return QStringLiteral("–");
    case cluster::WorkflowStep::State::Failed:
        return QStringLiteral("✖");
    }
    return {};
}

QColor errorColour(const QPalette &palette)
{
    return palette.color(QPalette::Base).lightness() < 128 ? QColor(0xff, 0x6b, 0x6b) : QColor(0xb0, 0x00, 0x20);
}

QColor okColour(const QPalette &palette)
{
    return palette.color(QPalette::Base).lightness() < 128 ? QColor(0x6f, 0xcf, 0x73) : QColor(0x1b, 0x7a, 0x1b);
}

QString errorColourName(const QWidget *widget)
{
    return errorColour(widget->palette()).name();
}

QString okColourName(const QWidget *widget)
{
    return okColour(widget->palette()).name();
}

WorkflowView::WorkflowView(QWidget *parent)
    : QWidget(parent)
    , m_steps(new QLabel(this))
    , m_progress(new QProgressBar(this))
    , m_message(new QLabel(this))
    , m_error(new QLabel(this))
    , m_retry(new QPushButton(tr("&Retry"), this))
{
    m_steps->setTextFormat(Qt::RichText);
    m_steps->setWordWrap(true);
    m_steps->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->setWordWrap(true);
    m_error->setWordWrap(true);
    m_error->setTextFormat(Qt::RichText);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_progress->setTextVisible(true);
    m_retry->setToolTip(tr("Run this step again; steps are idempotent, so it continues where it stopped"));
    connect(m_retry, &QPushButton::clicked, this, &WorkflowView::retryRequested);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_steps);
    layout->addWidget(m_progress);
    layout->addWidget(m_message);
    layout->addWidget(m_error);
    layout->addWidget(m_retry, 0, Qt::AlignLeft);
    clear();
}

void WorkflowView::clear()
{
    m_workflow = nullptr;
    m_steps->clear();
    m_steps->hide();
    m_progress->hide();
    m_message->clear();
    m_message->hide();
    m_error->clear();
    m_error->hide();
    m_retry->hide();
}

void WorkflowView::follow(cluster::Workflow *workflow)
{
    clear();
    m_workflow = workflow;
    showSteps(workflow->report().steps);
    m_progress->setRange(0, 0);
    m_progress->show();
    connect(workflow, &cluster::Workflow::stepStarted, this, [this, workflow](int, const QString &, const QString &title) {
        if (m_workflow != workflow)
            return;
        showSteps(workflow->report().steps);
        m_progress->setRange(0, 0);
        m_message->setText(title + QStringLiteral("…"));
        m_message->show();
    });
    connect(workflow, &cluster::Workflow::progressed, this, [this, workflow](const cluster::WorkflowProgress &progress) {
        if (m_workflow == workflow)
            showProgress(progress);
    });
    connect(workflow, &cluster::Workflow::finished, this, [this, workflow](const cluster::WorkflowReport &report) {
        if (m_workflow == workflow)
            showReport(report);
    });
}

void WorkflowView::showReport(const cluster::WorkflowReport &report)
{
    showSteps(report.steps);
    m_progress->hide();
    m_message->hide();
    if (report.succeeded) {
        m_error->hide();
        m_retry->hide();
        return;
    }
    const QString message = report.error ? QString::fromStdString(report.error->describe()) : tr("failed");
    setFailed(message, report.nextAction);
}

void WorkflowView::showSteps(const QList<cluster::WorkflowStep> &steps)
{
    QStringList lines;
    for (const cluster::WorkflowStep &step : steps) {
        QString line = stepStateMark(step.state) + QStringLiteral("&nbsp;") + step.title.toHtmlEscaped();
        if (step.state == cluster::WorkflowStep::State::Running)
            line = QStringLiteral("<b>%1</b>").arg(line);
        if (!step.detail.isEmpty()) {
            const QString detail = step.detail.toHtmlEscaped();
            line += step.state == cluster::WorkflowStep::State::Failed
                        ? QStringLiteral(" — <span style=\"color:%1\">%2</span>").arg(errorColourName(this), detail)
                        : QStringLiteral(" — <i>%1</i>").arg(detail);
        }
        lines << line;
    }
    m_steps->setText(lines.join(QStringLiteral("<br>")));
    m_steps->setVisible(!lines.isEmpty());
}

void WorkflowView::showProgress(const cluster::WorkflowProgress &progress)
{
    m_error->hide();
    m_retry->hide();
    m_progress->show();
    if (progress.total > 0) {
        m_progress->setRange(0, 1000);
        m_progress->setValue(int(qBound(qint64(0), progress.done * 1000 / progress.total, qint64(1000))));
        m_progress->setFormat(QStringLiteral("%1 / %2").arg(progress.done).arg(progress.total));
    } else {
        m_progress->setRange(0, 0);
    }
    const QString message = (progress.node.isEmpty() ? QString() : progress.node + QStringLiteral(": ")) + progress.message;
    m_message->setText(message);
    m_message->setVisible(!message.isEmpty());
}

void WorkflowView::setFailed(const QString &error, const QString &nextAction)
{
    m_progress->hide();
    QString text = QStringLiteral("<span style=\"color:%1\"><b>%2</b> %3</span>")
                       .arg(errorColourName(this), tr("Failed:"), error.toHtmlEscaped());
    if (!nextAction.isEmpty())
        text += QStringLiteral("<br>%1 %2").arg(tr("What to do:"), nextAction.toHtmlEscaped());
    m_error->setText(text);
    m_error->show();
    m_retry->show();
}

void WorkflowView::setSucceeded(const QString &message)
{
    m_progress->hide();
    m_error->hide();
    m_retry->hide();
    m_message->setText(QStringLiteral("✔ ") + message);
    m_message->show();
}

void WorkflowView::setRetryText(const QString &text)
{
    m_retry->setText(text);
}

QString WorkflowView::errorText() const
{
    return m_error->isVisible() ? m_error->text() : QString();
}

} // namespace mm::ui
