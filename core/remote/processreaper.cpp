#include "remote/processreaper.h"

#include <QCoreApplication>
#include <QPointer>
#include <QProcess>
#include <QThread>
#include <QTimer>

namespace mm::remote {

namespace {

// A child of the application. Processes it still holds when the application goes away are
// killed and reaped then, so none outlives the app and QProcess has nothing to warn about.
class Reaper : public QObject
{
public:
    using QObject::QObject;
    ~Reaper() override
    {
        for (QProcess *process : findChildren<QProcess *>(Qt::FindDirectChildrenOnly)) {
            process->kill();
            process->waitForFinished(1000);
        }
    }
};

QObject *reaper()
{
    static QPointer<QObject> instance;
    if (!instance) {
        instance = new Reaper(QCoreApplication::instance());
        instance->setObjectName(QStringLiteral("mailmesh-process-reaper"));
    }
    return instance;
}

void terminateAndWait(QProcess *process, int killAfterMs)
{
    process->terminate();
    if (!process->waitForFinished(killAfterMs)) {
        process->kill();
        process->waitForFinished(1000);
    }
    delete process;
}

} // namespace

void terminateInBackground(QProcess *process, int killAfterMs)
{
    if (!process)
        return;
    process->disconnect();
    if (process->state() == QProcess::NotRunning) {
        delete process;
        return;
    }
    QCoreApplication *application = QCoreApplication::instance();
    if (!application || QThread::currentThread() != application->thread()
        || process->thread() != QThread::currentThread()) {
        terminateAndWait(process, killAfterMs);
        return;
    }
    process->setParent(reaper());
    QObject::connect(process, &QProcess::finished, process, &QObject::deleteLater);
    QTimer::singleShot(killAfterMs, process, [process] {
        if (process->state() != QProcess::NotRunning)
            process->kill();
    });
    process->terminate();
}

} // namespace mm::remote
