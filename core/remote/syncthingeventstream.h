#pragma once

#include "common/result.h"

#include <QJsonObject>
#include <QObject>
#include <QStringList>
#include <QTimer>

namespace mm::remote {

class SyncthingClient;

// One long-poll on /rest/events (or /rest/events/disk) with one event filter. Syncthing keeps a
// separate id sequence per filter and buffers only from the filter's first request, so each
// stream keeps its own last id. The first call is limit=1&timeout=0: it learns the current id
// without waiting, and ready() tells the owner to fetch state now, so nothing slips between.
// After a failed poll the stream starts over with such a first call (ready() again). An id
// going backwards means Syncthing restarted (a restarted Syncthing answers the first call of a
// filter with [] or a small id): restarted() comes before ready().
class SyncthingEventStream : public QObject
{
    Q_OBJECT

public:
    enum class Source
    {
        Events,
        DiskEvents
    };

    SyncthingEventStream(SyncthingClient *client, QStringList eventTypes,
                         Source source = Source::Events, QObject *parent = nullptr);

    void setPollTimeoutSeconds(int seconds) { m_pollTimeoutSeconds = seconds; }
    void setRetryDelayMs(int ms) { m_retryDelayMs = ms; }
    void start();
    void stop();
    bool isRunning() const { return m_running; }
    int lastId() const { return m_lastId; }

Q_SIGNALS:
    void ready(int currentId);
    void eventReceived(const QJsonObject &event);
    void restarted();
    // A poll failed; the stream retries by itself after a delay (growing up to 30 s).
    void failed(const mm::Error &error);

private:
    void poll(bool first);
    void handle(quint64 serial, bool first, Result<QJsonDocument> reply);

    SyncthingClient *m_client;
    QStringList m_eventTypes;
    Source m_source;
    int m_pollTimeoutSeconds = 60;
    int m_retryDelayMs = 1000;
    int m_currentRetryMs = 0;
    bool m_running = false;
    bool m_primed = false;
    int m_lastId = 0;
    quint64 m_serial = 0; // bumped by stop()/start(): replies of an older run are ignored
    QTimer m_retryTimer;
};

} // namespace mm::remote
