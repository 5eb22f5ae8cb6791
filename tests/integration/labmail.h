#pragma once

// Mail on lab nodes as a user's client sees it: a message handed to Postfix over SMTP, and the
// mailbox read over IMAPS, checking the node's certificate against the lab's CA. Blocking calls
// are fine here: this is test code (docs/conventions.md, "Asynchronous code, blocking tests").
// Run it from a thread that is on the lab's network (Lab::enterAdminNetwork).

#include <QByteArray>
#include <QElapsedTimer>
#include <QFile>
#include <QRegularExpression>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QStringList>
#include <QTcpSocket>

#include <memory>

namespace mm::test {

// A message whose Message-ID is <id@lab.test>.
inline QByteArray labMessage(const QByteArray &id, const QByteArray &to = "alice@lab.test")
{
    return "From: admin@lab.test\r\nTo: " + to + "\r\nSubject: " + id + "\r\nMessage-ID: <" + id +
           "@lab.test>\r\nDate: Sat, 05 Dec 2026 12:00:00 +0000\r\n\r\nhello from the lab\r\n";
}

// One SMTP transaction, without TLS (the lab's Postfix offers none on 25). Empty on success,
// else what went wrong and the server's last line.
inline QString sendSmtp(const QString &host, const QByteArray &from, const QList<QByteArray> &to,
                        const QByteArray &message, quint16 port = 25)
{
    QTcpSocket socket;
    socket.connectToHost(host, port);
    if (!socket.waitForConnected(10'000))
        return QStringLiteral("cannot connect to %1:%2: %3")
            .arg(host)
            .arg(port)
            .arg(socket.errorString());
    // Reads one reply (its last line has a space after the code) and checks its class.
    const auto expect = [&socket](char klass) -> QString {
        QByteArray line;
        do {
            while (!socket.canReadLine())
                if (!socket.waitForReadyRead(15'000))
                    return QStringLiteral("no SMTP reply");
            line = socket.readLine();
        } while (line.size() > 3 && line[3] == '-');
        return line.startsWith(klass) ? QString() : QString::fromLatin1(line.trimmed());
    };
    QString problem = expect('2');
    const auto send = [&](const QByteArray &command, char klass) {
        if (problem.isEmpty()) {
            socket.write(command + "\r\n");
            problem = expect(klass);
            if (!problem.isEmpty())
                problem = QString::fromLatin1(command) + QStringLiteral(": ") + problem;
        }
    };
    send("EHLO admin.lab.test", '2');
    send("MAIL FROM:<" + from + ">", '2');
    for (const QByteArray &recipient : to)
        send("RCPT TO:<" + recipient + ">", '2');
    send("DATA", '3');
    QByteArray body = message;
    body.replace("\r\n.", "\r\n..");
    send(body + (body.endsWith("\r\n") ? "" : "\r\n") + ".", '2');
    send("QUIT", '2');
    return problem;
}

class ImapsClient
{
public:
    // Connects with TLS on port (993), verifying the node's certificate for peerName against
    // caFile, and logs in. Empty on success, else why not.
    QString login(const QString &host, const QString &peerName, const QString &caFile,
                  const QByteArray &user, const QByteArray &password, quint16 port = 993)
    {
        m_socket = std::make_unique<QSslSocket>();
        QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
        configuration.setCaCertificates(QSslCertificate::fromPath(caFile));
        configuration.setPeerVerifyMode(QSslSocket::VerifyPeer);
        m_socket->setSslConfiguration(configuration);
        m_socket->connectToHostEncrypted(host, port, peerName);
        if (!m_socket->waitForEncrypted(15'000)) {
            QStringList errors;
            for (const QSslError &error : m_socket->sslHandshakeErrors())
                errors << error.errorString();
            return QStringLiteral("no TLS session with %1:%2: %3 %4")
                .arg(host)
                .arg(port)
                .arg(m_socket->errorString(), errors.join(QStringLiteral("; ")));
        }
        if (!readLine().startsWith("* OK"))
            return QStringLiteral("no IMAP greeting");
        QByteArray response;
        if (!command("LOGIN " + user + " \"" + password + "\"", &response))
            return QStringLiteral("LOGIN refused: ") +
                   QString::fromLatin1(response.trimmed().right(200));
        return {};
    }

    // Sends one command; true on a tagged OK. response gets everything the server said.
    bool command(const QByteArray &text, QByteArray *response = nullptr)
    {
        if (!m_socket)
            return false;
        const QByteArray tag = "a" + QByteArray::number(++m_tag);
        m_socket->write(tag + " " + text + "\r\n");
        QByteArray all;
        for (;;) {
            const QByteArray line = readLine();
            if (line.isEmpty())
                break;
            all += line;
            if (line.startsWith(tag + " ")) {
                if (response)
                    *response = all;
                return line.mid(tag.size() + 1).startsWith("OK");
            }
        }
        if (response)
            *response = all;
        return false;
    }

    // The Message-IDs in the mailbox (read-only: nothing is marked seen). ok: the commands
    // succeeded.
    QStringList messageIds(const QByteArray &mailbox = "INBOX", bool *ok = nullptr)
    {
        QByteArray response;
        const bool good =
            command("EXAMINE " + mailbox) &&
            command("UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])", &response);
        if (ok)
            *ok = good;
        QStringList ids;
        static const QRegularExpression idPattern(QStringLiteral("Message-ID:\\s*<([^>]*)>"),
                                                  QRegularExpression::CaseInsensitiveOption);
        for (auto it = idPattern.globalMatch(QString::fromLatin1(response)); it.hasNext();)
            ids << it.next().captured(1);
        return ids;
    }

    // Whether a message with this Message-ID is in the mailbox now (a fresh EXAMINE: Dovecot
    // looks at the Maildir again).
    bool contains(const QByteArray &messageId, const QByteArray &mailbox = "INBOX")
    {
        QByteArray response;
        return command("EXAMINE " + mailbox) &&
               command("UID SEARCH HEADER Message-ID \"" + messageId + "\"", &response) &&
               QRegularExpression(QStringLiteral("\\* SEARCH \\d"))
                   .match(QString::fromLatin1(response))
                   .hasMatch();
    }

    void logout()
    {
        if (m_socket && m_socket->state() == QAbstractSocket::ConnectedState)
            command("LOGOUT");
        m_socket.reset();
    }

    ~ImapsClient() { logout(); }

private:
    // One response line, literals included whole.
    QByteArray readLine()
    {
        QByteArray line;
        for (;;) {
            while (!m_socket->canReadLine())
                if (!m_socket->waitForReadyRead(20'000))
                    return line;
            const QByteArray part = m_socket->readLine();
            line += part;
            static const QRegularExpression literal(QStringLiteral("\\{(\\d+)\\}\\r\\n$"));
            const QRegularExpressionMatch match = literal.match(QString::fromLatin1(part));
            if (!match.hasMatch())
                return line;
            for (qint64 need = match.captured(1).toLongLong(); need > 0;) {
                if (m_socket->bytesAvailable() == 0 && !m_socket->waitForReadyRead(20'000))
                    return line;
                const QByteArray chunk = m_socket->read(need);
                need -= chunk.size();
                line += chunk;
            }
        }
    }

    std::unique_ptr<QSslSocket> m_socket;
    int m_tag = 0;
};

} // namespace mm::test
