// SyncthingClient and SyncthingEventStream on replies recorded from Syncthing 1.19.2
// (tests/unit/data/syncthing/*.http, captured with curl -i), replayed by an HTTP server that
// listens on a Unix socket (how the app reaches Syncthing: LocalSocketHttp) and on a loopback
// port (QNetworkAccessManager); every test runs over both.
// The same calls against a real Syncthing through SSH tunnels:
// tests/integration/tst_remotesyncthing.

#include "remote/syncthingclient.h"
#include "remote/syncthingeventstream.h"
#include "remote/syncthingignores.h"
#include "remote/syncthingtunnel.h"

#include <QFile>
#include <QLocalServer>
#include <QLocalSocket>
#include <QNetworkAccessManager>
#include <QProcess>
#include <QSignalSpy>
#include <QSslKey>
#include <QSslServer>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QDir>
#include <QTest>
#include <QTimer>

#include <deque>
#include <map>

using namespace mm;
using namespace mm::remote;

Q_DECLARE_METATYPE(mm::ErrorCode)

namespace {

const QString kOwnId =
    QStringLiteral("KOMF4OL-YBUIVRC-3ECCYP5-HG326YK-AT6WFGZ-LPK6AZU-P3R2VXH-XM6VPQO");
const QString kPeerId =
    QStringLiteral("TL7JLMT-G4NORMR-FHO25TW-P5XIFEQ-DMEUEWD-AKP4ODB-WR4R5AN-I7GYIA3");

QByteArray dataFile(const QString &name)
{
    QFile file(QStringLiteral(MAILMESH_SOURCE_DIR "/tests/unit/data/syncthing/") + name);
    if (!file.open(QIODevice::ReadOnly))
        qFatal("missing test data %s", qPrintable(name));
    return file.readAll();
}

// Replays recorded HTTP responses. Routes are "METHOD /path"; each holds a queue of answers
// (the last one repeats). Every request is recorded for the assertions.
class ReplayServer : public QTcpServer
{
public:
    struct Answer
    {
        QByteArray recording; // a curl -i capture: status line, headers, blank line, body
        int delayMs = 0;
    };
    struct Seen
    {
        QByteArray method;
        QByteArray target; // path?query
        QMap<QByteArray, QByteArray> headers;
        QByteArray body;
    };

    ReplayServer()
    {
        listen(QHostAddress::LocalHost, 0);
        m_local.setSocketOptions(QLocalServer::UserAccessOption);
        m_local.listen(m_socketDir.filePath(QStringLiteral("syncthing.sock")));
        QObject::connect(&m_local, &QLocalServer::newConnection, this, [this] {
            while (QLocalSocket *socket = m_local.nextPendingConnection())
                serve(socket);
        });
    }
    QString socketPath() const { return m_local.fullServerName(); }

    void route(const QByteArray &methodAndPath, const QString &file, int delayMs = 0)
    {
        m_routes[methodAndPath].push_back(
            {file.isEmpty() ? QByteArray() : dataFile(file), delayMs});
    }
    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(serverPort())); }
    std::vector<Seen> seen;

protected:
    void incomingConnection(qintptr handle) override
    {
        auto *socket = new QTcpSocket(this);
        socket->setSocketDescriptor(handle);
        serve(socket);
    }

