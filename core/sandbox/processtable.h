#pragma once

#include <QByteArray>
#include <QList>
#include <QSet>
#include <QString>

namespace mm::sandbox {

// A look at /proc to find a sandbox's daemons without trusting any pid file alone: a process
// belongs to the sandbox in DIR when its environment carries MAILMESH_SANDBOX_DIR=DIR (every
// daemon, Dovecot's children and ssh sessions get it), its command line names DIR, or it sits
// in one of the recorded process groups.
class ProcessTable
{
public:
    static constexpr const char *kDirVariable = "MAILMESH_SANDBOX_DIR";
    // Optional tag (ctest sets it to the build dir) inherited by every daemon, so a check at
    // the end of a test run finds what any sandbox of that run left behind.
    static constexpr const char *kRunVariable = "MAILMESH_SANDBOX_RUN";

    struct Entry
    {
        qint64 pid = 0;
        qint64 pgid = 0;
        QByteArray commandLine; // arguments joined by spaces
    };

    // Processes of the sandbox in dir (not this process), for checks and reports: marked, in one
    // of the groups, or naming dir on their command line.
    static QList<Entry> sandboxProcesses(const QString &dir, const QSet<qint64> &pgids = {});
    // What teardown may kill: marked or in one of the groups. A command line naming dir is not
    // enough (an admin's `tail -f DIR/node1/dovecot/dovecot.log` is not ours to kill).
    static QList<Entry> killableProcesses(const QString &dir, const QSet<qint64> &pgids = {});
    // A sandbox started with MAILMESH_SANDBOX_RUN set leaves the tag in DIR/<kRunFile>, because
    // sshd and dovecot write their process title over their environment: for them, the paths
    // on the command line lead to the tag.
    static constexpr const char *kRunFile = ".mailmesh-sandbox-run";

    // Processes of the run tagged tag: by environment, or by a path on their command line
    // inside a sandbox dir whose kRunFile holds tag.
    static QList<Entry> runProcesses(const QString &tag);
    // Processes whose environment names any sandbox dir at all.
    static QList<Entry> anySandboxProcesses();

    static QString describe(const QList<Entry> &entries);
};

} // namespace mm::sandbox
