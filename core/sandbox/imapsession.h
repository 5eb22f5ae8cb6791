#pragma once

#include "common/result.h"
#include "sandbox/loopbackclient.h"

#include <QByteArray>
#include <QList>
#include <QString>


namespace mm::sandbox {

// One blocking IMAP session with a sandbox node's Dovecot on 127.0.0.1: just what the demo's
// traffic needs (log in, select, search by Message-ID, store flags, list Message-IDs). Blocking:
// never use it on a GUI thread.
class ImapSession
{
public:
    struct MessageId
    {
        quint32 uid = 0;
        QByteArray messageId; // as in the header, with its angle brackets
    };

    // Connects, reads the greeting and logs in. user/password must not contain '"'.
    static Result<ImapSession> login(quint16 port, const QString &user, const QString &password,
                                     int timeoutMs = 10000);

    // SELECT: Dovecot syncs the folder (a stock one moves what is in new/ to cur/).
    Status select(const QByteArray &mailbox);
    // The UIDs of the messages whose Message-ID header contains text.
    Result<QList<quint32>> searchMessageId(const QByteArray &text);
    Status addFlags(quint32 uid, const QByteArray &flags);
    // Every message of the selected folder with its Message-ID.
    Result<QList<MessageId>> messageIds();
    void logout();

private:
    explicit ImapSession(LoopbackClient client, int timeoutMs)
        : m_client(std::move(client))
        , m_timeoutMs(timeoutMs)
    {
    }
    // Sends one command; returns the untagged lines before the tagged OK (a literal's bytes are
    // appended to the line that announced it).
    Result<QList<QByteArray>> command(const QByteArray &text);
    Result<QByteArray> readResponse();

    LoopbackClient m_client;
    int m_timeoutMs = 10000;
    int m_tag = 0;
};

} // namespace mm::sandbox