private:
    template <class Socket> void serve(Socket *socket)
    {
        connect(socket, &Socket::readyRead, socket, [this, socket] { onData(socket); });
        connect(socket, &Socket::disconnected, socket, &QObject::deleteLater);
    }

    template <class Socket> void onData(Socket *socket)
    {
        QByteArray &buffer = m_buffers[socket];
        buffer += socket->readAll();
        const qsizetype end = buffer.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        Seen request;
        const QList<QByteArray> lines = buffer.left(end).split('\n');
        const QList<QByteArray> first = lines.first().trimmed().split(' ');
        request.method = first.value(0);
        request.target = first.value(1);
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const qsizetype colon = lines[i].indexOf(':');
            if (colon > 0)
                request.headers[lines[i].left(colon).trimmed().toLower()] =
                    lines[i].mid(colon + 1).trimmed();
        }
        const qsizetype length = request.headers.value("content-length").toLongLong();
        if (buffer.size() < end + 4 + length)
            return;
        request.body = buffer.mid(end + 4, length);
        buffer.remove(0, end + 4 + length);
        seen.push_back(request);

        const QByteArray key = request.method + ' ' + request.target.split('?').first();
        auto it = m_routes.find(key);
        if (it == m_routes.end() || it->second.empty()) {
            reply(socket, "HTTP/1.1 599 No Route\n\n");
            return;
        }
        const Answer answer = it->second.front();
        if (it->second.size() > 1)
            it->second.pop_front();
        QTimer::singleShot(answer.delayMs, socket,
                           [socket, answer] { reply(socket, answer.recording); });
    }

    // Re-frames a capture: curl printed the body already de-chunked.
    template <class Socket> static void reply(Socket *socket, const QByteArray &recording)
    {
        if (recording.isEmpty()) {
            // The daemon went away in the middle of its answer. Some bytes arrive first, so
            // neither QtNetwork nor the client's "nothing came back yet" retry asks again:
            // every transport sees exactly one failed request, whatever the timing.
            socket->write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                          "Content-Length: 1000\r\n\r\n[{\"id\":");
            if constexpr (std::is_same_v<Socket, QLocalSocket>)
                socket->disconnectFromServer();
            else
                socket->disconnectFromHost();
            return;
        }
        const qsizetype split = recording.indexOf("\n\n");
        const QList<QByteArray> head = recording.left(split).split('\n');
        const QByteArray body = recording.mid(split + 2);
        QByteArray out = head.first().trimmed() + "\r\n";
        for (qsizetype i = 1; i < head.size(); ++i) {
            const QByteArray lower = head[i].toLower();
            if (lower.startsWith("content-length") || lower.startsWith("transfer-encoding"))
                continue;
            out += head[i].trimmed() + "\r\n";
        }
        out += "Content-Length: " + QByteArray::number(body.size()) +
               "\r\nConnection: close\r\n\r\n" + body;
        socket->write(out);
        if constexpr (std::is_same_v<Socket, QLocalSocket>)
            socket->disconnectFromServer();
        else
            socket->disconnectFromHost();
    }

    std::map<QByteArray, std::deque<Answer>> m_routes;
    QHash<QIODevice *, QByteArray> m_buffers;
    QTemporaryDir m_socketDir;
    QLocalServer m_local;
};

// Hands every accepted Unix-socket connection over as a descriptor (for a QSslSocket).
class TlsLocalServer : public QLocalServer
{
public:
    std::function<void(quintptr)> onConnection;

protected:
    void incomingConnection(quintptr descriptor) override { onConnection(descriptor); }
};

template <class T> struct Outcome
{
    bool called = false;
    Result<T> result = fail(ErrorCode::InternalError, "not called");
    auto callback()
    {
        return [this](Result<T> r) {
            called = true;
            result = std::move(r);
        };
    }
};

} // namespace

class TestSyncthingClient : public QObject
{
    Q_OBJECT

public:
    explicit TestSyncthingClient(bool overSocket)
        : m_overSocket(overSocket)
    {
    }

private:
    QNetworkAccessManager m_network;
    const bool m_overSocket; // LocalSocketHttp over the Unix socket, else QNetworkAccessManager

    void attach(SyncthingClient &client, const ReplayServer &server)
    {
        client.setEndpoint({server.url(), "testkey1", QSslCertificate(),
                            m_overSocket ? server.socketPath() : QString()});
    }

private Q_SLOTS:
    void sendsTheApiKeyAndReadsPing()
    {
        ReplayServer server;
        server.route("GET /rest/system/ping", QStringLiteral("ping.http"));
        SyncthingClient client(&m_network);
        attach(client, server);
        Outcome<void> ping;
        client.ping(this, ping.callback());
        QTRY_VERIFY(ping.called);
        QVERIFY2(ping.result.has_value(), ping.result ? "" : ping.result.error().message.c_str());
        QCOMPARE(server.seen.size(), size_t(1));
        QCOMPARE(server.seen[0].headers.value("x-api-key"), QByteArray("testkey1"));
    }

    void wrongKeyIsAccessDenied()
    {
        ReplayServer server;
        server.route("GET /rest/system/ping", QStringLiteral("forbidden.http"));
        SyncthingClient client(&m_network);
        attach(client, server);
        Outcome<void> ping;
        client.ping(this, ping.callback());
        QTRY_VERIFY(ping.called);
        QVERIFY(!ping.result.has_value());
        QCOMPARE(ping.result.error().code, ErrorCode::AccessDenied);
        QVERIFY(QString::fromStdString(ping.result.error().message).contains(QLatin1String("403")));
    }

