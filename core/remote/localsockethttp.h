#pragma once

#include "common/result.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QSslCertificate>
#include <QTimer>

#include <functional>

class QSslSocket;

namespace mm::remote {

// One HTTP request over a Unix socket (the ssh forward of Syncthing's REST API lives in the
// session's private 0700 directory, where no other local user can connect; QNetworkAccessManager
// cannot speak to a Unix socket). HTTP/1.0 with "Connection: close": the server sends the whole
// answer and closes, so no keep-alive or chunking state is needed (chunked bodies are decoded
// anyway). With a pinned certificate the connection is TLS, and only that certificate is
// accepted. `done` is called exactly once, from the event loop; the owner deletes the object
// afterwards.
class LocalSocketHttp : public QObject
{
    Q_OBJECT

public:
    struct Request
    {
        QString socketPath;
        QByteArray verb;   // GET, POST, PATCH, PUT, DELETE
        QByteArray target; // "/rest/db/status?folder=x"
        QList<QPair<QByteArray, QByteArray>> headers;
        QByteArray body;
        QSslCertificate pinnedCertificate; // null: plain HTTP
        int timeoutMs = 15000;
        qint64 maxResponseBytes = 64 * 1024 * 1024;
    };
    struct Response
    {
        int status = 0;
        QByteArray body;
    };

    explicit LocalSocketHttp(Request request, QObject *parent = nullptr);
    ~LocalSocketHttp() override;

    void start(std::function<void(const Result<Response> &)> done);
    // Ends the request with Cancelled (nothing if it has finished); `done` follows from the
    // event loop.
    void abort();

    // Parses a complete HTTP/1.x answer (status line, headers, body; chunked or not). Exposed
    // for tests.
    static Result<Response> parseResponse(const QByteArray &raw);

private:
    void sendRequest();
    void onReadyRead();
    void onClosed();
    void finish(Result<Response> result);

    Request m_request;
    std::function<void(const Result<Response> &)> m_done;
    QSslSocket *m_socket = nullptr;
    QTimer m_timer;
    QByteArray m_received;
    bool m_finished = false;
};

} // namespace mm::remote
