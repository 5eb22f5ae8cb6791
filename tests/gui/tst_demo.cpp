// `mailmesh --demo` end to end, offscreen: three real sandbox nodes with sample mail, paired by
// the real workflow, watched by the real monitor, shown in the real main window. With the
// cur/-only Dovecot configured (MAILMESH_DOVECOT_PREFIX), the demo's nodes run it with the setting
// off, the demo's live traffic makes duplicates on the classic Maildirs, the migration dialog
// holds the traffic while it is open, `mailmeshctl migrate` on the running demo's own cluster
// file succeeds, and the same traffic then makes none. Screenshots of both phases go to
// <build>/screenshots.

#include "screenshots.h"
#include "cluster/monitor/clustermonitor.h"
#include "cluster/pluralforms.h"
#include "democluster.h"
#include "demotrafficbar.h"
#include "ui/dashboardwidget.h"
#include "ui/mainwindow.h"
#include "ui/migrationdialog.h"

#include <QAction>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QLabel>
#include <QProcess>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace mm;

namespace {

// Rounds of traffic per phase: every node takes three deliveries.
constexpr int kRoundsPerPhase = 9;

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

// Every node's Dovecot as the monitor's probe last saw it.
bool everyNodeRuns(const cluster::ClusterSnapshot &snapshot, bool curOnlyEnabled, QString *why)
{
    if (!snapshot || snapshot->nodes.size() != 3) {
        *why = QStringLiteral("no snapshot of 3 nodes yet");
        return false;
    }
    for (const cluster::NodeState &node : snapshot->nodes) {
        if (!node.dovecotCurOnlyBuild || node.dovecotCurOnlyEnabled != curOnlyEnabled) {
            *why = QStringLiteral("%1: cur/-only build %2, setting %3")
                       .arg(node.id)
                       .arg(node.dovecotCurOnlyBuild)
                       .arg(node.dovecotCurOnlyEnabled);
            return false;
        }
    }
    return true;
}

QString describe(const sandbox::DemoTraffic::Figures &figures)
{
    return QStringLiteral("%1 rounds; classic Maildir: %2 duplicates of %3 messages; cur/-only: %4 duplicates of %5 "
                          "messages")
        .arg(figures.rounds)
        .arg(figures.classic.duplicates)
        .arg(figures.classic.delivered)
        .arg(figures.curOnly.duplicates)
        .arg(figures.curOnly.delivered);
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
        m_curOnlyPrefix = qEnvironmentVariable("MAILMESH_DOVECOT_PREFIX");
    }

    void demoShowsALivePairedCluster()
    {
        m_window = std::make_unique<ui::MainWindow>();
        m_demo = std::make_unique<app::DemoCluster>();
        m_bar = new app::DemoTrafficBar(m_demo.get(), m_window.get());
        m_window->addToolBar(Qt::TopToolBarArea, m_bar); // as main.cpp does
        m_window->resize(1400, 960);
        m_window->show();
        QSignalSpy failed(m_demo.get(), &app::DemoCluster::failed);
        QSignalSpy ready(m_demo.get(), &app::DemoCluster::clusterReady);
        connect(m_demo.get(), &app::DemoCluster::clusterReady, m_window.get(),
                [this](const QString &file, cluster::ClusterMonitor *monitor) {
                    if (m_window->openCluster(file, false))
                        m_window->followMonitor(monitor);
                });
        QElapsedTimer startup;
        startup.start();
        m_demo->start();
        QTRY_VERIFY_WITH_TIMEOUT(!ready.isEmpty() || !failed.isEmpty(), 240'000);
        QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed[0][0].toString()));
        const qint64 pairedMs = startup.elapsed();

        QString why;
        QTRY_VERIFY2_WITH_TIMEOUT(demoIsLiveAndInSync(m_demo->monitor()->snapshot(), &why), qPrintable(why), 180'000);
        // For the README's "how long the first start takes"; not a check.
        qInfo().noquote() << QStringLiteral("demo start: paired after %1 s, dashboard complete after %2 s")
                                 .arg(pairedMs / 1000.0, 0, 'f', 1)
                                 .arg(startup.elapsed() / 1000.0, 0, 'f', 1);
        QCOMPARE(m_window->dashboard()->nodesView()->model()->rowCount(), 3);
        QVERIFY(m_bar->trafficAction()->isEnabled());
        QTest::qWait(300); // let the views lay out the last snapshot
        QVERIFY(m_window->grab().save(screenshotPath(QStringLiteral("demo-dashboard.png"))));
    }