    void connectionsLeaveOutTheOwnDevice()
    {
        ReplayServer server;
        server.route("GET /rest/system/status", QStringLiteral("system-status.http"));
        server.route("GET /rest/system/connections", QStringLiteral("system-connections.http"));
        SyncthingClient client(&m_network);
        attach(client, server);
        Outcome<QJsonObject> connections;
        client.connections(this, connections.callback());
        QTRY_VERIFY(connections.called);
        QVERIFY(connections.result.has_value());
        QCOMPARE(client.myId(), kOwnId);
        QCOMPARE(connections.result->keys(), QStringList{kPeerId});
        QVERIFY(connections.result->value(kPeerId)
                    .toObject()
                    .value(QLatin1String("connected"))
                    .toBool());
    }

    void readsConfigAndVersion()
    {
        ReplayServer server;
        server.route("GET /rest/config/devices", QStringLiteral("config-devices.http"));
        server.route("GET /rest/config/folders", QStringLiteral("config-folders.http"));
        server.route("GET /rest/system/version", QStringLiteral("system-version.http"));
        SyncthingClient client(&m_network);
        attach(client, server);
        Outcome<QJsonArray> devices, folders;
        Outcome<QJsonObject> version;
        client.devices(this, devices.callback());
        client.folders(this, folders.callback());
        client.version(this, version.callback());
        QTRY_VERIFY(devices.called && folders.called && version.called);
        QCOMPARE(devices.result->size(), 2);
        QCOMPARE(folders.result->first().toObject().value(QLatin1String("id")).toString(),
                 QStringLiteral("mail"));
        QCOMPARE(version.result->value(QLatin1String("version")).toString(),
                 QStringLiteral("v1.19.2-ds1"));
        // A reply of the wrong shape is invalid data, not a crash.
        ReplayServer wrong;
        wrong.route("GET /rest/config/devices", QStringLiteral("ping.http"));
        attach(client, wrong);
        Outcome<QJsonArray> bad;
        client.devices(this, bad.callback());
        QTRY_VERIFY(bad.called);
        QCOMPARE(bad.result.error().code, ErrorCode::InvalidData);
    }

    void writesConfigWithTheRightVerbs()
    {
        ReplayServer server;
        server.route("POST /rest/config/devices", QStringLiteral("patch-folder.http"));
        server.route("POST /rest/config/folders", QStringLiteral("patch-folder.http"));
        server.route("PATCH /rest/config/folders/mail", QStringLiteral("patch-folder.http"));
        server.route("POST /rest/db/scan", QStringLiteral("db-scan.http"));
        SyncthingClient client(&m_network);
        attach(client, server);
        Outcome<void> add, share, pause, scan;
        client.addDevice(kPeerId, QStringLiteral("node2"), {QStringLiteral("tcp://127.0.0.1:1")},
                         this, add.callback());
        client.shareFolder(QJsonObject{{QStringLiteral("id"), QStringLiteral("mail")}}, this,
                           share.callback());
        client.setFolderPaused(QStringLiteral("mail"), true, this, pause.callback());
        client.scan(QStringLiteral("mail"), QStringLiteral("a/b"), this, scan.callback());
        QTRY_VERIFY(add.called && share.called && pause.called && scan.called);
        QVERIFY(add.result && share.result && pause.result && scan.result);
        std::map<QByteArray, ReplayServer::Seen> byTarget;
        for (const auto &seen : server.seen)
            byTarget[seen.method + ' ' + seen.target] = seen;
        const auto device =
            QJsonDocument::fromJson(byTarget["POST /rest/config/devices"].body).object();
        QCOMPARE(device.value(QLatin1String("deviceID")).toString(), kPeerId);
        QCOMPARE(device.value(QLatin1String("addresses")).toArray().first().toString(),
                 QStringLiteral("tcp://127.0.0.1:1"));
        QCOMPARE(byTarget["PATCH /rest/config/folders/mail"].body, QByteArray("{\"paused\":true}"));
        QCOMPARE(byTarget["PATCH /rest/config/folders/mail"].headers.value("content-type"),
                 QByteArray("application/json"));
        QVERIFY(byTarget.count("POST /rest/db/scan?folder=mail&sub=a/b"));
    }

