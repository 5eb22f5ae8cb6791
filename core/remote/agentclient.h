#pragma once

#include "common/result.h"
#include "protocol/framesplitter.h"

#include <QHash>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QStringList>

#include <memory>

namespace mm::remote {

class AgentCall;
class SshCommand;
class SshSession;

// mailmesh-agent on one node, over an SshSession: deploys the binary by content hash, starts
// `serve`, performs the handshake, then carries asynchronous calls (JSON lines, protocol.md).
//
// Deploy: `uname -m` must be an architecture we ship; the binary goes, as the user it will run
// as, to <that user's cache>/mailmesh/agent-<sha256>: uploaded to a temporary name, its hash
// checked on the node, renamed into place, and reused when already there. A cache inside the
// mail root or the Syncthing folder (a mail user whose home is the mail root) would be
// replicated: the agent then goes to /var/tmp/mailmesh-agent-<uid>, a directory the user must
// own. A version mismatch in
// the agent's hello redeploys once.
class AgentClient : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        QString agentBinary;                                 // the local mailmesh-agent to deploy
        QStringList architectures{QStringLiteral("x86_64")}; // what agentBinary runs on
        QString runAs;                                       // the mail user; empty: login user
        QStringList forbiddenRoots;                          // mail root, Syncthing folder...
        QString expectedVersion;                             // empty: this build's version
    };

    enum class State
    {
        Idle,
        Deploying,
        Starting,
        Ready
    };
    Q_ENUM(State)

    AgentClient(SshSession *session, Options options, QObject *parent = nullptr);
    ~AgentClient() override;

    // Deploys when needed, starts serve, handshakes: ends in ready() or failed().
    void start();
    // Closes the agent's stdin: it cancels what runs and exits. Pending calls fail (cancelled).
    void stop();
    State state() const { return m_state; }

    // Valid once ready.
    const QJsonObject &hello() const { return m_hello; }
    const QString &remotePath() const { return m_remotePath; }
    // The sha256 of the deployed binary (lowercase hex), also the tail of remotePath(): what a
    // copy of it elsewhere on the node must hash to.
    const QString &binaryHash() const { return m_hash; }
    const QString &architecture() const { return m_architecture; }
    // Whether the last start() uploaded the binary (false: it was already there).
    bool uploaded() const { return m_uploaded; }

    // A request; fails at once (deferred) when not ready.
    AgentCall *call(const QString &command, const QJsonObject &params = {});
    // A ping frame, answered by the agent's reading thread: the cheapest round trip.
    AgentCall *ping();

    // Local sha256 of a file, lowercase hex (exposed for tests).
    static Result<QString> sha256OfFile(const QString &path);
    // Whether path lies inside root (both already resolved).
    static bool isInside(const QString &path, const QString &root);
    // The POSIX sh scripts run on the node (as `sh -c SCRIPT sh ARGS...`), exposed for tests:
    // locate (ROOTS...) prints the resolved cache dir, each resolved root, then the fallback dir;
    // check (DIR HASH) prints present/absent; upload (DIR HASH, binary on stdin) prints
    // uploaded, exit 3 on a hash mismatch, 4 when DIR is not the user's own.
    static QString locateScript();
    static QString checkScript();
    static QString uploadScript();

Q_SIGNALS:
    void stateChanged(mm::remote::AgentClient::State state);
    void ready();
    void failed(const mm::Error &error);
    // The serve process ended while ready (connection dropped, agent killed): every pending
    // call finished with an error. start() again after the session reconnected.
    void disconnected(const mm::Error &reason);

private:
    friend class AgentCall;
    void setState(State state);
    void fail(Error error);
    void probeArchitecture();
    void locateCache();
    void checkExisting(const QString &directory);
    void upload(const QString &directory);
    void startServe();
    void onServeOutput();
    void onServeFinished();
    void handleFrame(std::string_view frame);
    void handleHello(const QJsonObject &hello);
    void sendFrame(const QJsonObject &frame);
    void sendCancel(const QString &id);
    void failPending(const Error &error);
    AgentCall *failedCall(const QString &command, const Error &error);
    QString expectedVersion() const;

    QPointer<SshSession> m_session;
    Options m_options;
    State m_state = State::Idle;
    QString m_hash;
    quint64 m_startAttempt = 0; // tells a background hash which start() it belongs to
    QString m_architecture;
    QString m_remotePath;
    bool m_uploaded = false;
    bool m_redeployed = false;
    SshCommand *m_serve = nullptr;
    std::unique_ptr<protocol::FrameSplitter> m_splitter;
    bool m_protocolBroken = false;
    bool m_stopping = false;
    QJsonObject m_hello;
    QHash<QString, QPointer<AgentCall>> m_pending;
    quint64 m_nextId = 1;
};

} // namespace mm::remote
