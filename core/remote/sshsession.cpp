#include "remote/sshsession.h"

#include "remote/processreaper.h"
#include "remote/shellquote.h"
#include "remote/sshfailure.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QTcpServer>
#include <QTemporaryDir>

#include <utility>

#ifdef __linux__
#include <csignal>
#include <sys/prctl.h>
#endif

namespace mm::remote {

namespace {

// Written by LocalCommand on the master's stdout once authentication succeeded and the control
// socket listens: the one reliable "ready" signal a foreground master gives.
constexpr char kReadyMarker[] = "mailmesh-master-ready";
constexpr char kCaptureName[] = "offered-key";

QString quoteForSshConfig(const QString &path)
{
    return QLatin1Char('"') + path + QLatin1Char('"');
}

} // namespace

SshSession::SshSession(SshAddress address, SshOptions options, QObject *parent)
    : QObject(parent)
    , m_address(std::move(address))
    , m_options(std::move(options))
{
    m_loginTimer.setSingleShot(true);
    connect(&m_loginTimer, &QTimer::timeout, this, [this] {
        if (m_master && m_state == State::Connecting) {
            m_loginTimedOut = true;
            m_master->kill();
        }
    });
}

SshSession::~SshSession()
{
    // Masters asked to end by disconnectFromHost() were handed to the reaper already; the live
    // one goes the same way, so destroying a session never waits on its ssh process.
    if (m_master) {
        m_master->disconnect(this);
        terminateInBackground(std::exchange(m_master, nullptr));
    }
}

QString SshSession::controlDirectory() const
{
    return m_controlDir ? m_controlDir->path() : QString();
}

QString SshSession::capturePath() const
{
    return controlDirectory() + QLatin1Char('/') + QLatin1String(kCaptureName);
}

qint64 SshSession::masterProcessId() const
{
    return m_master ? m_master->processId() : 0;
}

void SshSession::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    Q_EMIT stateChanged(state);
}

QStringList SshSession::commonArguments() const
{
    QStringList arguments;
    if (!m_options.configFile.isEmpty())
        arguments << QStringLiteral("-F") << m_options.configFile;
    QStringList knownHosts;
    if (!m_options.knownHostsFile.isEmpty())
        knownHosts << quoteForSshConfig(m_options.knownHostsFile);
    for (const QString &file : m_options.readKnownHostsFiles)
        knownHosts << quoteForSshConfig(file);
    if (knownHosts.isEmpty())
        knownHosts << QStringLiteral("none");
    const auto option = [&](const QString &value) { arguments << QStringLiteral("-o") << value; };
    option(m_options.askpassProgram.isEmpty() ? QStringLiteral("BatchMode=yes")
                                              : QStringLiteral("BatchMode=no"));
    option(QStringLiteral("ConnectTimeout=%1").arg(m_options.connectTimeoutSeconds));
    option(QStringLiteral("ServerAliveInterval=%1").arg(m_options.serverAliveIntervalSeconds));
    option(QStringLiteral("ServerAliveCountMax=%1").arg(m_options.serverAliveCountMax));
    // Never trust on first use and never let ssh learn keys behind the admin's back.
    option(QStringLiteral("StrictHostKeyChecking=yes"));
    option(QStringLiteral("UserKnownHostsFile=") + knownHosts.join(QLatin1Char(' ')));
    option(QStringLiteral("UpdateHostKeys=no"));
    // The diagnosis reads ssh's error messages: a config saying QUIET must not hide them.
    option(QStringLiteral("LogLevel=ERROR"));
    option(QStringLiteral("ControlPath=") + controlDirectory() + QStringLiteral("/%C"));
    return arguments;
}

QStringList SshSession::masterArguments() const
{
    QStringList arguments = commonArguments();
    // The offered key is appended to a file in our private directory; ssh runs the command with
    // the reason, known_hosts name, key type and key as separate arguments (no shell parsing of
    // their values). It prints nothing, so it never vouches for a key.
    const QString captureCommand =
        QStringLiteral("KnownHostsCommand=/bin/sh -c 'echo \"$1 $2 $3 $4\" >> \"$0\"' ") +
        capturePath() + QStringLiteral(" %I %H %t %K");
    arguments << QStringLiteral("-o") << QStringLiteral("ControlMaster=yes") //
              << QStringLiteral("-o") << QStringLiteral("ControlPersist=no") //
              << QStringLiteral("-o") << QStringLiteral("PermitLocalCommand=yes")
              << QStringLiteral("-o")
              << QStringLiteral("LocalCommand=echo ") + QLatin1String(kReadyMarker)
              << QStringLiteral("-o") << captureCommand;
    for (const QString &extra : m_options.extraOptions)
        arguments << QStringLiteral("-o") << extra;
    arguments << QStringLiteral("-n") << QStringLiteral("-N") << QStringLiteral("-T");
    arguments << m_address.sshArguments();
    return arguments;
}

