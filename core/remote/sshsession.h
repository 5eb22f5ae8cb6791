#pragma once

#include "common/result.h"
#include "remote/hostkey.h"
#include "remote/sshaddress.h"
#include "remote/sshcommand.h"
#include "remote/sshoptions.h"

#include <QObject>
#include <QPointer>
#include <QProcess>
#include <QTimer>

#include <functional>
#include <memory>
#include <optional>

class QTemporaryDir;

namespace mm::remote {

// One node reached through the system OpenSSH client: a persistent master connection
// (ControlMaster, socket in a private 0700 directory) that every command, control request and
// tunnel is multiplexed over. Host keys are checked strictly against Mailmesh's own known_hosts
// and the admin's; the key the server really offered is captured through KnownHostsCommand, so
// an unknown key can be shown as a fingerprint and accepted, a changed key is refused naming both
// fingerprints, and after every connect the key ssh used is compared with the pinned one.
//
// What Mailmesh forces on every ssh it runs (no agent or X11 forwarding, no forwardings from any
// config, no LocalCommand, its own known_hosts, strict checking, batch mode) is written into a
// config file in the private directory that is passed with -F and includes the admin's own
// configuration after it: ssh keeps the first value it reads, and ssh passes -F on to the ssh it
// starts for each ProxyJump hop, so the hops get the same policy.
class SshSession : public QObject
{
    Q_OBJECT

public:
    enum class State
    {
        Disconnected,
        Connecting,
        Connected
    };
    Q_ENUM(State)

    SshSession(SshAddress address, SshOptions options, QObject *parent = nullptr);
    ~SshSession() override;

    const SshAddress &address() const { return m_address; }
    const SshOptions &options() const { return m_options; }
    State state() const { return m_state; }
    // The remote login user and whether it is root, learnt right after connecting.
    const QString &loginUser() const { return m_loginUser; }

    // Asynchronous: ends in connected() or connectFailed().
    void connectToHost();
    // Stops the master (and with it every command and tunnel). Emits no disconnected().
    void disconnectFromHost();

    // The key offered on the last connect attempt that failed on the host key.
    const std::optional<HostKey> &offeredHostKey() const { return m_offeredHostKey; }
    // The key ssh verified on the current connection (valid once connected()).
    const std::optional<HostKey> &connectedHostKey() const { return m_connectedHostKey; }
    // Appends the key to Mailmesh's known_hosts (the admin said yes to its fingerprint).
    Status acceptHostKey(const HostKey &key);
    // Re-keying (the node was reinstalled and the admin confirmed its new key): replaces this
    // host's pinned key, which must be previousFingerprint, by `key`. Refused when the file
    // pins another key for the host. Returns the file's content before, for restoreKnownHosts().
    Result<QByteArray> replaceHostKey(const HostKey &key, const QString &previousFingerprint);
    Status restoreKnownHosts(const QByteArray &content);

    // Runs argv (quoted for the remote shell, never glued) over the master.
    SshCommand *run(const QStringList &argv, SshCommand::Options options = {});
    // Same, streaming stdout and keeping stdin open (the agent's serve loop).
    SshCommand *open(const QStringList &argv, SshCommand::Options options = {});

    // A local forward 127.0.0.1:<free port> -> remoteHost:remotePort on the node, added to the
    // running master with -O forward. done(localPort) is called in context's thread.
    void addForward(const QString &remoteHost, quint16 remotePort, QObject *context,
                    std::function<void(Result<quint16>)> done);
    void removeForward(quint16 localPort);
    // A local forward from a Unix socket in the private control directory (0700; the socket is
    // 0600) -> remoteHost:remotePort on the node: unlike a loopback port, no other local user
    // can connect to it. done(socketPath) is called in context's thread.
    void addSocketForward(const QString &remoteHost, quint16 remotePort, QObject *context,
                          std::function<void(Result<QString>)> done);
    void removeSocketForward(const QString &socketPath);

    // For diagnostics and tests: the master ssh process id, 0 when none.
    qint64 masterProcessId() const;
    QString controlDirectory() const;
    // The ssh arguments shared by the master and its clients (exposed for tests).
    QStringList commonArguments() const;
    // The config file every ssh of this session reads first (-F): the forced policy, then an
    // Include of the admin's configuration (exposed for tests).
    QString sessionConfigText() const;
    QString destination() const { return m_address.toString(); }

Q_SIGNALS:
    void stateChanged(mm::remote::SshSession::State state);
    void connected();
    void connectFailed(const mm::Error &error);
    // The master went away while connected (network, sshd restart, killed).
    void disconnected(const mm::Error &reason);

private:
    struct Forward
    {
        quint16 localPort = 0; // a loopback port, or
        QString localSocket;   // a Unix socket in the control directory
        QString remoteHost;
        quint16 remotePort = 0;
    };

    void setState(State state);
    SshCommand *makeCommand(const QStringList &argv, SshCommand::Mode mode,
                            SshCommand::Options options);
    SshCommand *makeControlCommand(const QStringList &controlArguments);
    QProcessEnvironment environment() const;
    QStringList masterArguments() const;
    void onMasterOutput();
    void onMasterFinished();
    void onMasterReady();
    void pollControlSocket();
    void stopMaster();
    Status checkPinnedHostKey() const;
    Status writeSessionConfig() const;
    QString sessionConfigPath() const;
    QString controlSocketPath() const;
    void failConnect(Error error);
    Error diagnoseConnectFailure(const QString &standardError);
    std::optional<HostKey> readOfferedHostKey() const;
    QString capturePath() const;
    void requestForward(const QString &remoteHost, quint16 remotePort, int attempt,
                        QPointer<QObject> context, std::function<void(Result<quint16>)> done);
    // Asks the running master for one forward (-O forward); done(error text or empty).
    void sendForward(const Forward &forward, std::function<void(const Status &)> done);
    static QString forwardSpec(const Forward &forward);

    SshAddress m_address;
    SshOptions m_options;
    State m_state = State::Disconnected;
    std::unique_ptr<QTemporaryDir> m_controlDir;
    QProcess *m_master = nullptr;
    QByteArray m_masterStdout;
    QByteArray m_masterStderr;
    QTimer m_loginTimer;
    QTimer m_readyPoll;
    int m_socketForwards = 0;
    bool m_loginTimedOut = false;
    QString m_loginUser;
    std::optional<HostKey> m_offeredHostKey;
    std::optional<HostKey> m_connectedHostKey;
    std::vector<Forward> m_forwards;
};

} // namespace mm::remote
