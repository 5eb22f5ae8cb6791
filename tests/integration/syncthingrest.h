#pragma once

// Talking to a sandbox node's Syncthing REST API from a test: one blocking call, and waiting
// until a shared folder is quiet on every node. Blocking calls and local event loops are fine
// here: this is test code (docs/conventions.md, "Asynchronous code, blocking tests").

#include "sandbox/sandbox.h"

#include <QElapsedTimer>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonValue>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QThread>

namespace mm::test {

class SyncthingRest
{
public:
    explicit SyncthingRest(const sandbox::Sandbox &sandbox)
        : m_sandbox(sandbox)
    {
    }

    QJsonValue call(int n, const QByteArray &verb, const QString &pathAndQuery, const QJsonObject &body = {},
                    int *status = nullptr)
    {
        const sandbox::NodeInfo node = m_sandbox.node(n);
        QNetworkRequest request(QUrl(QStringLiteral("http://%1%2").arg(node.syncthingGuiAddress(), pathAndQuery)));
        request.setRawHeader("X-API-Key", node.syncthingApiKey.toUtf8());
        request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        request.setTransferTimeout(15000);
        const QByteArray payload = body.isEmpty() ? QByteArray() : QJsonDocument(body).toJson(QJsonDocument::Compact);
        QNetworkReply *reply = m_network.sendCustomRequest(request, verb, payload);
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        loop.exec();
        if (status)
            *status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        // A reply that timed out (a scan of a big tree can take longer) is closed: nothing to read.
        const QJsonDocument document =
            QJsonDocument::fromJson(reply->isOpen() ? reply->readAll() : QByteArray());
        reply->deleteLater();
        return document.isObject() ? QJsonValue(document.object()) : QJsonValue(document.array());
    }

    // Until every node has scanned, pulled everything and agrees with the others twice in a row.
    bool waitQuiet(const QString &folder, int timeoutMs = 60000)
    {
        QElapsedTimer clock;
        clock.start();
        QByteArray previous;
        int stableRounds = 0;
        const int nodes = int(m_sandbox.nodes().size());
        while (clock.elapsed() < timeoutMs) {
            for (int n = 0; n < nodes; ++n)
                call(n, "POST", QStringLiteral("/rest/db/scan?folder=") + folder);
            bool quiet = true;
            QByteArray snapshot;
            for (int n = 0; n < nodes; ++n) {
                const QJsonObject status = call(n, "GET", QStringLiteral("/rest/db/status?folder=") + folder).toObject();
                if (status.value(QStringLiteral("state")).toString() != QStringLiteral("idle")
                    || status.value(QStringLiteral("needTotalItems")).toInt() != 0)
                    quiet = false;
                for (const char *key : {"globalFiles", "globalDeleted", "globalBytes", "localFiles", "localBytes",
                                        "globalSymlinks"})
                    snapshot += QByteArray::number(status.value(QLatin1String(key)).toDouble()) + ',';
                for (int other = 0; other < nodes; ++other) {
                    if (other == n)
                        continue;
                    const QJsonObject completion =
                        call(n, "GET",
                             QStringLiteral("/rest/db/completion?folder=%1&device=%2")
                                 .arg(folder, m_sandbox.node(other).syncthingDeviceId))
                            .toObject();
                    if (completion.value(QStringLiteral("needItems")).toInt() != 0
                        || completion.value(QStringLiteral("completion")).toDouble() < 100.0)
                        quiet = false;
                }
                snapshot += '|';
            }
            if (quiet && snapshot == previous) {
                if (++stableRounds >= 2)
                    return true;
            } else {
                stableRounds = 0;
            }
            previous = snapshot;
            QThread::msleep(300);
        }
        return false;
    }

private:
    const sandbox::Sandbox &m_sandbox;
    QNetworkAccessManager m_network;
};

} // namespace mm::test
