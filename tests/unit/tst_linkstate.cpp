// The cluster view's state of a link between two nodes, and its colours: every state a colour of
// its own, and the lag written as a person reads it.

#include "ui/linkstate.h"

#include <QSet>
#include <QTest>

using namespace mm;
using cluster::PeerSync;
using cluster::Reachability;
using ui::LinkState;

Q_DECLARE_METATYPE(mm::cluster::Reachability)
Q_DECLARE_METATYPE(mm::ui::LinkState)

namespace {

PeerSync view(const QString &node, const QString &peer, bool connected, double completion,
              qint64 needItems)
{
    return PeerSync{node, peer, connected, completion, needItems, needItems * 1000};
}

} // namespace

class TestLinkState : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void mapsBothViewsToOneState_data()
    {
        QTest::addColumn<Reachability>("first");
        QTest::addColumn<Reachability>("second");
        QTest::addColumn<bool>("hasForward");
        QTest::addColumn<bool>("forwardConnected");
        QTest::addColumn<double>("forwardCompletion");
        QTest::addColumn<qint64>("forwardNeed");
        QTest::addColumn<bool>("hasBackward");
        QTest::addColumn<bool>("backwardConnected");
        QTest::addColumn<qint64>("backwardNeed");
        QTest::addColumn<qint64>("lag");
        QTest::addColumn<LinkState>("expected");

        const auto up = Reachability::Reachable, down = Reachability::Unreachable,
                   unknown = Reachability::Unknown;
        QTest::newRow("both at 100%") << up << up << true << true << 100.0 << 0LL << true << true
                                      << 0LL << 0LL << LinkState::InSync;
        QTest::newRow("one view missing, the other in sync")
            << up << up << true << true << 100.0 << 0LL << false << false << 0LL << 0LL
            << LinkState::InSync;
        QTest::newRow("items needed, 20 s") << up << up << true << true << 99.5 << 14LL << true
                                            << true << 0LL << 20LL << LinkState::Syncing;
        QTest::newRow("needed on the way back") << up << up << true << true << 100.0 << 0LL << true
                                                << true << 3LL << 5LL << LinkState::Syncing;
        QTest::newRow("59 s is still syncing") << up << up << true << true << 99.0 << 2LL << true
                                               << true << 0LL << 59LL << LinkState::Syncing;
        QTest::newRow("60 s is behind") << up << up << true << true << 99.0 << 2LL << true << true
                                        << 0LL << 60LL << LinkState::Behind;
        QTest::newRow("below 100% with nothing needed")
            << up << up << true << true << 99.9 << 0LL << true << true << 0LL << 300LL
            << LinkState::Behind;
        QTest::newRow("one side not connected") << up << up << true << false << 100.0 << 0LL << true
                                                << true << 0LL << 4LL << LinkState::Disconnected;
        QTest::newRow("disconnected beats behind")
            << up << up << true << false << 40.0 << 900LL << true << true << 0LL << 3600LL
            << LinkState::Disconnected;
        QTest::newRow("an end unreachable") << up << down << true << false << 100.0 << 0LL << true
                                            << false << 0LL << 0LL << LinkState::NodeUnreachable;
        QTest::newRow("unreachable beats everything")
            << down << up << true << true << 100.0 << 0LL << true << true << 0LL << 9999LL
            << LinkState::NodeUnreachable;
        // Before the monitor reached a node, its peers are "disconnected, 0%": not believed.
        QTest::newRow("not reached yet, nothing else known")
            << unknown << unknown << true << false << 0.0 << 0LL << true << false << 0LL << 0LL
            << LinkState::Unknown;
        QTest::newRow("one end not reached yet: the other's view counts")
            << unknown << up << true << false << 0.0 << 0LL << true << true << 0LL << 0LL
            << LinkState::InSync;
        QTest::newRow("no view at all") << up << up << false << false << 0.0 << 0LL << false
                                        << false << 0LL << 0LL << LinkState::Unknown;
    }

    void mapsBothViewsToOneState()
    {
        QFETCH(Reachability, first);
        QFETCH(Reachability, second);
        QFETCH(bool, hasForward);
        QFETCH(bool, forwardConnected);
        QFETCH(double, forwardCompletion);
        QFETCH(qint64, forwardNeed);
        QFETCH(bool, hasBackward);
        QFETCH(bool, backwardConnected);
        QFETCH(qint64, backwardNeed);
        QFETCH(qint64, lag);
        QFETCH(LinkState, expected);
        const PeerSync forward = view(QStringLiteral("mx1"), QStringLiteral("mx2"),
                                      forwardConnected, forwardCompletion, forwardNeed);
        const PeerSync backward =
            view(QStringLiteral("mx2"), QStringLiteral("mx1"), backwardConnected,
                 backwardNeed > 0 ? 90.0 : 100.0, backwardNeed);
        const ui::LinkEnds ends{first, second, hasForward ? &forward : nullptr,
                                hasBackward ? &backward : nullptr};
        QCOMPARE(ui::linkState(ends, lag), expected);
    }

    void everyStateHasItsOwnColourAndWords()
    {
        QSet<QRgb> colours;
        QSet<QString> texts;
        const QList<LinkState> states{LinkState::InSync,          LinkState::Syncing,
                                      LinkState::Behind,          LinkState::Disconnected,
                                      LinkState::NodeUnreachable, LinkState::Unknown};
        for (LinkState state : states) {
            const QColor colour = ui::linkStateColor(state);
            QVERIFY(colour.isValid());
            colours.insert(colour.rgb());
            texts.insert(ui::linkStateText(state));
            QVERIFY(!ui::linkStateDescription(state).isEmpty());
        }
        QCOMPARE(colours.size(), states.size());
        QCOMPARE(texts.size(), states.size());
        // The states that say "all is well" and "something is wrong" are far apart in hue.
        QVERIFY(std::abs(ui::linkStateColor(LinkState::InSync).hue() -
                         ui::linkStateColor(LinkState::Disconnected).hue()) > 90);
        // Only what is not known first hand is dashed.
        QVERIFY(ui::linkStateIsDashed(LinkState::NodeUnreachable));
        QVERIFY(ui::linkStateIsDashed(LinkState::Unknown));
        QVERIFY(!ui::linkStateIsDashed(LinkState::Behind));
        QVERIFY(!ui::linkStateIsDashed(LinkState::Disconnected));
    }

    void writesTheLagAsAPersonReadsIt_data()
    {
        QTest::addColumn<qint64>("seconds");
        QTest::addColumn<bool>("atLeast");
        QTest::addColumn<QString>("expected");
        QTest::newRow("zero") << 0LL << false << QStringLiteral("0 s");
        QTest::newRow("seconds") << 42LL << false << QStringLiteral("42 s");
        QTest::newRow("a minute") << 60LL << false << QStringLiteral("1 min");
        QTest::newRow("minutes round down") << 719LL << false << QStringLiteral("11 min");
        QTest::newRow("an hour") << 3600LL << false << QStringLiteral("1 h");
        QTest::newRow("hours and minutes") << 7500LL << false << QStringLiteral("2 h 5 min");
        QTest::newRow("a lower bound") << 180LL << true << QStringLiteral("≥ 3 min");
        QTest::newRow("never negative") << -5LL << false << QStringLiteral("0 s");
    }

    void writesTheLagAsAPersonReadsIt()
    {
        QFETCH(qint64, seconds);
        QFETCH(bool, atLeast);
        QFETCH(QString, expected);
        QCOMPARE(ui::lagText(seconds, atLeast), expected);
    }
};

QTEST_GUILESS_MAIN(TestLinkState)
#include "tst_linkstate.moc"
