#include "remote/localsockethttp.h"

#include <QFile>
#include <QSslConfiguration>
#include <QSslSocket>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace mm::remote {

namespace {

Error transportError(ErrorCode code, const QString &message)
{
    return Error{code, message.toStdString(), {}};
}

// The body of a "Transfer-Encoding: chunked" answer, or nothing when it is malformed.
std::optional<QByteArray> decodeChunked(const QByteArray &raw)
{
    QByteArray body;
    qsizetype at = 0;
    for (;;) {
        const qsizetype lineEnd = raw.indexOf("\r\n", at);
        if (lineEnd < 0)
            return std::nullopt;
        bool ok = false;
        const qint64 size = raw.mid(at, lineEnd - at).split(';').first().trimmed().toLongLong(&ok, 16);
        if (!ok || size < 0)
            return std::nullopt;
        at = lineEnd + 2;
        if (size == 0)
            return body;
        if (raw.size() < at + size + 2)
            return std::nullopt;
        body += raw.mid(at, size);
        at += size + 2;
    }
}

} // namespace

LocalSocketHttp::LocalSocketHttp(Request request, QObject *parent)
    : QObject(parent)
    , m_request(std::move(request))
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        finish(fail(transportError(ErrorCode::Timeout, QStringLiteral("no complete answer within %1 ms")
                                                           .arg(m_request.timeoutMs))));
    });
}

LocalSocketHttp::~LocalSocketHttp()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

void LocalSocketHttp::start(std::function<void(const Result<Response> &)> done)
{
    m_done = std::move(done);
    m_timer.start(m_request.timeoutMs);
    const QByteArray path = QFile::encodeName(m_request.socketPath);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.isEmpty() || std::size_t(path.size()) >= sizeof address.sun_path) {
        QTimer::singleShot(0, this, [this] {
            finish(fail(transportError(ErrorCode::BadRequest,
                                       QStringLiteral("socket path too long: %1").arg(m_request.socketPath))));
        });
        return;
    }
    std::memcpy(address.sun_path, path.constData(), std::size_t(path.size()));
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    // A local connect either succeeds or fails at once (EAGAIN: the listener's backlog is full).
    if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0) {
        const int error = errno;
        if (fd >= 0)
            ::close(fd);
        QTimer::singleShot(0, this, [this, error] {
            finish(fail(transportError(ErrorCode::Unreachable, QStringLiteral("cannot connect to %1: %2")
                                                                   .arg(m_request.socketPath,
                                                                        QString::fromLocal8Bit(std::strerror(error))))));
        });
        return;
    }
    // QSslSocket drives a connected Unix socket like a TCP one: plain, or TLS on top.
    m_socket = new QSslSocket(this);
    if (!m_socket->setSocketDescriptor(fd)) {
        ::close(fd);
        QTimer::singleShot(0, this, [this] {
            finish(fail(transportError(ErrorCode::IoError, m_socket->errorString())));
        });
        return;
    }
    connect(m_socket, &QSslSocket::readyRead, this, &LocalSocketHttp::onReadyRead);
    connect(m_socket, &QSslSocket::disconnected, this, &LocalSocketHttp::onClosed);
    connect(m_socket, &QSslSocket::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
        if (error == QAbstractSocket::RemoteHostClosedError)
            return onClosed();
        const ErrorCode code = error == QAbstractSocket::SslHandshakeFailedError ? ErrorCode::AccessDenied
                                                                                  : ErrorCode::Unreachable;
        finish(fail(transportError(code, m_socket->errorString())));
    });
    if (m_request.pinnedCertificate.isNull()) {
        sendRequest();
        return;
    }
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setCaCertificates({m_request.pinnedCertificate});
    // A resumed TLS session skips the certificate check: every connection verifies afresh.
    tls.setSslOption(QSsl::SslOptionDisableSessionTickets, true);
    tls.setSslOption(QSsl::SslOptionDisableSessionSharing, true);
    tls.setSslOption(QSsl::SslOptionDisableSessionPersistence, true);
    m_socket->setSslConfiguration(tls);
    // The node's certificate is self-signed for another name: accept exactly that certificate,
    // and only it. Anything else fails the handshake.
    connect(m_socket, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) {
        if (m_socket->peerCertificate() == m_request.pinnedCertificate)
            m_socket->ignoreSslErrors(errors);
    });
    connect(m_socket, &QSslSocket::encrypted, this, [this] {
        if (m_socket->peerCertificate() != m_request.pinnedCertificate)
            return finish(fail(transportError(ErrorCode::AccessDenied,
                                              QStringLiteral("the server's certificate is not the node's "
                                                             "https-cert.pem"))));
        sendRequest();
    });
    m_socket->startClientEncryption();
}

