// The read-only Home Nodes dialog against three sandbox nodes (stock Dovecot is enough: it only
// lists users): it runs `homes show` itself and shows every user's home and why, with a drained
// node and an override; saves homes-dialog.png for a person to look at.

#include "cluster/config/homenodes.h"
#include "cluster/config/sandboxcluster.h"
#include "sandbox/sandbox.h"
#include "screenshots.h"
#include "ui/homesdialog.h"
#include "ui/jsontablemodel.h"

#include <QAbstractItemModelTester>
#include <QLabel>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QtTest>

using namespace Qt::StringLiterals;

class TestHomesDialog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void showsEveryUserWithItsHome()
    {
        mm::sandbox::SandboxOptions options;
        options.nodeCount = 3;
        mm::sandbox::Sandbox sandbox(options);
        const mm::Status started = sandbox.start();
        QVERIFY2(started, started ? "" : started.error().describe().c_str());
        const QStringList users{u"alice"_s, u"bob"_s,   u"carol"_s, u"dave"_s, u"erin"_s,
                                u"frank"_s, u"grace"_s, u"heidi"_s, u"ivan"_s, u"judy"_s};
        for (int n = 0; n < 3; ++n) {
            QByteArray file;
            for (const QString &user : users)
                file += user.toUtf8() +
                        "@example.org:{PLAIN}pw:" + QByteArray::number(sandbox.user().uid()) + ':' +
                        QByteArray::number(sandbox.user().gid()) + "::/nonexistent::\n";
            const auto written = sandbox.runOnNode(
                n, u"cat > '%1/dovecot/users'"_s.arg(sandbox.node(n).dir), 30000, file);
            QVERIFY(written && written->exitCode == 0);
        }
        auto cluster = mm::cluster::clusterFromSandboxDescription(sandbox.description(),
                                                                  u"example.org mail"_s);
        QVERIFY(cluster);
        for (int n = 0; n < 3; ++n)
            cluster->nodes[n].dovecot.imapPort = sandbox.node(n).imapPort;
        cluster->homes.drained = {u"node2"_s};
        cluster->homes.overrides.insert(u"grace@example.org"_s, u"node3"_s);
        mm::cluster::MonitorOptions monitor;
        monitor.agentBinary = qEnvironmentVariable("MAILMESH_AGENT");

        mm::ui::HomesDialog dialog(*cluster, monitor);
        auto *table = dialog.findChild<QTableView *>(u"homesTable"_s);
        QVERIFY(table);
        auto *proxy = qobject_cast<QSortFilterProxyModel *>(table->model());
        QVERIFY(proxy);
        QAbstractItemModelTester tester(proxy->sourceModel(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        dialog.show();
        QSignalSpy refreshed(&dialog, &mm::ui::HomesDialog::refreshed);
        dialog.refresh();
        QVERIFY(refreshed.wait(60000));
        const auto report = refreshed.first().first().value<mm::cluster::WorkflowReport>();
        QVERIFY2(report.succeeded, report.error ? report.error->message.c_str() : "");
        QCOMPARE(table->model()->rowCount(), users.size());
        QStringList homes;
        for (int row = 0; row < table->model()->rowCount(); ++row) {
            const QString user = table->model()->index(row, 0).data().toString();
            const QString home = table->model()->index(row, 1).data().toString();
            const QString why = table->model()->index(row, 2).data().toString();
            QVERIFY2(home != u"node2"_s, qPrintable(user)); // drained: home to no one
            if (user == u"grace@example.org"_s) {
                QCOMPARE(home, u"node3"_s);
                QCOMPARE(why, u"set by the admin"_s);
            } else if (mm::cluster::homenodes::hashedHome(
                           user, {u"node1"_s, u"node2"_s, u"node3"_s}) == u"node2"_s) {
                QCOMPARE(why, u"failover from node2"_s);
            } else {
                QCOMPARE(why, u"hash"_s);
            }
        }
        QVERIFY(dialog.findChildren<QLabel *>().first()->text().contains(u"node2: 0 (drained)"_s));
        QVERIFY(dialog.grab().save(screenshotPath(u"homes-dialog.png"_s)));
    }
};

QTEST_MAIN(TestHomesDialog)
#include "tst_homesdialog.moc"
