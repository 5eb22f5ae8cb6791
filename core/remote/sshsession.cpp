#include "remote/sshsession.h"

#include "remote/processreaper.h"
#include "remote/shellquote.h"
#include "remote/sshfailure.h"
#include "remote/sshoptionpolicy.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QRegularExpression>
#include <QSaveFile>
#include <QTcpServer>
#include <QTemporaryDir>

#include <sys/stat.h>

#include <utility>

#ifdef __linux__
#include <csignal>
#include <sys/prctl.h>
#endif

namespace mm::remote {

namespace {

constexpr char kCaptureName[] = "offered-key";
constexpr char kConfigName[] = "ssh_config";
constexpr char kMasterSocketName[] = "master";
// How often a connecting session looks for the master's control socket. ssh creates it right
// after authentication (before that, nothing can be multiplexed), with a link() of a finished
// socket, so its appearance is the "ready" signal: no LocalCommand is needed for it.
constexpr int kReadyPollMs = 20;

// A value for an ssh config line: quoted, '%' escaped for options that expand tokens.
QString quoteForSshConfig(const QString &path)
{
    QString escaped = path;
    escaped.replace(QLatin1Char('%'), QStringLiteral("%%"));
    return QLatin1Char('"') + escaped + QLatin1Char('"');
}

bool canQuoteForSshConfig(const QString &path)
{
    for (const QChar c : path)
        if (c == QLatin1Char('"') || c.unicode() < 0x20 || c.unicode() == 0x7f)
            return false;
    return true;
}

bool isSocket(const QString &path)
{
    struct stat st;
    return ::lstat(QFile::encodeName(path).constData(), &st) == 0 && S_ISSOCK(st.st_mode);
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
    m_readyPoll.setInterval(kReadyPollMs);
    connect(&m_readyPoll, &QTimer::timeout, this, &SshSession::pollControlSocket);
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

QString SshSession::sessionConfigPath() const
{
    return controlDirectory() + QLatin1Char('/') + QLatin1String(kConfigName);
}

QString SshSession::controlSocketPath() const
{
    return controlDirectory() + QLatin1Char('/') + QLatin1String(kMasterSocketName);
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

QString SshSession::sessionConfigText() const
{
    QStringList knownHosts;
    if (!m_options.knownHostsFile.isEmpty())
        knownHosts << quoteForSshConfig(m_options.knownHostsFile);
    for (const QString &file : m_options.readKnownHostsFiles)
        knownHosts << quoteForSshConfig(file);
    if (knownHosts.isEmpty())
        knownHosts << QStringLiteral("none");
    QStringList lines{
        QStringLiteral("# Mailmesh's ssh policy for one session (generated, deleted with it)."),
        QStringLiteral("# ssh keeps the first value it reads for an option: these lines come "
                       "before the admin's"),
        QStringLiteral("# configuration (included at the end), and ssh passes -F on to the ssh "
                       "of every ProxyJump hop."),
        // Nothing of the admin's reaches a node, and nothing of a node reaches back.
        QStringLiteral("ForwardAgent no"),
        QStringLiteral("ForwardX11 no"),
        QStringLiteral("ForwardX11Trusted no"),
        QStringLiteral("GatewayPorts no"),
        QStringLiteral("Tunnel no"),
        // No forwarding from any config file: the master and every command open none. Mailmesh's
        // own tunnels are added to the running master with "-O forward", which reads no config
        // file at all (this option would also clear the -L that asks for the tunnel).
        QStringLiteral("ClearAllForwardings yes"),
        // A forwarded Unix socket is created 0600, replacing a stale one of this session.
        QStringLiteral("StreamLocalBindMask 0177"),
        QStringLiteral("StreamLocalBindUnlink yes"),
        QStringLiteral("PermitLocalCommand no"),
        // Hops never share a connection with anything; the master and its clients name their
        // control socket on the command line.
        QStringLiteral("ControlMaster no"),
        QStringLiteral("ControlPath none"),
        // Never trust on first use, and never let ssh learn keys behind the admin's back.
        QStringLiteral("StrictHostKeyChecking yes"),
        QStringLiteral("UpdateHostKeys no"),
        QStringLiteral("CheckHostIP no"),
        QStringLiteral("UserKnownHostsFile ") + knownHosts.join(QLatin1Char(' ')),
        m_options.askpassProgram.isEmpty() ? QStringLiteral("BatchMode yes")
                                           : QStringLiteral("BatchMode no"),
        // The diagnosis reads ssh's error messages: a config saying QUIET must not hide them.
        QStringLiteral("LogLevel ERROR"),
    };
    // -F replaces both of ssh's usual files; include them, in ssh's own order. ("none" and
    // /dev/null mean no config at all; Include would also refuse /dev/null for its mode.)
    if (m_options.configFile == QLatin1String("none") ||
        m_options.configFile == QLatin1String("/dev/null")) {
        // nothing to include
    } else if (!m_options.configFile.isEmpty()) {
        lines << QStringLiteral("Include ") + QLatin1Char('"') + m_options.configFile +
                     QLatin1Char('"');
    } else {
        lines << QStringLiteral("Include ~/.ssh/config")
              << QStringLiteral("Include /etc/ssh/ssh_config");
    }
    return lines.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

Status SshSession::writeSessionConfig() const
{
    QStringList paths{m_options.knownHostsFile, m_options.configFile};
    paths << m_options.readKnownHostsFiles;
    for (const QString &path : std::as_const(paths))
        if (!canQuoteForSshConfig(path))
            return fail(ErrorCode::BadRequest,
                        QStringLiteral("\"%1\" cannot be passed to ssh (quote or control "
                                       "character in the path)")
                            .arg(path)
                            .toStdString());
    QSaveFile file(sessionConfigPath());
    if (!file.open(QIODevice::WriteOnly))
        return fail(ErrorCode::IoError, file.errorString().toStdString(),
                    sessionConfigPath().toStdString());
    file.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    file.write(sessionConfigText().toUtf8());
    if (!file.commit())
        return fail(ErrorCode::IoError, file.errorString().toStdString(),
                    sessionConfigPath().toStdString());
    return {};
}

QStringList SshSession::commonArguments() const
{
    QStringList arguments{QStringLiteral("-F"), sessionConfigPath()};
    arguments << QStringLiteral("-o")
              << QStringLiteral("ControlPath=") + controlSocketPath();
    return arguments;
}

QStringList SshSession::masterArguments() const
{
    QStringList arguments = commonArguments();
    const auto option = [&](const QString &value) { arguments << QStringLiteral("-o") << value; };
    option(QStringLiteral("ControlMaster=yes"));
    option(QStringLiteral("ControlPersist=no"));
    // The offered key is appended to a file in our private directory; ssh runs the command with
    // the reason, known_hosts name, key type and key as separate arguments (no shell parsing of
    // their values). It prints nothing, so it never vouches for a key. Only the master gets it:
    // the key of the node, not of a ProxyJump hop, is the one to pin.
    option(QStringLiteral("KnownHostsCommand=/bin/sh -c 'echo \"$1 $2 $3 $4\" >> \"$0\"' ") +
           capturePath() + QStringLiteral(" %I %H %t %K"));
    // The node's own options (allow-listed) come before Mailmesh's defaults, so that they win.
    for (const QString &extra : m_options.extraOptions)
        option(extra);
    option(QStringLiteral("ConnectTimeout=%1").arg(m_options.connectTimeoutSeconds));
    option(QStringLiteral("ServerAliveInterval=%1").arg(m_options.serverAliveIntervalSeconds));
    option(QStringLiteral("ServerAliveCountMax=%1").arg(m_options.serverAliveCountMax));
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
    const auto refuse = [this](ErrorCode code, const QString &message) {
        setState(State::Connecting);
        failConnect(Error{code, message.toStdString(), {}});
    };
    for (const QString &extra : std::as_const(m_options.extraOptions))
        if (const auto checked = SshOptionPolicy::check(extra); !checked)
            return refuse(ErrorCode::BadRequest,
                          QStringLiteral("%1: ssh option %2")
                              .arg(destination(), QString::fromStdString(checked.error().message)));
    if (!m_controlDir) {
        // Socket paths are limited to 108 bytes: a short private directory. Its path is also
        // pasted unquoted into the command ssh runs for a ProxyJump hop (-F), so it must be plain.
        static const QRegularExpression plainPath(
            QRegularExpression::anchoredPattern(QStringLiteral("/[A-Za-z0-9/._-]*")));
        QString base = QDir::tempPath();
        if (base.size() > 40 || !plainPath.match(base).hasMatch())
            base = QStringLiteral("/tmp");
        m_controlDir = std::make_unique<QTemporaryDir>(base + QStringLiteral("/mm-XXXXXX"));
        if (!m_controlDir->isValid()) {
            const QString why = m_controlDir->errorString();
            m_controlDir.reset();
            return refuse(ErrorCode::IoError,
                          QStringLiteral("cannot create a private directory for the ssh control "
                                         "socket: %1")
                              .arg(why));
        }
    }
    // A master killed with SIGKILL leaves its sockets behind, which would make the next master
    // give up multiplexing; the directory is ours alone, so clear it.
    const QDir dir(controlDirectory());
    for (const QString &entry : dir.entryList(QDir::Files | QDir::System | QDir::Hidden))
        QFile::remove(dir.filePath(entry));
    if (Status written = writeSessionConfig(); !written)
        return refuse(written.error().code, QString::fromStdString(written.error().describe()));

    m_offeredHostKey.reset();
    m_connectedHostKey.reset();
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
        m_readyPoll.stop();
        failConnect(
            Error{ErrorCode::NotFound,
                  QStringLiteral("cannot start %1: %2").arg(m_options.program, why).toStdString(),
                  {}});
    });
    m_loginTimer.start(m_options.loginTimeoutSeconds * 1000);
    m_readyPoll.start();
    m_master->start(QIODevice::ReadOnly);
}

void SshSession::onMasterOutput()
{
    // A master started with -N prints nothing of its own; keep only a bounded tail.
    m_masterStdout += m_master->readAllStandardOutput();
    if (m_masterStdout.size() > 64 * 1024)
        m_masterStdout = m_masterStdout.right(16 * 1024);
}

void SshSession::pollControlSocket()
{
    if (m_state != State::Connecting || !m_master) {
        m_readyPoll.stop();
        return;
    }
    if (isSocket(controlSocketPath())) {
        m_readyPoll.stop();
        onMasterReady();
    }
}

void SshSession::stopMaster()
{
    if (!m_master)
        return;
    m_master->disconnect(this);
    terminateInBackground(std::exchange(m_master, nullptr));
}

Status SshSession::checkPinnedHostKey() const
{
    if (m_options.pinnedHostKey.isEmpty())
        return {};
    if (!m_connectedHostKey)
        return fail(ErrorCode::ChangedHostKey,
                    QStringLiteral("cannot tell which host key %1 offered, so it cannot be "
                                   "compared with the pinned %2: connection refused")
                        .arg(destination(), m_options.pinnedHostKey)
                        .toStdString());
    const QString offered = m_connectedHostKey->fingerprint();
    if (offered == m_options.pinnedHostKey)
        return {};
    return fail(ErrorCode::ChangedHostKey,
                QStringLiteral("the host key of %1 is not the pinned one: pinned %2, offered %3 "
                               "%4 (trusted by a known_hosts file). Connection refused: this may "
                               "be an attack, or the node was reinstalled")
                    .arg(destination(), m_options.pinnedHostKey, m_connectedHostKey->type,
                         offered)
                    .toStdString());
}

void SshSession::onMasterReady()
{
    m_loginTimer.stop();
    // ssh accepted a key: which one it was is the only thing worth pinning or comparing.
    m_connectedHostKey = readOfferedHostKey();
    if (Status pinned = checkPinnedHostKey(); !pinned) {
        m_offeredHostKey = m_connectedHostKey;
        stopMaster();
        return failConnect(pinned.error());
    }
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
    m_readyPoll.stop();
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
        // Nothing captured: ssh never got to the node, so a ProxyJump host on the way offered the
        // key (hops are checked against the same known_hosts files).
        error.message =
            offered.isEmpty()
                ? QStringLiteral("the host key of a ProxyJump host on the way to %1 is not known "
                                 "(ssh said: %2). Accept it in Mailmesh's known_hosts first")
                      .arg(destination(), standardError.trimmed().section(QLatin1Char('\n'), -1))
                      .toStdString()
                : QStringLiteral("the host key of %1 is not known: %2. Check it and accept it "
                                 "to connect")
                      .arg(destination(), offered)
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

Result<QByteArray> SshSession::replaceHostKey(const HostKey &key, const QString &previousFingerprint)
{
    if (!key.isValid() || key.hostName.isEmpty() || key.hostName.contains(QLatin1Char(' ')))
        return fail(ErrorCode::BadRequest, "not a host key");
    if (m_options.knownHostsFile.isEmpty())
        return fail(ErrorCode::BadRequest, "no known_hosts file is configured for Mailmesh");
    QFile file(m_options.knownHostsFile);
    QByteArray before;
    if (file.open(QIODevice::ReadOnly)) {
        before = file.readAll();
        file.close();
    }
    QByteArray after;
    for (const QByteArray &raw : before.split('\n')) {
        if (raw.isEmpty())
            continue;
        const auto pinned = HostKey::fromKnownHostsLine(QString::fromUtf8(raw));
        if (pinned && pinned->hostName == key.hostName) {
            if (pinned->fingerprint() == previousFingerprint)
                continue; // the key being replaced
            if (pinned->type == key.type && pinned->keyBase64 != key.keyBase64)
                return fail(ErrorCode::Conflict,
                            QStringLiteral("%1 has the %2 key %3 pinned, not %4; nothing was replaced")
                                .arg(key.hostName, key.type, pinned->fingerprint(), previousFingerprint)
                                .toStdString(),
                            m_options.knownHostsFile.toStdString());
        }
        after += raw + '\n';
    }
    after += key.knownHostsLine().toUtf8() + '\n';
    if (Status written = restoreKnownHosts(after); !written)
        return fail(written.error());
    return before;
}

Status SshSession::restoreKnownHosts(const QByteArray &content)
{
    QDir().mkpath(QFileInfo(m_options.knownHostsFile).absolutePath());
    QSaveFile file(m_options.knownHostsFile);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size())
        return fail(ErrorCode::IoError, file.errorString().toStdString(), m_options.knownHostsFile.toStdString());
    if (!file.commit())
        return fail(ErrorCode::IoError, file.errorString().toStdString(), m_options.knownHostsFile.toStdString());
    // Only its owner reads which hosts the admin manages.
    QFile::setPermissions(m_options.knownHostsFile, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
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
    // A client that cannot reach the master must fail, not open a connection of its own past
    // the checks the master made: ssh only runs the ProxyCommand when it does not multiplex.
    arguments << QStringLiteral("-o") << QStringLiteral("ControlMaster=no") //
              << QStringLiteral("-o") << QStringLiteral("ProxyCommand=/bin/false") //
              << QStringLiteral("-T");
    arguments << m_address.sshArguments() << QStringLiteral("--") << shellJoin(remote);
    auto *command = new SshCommand(m_options.program, arguments, mode, std::move(options),
                                   destination(), usedRunAs, this);
    command->start(environment());
    return command;
}

SshCommand *SshSession::makeControlCommand(const QStringList &controlArguments)
{
    // A control request only talks to the master's socket: no config file is read ("-F none"),
    // so no forwarding of the admin's config rides along with the one asked for.
    QStringList arguments{QStringLiteral("-F"), QStringLiteral("none"), QStringLiteral("-o"),
                          QStringLiteral("ControlPath=") + controlSocketPath()};
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
    const QString local = forward.localSocket.isEmpty()
                              ? QStringLiteral("127.0.0.1:%1").arg(forward.localPort)
                              : forward.localSocket;
    return QStringLiteral("%1:%2:%3").arg(local, host).arg(forward.remotePort);
}

void SshSession::sendForward(const Forward &forward, std::function<void(const Status &)> done)
{
    SshCommand *command = makeControlCommand({QStringLiteral("-O"), QStringLiteral("forward"),
                                              QStringLiteral("-L"), forwardSpec(forward)});
    connect(command, &SshCommand::finished, this, [this, command, forward, done] {
        command->deleteLater();
        const auto &result = command->result();
        if (result && result->exitCode == 0) {
            m_forwards.push_back(forward);
            return done({});
        }
        const QString why = result ? QString::fromUtf8(result->standardError.trimmed())
                                   : QString::fromStdString(result.error().message);
        done(fail(ErrorCode::Unreachable, QStringLiteral("cannot forward %1 to %2:%3 on %4: %5")
                                              .arg(forward.localSocket.isEmpty()
                                                       ? QStringLiteral("a local port")
                                                       : forward.localSocket,
                                                   forward.remoteHost)
                                              .arg(forward.remotePort)
                                              .arg(destination(), why)
                                              .toStdString()));
    });
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
    Forward forward;
    forward.localPort = localPort;
    forward.remoteHost = remoteHost;
    forward.remotePort = remotePort;
    sendForward(forward, [this, forward, attempt, context, done, deliver](const Status &sent) {
        if (sent)
            return deliver(forward.localPort);
        if (attempt < 3 && m_state == State::Connected)
            return requestForward(forward.remoteHost, forward.remotePort, attempt + 1, context,
                                  done);
        deliver(fail(sent.error()));
    });
}

void SshSession::addSocketForward(const QString &remoteHost, quint16 remotePort,
                                  QObject *context, std::function<void(Result<QString>)> done)
{
    const auto deliver = [context = QPointer<QObject>(context), done](const Result<QString> &r) {
        if (context)
            done(r);
    };
    if (m_state != State::Connected) {
        const Error error{ErrorCode::Unreachable,
                          QStringLiteral("not connected to %1").arg(destination()).toStdString(),
                          {}};
        QTimer::singleShot(0, this, [deliver, error] { deliver(Result<QString>(fail(error))); });
        return;
    }
    Forward forward;
    forward.localSocket = controlDirectory() + QStringLiteral("/tunnel-%1").arg(++m_socketForwards);
    forward.remoteHost = remoteHost;
    forward.remotePort = remotePort;
    sendForward(forward, [forward, deliver](const Status &sent) {
        if (!sent)
            return deliver(fail(sent.error()));
        deliver(forward.localSocket);
    });
}

void SshSession::removeForward(quint16 localPort)
{
    const auto it =
        std::find_if(m_forwards.begin(), m_forwards.end(), [localPort](const Forward &f) {
            return f.localSocket.isEmpty() && f.localPort == localPort;
        });
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

void SshSession::removeSocketForward(const QString &socketPath)
{
    const auto it =
        std::find_if(m_forwards.begin(), m_forwards.end(),
                     [&socketPath](const Forward &f) { return f.localSocket == socketPath; });
    if (it == m_forwards.end())
        return;
    const Forward forward = *it;
    m_forwards.erase(it);
    if (m_state == State::Connected) {
        SshCommand *command = makeControlCommand({QStringLiteral("-O"), QStringLiteral("cancel"),
                                                  QStringLiteral("-L"), forwardSpec(forward)});
        connect(command, &SshCommand::finished, command, &QObject::deleteLater);
    }
    // ssh leaves the socket file behind; the directory is ours.
    QFile::remove(socketPath);
}

void SshSession::disconnectFromHost()
{
    m_loginTimer.stop();
    m_readyPoll.stop();
    m_forwards.clear();
    stopMaster();
    setState(State::Disconnected);
}

} // namespace mm::remote
