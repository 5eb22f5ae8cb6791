#include "remote/syncthingclient.h"

#include "remote/localsockethttp.h"
#include "remote/syncthingignores.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSslConfiguration>
#include <QTimer>

namespace mm::remote {

namespace {

const char kTimedOut[] = "mm_timedOut";

} // namespace

SyncthingClient::SyncthingClient(QNetworkAccessManager *network, QObject *parent)
    : QObject(parent)
    , m_network(network)
{
}

void SyncthingClient::setEndpoint(Endpoint endpoint)
{
    m_endpoint = std::move(endpoint);
    m_myId.clear();
    ++m_generation; // everything still in flight belongs to the previous endpoint
}

Error SyncthingClient::httpError(int status, const QByteArray &body, const QString &what)
{
    const QString text = QString::fromUtf8(body.trimmed().left(300));
    const auto make = [&](ErrorCode code, const QString &message) {
        return Error{code, message.toStdString(), {}};
    };
    if (status == 401 || status == 403)
        return make(
            ErrorCode::AccessDenied,
            QStringLiteral("Syncthing refused %1 (HTTP %2: %3): the API key is wrong or was "
                           "changed on the node")
                .arg(what)
                .arg(status)
                .arg(text));
    if (status == 404)
        return make(ErrorCode::NotFound,
                    QStringLiteral("Syncthing: %1 not found (%2)").arg(what, text));
    if (status >= 400 && status < 500)
        return make(
            ErrorCode::BadRequest,
            QStringLiteral("Syncthing rejected %1 (HTTP %2: %3)").arg(what).arg(status).arg(text));
    return make(
        ErrorCode::Unreachable,
        QStringLiteral("Syncthing failed on %1 (HTTP %2: %3)").arg(what).arg(status).arg(text));
}

void SyncthingClient::request(const QByteArray &verb, const QString &path, const QUrlQuery &query,
                              const QJsonDocument &body, int timeoutMs, QObject *context,
                              Callback<QJsonDocument> done)
{
    const QString what = QString::fromLatin1(verb) + QLatin1Char(' ') + path;
    QPointer<QObject> guard(context);
    if (!hasEndpoint()) {
        QTimer::singleShot(0, this, [guard, done, what] {
            if (guard)
                done(fail(ErrorCode::Unreachable,
                          QStringLiteral("no tunnel to Syncthing for %1").arg(what).toStdString()));
        });
        return;
    }
    QUrl url = m_endpoint.baseUrl;
    url.setPath(path);
    url.setQuery(query);
    if (!m_endpoint.localSocket.isEmpty())
        return requestOverSocket(verb, url, body.isNull() ? QByteArray() : body.toJson(QJsonDocument::Compact),
                                 timeoutMs, what, guard, done);
    QNetworkRequest request(url);
    request.setRawHeader("X-API-Key", m_endpoint.apiKey);
    // Never follow a redirect: it would carry the API key somewhere else.
    request.setAttribute(QNetworkRequest::RedirectPolicyAttribute,
                         QNetworkRequest::ManualRedirectPolicy);
    if (url.scheme() == QLatin1String("https") && !m_endpoint.pinnedCertificate.isNull()) {
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setCaCertificates({m_endpoint.pinnedCertificate});
        // A resumed TLS session skips the certificate check: every connection verifies afresh.
        tls.setSslOption(QSsl::SslOptionDisableSessionTickets, true);
        tls.setSslOption(QSsl::SslOptionDisableSessionSharing, true);
        tls.setSslOption(QSsl::SslOptionDisableSessionPersistence, true);
        request.setSslConfiguration(tls);
    }
    QByteArray payload;
    if (!body.isNull()) {
        payload = body.toJson(QJsonDocument::Compact);
        request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    }
    QNetworkReply *reply = m_network->sendCustomRequest(request, verb, payload);
    const quint64 generation = m_generation;

    // The node's certificate is self-signed for another name: accept exactly that certificate,
    // and only it. Anything else fails the handshake.
    connect(reply, &QNetworkReply::sslErrors, reply, [this, reply](const QList<QSslError> &errors) {
        const QSslCertificate presented = reply->sslConfiguration().peerCertificate();
        if (!m_endpoint.pinnedCertificate.isNull() && presented == m_endpoint.pinnedCertificate)
            reply->ignoreSslErrors(errors);
    });
    auto *timer = new QTimer(reply);
    timer->setSingleShot(true);
    connect(timer, &QTimer::timeout, reply, [reply] {
        reply->setProperty(kTimedOut, true);
        reply->abort();
    });
    timer->start(timeoutMs);
    connect(reply, &QNetworkReply::finished, this, [this, reply, generation, what, guard, done] {
        finishReply(reply, generation, reply->property(kTimedOut).toBool(), what, guard, done);
    });
}

void SyncthingClient::requestOverSocket(const QByteArray &verb, const QUrl &url, const QByteArray &payload,
                                        int timeoutMs, const QString &what, const QPointer<QObject> &context,
                                        const Callback<QJsonDocument> &done, int attempt)
{
    LocalSocketHttp::Request request;
    request.socketPath = m_endpoint.localSocket;
    request.verb = verb;
    request.target = url.path(QUrl::FullyEncoded).toUtf8();
    if (url.hasQuery())
        request.target += '?' + url.query(QUrl::FullyEncoded).toUtf8();
    request.headers = {{"X-API-Key", m_endpoint.apiKey}};
    if (!payload.isNull())
        request.headers.append(qMakePair(QByteArray("Content-Type"), QByteArray("application/json")));
    request.body = payload;
    request.timeoutMs = timeoutMs;
    if (url.scheme() == QLatin1String("https")) {
        if (m_endpoint.pinnedCertificate.isNull()) {
            QTimer::singleShot(0, this, [this, what, context, done, generation = m_generation] {
                deliver(generation, what, context, done,
                        fail(ErrorCode::AccessDenied, "Syncthing uses TLS but no certificate is pinned"));
            });
            return;
        }
        request.pinnedCertificate = m_endpoint.pinnedCertificate;
    }
    auto *http = new LocalSocketHttp(std::move(request), this);
    http->start([this, http, verb, url, payload, timeoutMs, attempt, what, context, done,
                 generation = m_generation](const Result<LocalSocketHttp::Response> &response) {
                http->deleteLater();
                // ssh accepts the forwarded socket even when Syncthing on the node is not
                // listening yet (just started by prepare): the connection then closes without a
                // byte. A GET changes nothing, so it is asked again, for up to ~10 s.
                if (!response && response.error().code == ErrorCode::Unreachable && verb == "GET" &&
                    attempt < 20 && generation == m_generation && context &&
                    response.error().message.find("without an answer") != std::string::npos) {
                    QTimer::singleShot(500, this, [this, verb, url, payload, timeoutMs, what, context, done, attempt] {
                        requestOverSocket(verb, url, payload, timeoutMs, what, context, done, attempt + 1);
                    });
                    return;
                }
                if (!response) {
                    Error error = response.error();
                    if (error.code == ErrorCode::Timeout)
                        error.message = QStringLiteral("Syncthing did not answer %1 in time").arg(what).toStdString();
                    else
                        error.message = QStringLiteral("Syncthing %1: %2").arg(what, QString::fromStdString(error.message)).toStdString();
                    return deliver(generation, what, context, done, fail(error));
                }
                deliver(generation, what, context, done, Answer{response->status, response->body});
            });
}

void SyncthingClient::finishReply(QNetworkReply *reply, quint64 generation, bool timedOut,
                                  const QString &what, const QPointer<QObject> &context,
                                  const Callback<QJsonDocument> &done)
{
    reply->deleteLater();
    if (generation != m_generation || !context)
        return; // stale: the endpoint changed, or nobody waits any more
    if (timedOut)
        return done(
            fail(ErrorCode::Timeout,
                 QStringLiteral("Syncthing did not answer %1 in time").arg(what).toStdString()));
    const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    const QByteArray data = reply->readAll();
    // The pin is checked on every reply, whatever the TLS stack decided about sessions.
    if (status > 0 && reply->url().scheme() == QLatin1String("https") &&
        (m_endpoint.pinnedCertificate.isNull() ||
         reply->sslConfiguration().peerCertificate() != m_endpoint.pinnedCertificate))
        return done(fail(ErrorCode::AccessDenied,
                         QStringLiteral("Syncthing %1: the server's certificate is not the node's "
                                        "https-cert.pem")
                             .arg(what)
                             .toStdString()));
    if (status >= 300)
        return deliver(generation, what, context, done, Answer{status, data});
    if (reply->error() != QNetworkReply::NoError) {
        ErrorCode code = ErrorCode::Unreachable;
        QString hint;
        if (reply->error() == QNetworkReply::SslHandshakeFailedError) {
            code = ErrorCode::AccessDenied;
            hint = QStringLiteral(" (the certificate is not the node's https-cert.pem)");
        } else if (reply->error() == QNetworkReply::OperationCanceledError) {
            code = ErrorCode::Cancelled;
        }
        return done(fail(code, QStringLiteral("Syncthing %1: %2%3")
                                   .arg(what, reply->errorString(), hint)
                                   .toStdString()));
    }
    deliver(generation, what, context, done, Answer{status, data});
}

void SyncthingClient::deliver(quint64 generation, const QString &what, const QPointer<QObject> &context,
                              const Callback<QJsonDocument> &done, Result<Answer> answer)
{
    if (generation != m_generation || !context)
        return; // stale: the endpoint changed, or nobody waits any more
    if (!answer)
        return done(fail(answer.error()));
    if (answer->status >= 300)
        return done(fail(httpError(answer->status, answer->body, what)));
    if (answer->body.trimmed().isEmpty())
        return done(QJsonDocument());
    QJsonParseError parseError{};
    const QJsonDocument document = QJsonDocument::fromJson(answer->body, &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return done(
            fail(ErrorCode::InvalidData, QStringLiteral("Syncthing %1: the reply is not JSON: %2")
                                             .arg(what, parseError.errorString())
                                             .toStdString()));
    done(document);
}

template <class T>
void SyncthingClient::getObject(const QString &path, const QUrlQuery &query, QObject *context,
                                Callback<T> done)
{
    request("GET", path, query, {}, kDefaultTimeoutMs, context,
            [done, path](Result<QJsonDocument> document) {
                if (!document)
                    return done(fail(document.error()));
                if constexpr (std::is_same_v<T, QJsonArray>) {
                    if (!document->isArray())
                        return done(fail(ErrorCode::InvalidData,
                                         QStringLiteral("Syncthing %1: expected a JSON array")
                                             .arg(path)
                                             .toStdString()));
                    return done(document->array());
                } else {
                    if (!document->isObject())
                        return done(fail(ErrorCode::InvalidData,
                                         QStringLiteral("Syncthing %1: expected a JSON object")
                                             .arg(path)
                                             .toStdString()));
                    return done(document->object());
                }
            });
}

void SyncthingClient::send(const QByteArray &verb, const QString &path, const QUrlQuery &query,
                           const QJsonDocument &body, QObject *context, Callback<void> done)
{
    request(verb, path, query, body, kDefaultTimeoutMs, context,
            [done](Result<QJsonDocument> reply) {
                if (!reply)
                    return done(fail(reply.error()));
                done({});
            });
}

void SyncthingClient::ping(QObject *context, Callback<void> done)
{
    getObject<QJsonObject>(
        QStringLiteral("/rest/system/ping"), {}, context, [done](Result<QJsonObject> reply) {
            if (!reply)
                return done(fail(reply.error()));
            if (reply->value(QLatin1String("ping")).toString() != QLatin1String("pong"))
                return done(fail(ErrorCode::InvalidData, "Syncthing's ping did not answer pong"));
            done({});
        });
}

void SyncthingClient::systemStatus(QObject *context, Callback<QJsonObject> done)
{
    const quint64 generation = m_generation;
    getObject<QJsonObject>(QStringLiteral("/rest/system/status"), {}, context,
                           [this, generation, done](Result<QJsonObject> reply) {
                               if (reply && generation == m_generation)
                                   m_myId = reply->value(QLatin1String("myID")).toString();
                               done(std::move(reply));
                           });
}

void SyncthingClient::version(QObject *context, Callback<QJsonObject> done)
{
    getObject<QJsonObject>(QStringLiteral("/rest/system/version"), {}, context, std::move(done));
}

void SyncthingClient::connections(QObject *context, Callback<QJsonObject> done)
{
    const auto filter = [this, done](Result<QJsonObject> reply) {
        if (!reply)
            return done(fail(reply.error()));
        QJsonObject peers = reply->value(QLatin1String("connections")).toObject();
        peers.remove(m_myId);
        done(peers);
    };
    // The own id is needed to leave it out; learn it first when unknown.
    if (!m_myId.isEmpty())
        return getObject<QJsonObject>(QStringLiteral("/rest/system/connections"), {}, context,
                                      filter);
    QPointer<QObject> guard(context);
    systemStatus(context, [this, guard, filter, done](Result<QJsonObject> status) {
        if (!status)
            return done(fail(status.error()));
        getObject<QJsonObject>(QStringLiteral("/rest/system/connections"), {}, guard, filter);
    });
}

void SyncthingClient::devices(QObject *context, Callback<QJsonArray> done)
{
    getObject<QJsonArray>(QStringLiteral("/rest/config/devices"), {}, context, std::move(done));
}

void SyncthingClient::folders(QObject *context, Callback<QJsonArray> done)
{
    getObject<QJsonArray>(QStringLiteral("/rest/config/folders"), {}, context, std::move(done));
}

void SyncthingClient::addDevice(const QString &deviceId, const QString &name,
                                const QStringList &addresses, QObject *context, Callback<void> done,
                                bool paused)
{
    QJsonObject device{{QStringLiteral("deviceID"), deviceId}, {QStringLiteral("name"), name}};
    if (paused)
        device.insert(QStringLiteral("paused"), true);
    device.insert(QStringLiteral("addresses"),
                  QJsonArray::fromStringList(
                      addresses.isEmpty() ? QStringList{QStringLiteral("dynamic")} : addresses));
    send("POST", QStringLiteral("/rest/config/devices"), {}, QJsonDocument(device), context,
         std::move(done));
}

void SyncthingClient::shareFolder(const QJsonObject &folder, QObject *context, Callback<void> done)
{
    send("POST", QStringLiteral("/rest/config/folders"), {}, QJsonDocument(folder), context,
         std::move(done));
}

void SyncthingClient::patchFolder(const QString &folderId, const QJsonObject &patch,
                                  QObject *context, Callback<void> done)
{
    send("PATCH",
         QStringLiteral("/rest/config/folders/") +
             QString::fromLatin1(QUrl::toPercentEncoding(folderId)),
         {}, QJsonDocument(patch), context, std::move(done));
}

void SyncthingClient::setFolderPaused(const QString &folderId, bool paused, QObject *context,
                                      Callback<void> done)
{
    patchFolder(folderId, QJsonObject{{QStringLiteral("paused"), paused}}, context,
                std::move(done));
}

void SyncthingClient::setDevicePaused(const QString &deviceId, bool paused, QObject *context,
                                      Callback<void> done)
{
    send("PATCH", QStringLiteral("/rest/config/devices/") + deviceId, {},
         QJsonDocument(QJsonObject{{QStringLiteral("paused"), paused}}), context, std::move(done));
}

void SyncthingClient::folderStatus(const QString &folderId, QObject *context,
                                   Callback<QJsonObject> done)
{
    getObject<QJsonObject>(QStringLiteral("/rest/db/status"),
                           QUrlQuery{{QStringLiteral("folder"), folderId}}, context,
                           std::move(done));
}

void SyncthingClient::completion(const QString &folderId, const QString &deviceId, QObject *context,
                                 Callback<std::optional<QJsonObject>> done)
{
    QUrlQuery query{{QStringLiteral("folder"), folderId}};
    if (!deviceId.isEmpty())
        query.addQueryItem(QStringLiteral("device"), deviceId);
    getObject<QJsonObject>(
        QStringLiteral("/rest/db/completion"), query, context, [done](Result<QJsonObject> reply) {
            if (!reply && reply.error().code == ErrorCode::NotFound)
                return done(std::optional<QJsonObject>()); // paused: no figure, not a failure
            if (!reply)
                return done(fail(reply.error()));
            done(std::optional<QJsonObject>(*reply));
        });
}

void SyncthingClient::folderErrors(const QString &folderId, QObject *context,
                                   Callback<QJsonObject> done)
{
    getObject<QJsonObject>(QStringLiteral("/rest/folder/errors"),
                           QUrlQuery{{QStringLiteral("folder"), folderId}}, context,
                           std::move(done));
}

void SyncthingClient::ignores(const QString &folderId, QObject *context, Callback<QStringList> done)
{
    getObject<QJsonObject>(
        QStringLiteral("/rest/db/ignores"), QUrlQuery{{QStringLiteral("folder"), folderId}},
        context, [done](Result<QJsonObject> reply) {
            if (!reply)
                return done(fail(reply.error()));
            QStringList lines;
            for (const QJsonValue &line : reply->value(QLatin1String("ignore")).toArray())
                lines << line.toString();
            done(lines);
        });
}

void SyncthingClient::setIgnores(const QString &folderId, const QStringList &lines,
                                 QObject *context, Callback<void> done)
{
    if (const Status valid = SyncthingIgnores::validate(lines); !valid) {
        QPointer<QObject> guard(context);
        QTimer::singleShot(0, this, [guard, done, valid] {
            if (guard)
                done(valid);
        });
        return;
    }
    const QJsonDocument body(
        QJsonObject{{QStringLiteral("ignore"), QJsonArray::fromStringList(lines)}});
    request("POST", QStringLiteral("/rest/db/ignores"),
            QUrlQuery{{QStringLiteral("folder"), folderId}}, body, kDefaultTimeoutMs, context,
            [done](Result<QJsonDocument> reply) {
                if (!reply)
                    return done(fail(reply.error()));
                // Belt and braces: Syncthing's own verdict, should our validation miss a case.
                const QString error = reply->object().value(QLatin1String("error")).toString();
                if (!error.isEmpty())
                    return done(fail(ErrorCode::BadRequest,
                                     QStringLiteral("Syncthing reports invalid ignores: %1")
                                         .arg(error)
                                         .toStdString()));
                done({});
            });
}

void SyncthingClient::scan(const QString &folderId, const QString &subPath, QObject *context,
                           Callback<void> done)
{
    QUrlQuery query{{QStringLiteral("folder"), folderId}};
    if (!subPath.isEmpty())
        query.addQueryItem(QStringLiteral("sub"), subPath);
    send("POST", QStringLiteral("/rest/db/scan"), query, {}, context, std::move(done));
}

void SyncthingClient::pendingDevices(QObject *context, Callback<QJsonObject> done)
{
    getObject<QJsonObject>(QStringLiteral("/rest/cluster/pending/devices"), {}, context,
                           std::move(done));
}

void SyncthingClient::pendingFolders(QObject *context, Callback<QJsonObject> done)
{
    getObject<QJsonObject>(QStringLiteral("/rest/cluster/pending/folders"), {}, context,
                           std::move(done));
}

} // namespace mm::remote
