#include "cluster/monitor/canaryrun.h"

#include "cluster/monitor/nodemonitor.h"

#include <QDateTime>
#include <QJsonArray>

#include <algorithm>

namespace mm::cluster {

namespace {

QString describe(const Error &error)
{
    return QString::fromStdString(error.describe());
}

} // namespace

CanaryRun::CanaryRun(const std::vector<NodeMonitor *> &nodes, CanaryOptions options, quint64 sequence,
                     QObject *parent)
    : QObject(parent)
    , m_nodes(nodes)
    , m_options(options)
    , m_sequence(sequence)
{
    m_pollTimer.setInterval(std::max(100, m_options.pollMs));
    connect(&m_pollTimer, &QTimer::timeout, this, [this] {
        poll();
        advance();
    });
    m_deadline.setSingleShot(true);
    connect(&m_deadline, &QTimer::timeout, this, &CanaryRun::finish);
    for (int i = 0; i < int(m_nodes.size()); ++i)
        connect(m_nodes[i], &NodeMonitor::canaryProbeChanged, this, [this, i](const QString &name, bool present) {
            noteProbe(i, name, present, QStringLiteral("event"));
            advance();
        });
}

void CanaryRun::start()
{
    if (m_running)
        return;
    m_running = true;
    m_clock.start();
    m_report = CanaryReport{};
    m_report.startedAt = QDateTime::currentDateTimeUtc();
    m_report.timeoutSeconds = m_options.timeoutMs / 1000.0;
    m_probes.clear();
    m_watchable.clear();
    const qint64 madeAt = m_report.startedAt.toMSecsSinceEpoch();
    for (int i = 0; i < int(m_nodes.size()); ++i) {
        if (m_nodes[i]->agentReady())
            m_watchable.insert(i);
        Probe probe;
        probe.origin = i;
        probe.name = QStringLiteral("%1.%2.%3").arg(m_nodes[i]->nodeId()).arg(m_sequence).arg(madeAt);
        m_probes << probe;
    }
    // The slack lets the last deletion be verified; nothing waits beyond it.
    m_deadline.start(2 * m_options.timeoutMs + 5000);
    m_pollTimer.start();
    for (int i = 0; i < int(m_nodes.size()); ++i)
        writeProbe(i);
    advance();
}

void CanaryRun::writeProbe(int index)
{
    Probe &probe = m_probes[index];
    if (!m_watchable.contains(index)) {
        probe.failure = QStringLiteral("%1 not reachable (agent not running)").arg(m_nodes[index]->nodeId());
        probe.phase = Phase::Done;
        return;
    }
    NodeMonitor *node = m_nodes[index];
    const QString name = probe.name;
    // A probe a crash left behind goes at the next run: this node's own ones once they are
    // older than any run could still be using them, anyone's after staleSeconds.
    const qint64 ownStale = std::max<qint64>(300, 2 * m_options.timeoutMs / 1000 + 10);
    const QJsonObject sweepOwn{{QStringLiteral("olderThan"), ownStale}, {QStringLiteral("origin"), node->nodeId()}};
    const QJsonObject sweepStale{{QStringLiteral("olderThan"), m_options.staleSeconds}};
    const auto write = [this, index, node, name] {
        node->callAgentOnRoot(QStringLiteral("canary-write"), {{QStringLiteral("name"), name}}, this,
                              [this, index](const Result<QJsonObject> &written) {
                                  Probe &probe = m_probes[index];
                                  if (!m_running || probe.phase != Phase::Writing)
                                      return;
                                  if (!written) {
                                      probe.failure = QStringLiteral("write failed: %1").arg(describe(written.error()));
                                      probe.phase = Phase::Done;
                                  } else {
                                      probe.writtenMs = m_clock.elapsed();
                                      probe.phase = Phase::Travelling;
                                  }
                                  advance();
                              });
    };
    const auto noteSweep = [this, node](const Result<QJsonObject> &swept) {
        if (!swept)
            m_report.problems << QStringLiteral("%1: sweeping old probes failed: %2").arg(node->nodeId(), describe(swept.error()));
    };
    node->callAgentOnRoot(QStringLiteral("canary-remove"), sweepOwn, this,
                          [this, node, sweepStale, write, noteSweep](const Result<QJsonObject> &swept) {
                              noteSweep(swept);
                              node->callAgentOnRoot(QStringLiteral("canary-remove"), sweepStale, this,
                                                    [write, noteSweep](const Result<QJsonObject> &stale) {
                                                        noteSweep(stale);
                                                        write();
                                                    });
                          });
}

CanaryRun::Probe *CanaryRun::probeNamed(const QString &name)
{
    for (Probe &probe : m_probes)
        if (probe.name == name)
            return &probe;
    return nullptr;
}

QSet<int> CanaryRun::watchableObservers(const Probe &probe) const
{
    QSet<int> observers = m_watchable;
    observers.remove(probe.origin);
    return observers;
}

void CanaryRun::noteProbe(int node, const QString &name, bool present, const QString &how)
{
    Probe *probe = m_running ? probeNamed(name) : nullptr;
    if (!probe || node == probe->origin)
        return;
    // An arrival may be heard of before the write's own answer; its time counts all the same.
    if (present && probe->phase <= Phase::Travelling && !probe->seenMs.contains(node)) {
        probe->seenMs.insert(node, m_clock.elapsed());
        probe->noticedBy.insert(node, how);
    }
    if (!present && probe->phase == Phase::Verifying)
        probe->holding.remove(node);
}

void CanaryRun::poll()
{
    for (int node = 0; node < int(m_nodes.size()); ++node) {
        if (m_listing.contains(node) || !m_nodes[node]->agentReady())
            continue;
        const bool wanted = std::any_of(m_probes.cbegin(), m_probes.cend(), [node](const Probe &probe) {
            return (probe.phase == Phase::Travelling && probe.origin != node && !probe.seenMs.contains(node))
                   || (probe.phase == Phase::Verifying && probe.holding.contains(node));
        });
        if (!wanted)
            continue;
        m_listing.insert(node);
        m_nodes[node]->callAgentOnRoot(QStringLiteral("canary-list"), {}, this, [this, node](const Result<QJsonObject> &listing) {
            m_listing.remove(node);
            if (!listing || !m_running)
                return;
            QSet<QString> present;
            for (const QJsonValue &probe : listing->value(QStringLiteral("probes")).toArray())
                present.insert(probe.toObject().value(QStringLiteral("name")).toString());
            for (const Probe &probe : std::as_const(m_probes))
                noteProbe(node, probe.name, present.contains(probe.name), QStringLiteral("poll"));
            advance();
        });
    }
}

void CanaryRun::advance()
{
    if (!m_running)
        return;
    const qint64 now = m_clock.elapsed();
    bool allDone = true;
    for (Probe &probe : m_probes) {
        if (probe.phase == Phase::Travelling) {
            bool everyoneHasIt = true;
            for (int observer : watchableObservers(probe))
                everyoneHasIt = everyoneHasIt && probe.seenMs.contains(observer);
            if (everyoneHasIt || now - probe.writtenMs >= m_options.timeoutMs)
                removeProbe(probe);
        } else if (probe.phase == Phase::Verifying) {
            if (probe.holding.isEmpty()) {
                probe.phase = Phase::Done;
            } else if (now - probe.removedMs >= m_options.timeoutMs) {
                for (int node : std::as_const(probe.holding))
                    m_report.leftBehind << QStringLiteral("%1: %2").arg(m_nodes[node]->nodeId(), probe.name);
                probe.phase = Phase::Done;
            }
        }
        allDone = allDone && probe.phase == Phase::Done;
    }
    if (allDone)
        finish();
}

void CanaryRun::removeProbe(Probe &probe)
{
    probe.phase = Phase::Removing;
    const int index = int(&probe - m_probes.data());
    NodeMonitor *origin = m_nodes[probe.origin];
    origin->callAgentOnRoot(QStringLiteral("canary-remove"), {{QStringLiteral("name"), probe.name}}, this,
                            [this, index, origin](const Result<QJsonObject> &removed) {
                                Probe &probe = m_probes[index];
                                if (!m_running)
                                    return;
                                if (!removed) {
                                    m_report.problems << QStringLiteral("%1: removing %2 failed: %3")
                                                             .arg(origin->nodeId(), probe.name, describe(removed.error()));
                                    m_report.leftBehind << QStringLiteral("%1: %2").arg(origin->nodeId(), probe.name);
                                    probe.phase = Phase::Done;
                                } else {
                                    // Syncthing carries the deletion; every node the run can ask must lose it.
                                    probe.removedMs = m_clock.elapsed();
                                    probe.holding = watchableObservers(probe);
                                    probe.phase = Phase::Verifying;
                                }
                                advance();
                            });
}

void CanaryRun::finish()
{
    if (!m_running)
        return;
    m_running = false;
    m_pollTimer.stop();
    m_deadline.stop();
    m_report.finishedAt = QDateTime::currentDateTimeUtc();
    for (const Probe &probe : std::as_const(m_probes)) {
        const QString origin = m_nodes[probe.origin]->nodeId();
        if (probe.phase != Phase::Done) {
            // The deadline struck: whatever was not verified may still be there (the next run
            // sweeps it).
            if (probe.phase != Phase::Verifying)
                m_report.leftBehind << QStringLiteral("%1: %2 (not verified)").arg(origin, probe.name);
            for (int node : watchableObservers(probe))
                if (probe.phase != Phase::Writing && (probe.phase != Phase::Verifying || probe.holding.contains(node)))
                    m_report.leftBehind << QStringLiteral("%1: %2 (not verified)").arg(m_nodes[node]->nodeId(), probe.name);
        }
        for (int observer = 0; observer < int(m_nodes.size()); ++observer) {
            if (observer == probe.origin)
                continue;
            CanaryPairResult pair{origin, m_nodes[observer]->nodeId(), {}, {}, {}};
            if (!probe.failure.isEmpty())
                pair.failure = probe.failure;
            else if (probe.writtenMs < 0)
                pair.failure = QStringLiteral("write not answered");
            else if (!m_watchable.contains(observer))
                pair.failure = QStringLiteral("%1 not reachable (agent not running)").arg(pair.observer);
            else if (!probe.seenMs.contains(observer))
                pair.failure = QStringLiteral("timeout");
            if (pair.failure.isEmpty()) {
                pair.latencySeconds = std::max<qint64>(0, probe.seenMs.value(observer) - probe.writtenMs) / 1000.0;
                pair.noticedBy = probe.noticedBy.value(observer);
            }
            m_report.pairs << pair;
        }
    }
    m_report.leftBehind.removeDuplicates();
    Q_EMIT finished(m_report);
}

} // namespace mm::cluster
