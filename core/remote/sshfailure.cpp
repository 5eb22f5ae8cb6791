#include "remote/sshfailure.h"

#include <QRegularExpression>
#include <QStringList>

namespace mm::remote {

namespace {

// The last line ssh wrote that is not one of its banner decorations: usually the reason.
QString lastMeaningfulLine(const QString &text)
{
    const QStringList lines = text.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    for (auto it = lines.crbegin(); it != lines.crend(); ++it) {
        const QString line = it->trimmed();
        if (!line.isEmpty() && !line.startsWith(QLatin1Char('@')))
            return line;
    }
    return {};
}

} // namespace

SshFailure SshFailure::diagnose(const QString &standardError, const QString &destination)
{
    SshFailure failure;
    const auto set = [&](ErrorCode code, const QString &message) {
        failure.error = Error{code, message.toStdString(), {}};
    };
    const auto has = [&](const char *needle) {
        return standardError.contains(QLatin1String(needle), Qt::CaseInsensitive);
    };

    if (has("REMOTE HOST IDENTIFICATION HAS CHANGED") ||
        has("has changed and you have requested")) {
        static const QRegularExpression offered(
            QStringLiteral("key sent by the remote host is\\s*\\n?\\s*(SHA256:[A-Za-z0-9+/]+)"));
        static const QRegularExpression offending(
            QStringLiteral("Offending \\S+ key in (.+):(\\d+)\\s*$"),
            QRegularExpression::MultilineOption);
        if (const auto m = offered.match(standardError); m.hasMatch())
            failure.offeredFingerprint = m.captured(1);
        if (const auto m = offending.match(standardError); m.hasMatch()) {
            failure.offendingFile = m.captured(1);
            failure.offendingLine = m.captured(2).toInt();
        }
        set(ErrorCode::ChangedHostKey,
            QStringLiteral("the host key of %1 has changed (offered %2); connection refused")
                .arg(destination, failure.offeredFingerprint.isEmpty()
                                      ? QStringLiteral("an unknown key")
                                      : failure.offeredFingerprint));
    } else if (has("host key is known for") || has("Host key verification failed")) {
        set(ErrorCode::UnknownHostKey,
            QStringLiteral("the host key of %1 is not known yet").arg(destination));
    } else if (has("Permission denied (") || has("Too many authentication failures") ||
               has("No more authentication methods")) {
        set(ErrorCode::AccessDenied,
            QStringLiteral("%1 refused the login (%2). Load the key into ssh-agent, or configure "
                           "an askpass helper when the key has a passphrase")
                .arg(destination, lastMeaningfulLine(standardError)));
    } else if (has("Connection timed out") || has("Operation timed out") ||
               has("Connection timed out during banner exchange")) {
        set(ErrorCode::Timeout, QStringLiteral("%1 did not answer in time: %2")
                                    .arg(destination, lastMeaningfulLine(standardError)));
    } else if (has("Could not resolve hostname") || has("Connection refused") ||
               has("No route to host") || has("Network is unreachable") ||
               has("Connection closed by") || has("Connection reset") ||
               has("kex_exchange_identification") || has("Broken pipe")) {
        set(ErrorCode::Unreachable, QStringLiteral("cannot reach %1: %2")
                                        .arg(destination, lastMeaningfulLine(standardError)));
    } else if (has("Bad configuration option") || has("Bad owner or permissions") ||
               has("Unsupported option") || has("command-line line") || has("bad port")) {
        set(ErrorCode::BadRequest, QStringLiteral("ssh refused its configuration for %1: %2")
                                       .arg(destination, lastMeaningfulLine(standardError)));
    } else {
        const QString reason = lastMeaningfulLine(standardError);
        set(ErrorCode::Unreachable,
            QStringLiteral("ssh to %1 failed: %2")
                .arg(destination, reason.isEmpty() ? QStringLiteral("no message") : reason));
    }
    return failure;
}

} // namespace mm::remote
