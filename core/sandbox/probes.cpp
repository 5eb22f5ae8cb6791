#include "sandbox/probes.h"

#include "sandbox/loopbackclient.h"

#include <QDeadlineTimer>

namespace mm::sandbox {

namespace {

int remaining(const QDeadlineTimer &deadline)
{
    return int(qMax<qint64>(0, deadline.remainingTime()));
}

// Reads lines until the one tagged `tag`; returns everything read, fails unless it says OK.
Result<QByteArray> imapAwait(LoopbackClient &client, const QByteArray &tag,
                             const QDeadlineTimer &deadline, QByteArray &transcript)
{
    for (;;) {
        Result<QByteArray> line = client.readLine(remaining(deadline));
        if (!line)
            return fail(line.error());
        transcript += *line;
        if (line->startsWith(tag + ' ')) {
            if (line->startsWith(tag + " OK"))
                return *line;
            return fail(ErrorCode::AccessDenied, "IMAP " + line->trimmed().toStdString());
        }
    }
}

} // namespace

Result<HttpReply> httpGet(quint16 port, const QByteArray &path,
                          const QList<QPair<QByteArray, QByteArray>> &headers, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    Result<LoopbackClient> client = LoopbackClient::connect(port, timeoutMs);
    if (!client)
        return fail(client.error());
    QByteArray request = "GET " + path +
                         " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port) +
                         "\r\nConnection: close\r\n";
    for (const auto &[name, value] : headers)
        request += name + ": " + value + "\r\n";
    request += "\r\n";
    if (Status sent = client->send(request, remaining(deadline)); !sent)
        return fail(sent.error());
    Result<QByteArray> raw = client->readToEnd(remaining(deadline));
    if (!raw)
        return fail(raw.error());
    const qsizetype headerEnd = raw->indexOf("\r\n\r\n");
    const QList<QByteArray> statusLine = raw->left(raw->indexOf("\r\n")).split(' ');
    if (headerEnd < 0 || statusLine.size() < 2 || !statusLine[0].startsWith("HTTP/1."))
        return fail(ErrorCode::InvalidData, "not an HTTP reply");
    HttpReply reply;
    reply.status = statusLine[1].toInt();
    reply.body = raw->mid(headerEnd + 4);
    // Syncthing answers small bodies; undo chunked encoding if it used it anyway.
    if (raw->left(headerEnd).toLower().contains("transfer-encoding: chunked")) {
        QByteArray body;
        qsizetype at = 0;
        const QByteArray &chunked = reply.body;
        for (;;) {
            const qsizetype lineEnd = chunked.indexOf("\r\n", at);
            if (lineEnd < 0)
                break;
            bool ok = false;
            const qsizetype size = chunked.mid(at, lineEnd - at).trimmed().toLongLong(&ok, 16);
            if (!ok || size <= 0)
                break;
            body += chunked.mid(lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
        reply.body = body;
    }
    return reply;
}

Result<QByteArray> sshBanner(quint16 port, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    Result<LoopbackClient> client = LoopbackClient::connect(port, timeoutMs);
    if (!client)
        return fail(client.error());
    Result<QByteArray> line = client->readLine(remaining(deadline));
    if (!line)
        return fail(line.error());
    if (!line->startsWith("SSH-"))
        return fail(ErrorCode::InvalidData, "not an SSH banner: " + line->trimmed().toStdString());
    return line->trimmed();
}

Result<QByteArray> imapGreeting(quint16 port, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    Result<LoopbackClient> client = LoopbackClient::connect(port, timeoutMs);
    if (!client)
        return fail(client.error());
    Result<QByteArray> line = client->readLine(remaining(deadline));
    if (!line)
        return fail(line.error());
    if (!line->startsWith("* OK"))
        return fail(ErrorCode::InvalidData,
                    "not an IMAP greeting: " + line->trimmed().toStdString());
    return line->trimmed();
}

Result<QByteArray> imapLoginSelect(quint16 port, const QString &user, const QString &password,
                                   const QString &mailbox, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    Result<LoopbackClient> client = LoopbackClient::connect(port, timeoutMs);
    if (!client)
        return fail(client.error());
    QByteArray transcript;
    Result<QByteArray> greeting = client->readLine(remaining(deadline));
    if (!greeting)
        return fail(greeting.error());
    transcript += *greeting;
    if (!greeting->startsWith("* OK"))
        return fail(ErrorCode::InvalidData,
                    "not an IMAP greeting: " + greeting->trimmed().toStdString());

    const auto step = [&](const QByteArray &tag, const QByteArray &command) -> Status {
        if (Status sent = client->send(tag + ' ' + command + "\r\n", remaining(deadline)); !sent)
            return fail(sent.error());
        if (Result<QByteArray> done = imapAwait(*client, tag, deadline, transcript); !done)
            return fail(done.error());
        return {};
    };
    if (Status s = step("a1", "LOGIN \"" + user.toUtf8() + "\" \"" + password.toUtf8() + '"'); !s)
        return fail(s.error());
    if (Status s = step("a2", "SELECT \"" + mailbox.toUtf8() + '"'); !s)
        return fail(s.error());
    if (Status s = step("a3", "LOGOUT"); !s)
        return fail(s.error());
    return transcript;
}

} // namespace mm::sandbox
