#include "cluster/workflows/workflow.h"

#include "protocol/exitcodes.h"

#include <QJsonArray>
#include <QTimer>

namespace mm::cluster {

QString WorkflowStep::stateName(State state)
{
    switch (state) {
    case State::Pending:
        return QStringLiteral("pending");
    case State::Running:
        return QStringLiteral("running");
    case State::Done:
        return QStringLiteral("done");
    case State::Skipped:
        return QStringLiteral("skipped");
    case State::Failed:
        return QStringLiteral("failed");
    }
    return QStringLiteral("pending");
}

int WorkflowReport::exitCode() const
{
    if (error)
        return protocol::exitCodeFor(error->code);
    return skippedItems ? protocol::kExitSkipped : protocol::kExitOk;
}

QJsonObject WorkflowReport::toJson() const
{
    QJsonArray stepArray;
    for (const WorkflowStep &step : steps) {
        QJsonObject object{{QStringLiteral("id"), step.id},
                           {QStringLiteral("title"), step.title},
                           {QStringLiteral("state"), WorkflowStep::stateName(step.state)},
                           {QStringLiteral("elapsedMs"), step.elapsedMs}};
        if (!step.detail.isEmpty())
            object.insert(QStringLiteral("detail"), step.detail);
        stepArray.append(object);
    }
    QJsonObject object{{QStringLiteral("schemaVersion"), 1},
                       {QStringLiteral("workflow"), workflow},
                       {QStringLiteral("dryRun"), dryRun},
                       {QStringLiteral("succeeded"), succeeded},
                       {QStringLiteral("skippedItems"), skippedItems},
                       {QStringLiteral("exitCode"), exitCode()},
                       {QStringLiteral("steps"), stepArray},
                       {QStringLiteral("details"), details}};
    if (error) {
        object.insert(QStringLiteral("error"),
                      QJsonObject{{QStringLiteral("code"),
                                   QString::fromUtf8(errorCodeName(error->code).data(),
                                                     qsizetype(errorCodeName(error->code).size()))},
                                  {QStringLiteral("message"), QString::fromStdString(error->describe())}});
        object.insert(QStringLiteral("nextAction"), nextAction);
    }
    return object;
}

Workflow::Workflow(QString name, bool dryRun, QObject *parent)
    : QObject(parent)
{
    qRegisterMetaType<WorkflowProgress>();
    qRegisterMetaType<WorkflowReport>();
    m_report.workflow = std::move(name);
    m_report.dryRun = dryRun;
}

Workflow::~Workflow() = default;

void Workflow::addStep(const QString &id, const QString &title, StepBody body)
{
    m_report.steps.append(WorkflowStep{id, title, WorkflowStep::State::Pending, {}, 0});
    m_bodies.append(std::move(body));
}

void Workflow::start()
{
    if (m_started)
        return;
    m_started = true;
    // Never from inside start(): the caller connects its slots first.
    QTimer::singleShot(0, this, &Workflow::runNextStep);
}

void Workflow::cancel()
{
    if (m_finished || m_cancelled)
        return;
    m_cancelled = true;
    cancelRunningWork();
}

QString Workflow::currentStepId() const
{
    return m_current >= 0 && m_current < m_report.steps.size() ? m_report.steps[m_current].id : QString();
}

void Workflow::runNextStep()
{
    if (m_finished)
        return;
    ++m_current;
    if (m_current >= m_report.steps.size()) {
        m_report.succeeded = true;
        finish();
        return;
    }
    if (m_cancelled) {
        failStep(Error{ErrorCode::Cancelled, "cancelled before this step", {}},
                 tr("Run %1 again to continue where it stopped.").arg(m_report.workflow));
        return;
    }
    WorkflowStep &step = m_report.steps[m_current];
    step.state = WorkflowStep::State::Running;
    m_stepTimer.start();
    Q_EMIT stepStarted(m_current, step.id, step.title);
    m_bodies[m_current]();
}

void Workflow::endStep(WorkflowStep::State state, const QString &detail)
{
    if (m_finished || m_current < 0 || m_current >= m_report.steps.size())
        return;
    WorkflowStep &step = m_report.steps[m_current];
    if (step.state != WorkflowStep::State::Running)
        return; // a late answer for a step that already ended
    step.state = state;
    step.detail = detail;
    step.elapsedMs = m_stepTimer.elapsed();
}

void Workflow::completeStep(const QString &detail)
{
    if (m_finished)
        return;
    endStep(WorkflowStep::State::Done, detail);
    QTimer::singleShot(0, this, &Workflow::runNextStep);
}

void Workflow::skipStep(const QString &reason)
{
    if (m_finished)
        return;
    endStep(WorkflowStep::State::Skipped, reason);
    QTimer::singleShot(0, this, &Workflow::runNextStep);
}

void Workflow::failStep(const Error &error, const QString &nextAction)
{
    if (m_finished)
        return;
    Error reported = error;
    if (m_cancelled && reported.code != ErrorCode::Cancelled)
        reported = Error{ErrorCode::Cancelled, "cancelled: " + error.describe(), {}};
    endStep(WorkflowStep::State::Failed, QString::fromStdString(reported.describe()));
    m_report.error = reported;
    m_report.nextAction = nextAction;
    finish();
}

bool Workflow::checkOrFail(const Status &outcome, const QString &nodeId, const QString &nextAction)
{
    if (outcome)
        return true;
    failStep(nodeId.isEmpty() ? outcome.error() : onNode(nodeId, outcome.error()), nextAction);
    return false;
}

void Workflow::reportProgress(WorkflowProgress progress)
{
    if (m_finished)
        return;
    progress.step = currentStepId();
    Q_EMIT progressed(progress);
}

void Workflow::finish()
{
    m_finished = true;
    m_report.saveCluster = !m_report.dryRun
                           && (m_keepClusterChanges == ClusterChanges::KeptWhateverTheOutcome
                               || (m_keepClusterChanges == ClusterChanges::KeptOnSuccess && m_report.succeeded));
    cleanUp();
    Q_EMIT finished(m_report);
}

Error onNode(const QString &nodeId, const Error &error)
{
    const std::string prefix = nodeId.toStdString() + ": ";
    std::string message = error.describe();
    if (message.rfind(prefix, 0) != 0)
        message = prefix + message;
    return Error{error.code, message, {}};
}

} // namespace mm::cluster
