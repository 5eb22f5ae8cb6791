#pragma once

#include "common/result.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>

#include <functional>
#include <optional>

namespace mm::cluster {

// One step of a workflow as the report shows it.
struct WorkflowStep
{
    enum class State
    {
        Pending,
        Running,
        Done,
        Skipped,
        Failed
    };

    QString id;    // stable, for scripts: "preflight", "convert"...
    QString title; // for people
    State state = State::Pending;
    QString detail; // what the step found or did, or why it was skipped or failed
    qint64 elapsedMs = 0;

    static QString stateName(State state);
};

// What a running step reports: done/total in the step's own unit, per node when it runs on
// several nodes at once. etaSeconds -1: no estimate.
struct WorkflowProgress
{
    QString step;
    QString node; // empty: the step as a whole
    qint64 done = 0;
    qint64 total = 0;
    int etaSeconds = -1;
    QString message;
};

// The final report of a workflow: every step's outcome, the workflow's own findings in
// `details`, and, on failure, the error and what the admin should do next.
struct WorkflowReport
{
    QString workflow;
    bool dryRun = false;
    bool succeeded = false;
    bool skippedItems = false; // a changing step left items out (reported in details)
    // The cluster file must keep what the workflow changed in its cluster(): the caller saves it.
    // Set when the run ends, from keepClusterChanges(); never after a dry run.
    bool saveCluster = false;
    std::optional<Error> error;
    QString nextAction;
    QList<WorkflowStep> steps;
    QJsonObject details;

    // docs/architecture.md, "Exit codes": 0 ok, 1 items skipped, 2 bad input, 3 failed, 4 a node
    // unreachable.
    int exitCode() const;
    QJsonObject toJson() const;
};

// A workflow is a fixed list of steps run in order. Each step's body starts asynchronous work
// and ends the step with completeStep(), skipStep() or failStep(); the first failure ends the
// workflow. Steps are written to be idempotent, so running a workflow again after a failure
// continues where it stopped.
class Workflow : public QObject
{
    Q_OBJECT

public:
    ~Workflow() override;

    void start();
    // Asks the running step to stop; the workflow then ends with `cancelled`.
    void cancel();
    bool isFinished() const { return m_finished; }
    bool isCancelled() const { return m_cancelled; }
    const WorkflowReport &report() const { return m_report; }

Q_SIGNALS:
    void stepStarted(int index, const QString &id, const QString &title);
    void progressed(const mm::cluster::WorkflowProgress &progress);
    void finished(const mm::cluster::WorkflowReport &report);

protected:
    Workflow(QString name, bool dryRun, QObject *parent);

    // When the cluster file keeps what the workflow changed in its cluster: never (the default),
    // after a successful run only, or whatever the outcome (facts learnt on the way).
    enum class ClusterChanges
    {
        Dropped,
        KeptOnSuccess,
        KeptWhateverTheOutcome
    };
    void keepClusterChanges(ClusterChanges when) { m_keepClusterChanges = when; }

    using StepBody = std::function<void()>;
    void addStep(const QString &id, const QString &title, StepBody body);

    void completeStep(const QString &detail = {});
    void skipStep(const QString &reason);
    // Ends the workflow. nextAction tells the admin how to go on ("run migrate again...").
    void failStep(const Error &error, const QString &nextAction);
    void reportProgress(WorkflowProgress progress);
    // A failure result of `outcome` ends the step; returns whether the caller may go on.
    bool checkOrFail(const Status &outcome, const QString &nodeId, const QString &nextAction);

    QString currentStepId() const;
    WorkflowReport m_report;

    // Cancel what runs now (agent calls, waits); the step then fails with Cancelled.
    virtual void cancelRunningWork() {}
    // Called once when the workflow ends, whatever the outcome: close connections here.
    virtual void cleanUp() {}

private:
    void runNextStep();
    void endStep(WorkflowStep::State state, const QString &detail);
    void finish();

    QList<StepBody> m_bodies;
    int m_current = -1;
    QElapsedTimer m_stepTimer;
    bool m_started = false;
    bool m_finished = false;
    bool m_cancelled = false;
    ClusterChanges m_keepClusterChanges = ClusterChanges::Dropped;
};

// "node2: message", the way every workflow names the node an error came from.
Error onNode(const QString &nodeId, const Error &error);

} // namespace mm::cluster

Q_DECLARE_METATYPE(mm::cluster::WorkflowProgress)
Q_DECLARE_METATYPE(mm::cluster::WorkflowReport)
