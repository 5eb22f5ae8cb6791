// The one-click migration from the dashboard, offscreen, against three sandbox nodes running
// the patched Dovecot: the plan, a run cancelled midway, Resume, and the closing verdict.

#include "keyboardcheck.h"
#include "screenshots.h"
#include "cluster/workflows/pairworkflow.h"
#include "cluster/pluralforms.h"
#include "cluster/config/sandboxcluster.h"
#include "sandbox/sandbox.h"
#include "ui/migrationdialog.h"
#include "ui/migrationplanmodel.h"

#include <QAbstractItemModelTester>
#include <QDir>
#include <QDirIterator>
#include <QLabel>
#include <QNetworkAccessManager>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTest>

using namespace mm;

namespace {

const QString kPrefix = QStringLiteral(MAILMESH_DOVECOT_PREFIX);

QStringList classicFolders(const QString &root)
{
    QStringList classic;
    QDirIterator it(root, {QStringLiteral("new")}, QDir::Dirs | QDir::Hidden | QDir::NoDotAndDotDot | QDir::System,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QFileInfo info(it.next());
        if (!info.isSymLink())
            classic << info.filePath();
    }
    return classic;
}

cluster::WorkflowReport waitForRun(ui::MigrationDialog &dialog)
{
    QSignalSpy finished(&dialog, &ui::MigrationDialog::runFinished);
    if (!finished.wait(300000))
        return {};
    // What the admin sees: after the layout caught up with the new texts.
    QCoreApplication::processEvents();
    return finished.first().first().value<cluster::WorkflowReport>();
}

} // namespace

class TestMigrationDialog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(mm::cluster::installPluralForms()); // as the app does
        if (kPrefix.isEmpty())
            QSKIP("MAILMESH_DOVECOT_PREFIX is not configured: run installers/dovecot/build-prefix.sh 2.3");
        sandbox::SandboxOptions sandboxOptions;
        sandboxOptions.dovecotPrefix = kPrefix;
        m_sandbox = std::make_unique<sandbox::Sandbox>(sandboxOptions);
        QVERIFY2(m_sandbox->start(), "sandbox did not start");
        const auto seeded = m_sandbox->runOnNode(0, QStringLiteral(
            "set -e; cd '%1'; mkdir -p .Sent/cur .Sent/new .Sent/tmp; touch .Sent/maildirfolder; "
            "for i in 1 2 3 4 5 6; do printf 'Subject: %s\\r\\n\\r\\nbody\\r\\n' $i > new/170000000$i.M${i}P1.n1; done; "
            "printf 'Subject: sent\\r\\n\\r\\nsent\\r\\n' > .Sent/new/1700000200.M1P1.n1")
            .arg(m_sandbox->node(0).maildir));
        QVERIFY2(seeded && seeded->exitCode == 0, seeded ? seeded->standardError.constData() : "ssh failed");

        auto config = cluster::clusterFromSandboxDescription(m_sandbox->description(), QStringLiteral("example.org mail"));
        QVERIFY2(config, config ? "" : config.error().message.c_str());
        m_options.agentBinary = QStringLiteral(MAILMESH_AGENT_BINARY);
        m_options.network = &m_network;
        m_options.ssh.configFile = m_sandbox->sshConfigFile();
        m_options.ssh.knownHostsFile = m_sandbox->dir() + QStringLiteral("/client/mailmesh_known_hosts");
        m_options.ssh.readKnownHostsFiles.clear();
        cluster::PairWorkflow pair(*config, m_options);
        QSignalSpy paired(&pair, &cluster::Workflow::finished);
        pair.start();
        QVERIFY(paired.wait(180000));
        QVERIFY(paired.first().first().value<cluster::WorkflowReport>().succeeded);
        m_cluster = pair.cluster();
    }

    void cleanupTestCase()
    {
        if (m_sandbox)
            m_sandbox->tearDown();
    }

    void plansCancelsResumesAndGivesAVerdict()
    {
        ui::MigrationDialog dialog(m_cluster, m_options);
        dialog.show();
        auto *table = dialog.findChild<QTableView *>();
        QVERIFY(table);
        QAbstractItemModelTester tester(table->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);

        dialog.plan();
        cluster::WorkflowReport planned = waitForRun(dialog);
        QVERIFY2(planned.succeeded, planned.error ? planned.error->describe().c_str() : "no report");
        QCOMPARE(table->model()->rowCount(), 3);
        // Node 1's 7 messages in new/ are everywhere after pairing: every node plans to move them.
        for (int row = 0; row < 3; ++row)
            QCOMPARE(table->model()->index(row, ui::MigrationPlanModel::MessagesColumn).data().toString(), QStringLiteral("7"));
        auto *migrate = dialog.findChild<QPushButton *>(QStringLiteral("migrateButton"));
        QVERIFY(migrate && migrate->isEnabled());
        QVERIFY(dialog.grab().save(screenshotPath(QStringLiteral("migration-plan.png"))));
        // The plan can be read and the migration started without a mouse.
        {
            const QStringList unreachable = test::unreachableByTab(&dialog);
            QVERIFY2(unreachable.isEmpty(), qPrintable(unreachable.join(QStringLiteral(", "))));
            const QStringList unexplained = test::columnsWithoutToolTip(&dialog);
            QVERIFY2(unexplained.isEmpty(), qPrintable(unexplained.join(QStringLiteral("; "))));
        }

        // Cancel as the conversion starts: the run stops frozen, and says so.
        QMetaObject::Connection cancelAtConvert;
        QTimer::singleShot(0, this, [&] {
            cancelAtConvert = connect(dialog.currentWorkflow(), &cluster::Workflow::stepStarted, &dialog,
                                      [&dialog](int, const QString &id) {
                                          if (id == QLatin1String("convert"))
                                              dialog.cancelRun();
                                      });
        });
        QTest::mouseClick(migrate, Qt::LeftButton);
        const cluster::WorkflowReport cancelled = waitForRun(dialog);
        QVERIFY(!cancelled.succeeded);
        QVERIFY(cancelled.error && cancelled.error->code == ErrorCode::Cancelled);
        auto *resume = dialog.findChild<QPushButton *>(QStringLiteral("resumeButton"));
        QVERIFY(resume && resume->isVisible());
        QVERIFY(dialog.findChild<QPushButton *>(QStringLiteral("revertButton"))->isVisible());
        QVERIFY(dialog.grab().save(screenshotPath(QStringLiteral("migration-cancelled.png"))));

        QTest::mouseClick(resume, Qt::LeftButton);
        const cluster::WorkflowReport done = waitForRun(dialog);
        QVERIFY2(done.succeeded, done.error ? done.error->describe().c_str() : "no report");
        bool verdictShown = false;
        for (QLabel *label : dialog.findChildren<QLabel *>())
            verdictShown = verdictShown || label->text().contains(QLatin1String("accounted for on all 3 nodes"));
        QVERIFY(verdictShown);
        for (int i = 0; i < 3; ++i)
            QCOMPARE(classicFolders(m_sandbox->node(i).mailRoot), QStringList());
        QVERIFY(dialog.cluster().nodes[0].dovecot.curOnlyEnabled);
        QVERIFY(dialog.grab().save(screenshotPath(QStringLiteral("migration-done.png"))));
    }

private:
    std::unique_ptr<sandbox::Sandbox> m_sandbox;
    QNetworkAccessManager m_network;
    cluster::MonitorOptions m_options;
    cluster::ClusterConfig m_cluster;
};

QTEST_MAIN(TestMigrationDialog)
#include "tst_migrationdialog.moc"
