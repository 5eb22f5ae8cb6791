// `mailmesh --demo` end to end, offscreen: three real sandbox nodes with sample mail, paired by
// the real workflow, watched by the real monitor, shown in the real main window.

#include "cluster/clustermonitor.h"
#include "cluster/pluralforms.h"
#include "democluster.h"
#include "ui/dashboardwidget.h"
#include "ui/mainwindow.h"

#include <QDir>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTest>

using namespace mm;

namespace {

bool demoIsLiveAndInSync(const cluster::ClusterSnapshot &snapshot, QString *why)
{
    if (!snapshot || snapshot->nodes.size() != 3) {
        *why = QStringLiteral("no snapshot of 3 nodes yet");
        return false;
    }
    for (const cluster::NodeState &node : snapshot->nodes) {
        if (node.health() != cluster::Health::Ok) {
            *why = QStringLiteral("%1 is not OK: %2").arg(node.id, node.problems.join(QStringLiteral("; ")));
            return false;
        }
    }
    for (const cluster::PeerSync &peer : snapshot->peers) {
        if (!peer.connected || peer.completion < 100) {
            *why = QStringLiteral("%1 -> %2 not in sync").arg(peer.nodeId, peer.peerId);
            return false;
        }
    }
    if (snapshot->mailboxes.size() < 12 || snapshot->duplicateGroups < 3) {
        *why = QStringLiteral("%1 mailboxes, %2 duplicate groups so far")
                   .arg(snapshot->mailboxes.size())
                   .arg(snapshot->duplicateGroups);
        return false;
    }
    const QStringList ids = snapshot->nodeIds();
    for (const cluster::MailboxCounts &mailbox : snapshot->mailboxes) {
        if (!mailbox.agrees(ids)) {
            *why = QStringLiteral("%1 still differs").arg(mailbox.mailbox);
            return false;
        }
    }
    return true;
}

} // namespace

class TestDemo : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(mm::cluster::installPluralForms()); // as the app does
        QStandardPaths::setTestModeEnabled(true);
        qRegisterMetaType<cluster::ClusterMonitor *>();
    }

    void demoShowsALivePairedCluster()
    {
        ui::MainWindow window;
        window.show();
        app::DemoCluster demo;
        QSignalSpy failed(&demo, &app::DemoCluster::failed);
        QSignalSpy ready(&demo, &app::DemoCluster::clusterReady);
        connect(&demo, &app::DemoCluster::clusterReady, &window,
                [&window](const QString &file, cluster::ClusterMonitor *monitor) {
                    if (window.openCluster(file, false))
                        window.followMonitor(monitor);
                });
        demo.start();
        QTRY_VERIFY_WITH_TIMEOUT(!ready.isEmpty() || !failed.isEmpty(), 240'000);
        QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed[0][0].toString()));

        QString why;
        QTRY_VERIFY2_WITH_TIMEOUT(demoIsLiveAndInSync(demo.monitor()->snapshot(), &why), qPrintable(why), 180'000);
        QCOMPARE(window.dashboard()->nodesView()->model()->rowCount(), 3);
        QTest::qWait(300); // let the views lay out the last snapshot
        const QString dir = QStringLiteral(MAILMESH_BUILD_DIR "/screenshots");
        QDir().mkpath(dir);
        QVERIFY(window.grab().save(dir + QStringLiteral("/demo-dashboard.png")));

        const QString demoDir = app::DemoCluster::demoDirectory();
        demo.stop();
        QVERIFY2(!QFile::exists(demoDir), "stopping the demo leaves its directory behind");
    }
};

QTEST_MAIN(TestDemo)
#include "tst_demo.moc"
