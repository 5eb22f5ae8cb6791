#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QObject>
#include <QProcess>
#include <QStringList>

namespace mm::remote {

// One ssh client process multiplexed over a session's master: a remote command, or a control
// request (-O forward/cancel). Made by SshSession; the caller owns it once finished() fired and
// deletes it with deleteLater(). In capture mode stdout/stderr are collected; in stream mode
// stdout is handed over as it arrives (the agent's JSON lines) and stdin stays open for write().
class SshCommand : public QObject
{
    Q_OBJECT

public:
    enum class Mode
    {
        Capture,
        Stream
    };

    struct Output
    {
        int exitCode = 0;
        QByteArray standardOutput;
        QByteArray standardError;
    };

    struct Options
    {
        QString runAs;    // remote user to run as (sudo -n -u, or runuser when logged in as root)
        QByteArray input; // written to the command's stdin, then stdin is closed (capture mode)
        qint64 outputLimit = 64 * 1024 * 1024; // a runaway command cannot exhaust our memory
    };

    ~SshCommand() override;

    // Kills the local ssh client; the remote command sees its stdin close. Idempotent.
    void cancel();
    bool isFinished() const { return m_finished; }
    // Valid once finished() was emitted. A non-zero exit code is not an error by itself.
    const Result<Output> &result() const { return m_result; }

    // Stream mode.
    bool write(const QByteArray &data);
    void closeWrite();
    QByteArray readAllStandardOutput();

    // How a finished ssh client is read: 255 is ssh's own failure, sudo/runuser refusals are
    // access errors. Exposed for tests on recorded outputs.
    static Result<Output> interpret(int exitCode, QByteArray standardOutput,
                                    QByteArray standardError, bool usedRunAs,
                                    const QString &destination);

Q_SIGNALS:
    void started();
    void readyReadStandardOutput();
    void finished();

private:
    friend class SshSession;
    SshCommand(const QString &program, const QStringList &arguments, Mode mode, Options options,
               QString destination, bool usedRunAs, QObject *parent);
    void start(const QProcessEnvironment &environment);
    void finish(Result<Output> result);
    void onFinished(int exitCode, QProcess::ExitStatus status);
    void onErrorOccurred(QProcess::ProcessError error);
    void collect(QProcess::ProcessChannel channel);

    QProcess *m_process;
    Mode m_mode;
    Options m_options;
    QString m_destination;
    bool m_usedRunAs;
    bool m_finished = false;
    bool m_cancelled = false;
    bool m_overflow = false;
    QByteArray m_stdout;
    QByteArray m_stderr;
    Result<Output> m_result;
};

} // namespace mm::remote
