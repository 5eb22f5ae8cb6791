#include "snapshotfactory.h"
#include "ui/syncmatrixmodel.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QTest>

using mm::ui::SyncMatrixModel;

class TestSyncMatrixModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void showsEachNodesViewOfEachPeer()
    {
        SyncMatrixModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        auto state = std::make_shared<mm::cluster::ClusterState>(
            *mm::test::snapshotOf({QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}));
        for (mm::cluster::PeerSync &peer : state->peers) {
            if (peer.nodeId == QLatin1String("a") && peer.peerId == QLatin1String("b")) {
                peer.completion = 97.5;
                peer.needItems = 12;
            }
            if (peer.peerId == QLatin1String("c") && peer.nodeId == QLatin1String("b"))
                peer.connected = false;
        }
        model.setSnapshot(state);
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.columnCount(), 3);
        QCOMPARE(model.index(0, 0).data().toString(), QStringLiteral("—"));
        QVERIFY(model.index(0, 1).data().toString().contains(QStringLiteral("12 needed")));
        QCOMPARE(model.index(0, 2).data().toString(), QStringLiteral("in sync"));
        QCOMPARE(model.index(1, 2).data().toString(), QStringLiteral("disconnected"));
        QCOMPARE(model.headerData(2, Qt::Vertical).toString(), QStringLiteral("c"));
    }
};

QTEST_MAIN(TestSyncMatrixModel)
#include "tst_syncmatrixmodel.moc"
