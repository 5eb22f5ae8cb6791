#pragma once

#include "common/result.h"
#include "sandbox/nodeinfo.h"
#include "sandbox/processtable.h"
#include "sandbox/sandboxoptions.h"
#include "sandbox/sandboxuser.h"

#include <QJsonObject>
#include <QList>
#include <QObject>
#include <QString>

#include <memory>
#include <vector>

class QTemporaryDir;

namespace mm::sandbox {

// Throw-away nodes on 127.0.0.1, each with a real sshd, syncthing and dovecot and a mail root:
// the integration tests' fixture and the demo cluster.
//
// Layout under dir():
//   sandbox.json                  description() plus the daemons' pids/pgids (for `sandbox down`)
//   .mailmesh-sandbox-run         the MAILMESH_SANDBOX_RUN tag, when one was set (end-of-run check)
//   client/ id_ed25519[.pub] ssh_config known_hosts     the admin side
//   nodeK/ssh/      sshd_config, host key, authorized_keys, sshd.log
//   nodeK/syncthing/ syncthing home (config.xml, keys, db), owned by the mail user
//   nodeK/syncthing.log
//   nodeK/watch-changes.log   mailmesh-agent watch-changes (when SandboxOptions::changeWatcher is set)
//   nodeK/dovecot/  dovecot.conf, conf.d/*.conf (included last: drop overrides here), users,
//                   run/ (base_dir), state/, dovecot.log, dovecot.stderr. dovecot.conf is
//                   written in the syntax of the prefix's line (`dovecot --version`: 2.3 or 2.4)
//   nodeK/mail/     the mail root: <domain>/<user>/Maildir, owned by the mail user
//
// Blocking API (start, restarts, helpers): call it from the thread that owns the sandbox and
// that lives as long as the daemons should, because the parent-death signal follows the thread
// that started them. Node arguments are indexes into nodes() (0 = node1).
class Sandbox : public QObject
{
    Q_OBJECT

public:
    struct CommandResult
    {
        int exitCode = -1;
        QByteArray standardOutput;
        QByteArray standardError;
    };

    explicit Sandbox(SandboxOptions options = {}, QObject *parent = nullptr);
    ~Sandbox() override; // tearDown(), except for a persistent sandbox

    // Creates and starts every node in parallel; returns when all answer (or the first error).
    Status start();
    // Stops every daemon (process groups, then a sweep by environment marker) and waits.
    void tearDown();

    bool isRunning() const { return m_running; }
    QString dir() const { return m_dir; }
    QString sshConfigFile() const;
    QString knownHostsFile() const;
    QString identityFile() const;
    const SandboxUser &user() const { return m_user; }
    QList<NodeInfo> nodes() const;
    NodeInfo node(int index) const;
    qint64 startupMilliseconds() const { return m_startupMs; }

    // The cluster as JSON: what `mailmeshctl sandbox up` prints.
    QJsonObject description() const;

    // Daemon control for tests (blocking until the daemon answers again).
    Status restartSshdWithNewHostKey(int index); // known_hosts keeps the old key: ssh refuses
    Status trustCurrentHostKeys();               // rewrites known_hosts from the current keys
    Status stopSyncthing(int index);
    Status startSyncthing(int index);
    Status stopDovecot(int index);
    // A prefix of another release gets dovecot.conf rewritten in its syntax.
    Status restartDovecot(int index, const QString &prefix = {});

    // Test helpers.
    // `ssh -F <config> nodeK -- command` (command is a shell line run by the login shell).
    Result<CommandResult> runOnNode(int index, const QString &command, int timeoutMs = 30000,
                                    const QByteArray &input = {}) const;
    QStringList sshArguments(int index) const; // -F config alias, for callers' own QProcess
    Result<QByteArray> imapLoginSelect(int index,
                                       const QString &mailbox = QStringLiteral("INBOX")) const;
    // Processes of this sandbox still alive (empty after tearDown()).
    QList<ProcessTable::Entry> leftovers() const;

    // `mailmeshctl sandbox down`: stops the daemons recorded in dir/sandbox.json and any
    // process carrying the sandbox's marker. Returns what could not be killed.
    static Result<QList<ProcessTable::Entry>> tearDownDirectory(const QString &dir);

private:
    struct Node;

    Status startOnce();
    Status checkAllRunning() const;
    void discardAttempt();
    Status prepareDirectory();
    Status prepareNodes();
    Status startDaemons();
    Status startChangeWatcherDaemon(Node &node);
    Status waitUntilReady(const QList<int> &indexes, bool ssh, bool syncthing, bool dovecot);
    Status startSshd(Node &node);
    Status startSyncthingDaemon(Node &node);
    Status startDovecotDaemon(Node &node);
    Status writeDovecotConfig(Node &node);
    Status writeClientFiles();
    Status writeStateFile() const;
    QString markerAssignments() const;
    Status checkIndex(int index) const;
    quint16 takePort();

    SandboxOptions m_options;
    SandboxUser m_user;
    std::unique_ptr<QTemporaryDir> m_temporaryDir;
    QString m_dir;
    bool m_dirIsTemporary = false;
    std::vector<std::unique_ptr<Node>> m_nodes;
    QSet<quint16> m_takenPorts;
    qint64 m_startupMs = 0;
    bool m_running = false;
};

} // namespace mm::sandbox