    void demoNodesRunTheCurOnlyBuildWithItsSettingOff()
    {
        skipWithoutCurOnlyBuild();
        QVERIFY(m_demo->runsCurOnlyBuild());
        QCOMPARE(m_demo->dovecotPrefix(), m_curOnlyPrefix);
        QString why;
        QTRY_VERIFY2_WITH_TIMEOUT(everyNodeRuns(m_demo->monitor()->snapshot(), false, &why), qPrintable(why), 60'000);
        // What deploy-dovecot leaves on a node before any migration.
        QFile snippet(app::DemoCluster::demoDirectory() + QStringLiteral("/node1/dovecot/conf.d/99-mailmesh-cur-only.conf"));
        QVERIFY(snippet.open(QIODevice::ReadOnly));
        QVERIFY(snippet.readAll().contains("maildir_cur_only = no"));
    }

    void trafficOnClassicMaildirs()
    {
        skipWithoutCurOnlyBuild();
        runTrafficUntil(kRoundsPerPhase, QStringLiteral("demo-traffic-classic.png"));
        const sandbox::DemoTraffic::Figures figures = m_demo->trafficFigures();
        qInfo().noquote() << "BEFORE migration:" << describe(figures);
        QCOMPARE(figures.curOnly.delivered, 0);
        QVERIFY(figures.classic.delivered >= kRoundsPerPhase);
        // Every run so far made about three copies of each message; none would mean the race
        // no longer happens, and the comparison after the migration would prove nothing.
        QVERIFY2(figures.classic.duplicates > 0, "the traffic made no duplicates on the classic Maildirs");
        m_classicBefore = figures.classic;
    }

    void theMigrationDialogHoldsTheTraffic()
    {
        skipWithoutCurOnlyBuild();
        m_bar->trafficAction()->setChecked(true);
        auto *migrate = m_window->dashboard()->findChild<QPushButton *>(QStringLiteral("migrateButton"));
        QVERIFY(migrate);
        QTest::mouseClick(migrate, Qt::LeftButton);
        ui::MigrationDialog *dialog = nullptr;
        QTRY_VERIFY((dialog = m_window->findChild<ui::MigrationDialog *>()) && dialog->isVisible());
        QSignalSpy planned(dialog, &ui::MigrationDialog::runFinished);
        QVERIFY(m_demo->isTrafficHeld());
        QTRY_VERIFY_WITH_TIMEOUT(!m_demo->isTrafficBusy(), 60'000);
        const int rounds = m_demo->trafficFigures().rounds;
        QVERIFY(!planned.isEmpty() || planned.wait(120'000)); // the plan it makes on opening
        QTest::qWait(3000);
        QCOMPARE(m_demo->trafficFigures().rounds, rounds);
        dialog->close();
        QTRY_VERIFY(!m_demo->isTrafficHeld());
        QTRY_VERIFY_WITH_TIMEOUT(m_demo->trafficFigures().rounds > rounds, 120'000);
        m_bar->trafficAction()->setChecked(false);
        QTest::qWait(300);
        QTRY_VERIFY_WITH_TIMEOUT(!m_demo->isTrafficBusy(), 60'000);
        QTest::qWait(300);
    }

    void mailmeshctlMigratesTheRunningDemo()
    {
        skipWithoutCurOnlyBuild();
        QVERIFY(!m_demo->isTrafficOn());
        QTemporaryDir home;
        QVERIFY(home.isValid());
        QProcess ctl;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("HOME"), home.path());
        environment.insert(QStringLiteral("XDG_CONFIG_HOME"), home.path() + QStringLiteral("/.config"));
        ctl.setProcessEnvironment(environment);
        ctl.setProcessChannelMode(QProcess::MergedChannels);
        ctl.start(QStringLiteral(MAILMESHCTL_BINARY), {QStringLiteral("--cluster"), m_demo->clusterFile(), QStringLiteral("migrate")});
        // The app's event loop keeps running meanwhile: the demo's monitor follows the migration.
        QTRY_VERIFY_WITH_TIMEOUT(ctl.state() == QProcess::NotRunning, 600'000);
        const QByteArray output = ctl.readAll();
        qInfo().noquote() << "mailmeshctl migrate:" << output.right(1500);
        QCOMPARE(ctl.exitStatus(), QProcess::NormalExit);
        QVERIFY2(ctl.exitCode() == 0, output.right(2000).constData());

        QString why;
        QTRY_VERIFY2_WITH_TIMEOUT(everyNodeRuns(m_demo->monitor()->snapshot(), true, &why), qPrintable(why), 90'000);
        QVERIFY(QFileInfo(QDir(app::DemoCluster::demoDirectory()).filePath(QStringLiteral("node2/mail"))).isDir());
    }

    void trafficOnCurOnlyMaildirsMakesNoDuplicates()
    {
        skipWithoutCurOnlyBuild();
        runTrafficUntil(m_demo->trafficFigures().rounds + kRoundsPerPhase, QStringLiteral("demo-traffic-curonly.png"));
        const sandbox::DemoTraffic::Figures figures = m_demo->trafficFigures();
        qInfo().noquote() << "AFTER migration:" << describe(figures);
        QVERIFY(figures.curOnly.delivered >= kRoundsPerPhase);
        QCOMPARE(figures.curOnly.duplicates, 0);
        // The copies made before are mail like any other: the migration keeps them.
        QVERIFY(figures.classic.duplicates >= m_classicBefore.duplicates);
        static const QRegularExpression curOnlyShown(QStringLiteral("cur/-only: \\d+ new messages, 0 duplicates"));
        QVERIFY2(curOnlyShown.match(m_bar->figuresLabel()->text()).hasMatch(), qPrintable(m_bar->figuresLabel()->text()));
    }

    void stoppingTheDemoLeavesNothingBehind()
    {
        const QString demoDir = app::DemoCluster::demoDirectory();
        m_demo->stop();
        QVERIFY2(!QFile::exists(demoDir), "stopping the demo leaves its directory behind");
    }

    void cleanupTestCase()
    {
        if (m_demo)
            m_demo->stop();
    }

private:
    void skipWithoutCurOnlyBuild()
    {
        if (m_curOnlyPrefix.isEmpty())
            QSKIP("MAILMESH_DOVECOT_PREFIX is not configured: the demo runs the stock Dovecot");
        QVERIFY(m_demo && m_demo->monitor());
    }

    // Switches the traffic on through the demo's toolbar, waits until it has run `rounds` rounds
    // in all, saves a screenshot while it still runs, and switches it off again, waiting for the
    // round under way.
    void runTrafficUntil(int rounds, const QString &screenshot)
    {
        QSignalSpy problems(m_demo.get(), &app::DemoCluster::trafficProblem);
        m_bar->trafficAction()->setChecked(true);
        QVERIFY(m_demo->isTrafficOn());
        QTRY_VERIFY_WITH_TIMEOUT(m_demo->trafficFigures().rounds >= rounds, 300'000);
        // The traffic's inbox (sandbox.test/test) sorts last.
        if (auto *mailboxes = m_window->dashboard()->findChild<QTableView *>(QStringLiteral("mailboxesView")))
            mailboxes->scrollToBottom();
        QTest::qWait(300);
        QVERIFY(m_window->grab().save(screenshotPath(screenshot)));
        m_bar->trafficAction()->setChecked(false);
        QTest::qWait(300); // a round that was just starting has marked itself busy
        QTRY_VERIFY_WITH_TIMEOUT(!m_demo->isTrafficBusy(), 60'000);
        QTest::qWait(300); // the last figures' queued signal
        for (const QList<QVariant> &problem : std::as_const(problems))
            qWarning().noquote() << "traffic:" << problem.value(0).toString();
        QVERIFY2(problems.isEmpty(), "the traffic reported problems (above)");
    }

    QString m_curOnlyPrefix;
    std::unique_ptr<ui::MainWindow> m_window;
    std::unique_ptr<app::DemoCluster> m_demo;
    app::DemoTrafficBar *m_bar = nullptr;
    sandbox::DemoTraffic::LayoutFigures m_classicBefore;
};

QTEST_MAIN(TestDemo)
#include "tst_demo.moc"
