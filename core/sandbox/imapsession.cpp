#include "sandbox/imapsession.h"

#include <QRegularExpression>

namespace mm::sandbox {

namespace {

// "{42}\r\n" at the end of a line announces 42 bytes of literal data.
qsizetype literalSize(const QByteArray &line)
{
    static const QRegularExpression announced(QStringLiteral("\\{(\\d+)\\}\\r?\\n$"));
    const QRegularExpressionMatch match = announced.match(QString::fromLatin1(line));
    return match.hasMatch() ? match.captured(1).toLongLong() : -1;
}

} // namespace

Result<ImapSession> ImapSession::login(quint16 port, const QString &user, const QString &password, int timeoutMs)
{
    Result<LoopbackClient> client = LoopbackClient::connect(port, timeoutMs);
    if (!client)
        return fail(client.error());
    ImapSession session(std::move(*client), timeoutMs);
    Result<QByteArray> greeting = session.m_client.readLine(timeoutMs);
    if (!greeting)
        return fail(greeting.error());
    if (!greeting->startsWith("* OK"))
        return fail(ErrorCode::InvalidData, "not an IMAP greeting: " + greeting->trimmed().toStdString());
    if (auto loggedIn = session.command("LOGIN \"" + user.toUtf8() + "\" \"" + password.toUtf8() + '"'); !loggedIn)
        return fail(loggedIn.error());
    return session;
}

Status ImapSession::select(const QByteArray &mailbox)
{
    if (auto selected = command("SELECT \"" + mailbox + '"'); !selected)
        return fail(selected.error());
    return {};
}

Result<QList<quint32>> ImapSession::searchMessageId(const QByteArray &text)
{
    auto lines = command("UID SEARCH HEADER Message-ID \"" + text + '"');
    if (!lines)
        return fail(lines.error());
    QList<quint32> uids;
    for (const QByteArray &line : *lines) {
        if (!line.startsWith("* SEARCH"))
            continue;
        for (const QByteArray &word : line.mid(8).simplified().split(' '))
            if (const quint32 uid = word.toUInt(); uid > 0)
                uids << uid;
    }
    return uids;
}

Status ImapSession::addFlags(quint32 uid, const QByteArray &flags)
{
    if (auto stored = command("UID STORE " + QByteArray::number(uid) + " +FLAGS.SILENT (" + flags + ')'); !stored)
        return fail(stored.error());
    return {};
}

Result<QList<ImapSession::MessageId>> ImapSession::messageIds()
{
    auto lines = command("UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])");
    if (!lines)
        return fail(lines.error());
    static const QRegularExpression uidPattern(QStringLiteral("UID (\\d+)"));
    static const QRegularExpression idPattern(QStringLiteral("Message-ID:\\s*(<[^>]*>)"),
                                              QRegularExpression::CaseInsensitiveOption);
    QList<MessageId> messages;
    for (const QByteArray &line : *lines) {
        const QString text = QString::fromLatin1(line);
        if (!text.contains(QLatin1String(" FETCH ")))
            continue;
        messages << MessageId{uidPattern.match(text).captured(1).toUInt(),
                              idPattern.match(text).captured(1).toLatin1()};
    }
    return messages;
}

void ImapSession::logout()
{
    (void)command("LOGOUT");
}

Result<QList<QByteArray>> ImapSession::command(const QByteArray &text)
{
    const QByteArray tag = 't' + QByteArray::number(++m_tag);
    if (Status sent = m_client.send(tag + ' ' + text + "\r\n", m_timeoutMs); !sent)
        return fail(sent.error());
    QList<QByteArray> untagged;
    for (;;) {
        Result<QByteArray> response = readResponse();
        if (!response)
            return fail(response.error());
        if (!response->startsWith(tag + ' ')) {
            untagged << *response;
            continue;
        }
        if (response->startsWith(tag + " OK"))
            return untagged;
        return fail(ErrorCode::Conflict, "IMAP " + text.left(text.indexOf(' ', 4)).toStdString() + ": "
                                             + response->trimmed().toStdString());
    }
}

Result<QByteArray> ImapSession::readResponse()
{
    Result<QByteArray> line = m_client.readLine(m_timeoutMs);
    if (!line)
        return fail(line.error());
    QByteArray response = *line;
    for (qsizetype size = literalSize(response); size >= 0; size = literalSize(response)) {
        QByteArray literal;
        while (literal.size() < size) {
            Result<QByteArray> more = m_client.readLine(m_timeoutMs);
            if (!more)
                return fail(more.error());
            literal += *more;
        }
        QByteArray rest = literal.mid(size);
        if (rest.isEmpty()) {
            Result<QByteArray> more = m_client.readLine(m_timeoutMs);
            if (!more)
                return fail(more.error());
            rest = *more;
        }
        response += literal.left(size) + rest;
    }
    return response;
}

} // namespace mm::sandbox
