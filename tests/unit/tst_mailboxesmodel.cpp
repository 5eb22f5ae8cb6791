#include "snapshotfactory.h"
#include "ui/mailboxesmodel.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTest>

using mm::ui::MailboxesModel;
using mm::test::mailbox;

namespace {
const QString a = QStringLiteral("a");
const QString b = QStringLiteral("b");
} // namespace

class TestMailboxesModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void showsCountsSideBySideAndFlagsDisagreement()
    {
        MailboxesModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSnapshot(mm::test::snapshotOf(
            {a, b}, {mailbox(QStringLiteral("INBOX"), {{a, 1200}, {b, 1200}}),
                     mailbox(QStringLiteral(".Sent"), {{a, 5}, {b, 4}}), mailbox(QStringLiteral(".Junk"), {{a, 1}})}));
        QCOMPARE(model.columnCount(), 4); // mailbox, a, b, agree
        QCOMPARE(model.headerData(1, Qt::Horizontal).toString(), a);
        QCOMPARE(model.index(0, 3).data().toString(), QStringLiteral("same"));
        QCOMPARE(model.index(1, 3).data().toString(), QStringLiteral("differs"));
        QCOMPARE(model.index(2, 2).data().toString(), QStringLiteral("missing"));
        QCOMPARE(model.index(0, 1).data(MailboxesModel::SortRole).toLongLong(), 1200);
        QVERIFY(!model.index(0, 0).data(MailboxesModel::DisagreesRole).toBool());
        QVERIFY(model.index(2, 0).data(MailboxesModel::DisagreesRole).toBool());
    }

    void sortsAndFiltersThroughAProxy()
    {
        MailboxesModel model;
        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setSortRole(MailboxesModel::SortRole);
        QAbstractItemModelTester tester(&proxy, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QList<mm::cluster::MailboxCounts> many;
        for (int i = 0; i < 5000; ++i)
            many << mailbox(QStringLiteral("user%1/INBOX").arg(i), {{a, i}, {b, i == 4321 ? 0 : i}});
        model.setSnapshot(mm::test::snapshotOf({a, b}, many));
        proxy.sort(1, Qt::DescendingOrder);
        QCOMPARE(proxy.index(0, 0).data().toString(), QStringLiteral("user4999/INBOX"));
        proxy.setFilterRole(MailboxesModel::DisagreesRole);
        proxy.setFilterFixedString(QStringLiteral("true"));
        QCOMPARE(proxy.rowCount(), 1);
        QCOMPARE(proxy.index(0, 0).data().toString(), QStringLiteral("user4321/INBOX"));
    }

    void newNodeResetsColumnsButSameNodesUpdateInPlace()
    {
        MailboxesModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setSnapshot(mm::test::snapshotOf({a, b}, {mailbox(QStringLiteral("INBOX"), {{a, 1}, {b, 1}})}));
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QSignalSpy changes(&model, &QAbstractItemModel::dataChanged);
        model.setSnapshot(mm::test::snapshotOf({a, b}, {mailbox(QStringLiteral("INBOX"), {{a, 2}, {b, 1}})}));
        QCOMPARE(resets.count(), 0);
        QCOMPARE(changes.count(), 1);
        model.setSnapshot(mm::test::snapshotOf({a, b, QStringLiteral("c")}, {mailbox(QStringLiteral("INBOX"), {{a, 2}})}));
        QVERIFY(resets.count() >= 1);
        QCOMPARE(model.columnCount(), 5);
    }
};

QTEST_MAIN(TestMailboxesModel)
#include "tst_mailboxesmodel.moc"
