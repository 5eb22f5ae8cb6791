#include "remote/agentclient.h"

#include "protocol/version.h"
#include "remote/agentcall.h"
#include "remote/sshcommand.h"
#include "remote/sshsession.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QMutex>
#include <QJsonDocument>
#include <QFuture>
#include <QPromise>
#include <QThreadPool>
#include <QTimer>

#include <algorithm>
#include <memory>
#include <optional>

namespace mm::remote {

namespace {

// Run with `sh -c SCRIPT sh ARGS...` as the agent's user: values only ever travel as arguments.

// Where the cache is, resolved like the kernel will (realpath -m: symlinks of existing parts),
// the forbidden roots resolved the same way, and last the fallback for a user whose home is the
// mail root (virtual users' vmail, as most guides set it up): a directory of the user's own
// under /var/tmp. Creates nothing.
const char kLocateScript[] =
    "c=\"${XDG_CACHE_HOME:-$HOME/.cache}/mailmesh\"; realpath -m -- \"$c\" || exit 1; "
    "for r do realpath -m -- \"$r\" || exit 1; done; "
    "realpath -m -- \"/var/tmp/mailmesh-agent-$(id -u)\"";

// Only a directory the user owns (and not a link) holds the agent: in /var/tmp another user
// could have made it first.
const char kCheckScript[] =
    "t=\"$1/agent-$2\"; "
    "if [ -O \"$1\" ] && [ ! -L \"$1\" ] && [ -x \"$t\" ] && "
    "[ \"$(sha256sum < \"$t\" | cut -d' ' -f1)\" = \"$2\" ]; "
    "then echo present; else echo absent; fi";

// Temporary name in the same directory, hash checked on the node, then an atomic rename.
const char kUploadScript[] =
    "set -e; umask 077; mkdir -p -- \"$1\"; "
    "if [ ! -O \"$1\" ] || [ -L \"$1\" ]; then echo \"$1 is not the user's own directory\" >&2; exit 4; fi; "
    "tmp=$(mktemp \"$1/.agent-upload.XXXXXX\"); trap 'rm -f -- \"$tmp\"' EXIT; "
    "cat > \"$tmp\"; got=$(sha256sum < \"$tmp\" | cut -d' ' -f1); "
    "if [ \"$got\" != \"$2\" ]; then echo \"hash mismatch after upload: $got\" >&2; exit 3; fi; "
    "chmod 700 \"$tmp\"; mv -f -- \"$tmp\" \"$1/agent-$2\"; trap - EXIT; echo uploaded";

QString errorText(const Result<SshCommand::Output> &result)
{
    if (!result)
        return QString::fromStdString(result.error().message);
    return QString::fromUtf8(result->standardError.trimmed());
}

} // namespace

AgentClient::AgentClient(SshSession *session, Options options, QObject *parent)
    : QObject(parent)
    , m_session(session)
    , m_options(std::move(options))
{
}

AgentClient::~AgentClient()
{
    if (m_serve)
        m_serve->disconnect(this);
}

QString AgentClient::expectedVersion() const
{
    return m_options.expectedVersion.isEmpty() ? QString::fromUtf8(protocol::mailmeshVersion())
                                               : m_options.expectedVersion;
}

void AgentClient::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

void AgentClient::fail(Error error)
{
    if (m_serve) {
        SshCommand *serve = m_serve;
        m_serve = nullptr;
        serve->disconnect(this);
        serve->cancel();
        serve->deleteLater();
    }
    failPending(error);
    setState(State::Idle);
    Q_EMIT failed(error);
}

namespace {

// Every node's client needs the same binary's hash: hash it once per process, and again only
// when the file changed (a rebuild).
struct CachedHash
{
    qint64 size = -1;
    QDateTime modified;
    QString hash;
};

QMutex hashCacheMutex;
QHash<QString, CachedHash> hashCache;

std::optional<QString> cachedSha256OfFile(const QFileInfo &info)
{
    const QMutexLocker locker(&hashCacheMutex);
    const auto cached = hashCache.constFind(info.absoluteFilePath());
    if (cached != hashCache.cend() && cached->size == info.size() && cached->modified == info.lastModified())
        return cached->hash;
    return std::nullopt;
}

} // namespace

Result<QString> AgentClient::sha256OfFile(const QString &path)
{
    const QFileInfo info(path);
    if (auto cached = cachedSha256OfFile(info))
        return *cached;
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return mm::fail(ErrorCode::NotFound,
                        QStringLiteral("cannot read the agent binary: %1")
                            .arg(file.errorString())
                            .toStdString(),
                        path.toStdString());
    QCryptographicHash hash(QCryptographicHash::Sha256);
    if (!hash.addData(&file))
        return mm::fail(ErrorCode::IoError, "cannot read the agent binary", path.toStdString());
    const QString hex = QString::fromLatin1(hash.result().toHex());
    const QMutexLocker locker(&hashCacheMutex);
    hashCache.insert(info.absoluteFilePath(), CachedHash{info.size(), info.lastModified(), hex});
    return hex;
}

QString AgentClient::locateScript()
{
    return QString::fromLatin1(kLocateScript);
}

QString AgentClient::checkScript()
{
    return QString::fromLatin1(kCheckScript);
}

QString AgentClient::uploadScript()
{
    return QString::fromLatin1(kUploadScript);
}

bool AgentClient::isInside(const QString &path, const QString &root)
{
    if (root.isEmpty())
        return false;
    if (root == QLatin1String("/"))
        return true;
    QString base = root;
    while (base.size() > 1 && base.endsWith(QLatin1Char('/')))
        base.chop(1);
    return path == base || path.startsWith(base + QLatin1Char('/'));
}

void AgentClient::start()
{
    if (m_state != State::Idle)
        return;
    m_redeployed = false;
    m_uploaded = false;
    m_stopping = false;
    if (!m_session || m_session->state() != SshSession::State::Connected) {
        setState(State::Deploying);
        return QTimer::singleShot(0, this, [this] {
            fail(Error{ErrorCode::Unreachable, "the ssh session is not connected", {}});
        });
    }
    setState(State::Deploying);
    const quint64 attempt = ++m_startAttempt;
    if (m_hash.isEmpty()) {
        if (auto cached = cachedSha256OfFile(QFileInfo(m_options.agentBinary))) {
            m_hash = *cached;
        } else {
            // Reading and hashing a binary of several megabytes costs tens of milliseconds:
            // too long for a GUI thread, so it happens on the thread pool.
            auto promise = std::make_shared<QPromise<QString>>();
            promise->future().then(this, [this, attempt](const QString &hash) {
                if (attempt != m_startAttempt || m_state != State::Deploying)
                    return; // stopped or restarted meanwhile
                if (hash.isEmpty()) // unreadable: hashing again here fails fast and says why
                    return fail(sha256OfFile(m_options.agentBinary).error());
                m_hash = hash;
                probeArchitecture();
            });
            QThreadPool::globalInstance()->start([promise, path = m_options.agentBinary] {
                promise->start();
                const auto hash = sha256OfFile(path);
                promise->addResult(hash ? *hash : QString());
                promise->finish();
            });
            return;
        }
    }
    probeArchitecture();
}

void AgentClient::probeArchitecture()
{
    SshCommand *command = m_session->run({QStringLiteral("uname"), QStringLiteral("-m")});
    connect(command, &SshCommand::finished, this, [this, command] {
        command->deleteLater();
        const auto &result = command->result();
        if (!result || result->exitCode != 0)
            return fail(Error{result ? ErrorCode::Unsupported : result.error().code,
                              QStringLiteral("cannot learn the architecture of %1: %2")
                                  .arg(m_session->destination(), errorText(result))
                                  .toStdString(),
                              {}});
        m_architecture = QString::fromUtf8(result->standardOutput.trimmed());
        if (!m_options.architectures.contains(m_architecture))
            return fail(Error{ErrorCode::Unsupported,
                              QStringLiteral("%1 runs on %2; Mailmesh ships its agent for %3 only")
                                  .arg(m_session->destination(), m_architecture,
                                       m_options.architectures.join(QStringLiteral(", ")))
                                  .toStdString(),
                              {}});
        locateCache();
    });
}

void AgentClient::locateCache()
{
    SshCommand::Options options;
    options.runAs = m_options.runAs;
    const QStringList argv = QStringList{QStringLiteral("sh"), QStringLiteral("-c"),
                                         QString::fromLatin1(kLocateScript), QStringLiteral("sh")} +
                             m_options.forbiddenRoots;
    SshCommand *command = m_session->run(argv, options);
    connect(command, &SshCommand::finished, this, [this, command] {
        command->deleteLater();
        const auto &result = command->result();
        if (!result)
            return fail(result.error());
        const QStringList lines =
            QString::fromUtf8(result->standardOutput).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        if (result->exitCode != 0 || lines.size() != m_options.forbiddenRoots.size() + 2)
            return fail(Error{ErrorCode::IoError,
                              QStringLiteral("cannot locate the agent's cache directory on %1: %2")
                                  .arg(m_session->destination(), errorText(result))
                                  .toStdString(),
                              {}});
        const QStringList roots = lines.mid(1, m_options.forbiddenRoots.size());
        const auto insideRoot = [&roots](const QString &path) {
            return std::any_of(roots.begin(), roots.end(), [&path](const QString &root) { return isInside(path, root); });
        };
        // The user's cache, unless it would be replicated: then their own dir under /var/tmp.
        const QString directory = insideRoot(lines.first()) ? lines.last() : lines.first();
        for (qsizetype i = 1; i <= roots.size(); ++i) {
            if (isInside(directory, lines[i]))
                return fail(Error{
                    ErrorCode::UnsafePath,
                    QStringLiteral("the agent's cache %1 on %2 lies inside %3 (mail root or "
                                   "Syncthing folder), where it would be replicated: give "
                                   "the user another home or XDG_CACHE_HOME")
                        .arg(directory, m_session->destination(), m_options.forbiddenRoots[i - 1])
                        .toStdString(),
                    directory.toStdString()});
        }
        checkExisting(directory);
    });
}

void AgentClient::checkExisting(const QString &directory)
{
    SshCommand::Options options;
    options.runAs = m_options.runAs;
    SshCommand *command =
        m_session->run({QStringLiteral("sh"), QStringLiteral("-c"),
                        QString::fromLatin1(kCheckScript), QStringLiteral("sh"), directory, m_hash},
                       options);
    connect(command, &SshCommand::finished, this, [this, command, directory] {
        command->deleteLater();
        const auto &result = command->result();
        if (!result)
            return fail(result.error());
        m_remotePath = directory + QStringLiteral("/agent-") + m_hash;
        if (result->exitCode == 0 && result->standardOutput.trimmed() == "present")
            return startServe();
        upload(directory);
    });
}

void AgentClient::upload(const QString &directory)
{
    QFile file(m_options.agentBinary);
    if (!file.open(QIODevice::ReadOnly))
        return fail(Error{ErrorCode::NotFound, file.errorString().toStdString(),
                          m_options.agentBinary.toStdString()});
    SshCommand::Options options;
    options.runAs = m_options.runAs;
    options.input = file.readAll();
    SshCommand *command = m_session->run({QStringLiteral("sh"), QStringLiteral("-c"),
                                          QString::fromLatin1(kUploadScript), QStringLiteral("sh"),
                                          directory, m_hash},
                                         options);
    connect(command, &SshCommand::finished, this, [this, command] {
        command->deleteLater();
        const auto &result = command->result();
        if (!result)
            return fail(result.error());
        if (result->exitCode != 0 || result->standardOutput.trimmed() != "uploaded")
            return fail(Error{result->exitCode == 3 ? ErrorCode::InvalidData : ErrorCode::IoError,
                              QStringLiteral("uploading the agent to %1 failed: %2")
                                  .arg(m_session->destination(), errorText(result))
                                  .toStdString(),
                              m_remotePath.toStdString()});
        m_uploaded = true;
        startServe();
    });
}

void AgentClient::startServe()
{
    setState(State::Starting);
    m_splitter = std::make_unique<protocol::FrameSplitter>(protocol::kMaxFrameBytes);
    m_protocolBroken = false;
    m_hello = {};
    SshCommand::Options options;
    options.runAs = m_options.runAs;
    m_serve = m_session->open({m_remotePath, QStringLiteral("serve")}, options);
    connect(m_serve, &SshCommand::readyReadStandardOutput, this, &AgentClient::onServeOutput);
    connect(m_serve, &SshCommand::finished, this, &AgentClient::onServeFinished);
}

void AgentClient::onServeOutput()
{
    if (!m_serve)
        return;
    const QByteArray data = m_serve->readAllStandardOutput();
    const protocol::FrameSplitter::Handler handler{
        [this](std::string_view frame) { handleFrame(frame); },
        [this](std::size_t) {
            m_protocolBroken = true;
            fail(Error{ErrorCode::InvalidData, "the agent sent a frame larger than 16 MiB", {}});
        },
    };
    m_splitter->feed(std::string_view(data.constData(), static_cast<size_t>(data.size())), handler);
}

void AgentClient::onServeFinished()
{
    SshCommand *serve = m_serve;
    m_serve = nullptr;
    serve->deleteLater();
    // Frames still buffered belong to the story (final results written before exiting).
    const QByteArray rest = serve->readAllStandardOutput();
    if (!rest.isEmpty() && m_splitter)
        m_splitter->feed(
            std::string_view(rest.constData(), static_cast<size_t>(rest.size())),
            {[this](std::string_view frame) { handleFrame(frame); }, [](std::size_t) {}});
    const auto &result = serve->result();
    QString why =
        result ? QString::fromUtf8(result->standardError.trimmed()).section(QLatin1Char('\n'), -1)
               : QString::fromStdString(result.error().message);
    if (why.isEmpty() && result)
        why = QStringLiteral("the agent exited with status %1").arg(result->exitCode);
    const Error error{result || result.error().code == ErrorCode::Cancelled ? ErrorCode::Unreachable
                                                                            : result.error().code,
                      QStringLiteral("the connection to the agent on %1 ended: %2")
                          .arg(m_session ? m_session->destination() : QString(), why)
                          .toStdString(),
                      {}};
    const State previous = m_state;
    const bool stopping = std::exchange(m_stopping, false);
    failPending(stopping ? Error{ErrorCode::Cancelled, "the agent was stopped", {}} : error);
    setState(State::Idle);
    if (stopping)
        return;
    if (previous == State::Ready)
        Q_EMIT disconnected(error);
    else if (previous == State::Starting)
        Q_EMIT failed(Error{error.code,
                            QStringLiteral("the agent did not start on %1: %2")
                                .arg(m_session ? m_session->destination() : QString(), why)
                                .toStdString(),
                            m_remotePath.toStdString()});
}

void AgentClient::handleFrame(std::string_view bytes)
{
    QJsonParseError parseError{};
    const QJsonDocument document = QJsonDocument::fromJson(
        QByteArray(bytes.data(), static_cast<qsizetype>(bytes.size())), &parseError);
    if (parseError.error != QJsonParseError::NoError || !document.isObject())
        return; // protocol.md: a malformed frame is skipped, the stream goes on
    const QJsonObject frame = document.object();
    const QString type = frame.value(QLatin1String("type")).toString();
    if (m_state == State::Starting) {
        if (type == QLatin1String("hello"))
            return handleHello(frame);
        if (type == QLatin1String("problem"))
            return fail(
                Error{errorCodeFromName(frame.value(QLatin1String("code")).toString().toStdString())
                          .value_or(ErrorCode::InternalError),
                      QStringLiteral("the agent refused the handshake: %1")
                          .arg(frame.value(QLatin1String("message")).toString())
                          .toStdString(),
                      {}});
        return;
    }
    const QString id = frame.value(QLatin1String("id")).toString();
    const QPointer<AgentCall> call = m_pending.value(id);
    if (!call)
        return; // an id we no longer wait for (its caller went away), or id null
    if (type == QLatin1String("progress")) {
        const QJsonValue eta = frame.value(QLatin1String("etaSeconds"));
        Q_EMIT call->progress(frame.value(QLatin1String("done")).toInteger(),
                              frame.value(QLatin1String("total")).toInteger(),
                              frame.value(QLatin1String("current")).toString(),
                              eta.isDouble() ? eta.toInt() : -1);
    } else if (type == QLatin1String("item")) {
        Q_EMIT call->item(frame.value(QLatin1String("item")).toObject());
    } else if (type == QLatin1String("result") || type == QLatin1String("pong")) {
        m_pending.remove(id);
        call->finish(frame.value(QLatin1String("result")).toObject());
    } else if (type == QLatin1String("problem")) {
        m_pending.remove(id);
        const auto code =
            errorCodeFromName(frame.value(QLatin1String("code")).toString().toStdString());
        call->finish(mm::fail(code.value_or(ErrorCode::InternalError),
                              frame.value(QLatin1String("message")).toString().toStdString(),
                              frame.value(QLatin1String("path")).toString().toStdString()));
    }
}

void AgentClient::handleHello(const QJsonObject &hello)
{
    const int schema = hello.value(QLatin1String("schemaVersion")).toInt();
    const QString version = hello.value(QLatin1String("version")).toString();
    if (schema != protocol::kSchemaVersion || version != expectedVersion()) {
        if (m_redeployed)
            return fail(
                Error{ErrorCode::Unsupported,
                      QStringLiteral("the agent on %1 is version %2 (schema %3) after redeploying; "
                                     "this Mailmesh needs %4 (schema %5): the binary given is not "
                                     "this build's agent")
                          .arg(m_session->destination(), version)
                          .arg(schema)
                          .arg(expectedVersion())
                          .arg(protocol::kSchemaVersion)
                          .toStdString(),
                      m_options.agentBinary.toStdString()});
        // Stop this one and put ours in place again.
        m_redeployed = true;
        SshCommand *serve = m_serve;
        m_serve = nullptr;
        serve->disconnect(this);
        serve->closeWrite();
        connect(serve, &SshCommand::finished, serve, &QObject::deleteLater);
        setState(State::Deploying);
        const QString directory = m_remotePath.section(QLatin1Char('/'), 0, -2);
        SshCommand::Options options;
        options.runAs = m_options.runAs;
        SshCommand *remove = m_session->run(
            {QStringLiteral("rm"), QStringLiteral("-f"), QStringLiteral("--"), m_remotePath},
            options);
        connect(remove, &SshCommand::finished, this, [this, remove, directory] {
            remove->deleteLater();
            upload(directory);
        });
        return;
    }
    m_hello = hello;
    sendFrame(
        QJsonObject{{QStringLiteral("type"), QStringLiteral("hello")},
                    {QStringLiteral("schemaVersion"), protocol::kSchemaVersion},
                    {QStringLiteral("version"), QString::fromUtf8(protocol::mailmeshVersion())}});
    setState(State::Ready);
    Q_EMIT ready();
}

void AgentClient::sendFrame(const QJsonObject &frame)
{
    if (m_serve)
        m_serve->write(QJsonDocument(frame).toJson(QJsonDocument::Compact) + '\n');
}

void AgentClient::sendCancel(const QString &id)
{
    if (m_pending.contains(id))
        sendFrame(QJsonObject{{QStringLiteral("type"), QStringLiteral("cancel")},
                              {QStringLiteral("id"), id}});
}

void AgentClient::failPending(const Error &error)
{
    const auto pending = std::exchange(m_pending, {});
    for (const QPointer<AgentCall> &call : pending)
        if (call)
            call->finish(mm::fail(error));
}

AgentCall *AgentClient::failedCall(const QString &command, const Error &error)
{
    auto *call = new AgentCall(this, QString(), command, this);
    QTimer::singleShot(0, call, [call, error] { call->finish(mm::fail(error)); });
    return call;
}

AgentCall *AgentClient::call(const QString &command, const QJsonObject &params)
{
    if (m_state != State::Ready || !m_serve)
        return failedCall(command, Error{ErrorCode::Unreachable, "the agent is not running", {}});
    const QString id = QStringLiteral("r%1").arg(m_nextId++);
    auto *call = new AgentCall(this, id, command, this);
    m_pending.insert(id, call);
    sendFrame(QJsonObject{{QStringLiteral("type"), QStringLiteral("request")},
                          {QStringLiteral("id"), id},
                          {QStringLiteral("command"), command},
                          {QStringLiteral("params"), params}});
    return call;
}

AgentCall *AgentClient::ping()
{
    if (m_state != State::Ready || !m_serve)
        return failedCall(QStringLiteral("ping"),
                          Error{ErrorCode::Unreachable, "the agent is not running", {}});
    const QString id = QStringLiteral("p%1").arg(m_nextId++);
    auto *call = new AgentCall(this, id, QStringLiteral("ping"), this);
    m_pending.insert(id, call);
    sendFrame(
        QJsonObject{{QStringLiteral("type"), QStringLiteral("ping")}, {QStringLiteral("id"), id}});
    return call;
}

void AgentClient::stop()
{
    if (m_serve) {
        // EOF on stdin: the agent cancels what runs, sends the final frames and exits 0.
        m_stopping = true;
        m_serve->closeWrite();
    } else {
        setState(State::Idle);
    }
}

} // namespace mm::remote