void LocalSocketHttp::sendRequest()
{
    QByteArray head = m_request.verb + ' ' + m_request.target + " HTTP/1.0\r\n";
    head += "Host: 127.0.0.1\r\nConnection: close\r\n";
    for (const auto &[name, value] : std::as_const(m_request.headers))
        head += name + ": " + value + "\r\n";
    if (!m_request.body.isEmpty() || m_request.verb != "GET")
        head += "Content-Length: " + QByteArray::number(m_request.body.size()) + "\r\n";
    head += "\r\n";
    m_socket->write(head + m_request.body);
}

void LocalSocketHttp::onReadyRead()
{
    m_received += m_socket->readAll();
    if (m_received.size() > m_request.maxResponseBytes)
        finish(fail(transportError(ErrorCode::InvalidData,
                                   QStringLiteral("the answer is larger than %1 bytes").arg(m_request.maxResponseBytes))));
}

void LocalSocketHttp::onClosed()
{
    if (m_finished)
        return;
    if (m_socket)
        m_received += m_socket->readAll();
    finish(parseResponse(m_received));
}

void LocalSocketHttp::abort()
{
    finish(fail(transportError(ErrorCode::Cancelled, QStringLiteral("cancelled"))));
}

void LocalSocketHttp::finish(Result<Response> result)
{
    if (m_finished)
        return;
    m_finished = true;
    m_timer.stop();
    // finish() often runs inside one of the socket's signals, and `done` may delete this object
    // or its parent (and with it the socket) at once: the socket is closed by the destructor, and
    // `done` runs from the event loop, after the socket's signal has returned.
    if (m_socket)
        m_socket->disconnect(this);
    QMetaObject::invokeMethod(
        this,
        [this, result = std::move(result)] {
            if (auto done = std::exchange(m_done, nullptr))
                done(result);
        },
        Qt::QueuedConnection);
}

Result<LocalSocketHttp::Response> LocalSocketHttp::parseResponse(const QByteArray &raw)
{
    const qsizetype headEnd = raw.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return fail(ErrorCode::Unreachable, raw.isEmpty() ? "the connection closed without an answer"
                                                          : "the connection closed in the middle of the answer");
    const QList<QByteArray> lines = raw.left(headEnd).split('\n');
    const QList<QByteArray> status = lines.first().trimmed().split(' ');
    bool ok = false;
    Response response;
    response.status = status.value(1).toInt(&ok);
    if (!status.first().startsWith("HTTP/1.") || !ok || response.status < 100 || response.status > 999)
        return fail(ErrorCode::InvalidData, "not an HTTP answer: " + lines.first().trimmed().left(80).toStdString());
    qint64 contentLength = -1;
    bool chunked = false;
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const qsizetype colon = lines[i].indexOf(':');
        if (colon <= 0)
            continue;
        const QByteArray name = lines[i].left(colon).trimmed().toLower();
        const QByteArray value = lines[i].mid(colon + 1).trimmed();
        if (name == "content-length")
            contentLength = value.toLongLong(&ok) >= 0 && ok ? value.toLongLong() : -1;
        else if (name == "transfer-encoding")
            chunked = value.toLower().contains("chunked");
    }
    const QByteArray body = raw.mid(headEnd + 4);
    if (chunked) {
        auto decoded = decodeChunked(body);
        if (!decoded)
            return fail(ErrorCode::Unreachable, "the connection closed in the middle of a chunked answer");
        response.body = *decoded;
    } else if (contentLength >= 0) {
        if (body.size() < contentLength)
            return fail(ErrorCode::Unreachable, "the connection closed before the whole answer arrived");
        response.body = body.left(contentLength);
    } else {
        response.body = body;
    }
    return response;
}

} // namespace mm::remote
