#pragma once

#include "cluster/monitor/canaryreport.h"

#include <QElapsedTimer>
#include <QList>
#include <QMap>
#include <QObject>
#include <QSet>
#include <QTimer>

#include <vector>

namespace mm::cluster {

class NodeMonitor;

struct CanaryOptions
{
    int timeoutMs = 60000; // for a probe to reach every node, and again for its deletion to
    int pollMs = 1000;     // the agents' canary-list, beside Syncthing's ItemFinished events
    // Probes older than this are swept from every node at the start of a run, whatever their
    // origin (a node removed from the cluster, a run killed before its cleanup).
    qint64 staleSeconds = 3600;
};

// One run of the replication canary (docs/monitoring.md, "The replication canary"): every node
// whose agent answers writes a probe into ROOT/.mailmesh-canary at once; the run notes when the
// app learns that each probe is on each other node (Syncthing's ItemFinished event through the
// node's monitor, or the agent's canary-list every pollMs, whichever comes first); once every
// node has it, or after the timeout, the origin deletes it and the run waits until it is gone
// everywhere. It never waits longer than twice the timeout. Times are taken on the app's clock.
class CanaryRun : public QObject
{
    Q_OBJECT

public:
    CanaryRun(const std::vector<NodeMonitor *> &nodes, CanaryOptions options, quint64 sequence,
              QObject *parent = nullptr);

    void start();
    bool isRunning() const { return m_running; }

Q_SIGNALS:
    void finished(const mm::cluster::CanaryReport &report);

private:
    enum class Phase
    {
        Writing,    // sweeping old probes and writing this one
        Travelling, // written; waiting for the observers
        Removing,   // the origin deletes it
        Verifying,  // waiting until no node holds it
        Done
    };
    struct Probe
    {
        int origin = 0;
        QString name;
        Phase phase = Phase::Writing;
        QString failure;        // the origin could not take part: every pair from it fails so
        qint64 writtenMs = -1;  // when the write's answer reached the app
        QMap<int, qint64> seenMs; // observer -> when the app learned the probe is there
        QMap<int, QString> noticedBy;
        qint64 removedMs = -1;
        QSet<int> holding; // while verifying: nodes not yet seen without it
    };

    void writeProbe(int index);
    void noteProbe(int node, const QString &name, bool present, const QString &how);
    void poll();
    void advance();
    void removeProbe(Probe &probe);
    void finish();
    QSet<int> watchableObservers(const Probe &probe) const;
    Probe *probeNamed(const QString &name);

    std::vector<NodeMonitor *> m_nodes;
    CanaryOptions m_options;
    quint64 m_sequence;
    QList<Probe> m_probes;
    QSet<int> m_watchable; // nodes whose agent answered when the run started
    QSet<int> m_listing;   // canary-list calls in flight
    QElapsedTimer m_clock;
    QTimer m_pollTimer;
    QTimer m_deadline;
    CanaryReport m_report;
    bool m_running = false;
};

} // namespace mm::cluster
