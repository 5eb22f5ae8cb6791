#include "workflowprinter.h"

#include <QJsonDocument>
#include <QLocale>

#include <cstdio>
#include <unistd.h>

namespace mm::ctl {

namespace {

QString duration(int seconds)
{
    if (seconds < 0)
        return QStringLiteral("--:--");
    if (seconds >= 3600)
        return QStringLiteral("%1:%2:%3")
            .arg(seconds / 3600)
            .arg(seconds / 60 % 60, 2, 10, QLatin1Char('0'))
            .arg(seconds % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(seconds / 60).arg(seconds % 60, 2, 10, QLatin1Char('0'));
}

QString stateMark(cluster::WorkflowStep::State state)
{
    switch (state) {
    case cluster::WorkflowStep::State::Done:
        return QStringLiteral("ok  ");
    case cluster::WorkflowStep::State::Skipped:
        return QStringLiteral("skip");
    case cluster::WorkflowStep::State::Failed:
        return QStringLiteral("FAIL");
    case cluster::WorkflowStep::State::Running:
    case cluster::WorkflowStep::State::Pending:
        break;
    }
    return QStringLiteral("    ");
}

} // namespace

WorkflowPrinter::WorkflowPrinter(cluster::Workflow *workflow, bool json, QTextStream &out, QTextStream &err)
    : QObject(workflow)
    , m_workflow(workflow)
    , m_json(json)
    , m_terminal(::isatty(STDERR_FILENO) == 1)
    , m_out(out)
    , m_err(err)
{
    connect(workflow, &cluster::Workflow::stepStarted, this, &WorkflowPrinter::onStepStarted);
    connect(workflow, &cluster::Workflow::progressed, this, &WorkflowPrinter::onProgress);
}

QString WorkflowPrinter::progressLine(const cluster::WorkflowProgress &progress, int width)
{
    const QLocale locale(QLocale::English);
    QString line = progress.node.isEmpty() ? QString() : progress.node + u' ';
    if (progress.total > 0) {
        const double fraction = std::clamp(double(progress.done) / double(progress.total), 0.0, 1.0);
        const int filled = int(fraction * width + 0.5);
        line += u'[' + QString(filled, u'#') + QString(width - filled, u'.') + u']';
        line += QStringLiteral(" %1% %2/%3 ETA %4")
                    .arg(int(fraction * 100))
                    .arg(locale.toString(progress.done), locale.toString(progress.total), duration(progress.etaSeconds));
    } else if (progress.done > 0) {
        line += locale.toString(progress.done);
    }
    if (!progress.message.isEmpty())
        line += (line.isEmpty() ? QString() : QStringLiteral("  ")) + progress.message;
    return line;
}

void WorkflowPrinter::printJson(const QJsonObject &object)
{
    m_out << QJsonDocument(object).toJson(QJsonDocument::Compact) << '\n';
    m_out.flush();
}

void WorkflowPrinter::clearLiveLine()
{
    if (m_liveLineShown) {
        m_err << "\r\033[K";
        m_liveLineShown = false;
    }
}

void WorkflowPrinter::onStepStarted(int index, const QString &id, const QString &title)
{
    m_progressByNode.clear();
    if (m_json) {
        printJson({{QStringLiteral("type"), QStringLiteral("step")},
                   {QStringLiteral("index"), index},
                   {QStringLiteral("id"), id},
                   {QStringLiteral("title"), title}});
        return;
    }
    clearLiveLine();
    m_err << QStringLiteral("[%1/%2] %3...\n").arg(index + 1).arg(m_workflow->report().steps.size()).arg(title);
    m_err.flush();
}

void WorkflowPrinter::onProgress(const cluster::WorkflowProgress &progress)
{
    if (m_json) {
        QJsonObject object{{QStringLiteral("type"), QStringLiteral("progress")},
                           {QStringLiteral("step"), progress.step},
                           {QStringLiteral("done"), progress.done},
                           {QStringLiteral("total"), progress.total}};
        if (!progress.node.isEmpty())
            object.insert(QStringLiteral("node"), progress.node);
        object.insert(QStringLiteral("etaSeconds"),
                      progress.etaSeconds < 0 ? QJsonValue(QJsonValue::Null) : QJsonValue(progress.etaSeconds));
        if (!progress.message.isEmpty())
            object.insert(QStringLiteral("message"), progress.message);
        printJson(object);
        return;
    }
    m_progressByNode.insert(progress.node, progress);
    if (!m_terminal || (m_lastDraw.isValid() && m_lastDraw.elapsed() < 100))
        return;
    m_lastDraw.start();
    QStringList parts;
    for (const cluster::WorkflowProgress &each : std::as_const(m_progressByNode))
        parts << progressLine(each, m_progressByNode.size() > 1 ? 10 : 30);
    m_err << "\r\033[K  " << parts.join(QStringLiteral("  |  "));
    m_err.flush();
    m_liveLineShown = true;
}

int WorkflowPrinter::printReport(const cluster::WorkflowReport &report)
{
    if (m_json) {
        QJsonObject object = report.toJson();
        object.insert(QStringLiteral("type"), QStringLiteral("report"));
        printJson(object);
        return report.exitCode();
    }
    clearLiveLine();
    for (const cluster::WorkflowStep &step : report.steps) {
        if (step.state == cluster::WorkflowStep::State::Pending)
            continue;
        m_out << stateMark(step.state) << ' ' << step.title;
        if (!step.detail.isEmpty())
            m_out << ": " << step.detail;
        m_out << '\n';
    }
    if (report.error) {
        m_out << "\n" << report.workflow << " failed: " << QString::fromStdString(report.error->describe()) << '\n';
        if (!report.nextAction.isEmpty())
            m_out << "What to do next: " << report.nextAction << '\n';
    } else {
        m_out << '\n'
              << report.workflow << (report.dryRun ? QStringLiteral(" (dry run, nothing changed)") : QString())
              << (report.skippedItems ? QStringLiteral(": done, with skipped items (see above)") : QStringLiteral(": done"))
              << '\n';
    }
    m_out.flush();
    return report.exitCode();
}

} // namespace mm::ctl