    void completionWhilePausedIsNotAnError()
    {
        ReplayServer server;
        server.route("GET /rest/db/completion", QStringLiteral("db-completion.http"));
        server.route("GET /rest/db/completion", QStringLiteral("db-completion-paused.http"));
        SyncthingClient client(&m_network);
        attach(client, server);
        Outcome<std::optional<QJsonObject>> running;
        client.completion(QStringLiteral("mail"), kPeerId, this, running.callback());
        QTRY_VERIFY(running.called);
        QVERIFY(running.result.has_value() && running.result->has_value());
        QCOMPARE((*running.result)->value(QLatin1String("completion")).toDouble(), 100.0);
        Outcome<std::optional<QJsonObject>> paused;
        client.completion(QStringLiteral("mail"), kPeerId, this, paused.callback());
        QTRY_VERIFY(paused.called);
        QVERIFY(paused.result.has_value());
        QVERIFY(!paused.result->has_value());
        QCOMPARE(server.seen[0].target,
                 QByteArray("/rest/db/completion?folder=mail&device=") + kPeerId.toLatin1());
    }

    void statusErrorsAndPending()
    {
        ReplayServer server;
        server.route("GET /rest/db/status", QStringLiteral("db-status.http"));
        server.route("GET /rest/folder/errors", QStringLiteral("folder-errors.http"));
        server.route("GET /rest/cluster/pending/devices", QStringLiteral("pending-devices.http"));
        server.route("GET /rest/cluster/pending/folders", QStringLiteral("pending-folders.http"));
        SyncthingClient client(&m_network);
        attach(client, server);
        Outcome<QJsonObject> status, errors, devices, folders;
        client.folderStatus(QStringLiteral("mail"), this, status.callback());
        client.folderErrors(QStringLiteral("mail"), this, errors.callback());
        client.pendingDevices(this, devices.callback());
        client.pendingFolders(this, folders.callback());
        QTRY_VERIFY(status.called && errors.called && devices.called && folders.called);
        QCOMPARE(status.result->value(QLatin1String("state")).toString(), QStringLiteral("idle"));
        QCOMPARE(status.result->value(QLatin1String("needBytes")).toInt(), 0);
        QVERIFY(errors.result.has_value());
        QVERIFY(devices.result->isEmpty());
        QVERIFY(folders.result->isEmpty());
    }

    void ignoresAreValidatedBeforePushing()
    {
        ReplayServer server;
        server.route("GET /rest/db/ignores", QStringLiteral("db-ignores.http"));
        server.route("POST /rest/db/ignores", QStringLiteral("db-ignores-set.http"));
        server.route("POST /rest/db/ignores", QStringLiteral("db-ignores-invalid.http"));
        SyncthingClient client(&m_network);
        attach(client, server);

        Outcome<void> refused;
        client.setIgnores(QStringLiteral("mail"),
                          {QStringLiteral("(?d)*.tmp"), QStringLiteral("[oops")}, this,
                          refused.callback());
        QTRY_VERIFY(refused.called);
        QCOMPARE(refused.result.error().code, ErrorCode::BadRequest);
        QVERIFY(QString::fromStdString(refused.result.error().message)
                    .contains(QLatin1String("line 2")));
        QVERIFY(server.seen.empty()); // nothing reached Syncthing

        Outcome<void> pushed;
        const QStringList lines{QStringLiteral("(?d)*.tmp"), QStringLiteral("dovecot.index*")};
        client.setIgnores(QStringLiteral("mail"), lines, this, pushed.callback());
        QTRY_VERIFY(pushed.called);
        QVERIFY(pushed.result.has_value());
        QCOMPARE(QJsonDocument::fromJson(server.seen.back().body)
                     .object()
                     .value(QLatin1String("ignore"))
                     .toArray(),
                 QJsonArray::fromStringList(lines));

        // Should a pattern slip past us, Syncthing's "error" (recorded) still fails the call.
        Outcome<void> syncthingSaysNo;
        client.setIgnores(QStringLiteral("mail"), lines, this, syncthingSaysNo.callback());
        QTRY_VERIFY(syncthingSaysNo.called);
        QCOMPARE(syncthingSaysNo.result.error().code, ErrorCode::BadRequest);

        Outcome<QStringList> current;
        client.ignores(QStringLiteral("mail"), this, current.callback());
        QTRY_VERIFY(current.called);
        QVERIFY(current.result.has_value());
    }

