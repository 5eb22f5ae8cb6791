#pragma once

#include "cluster/workflows/workflow.h"

#include <QElapsedTimer>
#include <QMap>
#include <QObject>
#include <QTextStream>

namespace mm::ctl {

// Shows a running workflow: on a terminal, one line per step and a live progress bar with an
// ETA per node; with --json, one JSON object per line (step, progress, then the report).
class WorkflowPrinter : public QObject
{
    Q_OBJECT

public:
    WorkflowPrinter(cluster::Workflow *workflow, bool json, QTextStream &out, QTextStream &err);

    // Prints the final report and returns the exit code (docs/architecture.md, "Exit codes").
    int printReport(const cluster::WorkflowReport &report);

    // The bar, e.g. "node1 [#######.....] 58% 1,200/2,048 ETA 0:42", exposed for tests.
    static QString progressLine(const cluster::WorkflowProgress &progress, int width);

private:
    void onStepStarted(int index, const QString &id, const QString &title);
    void onProgress(const cluster::WorkflowProgress &progress);
    void clearLiveLine();
    void printJson(const QJsonObject &object);

    cluster::Workflow *m_workflow;
    bool m_json;
    bool m_terminal;
    QTextStream &m_out;
    QTextStream &m_err;
    QMap<QString, cluster::WorkflowProgress> m_progressByNode;
    QElapsedTimer m_lastDraw;
    bool m_liveLineShown = false;
};

} // namespace mm::ctl
