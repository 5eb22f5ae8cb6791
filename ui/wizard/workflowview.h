#pragma once

#include "cluster/workflows/workflow.h"

#include <QPointer>
#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;

namespace mm::ui {

// A workflow as the admin follows it: its steps with their state and detail, a progress bar
// for the running step, and on failure the error, what to do next and a Retry button.
// setFailed/setSucceeded show a page's own verdict where no workflow runs (a refused input,
// a cluster paired before).
class WorkflowView : public QWidget
{
    Q_OBJECT

public:
    explicit WorkflowView(QWidget *parent = nullptr);

    // Shows this workflow's steps and follows its signals until it finishes.
    void follow(cluster::Workflow *workflow);
    void showReport(const cluster::WorkflowReport &report);
    void clear();

    void setFailed(const QString &error, const QString &nextAction);
    void setSucceeded(const QString &message);
    void setRetryText(const QString &text);

    QString errorText() const;
    QPushButton *retryButton() const { return m_retry; }

Q_SIGNALS:
    void retryRequested();

private:
    void showSteps(const QList<cluster::WorkflowStep> &steps);
    void showProgress(const cluster::WorkflowProgress &progress);

    QLabel *m_steps;
    QProgressBar *m_progress;
    QLabel *m_message;
    QLabel *m_error;
    QPushButton *m_retry;
    QPointer<cluster::Workflow> m_workflow;
};

// "✔", "✖"... and a readable word for a step state, shared by the pages.
QString stepStateMark(cluster::WorkflowStep::State state);
// Red for bad news (errors, refusals) and green for good, chosen against the palette's Base so
// they stay readable on light and dark themes (the palette has no role for either).
QColor errorColour(const QPalette &palette);
QColor okColour(const QPalette &palette);
QString errorColourName(const QWidget *widget);
QString okColourName(const QWidget *widget);

} // namespace mm::ui