    void slowRepliesTimeOut()
    {
        ReplayServer server;
        server.route("GET /rest/system/ping", QStringLiteral("ping.http"), 3000);
        SyncthingClient client(&m_network);
        attach(client, server);
        Outcome<QJsonDocument> slow;
        client.request("GET", QStringLiteral("/rest/system/ping"), {}, {}, 200, this,
                       slow.callback());
        QTRY_VERIFY_WITH_TIMEOUT(slow.called, 5000);
        QCOMPARE(slow.result.error().code, ErrorCode::Timeout);
    }

    void staleRepliesAreDropped()
    {
        ReplayServer server;
        server.route("GET /rest/system/ping", QStringLiteral("ping.http"), 300);
        SyncthingClient client(&m_network);
        attach(client, server);
        Outcome<void> stale;
        client.ping(this, stale.callback());
        attach(client, server); // the tunnel was re-established: the old reply means nothing now
        Outcome<void> fresh;
        client.ping(this, fresh.callback());
        QTRY_VERIFY(fresh.called);
        QTest::qWait(400);
        QVERIFY(!stale.called);
        // And a callback whose context is gone is never called.
        auto *context = new QObject;
        Outcome<void> orphan;
        client.ping(context, orphan.callback());
        delete context;
        QTest::qWait(500);
        QVERIFY(!orphan.called);
    }

    void unreachableAndGarbage()
    {
        SyncthingClient client(&m_network);
        Outcome<void> noEndpoint;
        client.ping(this, noEndpoint.callback());
        QTRY_VERIFY(noEndpoint.called);
        QCOMPARE(noEndpoint.result.error().code, ErrorCode::Unreachable);

        quint16 closed = 0;
        {
            QTcpServer probe;
            probe.listen(QHostAddress::LocalHost, 0);
            closed = probe.serverPort();
        }
        client.setEndpoint({QUrl(QStringLiteral("http://127.0.0.1:%1").arg(closed)), "k", QSslCertificate(),
                            m_overSocket ? QDir::tempPath() + QStringLiteral("/no-such-mailmesh.sock") : QString()});
        Outcome<void> refused;
        client.ping(this, refused.callback());
        QTRY_VERIFY(refused.called);
        QCOMPARE(refused.result.error().code, ErrorCode::Unreachable);

        ReplayServer server;
        server.route("GET /rest/system/ping",
                     QStringLiteral("db-completion-paused.http")); // 404 text
        server.route("GET /rest/system/version", QStringLiteral("not-json.http"));
        attach(client, server);
        Outcome<void> notFound;
        client.ping(this, notFound.callback());
        QTRY_VERIFY(notFound.called);
        QCOMPARE(notFound.result.error().code, ErrorCode::NotFound);
        Outcome<QJsonObject> garbage;
        client.version(this, garbage.callback());
        QTRY_VERIFY(garbage.called);
        QCOMPARE(garbage.result.error().code, ErrorCode::InvalidData);
    }

