#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

namespace mm::sandbox {

// Small blocking exchanges with a node's daemons on 127.0.0.1: the sandbox's readiness checks
// and helpers for tests. Blocking: never call them on a GUI thread.

struct HttpReply
{
    int status = 0;
    QByteArray body;
};

// HTTP/1.1 GET with "Connection: close"; enough for Syncthing's small REST answers.
Result<HttpReply> httpGet(quint16 port, const QByteArray &path,
                          const QList<QPair<QByteArray, QByteArray>> &headers, int timeoutMs);

// The identification line an sshd sends first ("SSH-2.0-...").
Result<QByteArray> sshBanner(quint16 port, int timeoutMs);

// The IMAP greeting line ("* OK ...").
Result<QByteArray> imapGreeting(quint16 port, int timeoutMs);

// LOGIN + SELECT mailbox + LOGOUT. Returns the whole transcript on success (both tagged
// answers OK), an error naming the failing step otherwise. user/password must not contain '"'.
Result<QByteArray> imapLoginSelect(quint16 port, const QString &user, const QString &password,
                                   const QString &mailbox = QStringLiteral("INBOX"),
                                   int timeoutMs = 10000);

} // namespace mm::sandbox
