#pragma once

// A minimal IMAP4rev1 client for the Dovecot tests and benchmarks: enough to log in, select,
// list, fetch UID/FLAGS/Message-ID, store, copy, expunge and append. Blocking calls (waitFor*)
// are fine here: this is test code (docs/conventions.md, "Asynchronous code, blocking tests").
// One client per thread.

#include <QByteArray>
#include <QList>
#include <QRegularExpression>
#include <QStringList>
#include <QSslCertificate>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>

#include <memory>
#include <utility>

namespace mm::test {

// Literals in responses are read whole.
class ImapClient
{
public:
    struct Message
    {
        quint32 uid = 0;
        QStringList flags;
        QByteArray messageId;
    };

    bool login(quint16 port, const QByteArray &user, const QByteArray &password = "secret")
    {
        m_socket = std::make_unique<QTcpSocket>();
        m_socket->connectToHost(QStringLiteral("127.0.0.1"), port);
        if (!m_socket->waitForConnected(10000))
            return false;
        return greetedAndLoggedIn(user, password);
    }

    // The same over TLS (IMAPS on a lab node), the server's certificate verified for peerName
    // against caFile.
    bool loginTls(const QString &host, const QString &peerName, const QString &caFile, quint16 port,
                  const QByteArray &user, const QByteArray &password)
    {
        auto socket = std::make_unique<QSslSocket>();
        QSslConfiguration configuration = QSslConfiguration::defaultConfiguration();
        configuration.setCaCertificates(QSslCertificate::fromPath(caFile));
        configuration.setPeerVerifyMode(QSslSocket::VerifyPeer);
        socket->setSslConfiguration(configuration);
        socket->connectToHostEncrypted(host, port, peerName);
        if (!socket->waitForEncrypted(15000))
            return false;
        m_socket = std::move(socket);
        return greetedAndLoggedIn(user, password);
    }

    void logout()
    {
        if (m_socket && m_socket->state() == QAbstractSocket::ConnectedState) {
            command("LOGOUT");
            m_socket->disconnectFromHost();
        }
        m_socket.reset();
    }

    ~ImapClient() { logout(); }

    // False once the server closed the session (BYE, e.g. the selected mailbox was deleted), or
    // once a command went unanswered (see setAnswerTimeout()).
    bool isConnected() const { return m_socket && m_socket->state() == QAbstractSocket::ConnectedState; }

    // How long to wait for each line of an answer. A command still unanswered then is given up:
    // the session is closed, since its late answer would land on the next command's tag, and
    // lastCommandTimedOut() says so. The server may still carry the command out afterwards, so
    // its outcome is unknown rather than refused. Dovecot's own lock waits end after 60 s or so.
    void setAnswerTimeout(int milliseconds) { m_answerTimeoutMs = milliseconds; }
    bool lastCommandTimedOut() const { return m_timedOut; }

    // Sends one command, collects untagged responses; true on a tagged OK.
    bool command(const QByteArray &cmd, QList<QByteArray> *untagged = nullptr)
    {
        if (!m_socket)
            return false;
        const QByteArray tag = "a" + QByteArray::number(++m_tag);
        m_socket->write(tag + " " + cmd + "\r\n");
        return readUntilTagged(tag, untagged);
    }

    bool append(const QByteArray &mailbox, const QByteArray &message, const QByteArray &flags = {})
    {
        if (!m_socket)
            return false;
        const QByteArray tag = "a" + QByteArray::number(++m_tag);
        // LITERAL+ (Dovecot announces it) saves the continuation round trip.
        m_socket->write(tag + " APPEND " + mailbox + " (" + flags + ") {" +
                        QByteArray::number(message.size()) + "+}\r\n" + message + "\r\n");
        return readUntilTagged(tag, nullptr);
    }

    bool select(const QByteArray &mailbox)
    {
        QList<QByteArray> lines;
        const bool ok = command("SELECT " + mailbox, &lines);
        static const QRegularExpression re(QStringLiteral("\\[UIDVALIDITY (\\d+)\\]"));
        for (const QByteArray &l : std::as_const(lines)) {
            const auto m = re.match(QString::fromLatin1(l));
            if (m.hasMatch())
                m_uidValidity = m.captured(1).toUInt();
        }
        return ok;
    }

    // From the last SELECT.
    quint32 uidValidity() const { return m_uidValidity; }

    // "[APPENDUID <uidvalidity> <uid>]" of the last APPEND (UIDPLUS), 0 when absent.
    std::pair<quint32, quint32> lastAppendUid() const
    {
        static const QRegularExpression re(QStringLiteral("\\[APPENDUID (\\d+) (\\d+)\\]"));
        const auto m = re.match(QString::fromLatin1(m_lastStatus));
        return m.hasMatch()
                   ? std::pair<quint32, quint32>{m.captured(1).toUInt(), m.captured(2).toUInt()}
                   : std::pair<quint32, quint32>{0, 0};
    }

