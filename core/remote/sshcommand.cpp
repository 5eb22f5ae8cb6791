#include "remote/sshcommand.h"

#include "remote/sshfailure.h"

namespace mm::remote {

namespace {

constexpr qint64 kStderrKeep = 64 * 1024; // enough for any diagnosis, bounded for stream mode

bool isRunAsRefusal(const QByteArray &standardError)
{
    static const char *const needles[] = {
        "sudo: a password is required", "sudo: a terminal is required",
        "is not in the sudoers file",   "is not allowed to execute",
        "sudo: unknown user",           "runuser: user ",
        "may not be used by non-root",  "sudo: no tty present",
    };
    for (const char *needle : needles)
        if (standardError.contains(needle))
            return true;
    return false;
}

} // namespace

SshCommand::SshCommand(const QString &program, const QStringList &arguments, Mode mode,
                       Options options, QString destination, bool usedRunAs, QObject *parent)
    : QObject(parent)
    , m_process(new QProcess(this))
    , m_mode(mode)
    , m_options(std::move(options))
    , m_destination(std::move(destination))
    , m_usedRunAs(usedRunAs)
    , m_result(fail(ErrorCode::InternalError, "the command has not finished"))
{
    m_process->setProgram(program);
    m_process->setArguments(arguments);
    connect(m_process, &QProcess::readyReadStandardOutput, this,
            [this] { collect(QProcess::StandardOutput); });
    connect(m_process, &QProcess::readyReadStandardError, this,
            [this] { collect(QProcess::StandardError); });
    connect(m_process, &QProcess::finished, this, &SshCommand::onFinished);
    connect(m_process, &QProcess::errorOccurred, this, &SshCommand::onErrorOccurred);
    connect(m_process, &QProcess::started, this, &SshCommand::started);
}

SshCommand::~SshCommand()
{
    if (m_process->state() != QProcess::NotRunning) {
        m_process->disconnect(this);
        // A local ssh client dies at once on SIGKILL; this only reaps it.
        m_process->kill();
        m_process->waitForFinished(1000);
    }
}

void SshCommand::start(const QProcessEnvironment &environment)
{
    m_process->setProcessEnvironment(environment);
    m_process->start(QIODevice::ReadWrite);
    if (m_mode == Mode::Capture) {
        if (!m_options.input.isEmpty())
            m_process->write(m_options.input);
        m_process->closeWriteChannel();
    }
}

void SshCommand::cancel()
{
    if (m_finished)
        return;
    m_cancelled = true;
    if (m_process->state() != QProcess::NotRunning)
        m_process->kill();
    else
        finish(fail(ErrorCode::Cancelled, "cancelled before it started"));
}

bool SshCommand::write(const QByteArray &data)
{
    if (m_finished || m_process->state() == QProcess::NotRunning)
        return false;
    return m_process->write(data) == data.size();
}

void SshCommand::closeWrite()
{
    m_process->closeWriteChannel();
}

QByteArray SshCommand::readAllStandardOutput()
{
    if (m_mode == Mode::Stream)
        return m_process->readAllStandardOutput();
    return {};
}

void SshCommand::collect(QProcess::ProcessChannel channel)
{
    if (channel == QProcess::StandardOutput) {
        if (m_mode == Mode::Stream) {
            Q_EMIT readyReadStandardOutput();
            return;
        }
        m_stdout += m_process->readAllStandardOutput();
        if (m_stdout.size() > m_options.outputLimit && !m_overflow) {
            m_overflow = true;
            m_process->kill();
        }
    } else {
        m_stderr += m_process->readAllStandardError();
        if (m_stderr.size() > 2 * kStderrKeep)
            m_stderr = m_stderr.right(kStderrKeep);
    }
}

void SshCommand::onErrorOccurred(QProcess::ProcessError error)
{
    if (error == QProcess::FailedToStart)
        finish(fail(ErrorCode::NotFound, QStringLiteral("cannot start %1: %2")
                                             .arg(m_process->program(), m_process->errorString())
                                             .toStdString()));
}

void SshCommand::onFinished(int exitCode, QProcess::ExitStatus status)
{
    collect(QProcess::StandardError);
    if (m_mode == Mode::Capture)
        m_stdout += m_process->readAllStandardOutput();
    if (m_cancelled)
        return finish(
            fail(ErrorCode::Cancelled,
                 QStringLiteral("command on %1 cancelled").arg(m_destination).toStdString()));
    if (m_overflow)
        return finish(
            fail(ErrorCode::InvalidData, QStringLiteral("command on %1 wrote more than %2 bytes")
                                             .arg(m_destination)
                                             .arg(m_options.outputLimit)
                                             .toStdString()));
    if (status == QProcess::CrashExit)
        return finish(fail(
            ErrorCode::Unreachable,
            QStringLiteral("the ssh client for %1 was killed").arg(m_destination).toStdString()));
    finish(interpret(exitCode, m_stdout, m_stderr, m_usedRunAs, m_destination));
}

void SshCommand::finish(Result<Output> result)
{
    if (m_finished)
        return;
    m_finished = true;
    m_result = std::move(result);
    m_stdout.clear();
    m_stderr.clear();
    Q_EMIT finished();
}

Result<SshCommand::Output> SshCommand::interpret(int exitCode, QByteArray standardOutput,
                                                 QByteArray standardError, bool usedRunAs,
                                                 const QString &destination)
{
    if (exitCode == 255)
        return fail(SshFailure::diagnose(QString::fromUtf8(standardError), destination).error);
    if (usedRunAs && exitCode == 127 &&
        (standardError.contains("sudo: not found") ||
         standardError.contains("sudo: command not found") ||
         standardError.contains("runuser: not found")))
        return fail(ErrorCode::Unsupported,
                    QStringLiteral("%1 has no sudo: log in as root or as the target user")
                        .arg(destination)
                        .toStdString());
    if (usedRunAs && exitCode != 0 && isRunAsRefusal(standardError))
        return fail(ErrorCode::AccessDenied,
                    QStringLiteral("%1 does not allow running the command as another user "
                                   "without a password: %2")
                        .arg(destination, QString::fromUtf8(standardError.trimmed()))
                        .toStdString());
    return Output{exitCode, std::move(standardOutput), std::move(standardError)};
}

} // namespace mm::remote
