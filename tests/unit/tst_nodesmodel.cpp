#include "snapshotfactory.h"
#include "ui/nodesmodel.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QSignalSpy>
#include <QTest>

using mm::ui::NodesModel;

class TestNodesModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void showsOneRowPerNode()
    {
        NodesModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSnapshot(mm::test::snapshotOf({QStringLiteral("a"), QStringLiteral("b")}));
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.columnCount(), int(NodesModel::ColumnCount));
        QCOMPARE(model.index(1, NodesModel::Node).data().toString(), QStringLiteral("b"));
        QCOMPARE(model.index(0, NodesModel::Health).data().toString(), QStringLiteral("OK"));
        QCOMPARE(model.index(0, NodesModel::CurOnly).data().toString(), QStringLiteral("on"));
        for (int column = 0; column < NodesModel::ColumnCount; ++column) {
            QVERIFY(!model.headerData(column, Qt::Horizontal).toString().isEmpty());
            QVERIFY(!model.headerData(column, Qt::Horizontal, Qt::ToolTipRole).toString().isEmpty());
        }
    }

    void updatesRowsInPlaceSoSelectionsSurvive()
    {
        NodesModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSnapshot(mm::test::snapshotOf({QStringLiteral("a"), QStringLiteral("b"), QStringLiteral("c")}));
        const QPersistentModelIndex selectedC = model.index(2, NodesModel::Node);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changes(&model, &QAbstractItemModel::dataChanged);
        QSignalSpy removals(&model, &QAbstractItemModel::rowsRemoved);

        auto next = std::make_shared<mm::cluster::ClusterState>(
            *mm::test::snapshotOf({QStringLiteral("a"), QStringLiteral("c"), QStringLiteral("d")}));
        next->nodes[1].reachability = mm::cluster::Reachability::Unreachable; // c goes down
        model.setSnapshot(next);

        QCOMPARE(resets.count(), 0);
        QCOMPARE(removals.count(), 1);  // b
        QCOMPARE(changes.count(), 1);   // c, not a: unchanged rows stay quiet
        QCOMPARE(model.rowCount(), 3);
        QVERIFY(selectedC.isValid());
        QCOMPARE(selectedC.data().toString(), QStringLiteral("c"));
        QCOMPARE(model.index(selectedC.row(), NodesModel::Health).data().toString(), QStringLiteral("Error"));
        QCOMPARE(model.index(2, NodesModel::Node).data().toString(), QStringLiteral("d"));
    }

    void explainsAChangedHostKey()
    {
        NodesModel model;
        auto state = std::make_shared<mm::cluster::ClusterState>(*mm::test::snapshotOf({QStringLiteral("a")}));
        state->nodes[0].hostKey = mm::cluster::HostKeyState::Changed;
        model.setSnapshot(state);
        QCOMPARE(model.index(0, NodesModel::HostKey).data().toString(), QStringLiteral("CHANGED"));
        QVERIFY(model.index(0, NodesModel::HostKey).data(Qt::ToolTipRole).toString().contains(QStringLiteral("intercept")));
    }
};

QTEST_MAIN(TestNodesModel)
#include "tst_nodesmodel.moc"
