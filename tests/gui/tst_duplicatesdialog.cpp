// The duplicates view, offscreen, against three paired sandbox nodes: a duplicate planted on
// one node is found on all three, previewed, resolved (on one node, replicated), listed in
// the quarantine and restored through the view.

#include "keyboardcheck.h"
#include "screenshots.h"
#include "cluster/workflows/pairworkflow.h"
#include "cluster/pluralforms.h"
#include "cluster/config/sandboxcluster.h"
#include "sandbox/sandbox.h"
#include "ui/duplicatesdialog.h"

#include <QAbstractItemModelTester>
#include <QDir>
#include <QFileInfo>
#include <QNetworkAccessManager>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTest>

using namespace mm;

namespace {

// Every workflow the dialog runs ends in one workflowFinished; a spy made before the first
// action counts them, so one that ends while the test waits for files is not missed.
cluster::WorkflowReport waitForWorkflow(QSignalSpy &finished, int count)
{
    if (finished.count() < count && !QTest::qWaitFor([&] { return finished.count() >= count; }, 300000))
        return {};
    QCoreApplication::processEvents();
    return finished.at(count - 1).first().value<cluster::WorkflowReport>();
}

} // namespace

class TestDuplicatesDialog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(mm::cluster::installPluralForms()); // as the app does
        QVERIFY2(m_sandbox.start(), "sandbox did not start");
        const QString maildir = m_sandbox.node(0).maildir;
        const auto seeded = m_sandbox.runOnNode(0, QStringLiteral(
            "set -e; cd '%1'; for i in 1 2 3; do "
            // From and Subject MIME encoded, as a mail client writes "Jörg" and "Grüße".
            "printf 'Message-ID: <m%s@example.org>\\r\\nFrom: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.org>\\r\\n"
            "Date: Tue, 14 Nov 2023 22:13:2%s +0000\\r\\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= message %s\\r\\n"
            "\\r\\nbody\\r\\n' $i $i $i "
            "> \"cur/170000000$i.M${i}P1.n1:2,S\"; done")
            .arg(maildir));
        QVERIFY2(seeded && seeded->exitCode == 0, seeded ? seeded->standardError.constData() : "ssh failed");
        auto config = cluster::clusterFromSandboxDescription(m_sandbox.description(), QStringLiteral("example.org mail"));
        QVERIFY2(config, config ? "" : config.error().message.c_str());
        m_options.agentBinary = QStringLiteral(MAILMESH_AGENT_BINARY);
        m_options.network = &m_network;
        m_options.ssh.configFile = m_sandbox.sshConfigFile();
        m_options.ssh.knownHostsFile = m_sandbox.dir() + QStringLiteral("/client/mailmesh_known_hosts");
        m_options.ssh.readKnownHostsFiles.clear();
        cluster::PairWorkflow pair(*config, m_options);
        QSignalSpy paired(&pair, &cluster::Workflow::finished);
        pair.start();
        QVERIFY(paired.wait(180000));
        QVERIFY(paired.first().first().value<cluster::WorkflowReport>().succeeded);
        m_cluster = pair.cluster();

        // One message under a second name with more flags, as two nodes flagging it at once
        // leave it; it replicates to every node.
        m_original = QStringLiteral("/cur/1700000002.M2P1.n1:2,S");
        m_variant = QStringLiteral("/cur/1700000002.M2P1.n1:2,FS");
        const auto planted = m_sandbox.runOnNode(0, QStringLiteral("cp -p '%1%2' '%1%3'").arg(maildir, m_original, m_variant));
        QVERIFY(planted && planted->exitCode == 0);
        for (int i = 1; i < 3; ++i)
            QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(m_sandbox.node(i).maildir + m_variant), 60000);
    }

    void cleanupTestCase() { m_sandbox.tearDown(); }

    void findsPreviewsResolvesAndRestores()
    {
        ui::DuplicatesDialog dialog(m_cluster, m_options);
        dialog.setConfirmation([](const QString &, const QString &) { return true; });
        dialog.show();
        QSignalSpy finished(&dialog, &ui::DuplicatesDialog::workflowFinished);
        int runs = 0;
        auto *groups = dialog.findChild<QTableView *>(QStringLiteral("groupsView"));
        auto *quarantine = dialog.findChild<QTableView *>(QStringLiteral("quarantineView"));
        QVERIFY(groups && quarantine);
        QAbstractItemModelTester groupsTester(groups->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester quarantineTester(quarantine->model(), QAbstractItemModelTester::FailureReportingMode::QtTest);

        dialog.scan();
        QVERIFY(waitForWorkflow(finished, ++runs).succeeded);
        QCOMPARE(groups->model()->rowCount(), 1);
        // A group reads as the message it is: Subject, From and Date, decoded, instead of a hash.
        const auto header = [groups](int column) { return groups->model()->headerData(column, Qt::Horizontal).toString(); };
        QCOMPARE((QStringList{header(0), header(1), header(2), header(3)}),
                 (QStringList{QStringLiteral("Subject"), QStringLiteral("From"), QStringLiteral("Date"), QStringLiteral("Kind")}));
        QCOMPARE(groups->model()->index(0, 0).data().toString(), QStringLiteral("Grüße message 2"));
        QCOMPARE(groups->model()->index(0, 1).data().toString(), QStringLiteral("Jörg <joerg@example.org>"));
        QCOMPARE(groups->model()->index(0, 2).data().toDateTime(),
                 QDateTime(QDate(2023, 11, 14), QTime(22, 13, 22), Qt::UTC));
        QVERIFY(groups->model()->index(0, 0).data(Qt::ToolTipRole).toString().contains(QLatin1String("Group ")));
        QVERIFY2(!groups->horizontalScrollBar()->isVisible(), "a group's row should fit the dialog");
        QCOMPARE(groups->model()->index(0, 3).data().toString(), QStringLiteral("flag-divergence"));
        QCOMPARE(groups->model()->index(0, 7).data().toString(), QStringLiteral("node1, node2, node3"));

        // The preview follows the selection, with no button to press.
        auto *preview = dialog.findChild<QPlainTextEdit *>(QStringLiteral("preview"));
        QVERIFY(preview->toPlainText().isEmpty());
        groups->selectRow(0);
        QVERIFY(waitForWorkflow(finished, ++runs).succeeded);
        QVERIFY2(preview->toPlainText().contains(QStringLiteral("Subject: Grüße message 2")), qPrintable(preview->toPlainText()));
        QVERIFY(preview->toPlainText().contains(QStringLiteral("From: Jörg <joerg@example.org>")));
        groups->clearSelection();
        QTRY_VERIFY(preview->toPlainText().isEmpty()); // nothing selected, no stale header
        groups->selectRow(0);
        QVERIFY(waitForWorkflow(finished, ++runs).succeeded);
        QVERIFY(preview->toPlainText().contains(QStringLiteral("Subject: Grüße message 2")));
        QVERIFY(dialog.grab().save(screenshotPath(QStringLiteral("duplicates-groups.png"))));

        auto *findingsTabs = dialog.findChild<QTabWidget *>();
        // Every tab works without a mouse, and every column says what it means.
        for (int page = findingsTabs->count() - 1; page >= 0; --page) {
            findingsTabs->setCurrentIndex(page);
            const QStringList unreachable = test::unreachableByTab(&dialog);
            QVERIFY2(unreachable.isEmpty(), qPrintable(unreachable.join(QStringLiteral(", "))));
            const QStringList unexplained = test::columnsWithoutToolTip(&dialog);
            QVERIFY2(unexplained.isEmpty(), qPrintable(unexplained.join(QStringLiteral("; "))));
        }
        findingsTabs->setCurrentIndex(2);
        QCoreApplication::processEvents();
        QVERIFY(dialog.grab().save(screenshotPath(QStringLiteral("duplicates-findings.png"))));
        findingsTabs->setCurrentIndex(0);

        QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("resolveAll")), Qt::LeftButton);
        const cluster::WorkflowReport resolved = waitForWorkflow(finished, ++runs);
        QVERIFY2(resolved.succeeded, resolved.error ? resolved.error->describe().c_str() : "no report");
        for (int i = 0; i < 3; ++i) {
            QTRY_VERIFY_WITH_TIMEOUT(!QFileInfo::exists(m_sandbox.node(i).maildir + m_original), 60000);
            QVERIFY(QFileInfo::exists(m_sandbox.node(i).maildir + m_variant));
        }
        // The dialog lists the quarantine after resolving.
        QVERIFY(waitForWorkflow(finished, ++runs).succeeded);
        QCOMPARE(quarantine->model()->rowCount(), 1);
        QCOMPARE(quarantine->model()->index(0, 0).data().toString(), QStringLiteral("node1"));
        findingsTabs->setCurrentIndex(1);
        QCoreApplication::processEvents();
        QVERIFY(dialog.grab().save(screenshotPath(QStringLiteral("duplicates-quarantine.png"))));

        quarantine->selectRow(0);
        QTest::mouseClick(dialog.findChild<QPushButton *>(QStringLiteral("restoreSelected")), Qt::LeftButton);
        QVERIFY(waitForWorkflow(finished, ++runs).succeeded);
        for (int i = 0; i < 3; ++i)
            QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(m_sandbox.node(i).maildir + m_original), 60000);
        QVERIFY(waitForWorkflow(finished, ++runs).succeeded); // the refreshed list
        QCOMPARE(quarantine->model()->rowCount(), 0); // restored: no longer in quarantine
    }

private:
    sandbox::Sandbox m_sandbox;
    QNetworkAccessManager m_network;
    cluster::MonitorOptions m_options;
    cluster::ClusterConfig m_cluster;
    QString m_original;
    QString m_variant;
};

QTEST_MAIN(TestDuplicatesDialog)
#include "tst_duplicatesdialog.moc"