QProcessEnvironment SshSession::environment() const
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    if (m_options.askpassProgram.isEmpty()) {
        environment.insert(QStringLiteral("SSH_ASKPASS_REQUIRE"), QStringLiteral("never"));
    } else {
        environment.insert(QStringLiteral("SSH_ASKPASS"), m_options.askpassProgram);
        environment.insert(QStringLiteral("SSH_ASKPASS_REQUIRE"), QStringLiteral("force"));
    }
    return environment;
}

void SshSession::connectToHost()
{
    if (m_state != State::Disconnected)
        return;
    if (!m_controlDir) {
        // Socket paths are limited to 108 bytes: a short private directory, %C adds 40.
        QString base = QDir::tempPath();
        if (base.size() > 40)
            base = QStringLiteral("/tmp");
        m_controlDir = std::make_unique<QTemporaryDir>(base + QStringLiteral("/mm-XXXXXX"));
        if (!m_controlDir->isValid()) {
            const QString why = m_controlDir->errorString();
            m_controlDir.reset();
            setState(State::Connecting);
            return failConnect(Error{ErrorCode::IoError,
                                     QStringLiteral("cannot create a private directory for the ssh "
                                                    "control socket: %1")
                                         .arg(why)
                                         .toStdString(),
                                     {}});
        }
    }
    // A master killed with SIGKILL leaves its socket behind, which would make the next master
    // give up multiplexing; the directory is ours alone, so clear it.
    const QDir dir(controlDirectory());
    for (const QString &entry : dir.entryList(QDir::Files | QDir::System | QDir::Hidden))
        QFile::remove(dir.filePath(entry));

    m_offeredHostKey.reset();
    m_masterStdout.clear();
    m_masterStderr.clear();
    m_loginTimedOut = false;
    m_loginUser.clear();
    setState(State::Connecting);

    m_master = new QProcess(this);
    m_master->setProgram(m_options.program);
    m_master->setArguments(masterArguments());
    m_master->setProcessEnvironment(environment());
#ifdef __linux__
    // If the app dies, so does its master: no connection left open behind the admin's back.
    m_master->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
#endif
    connect(m_master, &QProcess::readyReadStandardOutput, this, &SshSession::onMasterOutput);
    connect(m_master, &QProcess::readyReadStandardError, this, [this] {
        // Only the tail is ever read (the reason it stopped): a long-lived master must
        // not grow this without bound.
        m_masterStderr += m_master->readAllStandardError();
        if (m_masterStderr.size() > 128 * 1024)
            m_masterStderr = m_masterStderr.right(64 * 1024);
    });
    connect(m_master, &QProcess::finished, this, &SshSession::onMasterFinished);
    connect(m_master, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
        if (error != QProcess::FailedToStart)
            return;
        const QString why = m_master->errorString();
        m_master->deleteLater();
        m_master = nullptr;
        failConnect(
            Error{ErrorCode::NotFound,
                  QStringLiteral("cannot start %1: %2").arg(m_options.program, why).toStdString(),
                  {}});
    });
    m_loginTimer.start(m_options.loginTimeoutSeconds * 1000);
    m_master->start(QIODevice::ReadOnly);
}

void SshSession::onMasterOutput()
{
    m_masterStdout += m_master->readAllStandardOutput();
    if (m_state == State::Connecting && m_masterStdout.contains(kReadyMarker)) {
        m_masterStdout.clear();
        onMasterReady();
    }
}

