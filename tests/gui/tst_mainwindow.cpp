#include "keyboardcheck.h"
#include "screenshots.h"
#include "../unit/snapshotfactory.h"
#include "cluster/config/clusterconfig.h"
#include "cluster/pluralforms.h"
#include "ui/dashboardwidget.h"
#include "ui/eventlogmodel.h"
#include "ui/mainwindow.h"
#include "ui/notificationsettingsdialog.h"
#include "ui/statuspresentation.h"

#include <QApplication>
#include <QColor>
#include <QDir>
#include <QHeaderView>
#include <QImage>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QPushButton>
#include <QScrollBar>
#include <QSet>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
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
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(cluster::installPluralForms()); // as the app does: "3 duplicate groups"
    }
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
        QVERIFY(events.contains(QStringLiteral("3 duplicate groups found")));
        QCOMPARE(window.dashboard()->mailboxesView()->model()->rowCount(), 80);
        QVERIFY(window.grab().save(screenshotPath(QStringLiteral("dashboard.png"))));

        auto *tabs = window.dashboard()->findChild<QTabWidget *>(QStringLiteral("detailTabs"));
        QVERIFY(tabs);
        tabs->setCurrentIndex(1);
        QVERIFY(window.grab().save(screenshotPath(QStringLiteral("dashboard-event-log.png"))));
    }

    void theNodesTableFitsItsColumnsAtTheDefaultSize()
    {
        // Every column of every node readable without scrolling sideways: the long problem text
        // is the one column that gives way (elided, whole in its tooltip).
        QTemporaryDir dir;
        const QString path = writeClusterFile(dir, {QStringLiteral("mx1"), QStringLiteral("mx2"), QStringLiteral("mx3")});
        ui::MainWindow window;
        QVERIFY(window.openCluster(path));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.setSnapshot(busySnapshot());
        QCoreApplication::processEvents();
        QCOMPARE(window.size(), QSize(1180, 760));
        QTableView *nodes = window.dashboard()->nodesView();
        QVERIFY2(!nodes->horizontalScrollBar()->isVisible(),
                 qPrintable(QStringLiteral("the columns need %1 px, the table has %2")
                                .arg(nodes->horizontalHeader()->length())
                                .arg(nodes->viewport()->width())));
        QVERIFY2(!nodes->verticalScrollBar()->isVisible(), "three nodes should need no scrolling either");
    }

    void keywordClashesShowOnlyWhenThereAreSome()
    {
        QTemporaryDir dir;
        const QString path = writeClusterFile(dir, {QStringLiteral("mx1"), QStringLiteral("mx2"), QStringLiteral("mx3")});
        ui::MainWindow window;
        QVERIFY(window.openCluster(path));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        const auto clashLabel = [&window]() -> QLabel * {
            for (QLabel *label : window.dashboard()->findChildren<QLabel *>())
                if (label->text().startsWith(QStringLiteral("Keyword clashes")))
                    return label;
            return nullptr;
        };
        window.setSnapshot(busySnapshot());
        QVERIFY(!clashLabel() || !clashLabel()->isVisible());

        auto clashing = std::make_shared<cluster::ClusterState>(*busySnapshot());
        clashing->crossNodeChecked = true;
        clashing->keywordClashes = 2;
        clashing->keywordClashDetails = {
            QStringLiteral("example.org/user03/Maildir: keyword letter a is $Junk on mx1, $NotJunk on mx2"),
            QStringLiteral("example.org/user11/Maildir/.Work: keyword letter c is Todo on mx1, $Forwarded on mx3")};
        window.setSnapshot(clashing);
        QLabel *label = clashLabel();
        QVERIFY(label);
        QVERIFY(label->isVisible());
        QVERIFY2(label->toolTip().contains(QStringLiteral("$NotJunk on mx2")), qPrintable(label->toolTip()));
        QVERIFY(window.grab().save(screenshotPath(QStringLiteral("dashboard-keyword-clashes.png"))));
    }

    // Issue #25: the re-key button shows only while a node offers a changed host key, and names it.
    void aChangedHostKeyOffersReKeying()
    {
        QTemporaryDir dir;
        const QString path = writeClusterFile(dir, {QStringLiteral("mx1"), QStringLiteral("mx2"), QStringLiteral("mx3")});
        ui::MainWindow window;
        QVERIFY(window.openCluster(path));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        auto *rekey = window.dashboard()->findChild<QPushButton *>(QStringLiteral("rekeyButton"));
        QVERIFY(rekey);
        window.setSnapshot(busySnapshot());
        QVERIFY(!rekey->isVisible());

        auto changed = std::make_shared<cluster::ClusterState>(*busySnapshot());
        changed->nodes[1].hostKey = cluster::HostKeyState::Changed;
        window.setSnapshot(changed);
        QVERIFY(rekey->isVisible());
        QVERIFY2(rekey->text().contains(QStringLiteral("mx2")), qPrintable(rekey->text()));
        QVERIFY(window.grab().save(screenshotPath(QStringLiteral("dashboard-rekey.png"))));
    }

    void theDashboardWorksFromTheKeyboardAndExplainsItsColumns()
    {
        QTemporaryDir dir;
        const QString path = writeClusterFile(dir, {QStringLiteral("mx1"), QStringLiteral("mx2"), QStringLiteral("mx3")});
        ui::MainWindow window;
        QVERIFY(window.openCluster(path));
        window.setSnapshot(busySnapshot());
        auto *tabs = window.dashboard()->findChild<QTabWidget *>(QStringLiteral("detailTabs"));
        for (int page = 0; page < tabs->count(); ++page) {
            tabs->setCurrentIndex(page);
            const QStringList unreachable = test::unreachableByTab(&window);
            QVERIFY2(unreachable.isEmpty(), qPrintable(unreachable.join(QStringLiteral(", "))));
            const QStringList unexplained = test::columnsWithoutToolTip(&window);
            QVERIFY2(unexplained.isEmpty(), qPrintable(unexplained.join(QStringLiteral("; "))));
        }

        // Inside a table the arrow keys move; Tab has already been shown to leave it.
        QTableView *mailboxes = window.dashboard()->mailboxesView();
        tabs->setCurrentIndex(0);
        mailboxes->setFocus(Qt::TabFocusReason);
        mailboxes->setCurrentIndex(mailboxes->model()->index(0, 0));
        QTest::keyClick(mailboxes, Qt::Key_Down);
        QCOMPARE(mailboxes->currentIndex().row(), 1);
        QTest::keyClick(mailboxes, Qt::Key_End, Qt::ControlModifier);
        QCOMPARE(mailboxes->currentIndex().row(), mailboxes->model()->rowCount() - 1);

        // Every menu entry has a mnemonic, so Alt gets to all of them.
        for (QAction *menu : window.menuBar()->actions()) {
            QVERIFY2(menu->text().contains(QLatin1Char('&')), qPrintable(menu->text()));
            for (QAction *action : menu->menu()->actions())
                QVERIFY2(action->isSeparator() || action->text().contains(QLatin1Char('&')),
                         qPrintable(action->text()));
        }
    }

    void theDashboardFollowsADarkPalette()
    {
        // Colours come from palette roles: under a dark palette the tables turn dark, and their
        // text stays light enough to read. Saved for a person to look at too.
        const QPalette original = QApplication::palette();
        QPalette dark;
        dark.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
        dark.setColor(QPalette::WindowText, QColor(0xe8, 0xe8, 0xe8));
        dark.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
        dark.setColor(QPalette::AlternateBase, QColor(0x26, 0x26, 0x26));
        dark.setColor(QPalette::Text, QColor(0xe8, 0xe8, 0xe8));
        dark.setColor(QPalette::Button, QColor(0x35, 0x35, 0x35));
        dark.setColor(QPalette::ButtonText, QColor(0xe8, 0xe8, 0xe8));
        dark.setColor(QPalette::PlaceholderText, QColor(0x9a, 0x9a, 0x9a));
        QApplication::setPalette(dark);
        QTemporaryDir dir;
        const QString path = writeClusterFile(dir, {QStringLiteral("mx1"), QStringLiteral("mx2"), QStringLiteral("mx3")});
        {
            ui::MainWindow window;
            QVERIFY(window.openCluster(path));
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            window.setSnapshot(busySnapshot());
            const QImage shot = window.grab().toImage();
            QVERIFY(shot.save(screenshotPath(QStringLiteral("dashboard-dark.png"))));
            QTableView *mailboxes = window.dashboard()->mailboxesView();
            const QPoint inside = mailboxes->viewport()->mapTo(&window, QPoint(mailboxes->viewport()->width() - 4, 4));
            QVERIFY2(QColor(shot.pixel(inside)).lightness() < 80, "the mailboxes table did not turn dark");
        }
        QApplication::setPalette(original);
    }

    void notificationSettingsWorkFromTheKeyboard()
    {
        ui::NotificationSettingsDialog dialog;
        const QStringList unreachable = test::unreachableByTab(&dialog);
        QVERIFY2(unreachable.isEmpty(), qPrintable(unreachable.join(QStringLiteral(", "))));
    }

    void statusIconsAreVectorsThatStaySharp()
    {
        // Rendered from SVG at every size, so a 2x screen gets a 32 px pixmap for a 16 px icon
        // instead of an upscaled one, and each health level looks different.
        QSet<QRgb> centres;
        for (cluster::Health health : {cluster::Health::Ok, cluster::Health::Warning, cluster::Health::Error,
                                       cluster::Health::Unknown}) {
            const QIcon icon = ui::healthIcon(health);
            const QPixmap sharp = icon.pixmap(QSize(16, 16), 2.0);
            QCOMPARE(sharp.size(), QSize(32, 32));
            QCOMPARE(sharp.devicePixelRatio(), 2.0);
            const QImage image = icon.pixmap(QSize(64, 64)).toImage();
            QCOMPARE(image.size(), QSize(64, 64));
            centres.insert(image.pixel(32, 20));
        }
        QCOMPARE(centres.size(), 4);
        QVERIFY(!ui::applicationIcon().isNull());
        // The tray's badge marks trouble on the application icon.
        const QImage calm = ui::trayIcon(cluster::Health::Ok).pixmap(QSize(32, 32)).toImage();
        const QImage alarmed = ui::trayIcon(cluster::Health::Error).pixmap(QSize(32, 32)).toImage();
        QVERIFY(calm != alarmed);
        QCOMPARE(calm.pixel(4, 4), alarmed.pixel(4, 4)); // the badge sits in the lower right only
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
