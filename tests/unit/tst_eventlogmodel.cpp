#include "ui/eventlogmodel.h"

#include <QAbstractItemModelTester>
#include <QApplication>
#include <QTest>

using mm::cluster::Health;
using mm::ui::EventLogModel;
using mm::ui::LogEvent;

class TestEventLogModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void appendsAndExports()
    {
        EventLogModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const QDateTime time = QDateTime::fromSecsSinceEpoch(1'800'000'000, Qt::UTC);
        model.append(LogEvent{time, Health::Error, QStringLiteral("mx1"), QStringLiteral("down")});
        model.append(LogEvent{time, Health::Warning, {}, QStringLiteral("duplicates")});
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.index(1, EventLogModel::Node).data().toString(), QStringLiteral("cluster"));
        QCOMPARE(model.toText(), QStringLiteral("2027-01-15T08:00:00Z\tError\tmx1\tdown\n"
                                                "2027-01-15T08:00:00Z\tWarning\t-\tduplicates\n"));
        QCOMPARE(model.toText({model.index(1, 0)}), QStringLiteral("2027-01-15T08:00:00Z\tWarning\t-\tduplicates\n"));
    }

    void staysBounded()
    {
        EventLogModel model;
        for (int i = 0; i < EventLogModel::kMaxEvents + 5; ++i)
            model.append(LogEvent{QDateTime::currentDateTimeUtc(), Health::Ok, {}, QString::number(i)});
        QVERIFY(model.rowCount() <= EventLogModel::kMaxEvents);
        QCOMPARE(model.index(model.rowCount() - 1, EventLogModel::Message).data().toString(),
                 QString::number(EventLogModel::kMaxEvents + 4));
    }
};

QTEST_MAIN(TestEventLogModel)
#include "tst_eventlogmodel.moc"
