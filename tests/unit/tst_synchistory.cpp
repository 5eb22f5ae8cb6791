// SyncHistory: an hour of per-node samples, bounded whatever the snapshot rate; the lag of each
// link measured from the snapshots' own times (no clock is read, none is asserted).

#include "../unit/snapshotfactory.h"
#include "ui/synchistory.h"

#include <QTest>

using namespace mm;
using ui::LinkState;
using ui::SyncHistory;

namespace {

const QString kA = QStringLiteral("mx1"), kB = QStringLiteral("mx2"), kC = QStringLiteral("mx3");
const QDateTime kStart = QDateTime::fromSecsSinceEpoch(1'800'000'000, Qt::UTC);

// Three healthy nodes at `at`; `change` may then spoil them.
cluster::ClusterState stateAt(qint64 secondsFromStart,
                              const std::function<void(cluster::ClusterState &)> &change = {})
{
    cluster::ClusterState state = *test::snapshotOf({kA, kB, kC});
    for (const QString &id : {kA, kB, kC})
        state.folders << cluster::FolderState{id, QStringLiteral("idle"), 0, 0, 0, {}};
    state.takenAt = kStart.addSecs(secondsFromStart);
    if (change)
        change(state);
    return state;
}

cluster::PeerSync &peer(cluster::ClusterState &state, const QString &node, const QString &peerId)
{
    for (cluster::PeerSync &candidate : state.peers)
        if (candidate.nodeId == node && candidate.peerId == peerId)
            return candidate;
    qFatal("no such peer");
}

// mx2 still needs `items` from mx1, as mx1 sees it.
auto mx2Needs(qint64 items)
{
    return [items](cluster::ClusterState &state) {
        cluster::PeerSync &view = peer(state, kA, kB);
        view.completion = 99.0;
        view.needItems = items;
    };
}

const SyncHistory::Link *linkBetween(const QList<SyncHistory::Link> &links, const QString &first,
                                     const QString &second)
{
    for (const SyncHistory::Link &link : links)
        if (link.first == first && link.second == second)
            return &link;
    return nullptr;
}

} // namespace

class TestSyncHistory : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyPairThatSyncsIsALink()
    {
        SyncHistory history;
        history.add(stateAt(0));
        const QList<SyncHistory::Link> links = history.links();
        QCOMPARE(links.size(), 3);
        for (const SyncHistory::Link &link : links) {
            QCOMPARE(link.state, LinkState::InSync);
            QCOMPARE(link.lagSeconds, 0);
        }
        QVERIFY(linkBetween(links, kA, kB) && linkBetween(links, kA, kC) &&
                linkBetween(links, kB, kC));

        // A pair whose nodes share nothing has no line.
        history.add(stateAt(3, [](cluster::ClusterState &state) {
            state.peers.removeIf([](const cluster::PeerSync &p) {
                return (p.nodeId == kB && p.peerId == kC) || (p.nodeId == kC && p.peerId == kB);
            });
        }));
        QCOMPARE(history.links().size(), 2);
        QVERIFY(!linkBetween(history.links(), kB, kC));
    }

    void lagRunsFromTheFirstSnapshotNotInSync()
    {
        SyncHistory history;
        history.add(stateAt(0));
        history.add(stateAt(10, mx2Needs(14)));
        QCOMPARE(linkBetween(history.links(), kA, kB)->state, LinkState::Syncing);
        QCOMPARE(linkBetween(history.links(), kA, kB)->lagSeconds, 0);
        QCOMPARE(linkBetween(history.links(), kA, kB)->itemsBehind, 14);

        history.add(stateAt(40, mx2Needs(9)));
        const SyncHistory::Link *link = linkBetween(history.links(), kA, kB);
        QCOMPARE(link->state, LinkState::Syncing);
        QCOMPARE(link->lagSeconds, 30);
        QVERIFY(!link->lagAtLeast);
        QCOMPARE(history.lagSeconds(kA, kB), 30);
        QCOMPARE(history.lagSeconds(kB, kA), 0);
        QVERIFY2(link->details.contains(QStringLiteral("mx1 → mx2")), qPrintable(link->details));

        history.add(stateAt(70, mx2Needs(9)));
        QCOMPARE(linkBetween(history.links(), kA, kB)->state, LinkState::Behind);
        QCOMPARE(linkBetween(history.links(), kA, kB)->lagSeconds, 60);
        QCOMPARE(linkBetween(history.links(), kA, kC)->state, LinkState::InSync);

        history.add(stateAt(73));
        QCOMPARE(linkBetween(history.links(), kA, kB)->state, LinkState::InSync);
        QCOMPARE(linkBetween(history.links(), kA, kB)->lagSeconds, 0);
        QCOMPARE(history.lagSeconds(kA, kB), 0);
    }

    void aLagSeenFromTheStartIsALowerBound()
    {
        SyncHistory history;
        history.add(stateAt(0, mx2Needs(500)));
        history.add(stateAt(600, mx2Needs(400)));
        const SyncHistory::Link *link = linkBetween(history.links(), kA, kB);
        QCOMPARE(link->lagSeconds, 600);
        QVERIFY(link->lagAtLeast);
    }