    QList<Message> fetchAll(const QByteArray &mailbox, bool *ok = nullptr)
    {
        QList<Message> out;
        QList<QByteArray> lines;
        bool good =
            select(mailbox) &&
            command("UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])", &lines);
        static const QRegularExpression uidRe(QStringLiteral("UID (\\d+)"));
        static const QRegularExpression flagsRe(QStringLiteral("FLAGS \\(([^)]*)\\)"));
        static const QRegularExpression idRe(QStringLiteral("Message-ID:\\s*(<[^>]*>)"),
                                             QRegularExpression::CaseInsensitiveOption);
        for (const QByteArray &l : std::as_const(lines)) {
            const QString s = QString::fromLatin1(l);
            if (!s.contains(QStringLiteral(" FETCH ")))
                continue;
            Message m;
            m.uid = uidRe.match(s).captured(1).toUInt();
            m.flags = flagsRe.match(s).captured(1).split(QLatin1Char(' '), Qt::SkipEmptyParts);
            m.flags.removeAll(QStringLiteral("\\Recent"));
            m.flags.sort();
            m.messageId = idRe.match(s).captured(1).toLatin1();
            out.append(m);
        }
        if (ok)
            *ok = good;
        return out;
    }

    QStringList listMailboxes()
    {
        QList<QByteArray> lines;
        QStringList names;
        if (!command("LIST \"\" \"*\"", &lines))
            return names;
        for (const QByteArray &l : std::as_const(lines)) {
            if (!l.startsWith("* LIST"))
                continue;
            QByteArray name = l.trimmed().mid(l.lastIndexOf(' ') + 1);
            if (name.startsWith('"'))
                name = name.mid(1, name.size() - 2);
            names.append(QString::fromUtf8(name));
        }
        names.sort();
        return names;
    }

    // LSUB "" "*": the subscribed mailboxes, sorted.
    QStringList listSubscribed(bool *ok = nullptr)
    {
        QList<QByteArray> lines;
        QStringList names;
        const bool good = command("LSUB \"\" \"*\"", &lines);
        for (const QByteArray &l : std::as_const(lines)) {
            if (!l.startsWith("* LSUB"))
                continue;
            QByteArray name = l.trimmed().mid(l.trimmed().lastIndexOf(' ') + 1);
            if (name.startsWith('"'))
                name = name.mid(1, name.size() - 2);
            names.append(QString::fromUtf8(name));
        }
        names.sort();
        if (ok)
            *ok = good;
        return names;
    }

    QByteArray lastStatus() const { return m_lastStatus; }

private:
    bool greetedAndLoggedIn(const QByteArray &user, const QByteArray &password)
    {
        if (!readResponseLine().startsWith("* OK"))
            return false;
        return command("LOGIN \"" + user + "\" \"" + password + "\"");
    }

    QByteArray readResponseLine()
    {
        QByteArray line;
        for (;;) {
            while (!m_socket->canReadLine()) {
                if (!m_socket->waitForReadyRead(m_answerTimeoutMs))
                    return givenUp();
            }
            QByteArray part = m_socket->readLine();
            line += part;
            static const QRegularExpression literalRe(QStringLiteral("\\{(\\d+)\\}\\r\\n$"));
            const auto m = literalRe.match(QString::fromLatin1(part));
            if (!m.hasMatch())
                return line;
            qint64 need = m.captured(1).toLongLong();
            while (need > 0) {
                if (m_socket->bytesAvailable() == 0 && !m_socket->waitForReadyRead(m_answerTimeoutMs))
                    return givenUp();
                const QByteArray chunk = m_socket->read(need);
                need -= chunk.size();
                line += chunk;
            }
        }
    }

    // An empty line (the caller's "no answer"); a session still open after a timeout is closed.
    QByteArray givenUp()
    {
        if (m_socket->state() == QAbstractSocket::ConnectedState) {
            m_timedOut = true;
            m_socket->abort();
        }
        return {};
    }

    bool readUntilTagged(const QByteArray &tag, QList<QByteArray> *untagged)
    {
        m_timedOut = false;
        for (;;) {
            const QByteArray line = readResponseLine();
            if (line.isEmpty())
                return false;
            if (line.startsWith(tag + " ")) {
                m_lastStatus = line.trimmed();
                return line.mid(tag.size() + 1).startsWith("OK");
            }
            if (untagged)
                untagged->append(line);
        }
    }

    std::unique_ptr<QTcpSocket> m_socket;
    int m_tag = 0;
    int m_answerTimeoutMs = 20000;
    bool m_timedOut = false;
    quint32 m_uidValidity = 0;
    QByteArray m_lastStatus;
};

// A small RFC 5322 message whose Message-ID is <id@mailmesh.test>.
inline QByteArray makeMessage(const QByteArray &id, const QByteArray &body = "hello")
{
    return "From: sender@mailmesh.test\r\nTo: alice@mailmesh.test\r\nSubject: " + id +
           "\r\nMessage-ID: <" + id +
           "@mailmesh.test>\r\n"
           "Date: Sat, 28 Nov 2026 12:00:00 +0000\r\n\r\n" +
           body + "\r\n";
}

} // namespace mm::test
