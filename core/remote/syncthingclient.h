#pragma once

#include "common/result.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QObject>
#include <QPointer>
#include <QSslCertificate>
#include <QUrl>
#include <QUrlQuery>

#include <functional>
#include <optional>

class QNetworkAccessManager;
class QNetworkReply;

namespace mm::remote {

// Syncthing's REST API on one node, reached only through an SSH local forward (SyncthingTunnel
// sets the endpoint): a Unix socket in the session's private directory, so that no other local
// user can talk to the API while the app runs (a loopback TCP endpoint is still understood, for
// tests with recorded replies). Every call goes through request(): X-API-Key, no redirects, a
// per-request timeout, TLS pinned to the node's own certificate, and a stale-reply guard
// (replies to requests made before the last setEndpoint() are dropped). Callbacks run only while
// their context object lives.
class SyncthingClient : public QObject
{
    Q_OBJECT

public:
    struct Endpoint
    {
        QUrl baseUrl;                      // http(s)://127.0.0.1[:<forwarded port>]
        QByteArray apiKey;                 // from the node's config.xml; memory only
        QSslCertificate pinnedCertificate; // the node's https-cert.pem when the GUI uses TLS
        QString localSocket; // set: requests go over this Unix socket (baseUrl gives the scheme)
    };

    template <class T> using Callback = std::function<void(Result<T>)>;

    static constexpr int kDefaultTimeoutMs = 15000;

    explicit SyncthingClient(QNetworkAccessManager *network, QObject *parent = nullptr);

    void setEndpoint(Endpoint endpoint);
    const Endpoint &endpoint() const { return m_endpoint; }
    bool hasEndpoint() const { return m_endpoint.baseUrl.isValid(); }
    // The node's own device id, known after systemStatus() succeeded once.
    const QString &myId() const { return m_myId; }

    // The one request builder. body is sent as JSON when not null.
    void request(const QByteArray &verb, const QString &path, const QUrlQuery &query,
                 const QJsonDocument &body, int timeoutMs, QObject *context,
                 Callback<QJsonDocument> done);

    // system
    void ping(QObject *context, Callback<void> done);
    void systemStatus(QObject *context, Callback<QJsonObject> done);
    void version(QObject *context, Callback<QJsonObject> done);
    // Device id -> connection; the node's own id (always "connected": false) is left out.
    void connections(QObject *context, Callback<QJsonObject> done);
    // config
    void devices(QObject *context, Callback<QJsonArray> done);
    void folders(QObject *context, Callback<QJsonArray> done);
    // paused: known but not dialled or accepted until setDevicePaused(false). Two nodes that
    // learn each other one after the other add each other paused: a dial that the other side
    // rejects because it does not know the dialler yet costs Syncthing 1.19 a 20-60 s retry.
    void addDevice(const QString &deviceId, const QString &name, const QStringList &addresses,
                   QObject *context, Callback<void> done, bool paused = false);
    // folder: a Syncthing folder object (id, label, path, devices, options...).
    void shareFolder(const QJsonObject &folder, QObject *context, Callback<void> done);
    void patchFolder(const QString &folderId, const QJsonObject &patch, QObject *context,
                     Callback<void> done);
    void setFolderPaused(const QString &folderId, bool paused, QObject *context,
                         Callback<void> done);
    void setDevicePaused(const QString &deviceId, bool paused, QObject *context,
                         Callback<void> done);
    // db
    void folderStatus(const QString &folderId, QObject *context, Callback<QJsonObject> done);
    // std::nullopt while the folder or device is paused (Syncthing answers 404 then).
    void completion(const QString &folderId, const QString &deviceId, QObject *context,
                    Callback<std::optional<QJsonObject>> done);
    void folderErrors(const QString &folderId, QObject *context, Callback<QJsonObject> done);
    void ignores(const QString &folderId, QObject *context, Callback<QStringList> done);
    // Refused without a request when a pattern is invalid (SyncthingIgnores::validate).
    void setIgnores(const QString &folderId, const QStringList &lines, QObject *context,
                    Callback<void> done);
    void scan(const QString &folderId, const QString &subPath, QObject *context,
              Callback<void> done);
    void pendingDevices(QObject *context, Callback<QJsonObject> done);
    void pendingFolders(QObject *context, Callback<QJsonObject> done);

    // HTTP status + Syncthing's text -> an error of the closed set (exposed for tests).
    static Error httpError(int status, const QByteArray &body, const QString &what);

private:
    struct Answer
    {
        int status = 0;
        QByteArray body;
    };
    void requestOverSocket(const QByteArray &verb, const QUrl &url, const QByteArray &payload,
                           int timeoutMs, const QString &what, const QPointer<QObject> &context,
                           const Callback<QJsonDocument> &done, int attempt = 0);
    void finishReply(QNetworkReply *reply, quint64 generation, bool timedOut, const QString &what,
                     const QPointer<QObject> &context, const Callback<QJsonDocument> &done);
    // What both transports end in: status and body to a document or an error.
    void deliver(quint64 generation, const QString &what, const QPointer<QObject> &context,
                 const Callback<QJsonDocument> &done, Result<Answer> answer);
    template <class T>
    void getObject(const QString &path, const QUrlQuery &query, QObject *context, Callback<T> done);
    void send(const QByteArray &verb, const QString &path, const QUrlQuery &query,
              const QJsonDocument &body, QObject *context, Callback<void> done);

    QNetworkAccessManager *m_network;
    Endpoint m_endpoint;
    quint64 m_generation = 0;
    QString m_myId;
};

} // namespace mm::remote