    // Recorded: a first call (limit=1, timeout=0) that finds nothing, a pause and a resume
    // (ids 1-5); then Syncthing restarts, which drops the long-poll; the restarted Syncthing
    // answers the first call of the filter with [] and then numbers from 1 again.
    void eventStreamFollowsIdsAndDetectsRestart()
    {
        ReplayServer server;
        server.route("GET /rest/events", QStringLiteral("events-filter-first.http"));
        server.route("GET /rest/events", QStringLiteral("events-filter-pause-resume.http"));
        server.route("GET /rest/events", QString()); // the daemon goes away mid-answer
        server.route("GET /rest/events", QStringLiteral("events-restarted-first.http"));
        server.route("GET /rest/events", QStringLiteral("events-restarted-since1.http"));
        server.route("GET /rest/events", QStringLiteral("events-filter-first.http"),
                     60000); // then quiet
        SyncthingClient client(&m_network);
        attach(client, server);
        const QStringList types{QStringLiteral("FolderPaused"), QStringLiteral("FolderResumed"),
                                QStringLiteral("StateChanged"), QStringLiteral("FolderCompletion")};
        SyncthingEventStream stream(&client, types);
        stream.setRetryDelayMs(50);
        QSignalSpy ready(&stream, &SyncthingEventStream::ready);
        QSignalSpy received(&stream, &SyncthingEventStream::eventReceived);
        QSignalSpy restarted(&stream, &SyncthingEventStream::restarted);
        QSignalSpy failed(&stream, &SyncthingEventStream::failed);
        stream.start();
        QTRY_COMPARE(received.count(), 9);
        QCOMPARE(failed.count(), 1);
        QCOMPARE(failed.first().first().value<mm::Error>().code, ErrorCode::Unreachable);
        QCOMPARE(ready.count(), 2);
        QCOMPARE(restarted.count(), 1);
        QStringList typesSeen;
        for (const auto &args : received)
            typesSeen << args.first().toJsonObject().value(QLatin1String("type")).toString();
        const QString paused = QStringLiteral("FolderPaused"),
                      resumed = QStringLiteral("FolderResumed"),
                      changed = QStringLiteral("StateChanged");
        QCOMPARE(typesSeen, (QStringList{paused, changed, changed, resumed, changed, resumed,
                                         changed, changed, changed}));
        QTRY_COMPARE(server.seen.size(), size_t(6));
        const QByteArray filter = "events=FolderPaused,FolderResumed,StateChanged,FolderCompletion";
        QCOMPARE(server.seen[0].target, "/rest/events?" + filter + "&limit=1&timeout=0");
        QCOMPARE(server.seen[1].target, "/rest/events?" + filter + "&since=0&timeout=60");
        QCOMPARE(server.seen[2].target, "/rest/events?" + filter + "&since=5&timeout=60");
        QCOMPARE(server.seen[3].target, "/rest/events?" + filter + "&limit=1&timeout=0");
        QCOMPARE(server.seen[4].target, "/rest/events?" + filter + "&since=0&timeout=60");
        QCOMPARE(server.seen[5].target, "/rest/events?" + filter + "&since=5&timeout=60");
        QCOMPARE(stream.lastId(), 5);
        stream.stop();
    }

    void diskEventsAndRetryAfterFailure()
    {
        ReplayServer server;
        server.route("GET /rest/events/disk", QStringLiteral("forbidden.http"));
        server.route("GET /rest/events/disk", QStringLiteral("events-filter-first.http"));
        server.route("GET /rest/events/disk", QStringLiteral("events-disk.http"));
        server.route("GET /rest/events/disk", QStringLiteral("events-filter-first.http"), 60000);
        SyncthingClient client(&m_network);
        attach(client, server);
        SyncthingEventStream stream(&client, {}, SyncthingEventStream::Source::DiskEvents);
        stream.setRetryDelayMs(50);
        QSignalSpy failed(&stream, &SyncthingEventStream::failed);
        QSignalSpy received(&stream, &SyncthingEventStream::eventReceived);
        stream.start();
        QTRY_COMPARE(received.count(), 1);
        QCOMPARE(failed.count(), 1);
        QCOMPARE(failed.first().first().value<mm::Error>().code, ErrorCode::AccessDenied);
        const QJsonObject event = received.first().first().toJsonObject();
        QCOMPARE(event.value(QLatin1String("type")).toString(),
                 QStringLiteral("LocalChangeDetected"));
        QCOMPARE(
            event.value(QLatin1String("data")).toObject().value(QLatin1String("path")).toString(),
            QStringLiteral("a.txt"));
        QCOMPARE(server.seen[1].target, QByteArray("/rest/events/disk?limit=1&timeout=0"));
        stream.stop();
    }

