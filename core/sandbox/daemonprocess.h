#pragma once

#include "common/result.h"

#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

#include <memory>
#include <sys/types.h>

class QProcess;

namespace mm::sandbox {

// One daemon of a sandbox node: its own process group, its output appended to a log file and,
// unless it must outlive us, a parent-death signal so that a crashed test leaves nothing.
class DaemonProcess
{
public:
    struct Spec
    {
        QString name;    // "node1/sshd", for messages
        QString program; // absolute path
        QStringList arguments;
        QProcessEnvironment environment;
        QString logFile;
        QString workingDirectory;
        bool switchUser = false; // run as uid/gid below (we are root)
        uid_t uid = 0;
        gid_t gid = 0;
        // Persistent daemons (`mailmeshctl sandbox up`) get their own session and no
        // parent-death signal, and are not killed by our destructor: they live until
        // `sandbox down` kills their group.
        bool persistent = false;
    };

    explicit DaemonProcess(Spec spec);
    ~DaemonProcess(); // stops the daemon unless it is persistent
    DaemonProcess(const DaemonProcess &) = delete;
    DaemonProcess &operator=(const DaemonProcess &) = delete;

    Status start();
    // SIGTERM to the whole group, SIGKILL after graceMs, then waits until the group is empty.
    void stop(int graceMs = 3000);
    // True while the process we started has not exited (its group may still hold others).
    bool isRunning() const;

    qint64 pid() const { return m_pid; }
    qint64 pgid() const { return m_pid; } // the child makes itself its group's leader
    const Spec &spec() const { return m_spec; }

    // Shared with `sandbox down`: SIGTERM the group, SIGKILL after graceMs, wait until it is gone.
    static void killGroup(qint64 pgid, int graceMs);

private:
    Spec m_spec;
    std::unique_ptr<QProcess> m_process;
    qint64 m_pid = 0;
};

} // namespace mm::sandbox