    void anUnreachableNodeKeepsItsLinksLagging()
    {
        SyncHistory history;
        history.add(stateAt(0));
        const auto mx3Down = [](cluster::ClusterState &state) {
            state.nodes[2].reachability = cluster::Reachability::Unreachable;
            for (cluster::PeerSync &view : state.peers)
                if (view.peerId == kC || view.nodeId == kC)
                    view.connected = false;
            peer(state, kA, kC).needItems = 7; // what mx1 has that mx3 lacks
        };
        history.add(stateAt(30, mx3Down));
        history.add(stateAt(330, mx3Down));
        const SyncHistory::Link *link = linkBetween(history.links(), kA, kC);
        QCOMPARE(link->state, LinkState::NodeUnreachable);
        QCOMPARE(link->lagSeconds, 300);
        QCOMPARE(link->itemsBehind, 7);
        QVERIFY2(link->details.contains(QStringLiteral("not reachable")),
                 qPrintable(link->details));
        const SyncHistory::Sample last = history.samples(kC).last();
        QVERIFY(!last.reachable);
        QCOMPARE(last.lagSeconds, 300);
        QCOMPARE(last.itemsBehind, 7);
        QVERIFY(history.samples(kA).last().reachable);
    }

    void samplesFollowWhatANodeNeeds()
    {
        SyncHistory history;
        history.add(stateAt(0));
        history.add(stateAt(20, mx2Needs(40)));
        history.add(stateAt(40, [](cluster::ClusterState &state) {
            mx2Needs(25)(state);
            state.folders[1].needItems = 31; // mx2's own count, larger than mx1's view
        }));
        const QList<SyncHistory::Sample> samples = history.samples(kB);
        QCOMPARE(samples.size(), 3);
        QCOMPARE(samples.at(0).itemsBehind, 0);
        QCOMPARE(samples.at(1).itemsBehind, 40);
        QCOMPARE(samples.at(2).itemsBehind, 31);
        QCOMPARE(samples.at(2).lagSeconds, 20);
        QCOMPARE(history.samples(kA).last().itemsBehind, 0);
    }

    void snapshotsWithinABucketMakeOneSampleWithTheWorstValues()
    {
        SyncHistory history;
        history.add(stateAt(0));
        history.add(stateAt(3, mx2Needs(80)));
        history.add(stateAt(6, mx2Needs(5)));
        const QList<SyncHistory::Sample> samples = history.samples(kB);
        QCOMPARE(samples.size(), 1);
        QCOMPARE(samples.first().itemsBehind, 80);
    }

    void keepsOnlyTheLastHour()
    {
        SyncHistory history;
        history.add(stateAt(0, mx2Needs(999))); // a spike that must age out
        history.add(stateAt(SyncHistory::kWindowSeconds - 60));
        QCOMPARE(history.samples(kB).first().itemsBehind, 999); // 59 minutes old: still shown
        history.add(stateAt(SyncHistory::kWindowSeconds + 60));
        const QList<SyncHistory::Sample> samples = history.samples(kB);
        QCOMPARE(samples.size(), 2); // 61 minutes old: gone
        for (const SyncHistory::Sample &sample : samples) {
            QVERIFY(sample.at >= history.latest().addSecs(-SyncHistory::kWindowSeconds));
            QCOMPARE(sample.itemsBehind, 0);
        }
    }

    void staysBoundedOverADayOfSnapshots()
    {
        SyncHistory history;
        // A snapshot every 3 s for a day, a lag now and then.
        for (qint64 second = 0; second < 24 * 3600; second += 3)
            history.add(stateAt(second, second % 900 < 120
                                            ? mx2Needs(second % 50)
                                            : std::function<void(cluster::ClusterState &)>{}));
        for (const QString &id : {kA, kB, kC}) {
            const QList<SyncHistory::Sample> samples = history.samples(id);
            QVERIFY(samples.size() <= SyncHistory::kMaxSamplesPerNode);
            QVERIFY(samples.size() >= SyncHistory::kMaxSamplesPerNode - 1);
            // Each sample covers a bucket; the oldest one still reaches into the last hour.
            QVERIFY(samples.first().at.addSecs(SyncHistory::kBucketSeconds) >
                    history.latest().addSecs(-SyncHistory::kWindowSeconds));
            for (qsizetype i = 1; i < samples.size(); ++i)
                QVERIFY(samples.at(i - 1).at < samples.at(i).at);
        }
    }

    void aClockGoingBackDoesNotReorderSamples()
    {
        SyncHistory history;
        history.add(stateAt(100));
        history.add(stateAt(50, mx2Needs(3)));
        QCOMPARE(history.latest(), kStart.addSecs(100));
        QCOMPARE(history.samples(kB).size(), 1);
        QCOMPARE(history.samples(kB).first().itemsBehind, 3);
    }

    void aNodeThatLeavesTakesItsHistoryWithIt()
    {
        SyncHistory history;
        history.add(stateAt(0, mx2Needs(4)));
        cluster::ClusterState twoNodes = *test::snapshotOf({kA, kC});
        twoNodes.takenAt = kStart.addSecs(30);
        history.add(twoNodes);
        QVERIFY(history.samples(kB).isEmpty());
        QCOMPARE(history.nodeIds(), (QStringList{kA, kC}));
        QCOMPARE(history.links().size(), 1);
        QCOMPARE(history.lagSeconds(kA, kB), 0);
    }

    void aSnapshotWithoutATimeIsIgnored()
    {
        SyncHistory history;
        history.add(*test::snapshotOf({kA, kB}));
        QVERIFY(!history.latest().isValid());
        QVERIFY(history.links().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestSyncHistory)
#include "tst_synchistory.moc"