    // TLS: the client accepts the node's own self-signed certificate (made here with openssl
    // the way Syncthing makes https-cert.pem: CN=syncthing, so the name never matches) and
    // nothing else.
    void tlsIsPinnedToTheNodesCertificate()
    {
        QTemporaryDir dir;
        const auto makeCertificate = [&](const QString &name) {
            QProcess openssl;
            openssl.start(QStringLiteral("openssl"),
                          {QStringLiteral("req"), QStringLiteral("-x509"),
                           QStringLiteral("-newkey"), QStringLiteral("ec"),
                           QStringLiteral("-pkeyopt"),
                           QStringLiteral("ec_paramgen_curve:prime256v1"), QStringLiteral("-nodes"),
                           QStringLiteral("-subj"), QStringLiteral("/CN=syncthing"),
                           QStringLiteral("-days"), QStringLiteral("2"), QStringLiteral("-keyout"),
                           dir.filePath(name + QStringLiteral(".key")), QStringLiteral("-out"),
                           dir.filePath(name + QStringLiteral(".pem"))});
            return openssl.waitForFinished(30000) && openssl.exitCode() == 0;
        };
        if (QStandardPaths::findExecutable(QStringLiteral("openssl")).isEmpty())
            QSKIP("openssl is needed to make the test certificates");
        QVERIFY(makeCertificate(QStringLiteral("node")));
        QVERIFY(makeCertificate(QStringLiteral("other")));
        const auto load = [&](const QString &file) {
            QFile f(dir.filePath(file));
            return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
        };
        const QSslCertificate nodeCertificate(load(QStringLiteral("node.pem")));
        const QSslCertificate otherCertificate(load(QStringLiteral("other.pem")));
        QVERIFY(!nodeCertificate.isNull() && !otherCertificate.isNull());

        QSslServer server;
        QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
        tls.setLocalCertificate(nodeCertificate);
        tls.setPrivateKey(QSslKey(load(QStringLiteral("node.key")), QSsl::Ec));
        server.setSslConfiguration(tls);
        QVERIFY(server.listen(QHostAddress::LocalHost, 0));
        const QByteArray ping = dataFile(QStringLiteral("ping.http"));
        const QByteArray body = ping.mid(ping.indexOf("\n\n") + 2);
        const auto answer = [body](QTcpSocket *socket) {
            connect(socket, &QTcpSocket::readyRead, socket, [socket, body] {
                if (!socket->readAll().contains("\r\n\r\n"))
                    return;
                socket->write("HTTP/1.1 200 OK\r\nContent-Type: "
                              "application/json\r\nConnection: close\r\nContent-Length: " +
                              QByteArray::number(body.size()) + "\r\n\r\n" + body);
                socket->disconnectFromHost();
            });
        };
        connect(&server, &QTcpServer::pendingConnectionAvailable, this, [&] {
            while (QTcpSocket *socket = server.nextPendingConnection())
                answer(socket);
        });
        // The same TLS server behind a Unix socket, for the transport the app uses.
        TlsLocalServer localServer;
        localServer.onConnection = [&](quintptr descriptor) {
            auto *socket = new QSslSocket(&localServer);
            socket->setSocketDescriptor(qintptr(descriptor));
            socket->setSslConfiguration(tls);
            answer(socket);
            socket->startServerEncryption();
        };
        QVERIFY(localServer.listen(dir.filePath(QStringLiteral("tls.sock"))));
        const QString socketPath = m_overSocket ? localServer.fullServerName() : QString();
        const QUrl url(QStringLiteral("https://127.0.0.1:%1").arg(server.serverPort()));

        SyncthingClient pinned(&m_network);
        pinned.setEndpoint({url, "k", nodeCertificate, socketPath});
        Outcome<void> ok;
        pinned.ping(this, ok.callback());
        QTRY_VERIFY_WITH_TIMEOUT(ok.called, 10000);
        QVERIFY2(ok.result.has_value(), ok.result ? "" : ok.result.error().message.c_str());

        // A fresh handshake (its own network manager) with the wrong pin...
        QNetworkAccessManager freshNetwork;
        SyncthingClient wrongPin(&freshNetwork);
        wrongPin.setEndpoint({url, "k", otherCertificate, socketPath});
        Outcome<void> refused;
        wrongPin.ping(this, refused.callback());
        QTRY_VERIFY_WITH_TIMEOUT(refused.called, 10000);
        QVERIFY2(!refused.result.has_value(), "a wrong pin was accepted");
        QCOMPARE(refused.result.error().code, ErrorCode::AccessDenied);

        // ...and on the shared one, where the connection verified for `pinned` could be reused:
        // the pin is checked again on the reply.
        SyncthingClient wrongPinShared(&m_network);
        wrongPinShared.setEndpoint({url, "k", otherCertificate, socketPath});
        Outcome<void> refusedShared;
        wrongPinShared.ping(this, refusedShared.callback());
        QTRY_VERIFY_WITH_TIMEOUT(refusedShared.called, 10000);
        QCOMPARE(refusedShared.result.error().code, ErrorCode::AccessDenied);

        QNetworkAccessManager freshNetwork2;
        SyncthingClient unpinned(&freshNetwork2);
        unpinned.setEndpoint({url, "k", QSslCertificate(), socketPath});
        Outcome<void> untrusted;
        unpinned.ping(this, untrusted.callback());
        QTRY_VERIFY_WITH_TIMEOUT(untrusted.called, 10000);
        QCOMPARE(untrusted.result.error().code, ErrorCode::AccessDenied);
    }