void SshSession::onMasterReady()
{
    m_loginTimer.stop();
    // Learn who we are on the node: it decides between runuser (root) and sudo for run-as.
    SshCommand *probe =
        makeCommand({QStringLiteral("id"), QStringLiteral("-un")}, SshCommand::Mode::Capture, {});
    connect(probe, &SshCommand::finished, this, [this, probe] {
        probe->deleteLater();
        if (m_state != State::Connecting)
            return;
        const auto &result = probe->result();
        if (!result || result->exitCode != 0) {
            Error error = result
                              ? Error{ErrorCode::Unreachable,
                                      QStringLiteral("%1: `id -un` failed: %2")
                                          .arg(destination(),
                                               QString::fromUtf8(result->standardError.trimmed()))
                                          .toStdString(),
                                      {}}
                              : result.error();
            if (m_master) {
                m_master->disconnect(this);
                m_master->kill();
                m_master->deleteLater();
                m_master = nullptr;
            }
            return failConnect(std::move(error));
        }
        m_loginUser = QString::fromUtf8(result->standardOutput.trimmed());
        setState(State::Connected);
        Q_EMIT connected();
    });
}

void SshSession::onMasterFinished()
{
    m_loginTimer.stop();
    m_masterStderr += m_master->readAllStandardError();
    const QString standardError = QString::fromUtf8(m_masterStderr);
    m_master->deleteLater();
    m_master = nullptr;
    m_forwards.clear();
    if (m_state == State::Connecting) {
        if (m_loginTimedOut)
            return failConnect(Error{ErrorCode::Timeout,
                                     QStringLiteral("%1 did not complete the login within %2 s")
                                         .arg(destination())
                                         .arg(m_options.loginTimeoutSeconds)
                                         .toStdString(),
                                     {}});
        return failConnect(diagnoseConnectFailure(standardError));
    }
    if (m_state == State::Connected) {
        QString reason = standardError.trimmed().section(QLatin1Char('\n'), -1);
        if (reason.isEmpty())
            reason = QStringLiteral("the ssh master exited");
        setState(State::Disconnected);
        Q_EMIT disconnected(Error{
            ErrorCode::Unreachable,
            QStringLiteral("connection to %1 lost: %2").arg(destination(), reason).toStdString(),
            {}});
    }
}

void SshSession::failConnect(Error error)
{
    setState(State::Disconnected);
    Q_EMIT connectFailed(error);
}

std::optional<HostKey> SshSession::readOfferedHostKey() const
{
    QFile file(capturePath());
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    std::optional<HostKey> offered;
    // Lines: REASON NAME TYPE KEY. "ORDER" calls carry no key; the last real one wins.
    for (const QByteArray &raw : file.readAll().split('\n')) {
        const QStringList fields =
            QString::fromUtf8(raw).split(QLatin1Char(' '), Qt::SkipEmptyParts);
        if (fields.size() != 4 || fields[0] == QLatin1String("ORDER") ||
            fields[3] == QLatin1String("NONE"))
            continue;
        if (fields[0] == QLatin1String("HOSTNAME") || !offered)
            offered = HostKey{fields[1], fields[2], fields[3]};
    }
    return offered;
}

Error SshSession::diagnoseConnectFailure(const QString &standardError)
{
    const SshFailure failure = SshFailure::diagnose(standardError, destination());
    Error error = failure.error;
    if (error.code != ErrorCode::UnknownHostKey && error.code != ErrorCode::ChangedHostKey)
        return error;
    m_offeredHostKey = readOfferedHostKey();
    const QString offered = m_offeredHostKey ? m_offeredHostKey->type + QLatin1Char(' ') +
                                                   m_offeredHostKey->fingerprint()
                                             : failure.offeredFingerprint;
    if (error.code == ErrorCode::UnknownHostKey) {
        error.message =
            QStringLiteral("the host key of %1 is not known: %2. Check it and accept it "
                           "to connect")
                .arg(destination(), offered.isEmpty() ? QStringLiteral("(not captured)") : offered)
                .toStdString();
        return error;
    }
    QString known = QStringLiteral("(unknown)");
    QFile file(failure.offendingFile);
    if (failure.offendingLine > 0 && file.open(QIODevice::ReadOnly)) {
        const QList<QByteArray> lines = file.readAll().split('\n');
        if (failure.offendingLine <= lines.size())
            if (const auto key = HostKey::fromKnownHostsLine(
                    QString::fromUtf8(lines[failure.offendingLine - 1])))
                known = key->type + QLatin1Char(' ') + key->fingerprint();
    }
    error.message = QStringLiteral("the host key of %1 has CHANGED: pinned %2 (%3:%4), offered %5. "
                                   "Connection refused: this may be an attack, or the node was "
                                   "reinstalled")
                        .arg(destination(), known, failure.offendingFile)
                        .arg(failure.offendingLine)
                        .arg(offered)
                        .toStdString();
    error.path = failure.offendingFile.toStdString();
    return error;
}

