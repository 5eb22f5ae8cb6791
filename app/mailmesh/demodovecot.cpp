#include "demodovecot.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

#include <csignal>
#include <unistd.h>

namespace mm::app {

namespace {

const QString kLine = QStringLiteral("2.3"); // Debian 12's line, the one the demo's machine has

bool holdsDovecot(const QString &prefix)
{
    return QFileInfo(prefix + QStringLiteral("/sbin/dovecot")).isExecutable();
}

} // namespace

DemoDovecot::DemoDovecot(QObject *parent)
    : QObject(parent)
{
    m_ticker.setInterval(30'000);
    connect(&m_ticker, &QTimer::timeout, this, &DemoDovecot::showBuildProgress);
    // A group of its own, so that quitting stops make and the compilers too, not only the script.
    m_process.setChildProcessModifier([] { ::setpgid(0, 0); });
}

DemoDovecot::~DemoDovecot()
{
    m_process.disconnect(this); // its end is no news to anyone now
    if (m_process.state() == QProcess::NotRunning || m_process.processId() <= 0)
        return;
    ::kill(-pid_t(m_process.processId()), SIGTERM);
    // Reaping a process just told to stop, bounded (docs/conventions.md, "Asynchronous code").
    m_process.waitForFinished(1000);
}

QString DemoDovecot::locateBuildScript()
{
    const QString name = QStringLiteral("build-prefix.sh");
    const QDir programDir(QCoreApplication::applicationDirPath());
    for (const QString &candidate : {QStringLiteral(MAILMESH_SOURCE_DIR "/installers/dovecot/") + name,
                                     programDir.filePath(QStringLiteral("../share/mailmesh/dovecot/") + name)}) {
        const QFileInfo info(candidate);
        if (info.isFile() && info.isExecutable())
            return info.canonicalFilePath();
    }
    return {};
}

void DemoDovecot::find()
{
    const QString given = qEnvironmentVariable("MAILMESH_DOVECOT_PREFIX");
    if (qEnvironmentVariableIsSet("MAILMESH_DOVECOT_PREFIX") && given.isEmpty()) {
        Q_EMIT unavailable(tr("MAILMESH_DOVECOT_PREFIX is set empty"));
        return;
    }
    if (!given.isEmpty()) {
        if (holdsDovecot(given))
            Q_EMIT found(given);
        else
            Q_EMIT unavailable(tr("MAILMESH_DOVECOT_PREFIX names %1, which holds no sbin/dovecot").arg(given));
        return;
    }
    const QString script = locateBuildScript();
    if (script.isEmpty()) {
        Q_EMIT unavailable(tr("installers/dovecot/build-prefix.sh was not found beside this build"));
        return;
    }
    askForCachedBuild(script);
}

void DemoDovecot::askForCachedBuild(const QString &script)
{
    Q_EMIT progress(tr("Looking for the cur/-only Dovecot build…"));
    auto finished = std::make_shared<QMetaObject::Connection>();
    *finished = connect(&m_process, &QProcess::finished, this, [this, script, finished](int exitCode, QProcess::ExitStatus status) {
        disconnect(*finished);
        const QString prefix = QString::fromLocal8Bit(m_process.readAllStandardOutput()).trimmed();
        if (status == QProcess::NormalExit && exitCode == 0 && holdsDovecot(prefix))
            Q_EMIT found(prefix);
        else
            build(script);
    });
    m_process.start(script, {QStringLiteral("--if-built"), kLine});
}

void DemoDovecot::build(const QString &script)
{
    m_buildTime.start();
    m_lastBuildLine.clear();
    connect(&m_process, &QProcess::readyReadStandardError, this, [this] {
        const QStringList lines = QString::fromLocal8Bit(m_process.readAllStandardError()).split(u'\n', Qt::SkipEmptyParts);
        if (lines.isEmpty())
            return;
        m_lastBuildLine = lines.constLast().trimmed();
        showBuildProgress();
    });
    connect(&m_process, &QProcess::finished, this, &DemoDovecot::finishBuild);
    m_ticker.start();
    showBuildProgress();
    // Niced by the script itself; the app stays responsive meanwhile.
    m_process.start(script, {kLine});
}

void DemoDovecot::showBuildProgress()
{
    const int minutes = int(m_buildTime.elapsed() / 60'000);
    QString message = tr("Building the cur/-only Dovecot once, cached for the next demo (about 20 minutes on two "
                         "cores; %n minute(s) so far)",
                         nullptr, minutes);
    if (!m_lastBuildLine.isEmpty())
        message += QStringLiteral(": ") + m_lastBuildLine;
    Q_EMIT progress(message);
}

void DemoDovecot::finishBuild(int exitCode, QProcess::ExitStatus status)
{
    m_ticker.stop();
    const QString prefix = QString::fromLocal8Bit(m_process.readAllStandardOutput()).trimmed().section(u'\n', -1);
    if (status == QProcess::NormalExit && exitCode == 0 && holdsDovecot(prefix)) {
        Q_EMIT found(prefix);
        return;
    }
    Q_EMIT unavailable(tr("building it failed (%1)").arg(m_lastBuildLine.isEmpty() ? tr("exit code %1").arg(exitCode)
                                                                                   : m_lastBuildLine));
}

} // namespace mm::app