    void validatesIgnorePatterns_data()
    {
        QTest::addColumn<QString>("pattern");
        QTest::addColumn<bool>("valid");
        QTest::newRow("plain") << "dovecot.index*" << true;
        QTest::newRow("prefixes") << "!(?i)(?d)*.lock" << true;
        QTest::newRow("comment") << "// a comment [" << true;
        QTest::newRow("class") << "file[0-9].txt" << true;
        QTest::newRow("class with ]") << "[]a]" << true;
        QTest::newRow("negated class") << "[!abc]x" << true;
        QTest::newRow("alternatives") << "{tmp,cur}/x" << true;
        QTest::newRow("escape") << "a\\[b" << true;
        QTest::newRow("include") << "#include more.stignore" << true;
        QTest::newRow("empty") << "" << true;
        QTest::newRow("open class") << "[oops" << false;
        QTest::newRow("open brace") << "{a,b" << false;
        QTest::newRow("stray brace") << "a}" << false;
        QTest::newRow("trailing escape") << "abc\\" << false;
        QTest::newRow("bare prefix") << "(?d)" << false;
        QTest::newRow("include without file") << "#include" << false;
    }
    void validatesIgnorePatterns()
    {
        QFETCH(QString, pattern);
        QFETCH(bool, valid);
        QCOMPARE(SyncthingIgnores::problem(pattern).isEmpty(), valid);
        QCOMPARE(SyncthingIgnores::validate({QStringLiteral("ok"), pattern}).has_value(), valid);
    }

    void parsesTheNodeConfig_data()
    {
        QTest::addColumn<QByteArray>("xml");
        QTest::addColumn<bool>("ok");
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::addColumn<bool>("tls");
        const QByteArray recorded = dataFile(QStringLiteral("config.xml"));
        QTest::newRow("generated by syncthing 1.19")
            << recorded << true << "127.0.0.1" << 42384 << false;
        const auto gui = [](const char *attributes, const char *inner) {
            return QByteArray("<configuration version=\"36\"><gui ") + attributes + ">" + inner +
                   "</gui><device id=\"X\"><address>dynamic</address></device></configuration>";
        };
        QTest::newRow("tls any address") << gui("enabled=\"true\" tls=\"true\"",
                                                "<address>0.0.0.0:8384</address><apikey>k</apikey>")
                                         << true << "127.0.0.1" << 8384 << true;
        QTest::newRow("ipv6") << gui("tls=\"false\"",
                                     "<address>[::1]:8385</address><apikey>k</apikey>")
                              << true << "::1" << 8385 << false;
        QTest::newRow("no api key")
            << gui("", "<address>127.0.0.1:8384</address>") << false << "" << 0 << false;
        QTest::newRow("unix socket") << gui("", "<address>/run/st.sock</address><apikey>k</apikey>")
                                     << false << "" << 0 << false;
        QTest::newRow("no port") << gui("", "<address>127.0.0.1</address><apikey>k</apikey>")
                                 << false << "" << 0 << false;
        QTest::newRow("broken xml")
            << QByteArray("<configuration><gui>") << false << "" << 0 << false;
    }
    void parsesTheNodeConfig()
    {
        QFETCH(QByteArray, xml);
        QFETCH(bool, ok);
        QFETCH(QString, host);
        QFETCH(int, port);
        QFETCH(bool, tls);
        const auto config = SyncthingTunnel::parseConfig(xml);
        QCOMPARE(config.has_value(), ok);
        if (!ok)
            return;
        QCOMPARE(config->host, host);
        QCOMPARE(int(config->port), port);
        QCOMPARE(config->tls, tls);
        QVERIFY(!config->apiKey.isEmpty());
    }
};

// The same tests over both transports: the Unix socket first (what the app uses).
int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    TestSyncthingClient overSocket(true);
    overSocket.setObjectName(QStringLiteral("overUnixSocket"));
    const int socketFailures = QTest::qExec(&overSocket, argc, argv);
    TestSyncthingClient overTcp(false);
    const int tcpFailures = QTest::qExec(&overTcp, argc, argv);
    return socketFailures + tcpFailures;
}
#include "tst_syncthingclient.moc"
