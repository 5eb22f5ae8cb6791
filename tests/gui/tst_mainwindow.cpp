#include "screenshots.h"
#include "../unit/snapshotfactory.h"
#include "cluster/clusterconfig.h"
#include "ui/dashboardwidget.h"
#include "ui/eventlogmodel.h"
#include "ui/mainwindow.h"
#include "ui/notificationsettingsdialog.h"

#include <QDir>
#include <QSettings>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QStatusBar>
#include <QTest>

using namespace mm;

namespace {

QString writeClusterFile(const QTemporaryDir &dir, const QStringList &nodeIds)
{
    cluster::ClusterConfig config;
    config.name = QStringLiteral("example.org mail");
    for (const QString &id : nodeIds) {
        cluster::NodeConfig node;
        node.id = id;
        node.ssh = QStringLiteral("ssh://root@%1.example.org").arg(id);
        node.mailRoot = QStringLiteral("/var/vmail");
        config.nodes << node;
    }
    const QString path = dir.filePath(QStringLiteral("cluster.json"));
    if (!config.save(path))
        return {};
    return path;
}

// A busy cluster: one node down, a sync in progress, mailboxes that disagree, findings.
cluster::ClusterSnapshot busySnapshot()
{
    const QString a = QStringLiteral("mx1"), b = QStringLiteral("mx2"), c = QStringLiteral("mx3");
    QList<cluster::MailboxCounts> mailboxes;
    for (int user = 0; user < 40; ++user) {
        const QString name = QStringLiteral("example.org/user%1/Maildir").arg(user, 2, 10, QLatin1Char('0'));
        mailboxes << test::mailbox(name, {{a, 100 + user}, {b, 100 + user}, {c, user == 7 ? 98 + user : 100 + user}});
        mailboxes << test::mailbox(name + QStringLiteral("/.Sent"), {{a, user}, {b, user}, {c, user}});
    }
    auto state = std::make_shared<cluster::ClusterState>(*test::snapshotOf({a, b, c}, mailboxes));
    state->takenAt = QDateTime::currentDateTimeUtc();
    state->nodes[2].reachability = cluster::Reachability::Unreachable;
    state->nodes[2].problems << QStringLiteral("ssh: connect to host mx3.example.org port 22: Connection refused");
    for (cluster::PeerSync &peer : state->peers) {
        if (peer.peerId == c) {
            peer.connected = false;
        } else if (peer.nodeId == a && peer.peerId == b) {
            peer.completion = 99.2;
            peer.needItems = 14;
            peer.needBytes = 210'000;
        }
    }
    state->duplicateGroups = 3;
    return state;
}

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }
    void init() { QSettings().clear(); }

    void showsTheEmptyStateFirst()
    {
        ui::MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.clusterPath().isEmpty());
        QVERIFY(window.grab().save(screenshotPath(QStringLiteral("empty-state.png"))));
    }

    void opensAClusterAndRemembersIt()
    {
        QTemporaryDir dir;
        const QString path = writeClusterFile(dir, {QStringLiteral("mx1"), QStringLiteral("mx2")});
        QVERIFY(!path.isEmpty());
        {
            ui::MainWindow window;
            QVERIFY(window.openCluster(path));
            QCOMPARE(window.dashboard()->nodesView()->model()->rowCount(), 2);
            QVERIFY(window.windowTitle().contains(QStringLiteral("example.org mail")));
        }
        ui::MainWindow reopened;
        reopened.reopenLastCluster();
        QCOMPARE(reopened.clusterPath(), QFileInfo(path).absoluteFilePath());
    }

    void dashboardShowsASnapshotAndLogsWhatChanged()
    {
        QTemporaryDir dir;
        const QString path = writeClusterFile(dir, {QStringLiteral("mx1"), QStringLiteral("mx2"), QStringLiteral("mx3")});
        ui::MainWindow window;
        QVERIFY(window.openCluster(path));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.setSnapshot(test::snapshotOf({QStringLiteral("mx1"), QStringLiteral("mx2"), QStringLiteral("mx3")}));
        window.setSnapshot(busySnapshot());

        ui::EventLogModel *log = window.dashboard()->eventLog();
        const QString events = log->toText();
        QVERIFY2(events.contains(QStringLiteral("mx3\tNode is unreachable over SSH")), qPrintable(events));
        QVERIFY(events.contains(QStringLiteral("3 duplicate group(s)")));
        QCOMPARE(window.dashboard()->mailboxesView()->model()->rowCount(), 80);
        QVERIFY(window.grab().save(screenshotPath(QStringLiteral("dashboard.png"))));

        auto *tabs = window.dashboard()->findChild<QTabWidget *>();
        QVERIFY(tabs);
        tabs->setCurrentIndex(1);
        QVERIFY(window.grab().save(screenshotPath(QStringLiteral("dashboard-event-log.png"))));
    }

    void aNodeGoingDownIsNotified()
    {
        ui::MainWindow window;
        auto healthy = std::make_shared<cluster::ClusterState>(
            *test::snapshotOf({QStringLiteral("mx1"), QStringLiteral("mx2"), QStringLiteral("mx3")}));
        healthy->takenAt = QDateTime::currentDateTimeUtc();
        for (cluster::NodeState &node : healthy->nodes)
            node.reachability = cluster::Reachability::Reachable;
        window.setSnapshot(healthy);
        window.setSnapshot(busySnapshot());
        // Offscreen has no tray: the same words go to the status bar.
        QVERIFY2(window.statusBar()->currentMessage().startsWith(QLatin1String("mx3 is down")),
                 qPrintable(window.statusBar()->currentMessage()));
    }

    void notificationSettingsAreRemembered()
    {
        ui::NotificationSettingsDialog dialog;
        dialog.show();
        QVERIFY(dialog.grab().save(screenshotPath(QStringLiteral("notification-settings.png"))));
        cluster::ClusterAlerts::Thresholds thresholds = dialog.thresholds();
        QCOMPARE(thresholds.syncStallSeconds, 600);
        thresholds.syncStallSeconds = 120;
        thresholds.duplicates = false;
        ui::NotificationSettingsDialog::save(thresholds);
        const cluster::ClusterAlerts::Thresholds loaded = ui::NotificationSettingsDialog::load();
        QCOMPARE(loaded.syncStallSeconds, 120);
        QVERIFY(!loaded.duplicates);
        QVERIFY(loaded.uidConflicts);
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
