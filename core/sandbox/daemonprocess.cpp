#include "sandbox/daemonprocess.h"

#include <QDeadlineTimer>
#include <QProcess>
#include <QThread>

#include <cerrno>
#include <csignal>
#include <grp.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace mm::sandbox {

namespace {

bool groupExists(qint64 pgid)
{
    return pgid > 0 && (::kill(-static_cast<pid_t>(pgid), 0) == 0 || errno == EPERM);
}

} // namespace

DaemonProcess::DaemonProcess(Spec spec)
    : m_spec(std::move(spec))
{
}

DaemonProcess::~DaemonProcess()
{
    if (!m_spec.persistent) {
        stop(1000);
        return;
    }
    // A persistent daemon must survive us, and ~QProcess would kill it: let the QProcess go
    // without destroying it (its output goes to a file, no pipe ties it to us). The kernel
    // reparents the daemon when we exit.
    if (m_process && m_process->state() != QProcess::NotRunning)
        static_cast<void>(m_process.release());
}

Status DaemonProcess::start()
{
    m_process = std::make_unique<QProcess>();
    m_process->setProgram(m_spec.program);
    m_process->setArguments(m_spec.arguments);
    m_process->setProcessEnvironment(m_spec.environment);
    if (!m_spec.workingDirectory.isEmpty())
        m_process->setWorkingDirectory(m_spec.workingDirectory);
    m_process->setStandardInputFile(QProcess::nullDevice());
    m_process->setStandardOutputFile(m_spec.logFile, QIODevice::Append);
    m_process->setStandardErrorFile(m_spec.logFile, QIODevice::Append);

    // Everything the child needs is captured by value now: after fork only raw system calls.
    const bool switchUser = m_spec.switchUser;
    const uid_t uid = m_spec.uid;
    const gid_t gid = m_spec.gid;
    const bool persistent = m_spec.persistent;
    const pid_t parent = ::getpid();
    m_process->setChildProcessModifier([=] {
        // A persistent daemon leaves our session, so that closing the terminal that ran
        // `sandbox up` does not reach it; either way it leads its own process group.
        if (persistent)
            ::setsid();
        else
            ::setpgid(0, 0);
        if (switchUser) {
            if (::setgroups(1, &gid) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)
                ::_exit(126);
        }
        if (!persistent) {
            // After the uid change: changing credentials clears the parent-death signal.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent) // the parent died before prctl took effect
                ::_exit(1);
        }
    });

    // Not startDetached(): Qt 6.4 does not run the child modifier there (no user switch).
    m_process->start();
    if (!m_process->waitForStarted(10000))
        return fail(ErrorCode::IoError,
                    "cannot start " + m_spec.name.toStdString() + ": " +
                        m_process->errorString().toStdString(),
                    m_spec.program.toStdString());
    m_pid = m_process->processId();
    return {};
}

bool DaemonProcess::isRunning() const
{
    if (m_pid <= 0)
        return false;
    if (!m_process)
        return ::kill(static_cast<pid_t>(m_pid), 0) == 0;
    // waitForFinished(0) lets QProcess notice an exit without an event loop.
    m_process->waitForFinished(0);
    return m_process->state() != QProcess::NotRunning;
}

void DaemonProcess::stop(int graceMs)
{
    if (m_pid <= 0)
        return;
    if (m_process && m_process->state() != QProcess::NotRunning) {
        // Our own child stays a zombie (still in its group) until QProcess reaps it.
        ::kill(-static_cast<pid_t>(m_pid), SIGTERM);
        if (!m_process->waitForFinished(graceMs)) {
            ::kill(-static_cast<pid_t>(m_pid), SIGKILL);
            m_process->waitForFinished(5000);
        }
    }
    killGroup(m_pid, graceMs); // what is left of the group: e.g. syncthing's monitored child
    m_process.reset();
    m_pid = 0;
}

void DaemonProcess::killGroup(qint64 pgid, int graceMs)
{
    if (!groupExists(pgid))
        return;
    ::kill(-static_cast<pid_t>(pgid), SIGTERM);
    QDeadlineTimer deadline(graceMs);
    while (groupExists(pgid) && !deadline.hasExpired())
        QThread::msleep(20);
    if (groupExists(pgid)) {
        ::kill(-static_cast<pid_t>(pgid), SIGKILL);
        QDeadlineTimer hard(5000);
        while (groupExists(pgid) && !hard.hasExpired())
            QThread::msleep(20);
    }
}

} // namespace mm::sandbox