Status SshSession::acceptHostKey(const HostKey &key)
{
    if (!key.isValid() || key.hostName.isEmpty() || key.hostName.contains(QLatin1Char(' ')) ||
        key.type.contains(QLatin1Char(' ')) || key.keyBase64.contains(QLatin1Char(' ')))
        return fail(ErrorCode::BadRequest, "not a host key");
    if (m_options.knownHostsFile.isEmpty())
        return fail(ErrorCode::BadRequest, "no known_hosts file is configured for Mailmesh");
    QFile file(m_options.knownHostsFile);
    if (file.open(QIODevice::ReadOnly)) {
        for (const QByteArray &raw : file.readAll().split('\n')) {
            const auto pinned = HostKey::fromKnownHostsLine(QString::fromUtf8(raw));
            if (!pinned || pinned->hostName != key.hostName || pinned->type != key.type)
                continue;
            if (pinned->keyBase64 == key.keyBase64)
                return {};
            // Accepting beside a different pinned key would silently turn a refused change into
            // a trusted one: the admin must remove the old key explicitly.
            return fail(
                ErrorCode::Conflict,
                QStringLiteral("%1 already has a different %2 key pinned (%3); remove it first")
                    .arg(key.hostName, key.type, pinned->fingerprint())
                    .toStdString(),
                m_options.knownHostsFile.toStdString());
        }
        file.close();
    }
    QDir().mkpath(QFileInfo(m_options.knownHostsFile).absolutePath());
    const bool existed = file.exists();
    if (!file.open(QIODevice::Append | QIODevice::Text))
        return fail(ErrorCode::IoError, file.errorString().toStdString(),
                    m_options.knownHostsFile.toStdString());
    if (!existed)
        file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    const QByteArray line = key.knownHostsLine().toUtf8() + '\n';
    if (file.write(line) != line.size() || !file.flush())
        return fail(ErrorCode::IoError, file.errorString().toStdString(),
                    m_options.knownHostsFile.toStdString());
    return {};
}

SshCommand *SshSession::makeCommand(const QStringList &argv, SshCommand::Mode mode,
                                    SshCommand::Options options)
{
    QStringList remote = argv;
    bool usedRunAs = false;
    if (!options.runAs.isEmpty() && options.runAs != m_loginUser) {
        usedRunAs = true;
        if (m_loginUser == QLatin1String("root"))
            remote = QStringList{QStringLiteral("runuser"), QStringLiteral("-u"), options.runAs,
                                 QStringLiteral("--")} +
                     argv;
        else if (options.runAs == QLatin1String("root"))
            remote =
                QStringList{QStringLiteral("sudo"), QStringLiteral("-n"), QStringLiteral("--")} +
                argv;
        else
            remote = QStringList{QStringLiteral("sudo"), QStringLiteral("-n"), QStringLiteral("-u"),
                                 options.runAs, QStringLiteral("--")} +
                     argv;
    }
    QStringList arguments = commonArguments();
    arguments << QStringLiteral("-o") << QStringLiteral("ControlMaster=no") << QStringLiteral("-T");
    for (const QString &extra : m_options.extraOptions)
        arguments << QStringLiteral("-o") << extra;
    arguments << m_address.sshArguments() << QStringLiteral("--") << shellJoin(remote);
    auto *command = new SshCommand(m_options.program, arguments, mode, std::move(options),
                                   destination(), usedRunAs, this);
    command->start(environment());
    return command;
}

SshCommand *SshSession::makeControlCommand(const QStringList &controlArguments)
{
    QStringList arguments = commonArguments();
    for (const QString &extra : m_options.extraOptions)
        arguments << QStringLiteral("-o") << extra;
    arguments << controlArguments << m_address.sshArguments();
    auto *command = new SshCommand(m_options.program, arguments, SshCommand::Mode::Capture, {},
                                   destination(), false, this);
    command->start(environment());
    return command;
}

