#include "remote/syncthingeventstream.h"

#include "remote/syncthingclient.h"

#include <QJsonArray>

#include <algorithm>
#include <limits>

namespace mm::remote {

SyncthingEventStream::SyncthingEventStream(SyncthingClient *client, QStringList eventTypes,
                                           Source source, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_eventTypes(std::move(eventTypes))
    , m_source(source)
{
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, [this] { poll(!m_primed); });
}

void SyncthingEventStream::start()
{
    if (m_running)
        return;
    m_running = true;
    m_primed = false;
    m_currentRetryMs = 0;
    ++m_serial;
    poll(true);
}

void SyncthingEventStream::stop()
{
    m_running = false;
    m_retryTimer.stop();
    ++m_serial;
}

void SyncthingEventStream::poll(bool first)
{
    if (!m_running)
        return;
    QUrlQuery query;
    if (!m_eventTypes.isEmpty())
        query.addQueryItem(QStringLiteral("events"), m_eventTypes.join(QLatin1Char(',')));
    int timeoutMs = SyncthingClient::kDefaultTimeoutMs;
    if (first) {
        query.addQueryItem(QStringLiteral("limit"), QStringLiteral("1"));
        query.addQueryItem(QStringLiteral("timeout"), QStringLiteral("0"));
    } else {
        query.addQueryItem(QStringLiteral("since"), QString::number(m_lastId));
        query.addQueryItem(QStringLiteral("timeout"), QString::number(m_pollTimeoutSeconds));
        timeoutMs += m_pollTimeoutSeconds * 1000; // a long-poll legitimately takes that long
    }
    const QString path = m_source == Source::Events ? QStringLiteral("/rest/events")
                                                    : QStringLiteral("/rest/events/disk");
    const quint64 serial = m_serial;
    m_client->request("GET", path, query, {}, timeoutMs, this,
                      [this, serial, first](Result<QJsonDocument> reply) {
                          handle(serial, first, std::move(reply));
                      });
}

void SyncthingEventStream::handle(quint64 serial, bool first, Result<QJsonDocument> reply)
{
    if (serial != m_serial || !m_running)
        return; // a reply for a run that was stopped
    if (reply && !reply->isArray())
        reply = fail(ErrorCode::InvalidData, "Syncthing's events reply is not a JSON array");
    if (!reply) {
        // Events may have been missed, and Syncthing may have restarted: the retry starts over
        // with a first call, which tells both.
        m_primed = false;
        m_currentRetryMs =
            m_currentRetryMs == 0 ? m_retryDelayMs : std::min(m_currentRetryMs * 2, 30000);
        m_retryTimer.start(m_currentRetryMs);
        Q_EMIT failed(reply.error());
        return;
    }
    m_currentRetryMs = 0;
    const QJsonArray events = reply->array();
    int smallest = std::numeric_limits<int>::max();
    int largest = 0;
    for (const QJsonValue &event : events) {
        const int id = event.toObject().value(QLatin1String("id")).toInt();
        smallest = std::min(smallest, id);
        largest = std::max(largest, id);
    }
    if (first) {
        // Only the current id matters; the event itself happened before we looked.
        const bool wentBack = largest < m_lastId; // a second run after Syncthing restarted
        m_lastId = largest;
        m_primed = true;
        if (wentBack)
            Q_EMIT restarted();
        Q_EMIT ready(m_lastId);
        poll(false);
        return;
    }
    int since = m_lastId;
    if (!events.isEmpty() && smallest <= since) {
        // Ids are only ever increasing within one Syncthing run: a smaller one is a new run.
        since = 0;
        Q_EMIT restarted();
    }
    for (const QJsonValue &value : events) {
        const QJsonObject event = value.toObject();
        if (event.value(QLatin1String("id")).toInt() > since)
            Q_EMIT eventReceived(event);
        if (serial != m_serial)
            return; // a receiver stopped us
    }
    if (!events.isEmpty())
        m_lastId = largest;
    poll(false);
}

} // namespace mm::remote