SshCommand *SshSession::run(const QStringList &argv, SshCommand::Options options)
{
    if (m_state != State::Connected || argv.isEmpty()) {
        auto *command = new SshCommand(m_options.program, {}, SshCommand::Mode::Capture, {},
                                       destination(), false, this);
        const Error error =
            argv.isEmpty()
                ? Error{ErrorCode::BadRequest, "empty command", {}}
                : Error{ErrorCode::Unreachable,
                        QStringLiteral("not connected to %1").arg(destination()).toStdString(),
                        {}};
        // Deferred so that the caller can connect to finished() first.
        QTimer::singleShot(0, command, [command, error] { command->finish(fail(error)); });
        return command;
    }
    return makeCommand(argv, SshCommand::Mode::Capture, std::move(options));
}

SshCommand *SshSession::open(const QStringList &argv, SshCommand::Options options)
{
    if (m_state != State::Connected || argv.isEmpty())
        return run(argv, std::move(options)); // fails the same way, deferred
    return makeCommand(argv, SshCommand::Mode::Stream, std::move(options));
}

QString SshSession::forwardSpec(const Forward &forward)
{
    const QString host = forward.remoteHost.contains(QLatin1Char(':'))
                             ? QLatin1Char('[') + forward.remoteHost + QLatin1Char(']')
                             : forward.remoteHost;
    return QStringLiteral("127.0.0.1:%1:%2:%3")
        .arg(forward.localPort)
        .arg(host)
        .arg(forward.remotePort);
}

void SshSession::addForward(const QString &remoteHost, quint16 remotePort, QObject *context,
                            std::function<void(Result<quint16>)> done)
{
    requestForward(remoteHost, remotePort, 1, context, std::move(done));
}

void SshSession::requestForward(const QString &remoteHost, quint16 remotePort, int attempt,
                                QPointer<QObject> context,
                                std::function<void(Result<quint16>)> done)
{
    const auto deliver = [context, done](const Result<quint16> &result) {
        if (context)
            done(result);
    };
    if (m_state != State::Connected) {
        const Error error{ErrorCode::Unreachable,
                          QStringLiteral("not connected to %1").arg(destination()).toStdString(),
                          {}};
        QTimer::singleShot(0, this, [deliver, error] { deliver(Result<quint16>(fail(error))); });
        return;
    }
    // The kernel picks a free loopback port; another process could take it before ssh binds
    // it, in which case the forward fails and we try another.
    quint16 localPort = 0;
    {
        QTcpServer probe;
        if (probe.listen(QHostAddress::LocalHost, 0))
            localPort = probe.serverPort();
    }
    const Forward forward{localPort, remoteHost, remotePort};
    SshCommand *command = makeControlCommand({QStringLiteral("-O"), QStringLiteral("forward"),
                                              QStringLiteral("-L"), forwardSpec(forward)});
    connect(command, &SshCommand::finished, this,
            [this, command, forward, attempt, context, done, deliver] {
                command->deleteLater();
                const auto &result = command->result();
                if (result && result->exitCode == 0) {
                    m_forwards.push_back(forward);
                    return deliver(forward.localPort);
                }
                if (attempt < 3 && m_state == State::Connected)
                    return requestForward(forward.remoteHost, forward.remotePort, attempt + 1,
                                          context, done);
                const QString why = result ? QString::fromUtf8(result->standardError.trimmed())
                                           : QString::fromStdString(result.error().message);
                deliver(fail(ErrorCode::Unreachable,
                             QStringLiteral("cannot forward a local port to %1:%2 on %3: %4")
                                 .arg(forward.remoteHost)
                                 .arg(forward.remotePort)
                                 .arg(destination(), why)
                                 .toStdString()));
            });
}

void SshSession::removeForward(quint16 localPort)
{
    const auto it =
        std::find_if(m_forwards.begin(), m_forwards.end(),
                     [localPort](const Forward &f) { return f.localPort == localPort; });
    if (it == m_forwards.end())
        return;
    const Forward forward = *it;
    m_forwards.erase(it);
    if (m_state != State::Connected)
        return;
    SshCommand *command = makeControlCommand({QStringLiteral("-O"), QStringLiteral("cancel"),
                                              QStringLiteral("-L"), forwardSpec(forward)});
    connect(command, &SshCommand::finished, command, &QObject::deleteLater);
}

void SshSession::disconnectFromHost()
{
    m_loginTimer.stop();
    m_forwards.clear();
    if (m_master) {
        m_master->disconnect(this);
        terminateInBackground(std::exchange(m_master, nullptr));
    }
    setState(State::Disconnected);
}

} // namespace mm::remote
