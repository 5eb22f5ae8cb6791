// The setup wizard end to end, offscreen, on three sandbox nodes that run sshd, syncthing and
// the patched cur/-only Dovecot on 127.0.0.1: name → nodes → host keys accepted → probe →
// pairing in sync → Dovecot → migration → summary; then a changed host key refused, and a
// draft resumed where it stopped. Every page is saved as <build>/screenshots/wizard-<page>.png.

#include "../integration/classicmailseed.h"
#include "../integration/nodefiles.h"
#include "keyboardcheck.h"
#include "screenshots.h"
#include "cluster/config/clusterconfig.h"
#include "cluster/pluralforms.h"
#include "sandbox/sandbox.h"
#include "ui/mainwindow.h"
#include "ui/wizard/setupwizard.h"
#include "ui/wizard/connectpage.h"
#include "ui/wizard/dovecotpage.h"
#include "ui/wizard/migrationpage.h"
#include "ui/wizard/nodedraftmodel.h"
#include "ui/wizard/nodespage.h"
#include "ui/wizard/probepage.h"
#include "ui/wizard/setupsession.h"
#include "ui/wizard/summarypage.h"
#include "ui/wizard/workflowview.h"

#include <QAbstractButton>
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace mm;

namespace {

const QString kPrefix = QStringLiteral(MAILMESH_DOVECOT_PREFIX);

QString wizardScreenshotPath(const QString &page)
{
    return screenshotPath(QStringLiteral("wizard-") + page + QStringLiteral(".png"));
}

// Saves the page for a person to look at, after checking that a keyboard user reaches every
// control on it and that its tables explain their columns (what is wrong is printed).
bool saveScreenshot(QWidget *widget, const QString &page)
{
    QApplication::processEvents();
    const QStringList unreachable = mm::test::unreachableByTab(widget->window());
    const QStringList unexplained = mm::test::columnsWithoutToolTip(widget->window());
    if (!unreachable.isEmpty() || !unexplained.isEmpty()) {
        qWarning("wizard page %s: not reachable by Tab: %s; columns without a tooltip: %s", qPrintable(page),
                 qPrintable(unreachable.join(QStringLiteral(", "))), qPrintable(unexplained.join(QStringLiteral("; "))));
        return false;
    }
    return widget->grab().save(wizardScreenshotPath(page));
}

// Every file of a directory with its content: to show that nothing in it changed.
QByteArray directoryContents(const QString &dir)
{
    QByteArray contents;
    for (const QString &name : QDir(dir).entryList(QDir::Files, QDir::Name)) {
        QFile file(dir + QLatin1Char('/') + name);
        contents += name.toUtf8() + '\n' + (file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray("?")) + '\n';
    }
    return contents;
}

bool nextEnabled(const QWizard &wizard)
{
    return wizard.button(QWizard::NextButton)->isEnabled();
}

} // namespace

class TestSetupWizard : public QObject
{
    Q_OBJECT

public:
    explicit TestSetupWizard(QString home)
        : m_home(std::move(home))
    {
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(mm::cluster::installPluralForms()); // as the app does
        if (kPrefix.isEmpty())
            QSKIP("MAILMESH_DOVECOT_PREFIX is not configured: run installers/dovecot/build-prefix.sh 2.3 "
                  "and configure with -DMAILMESH_DOVECOT_PREFIX=<the path it prints>");
        sandbox::SandboxOptions options;
        options.dovecotPrefix = kPrefix;
        // watch-changes beside Syncthing, as prepare leaves a real node: Fix It has only
        // Syncthing to start.
        options.changeWatcher = QStringLiteral(MAILMESH_AGENT_BINARY);
        m_sandbox = std::make_unique<sandbox::Sandbox>(options);
        QVERIFY2(m_sandbox->start(), "sandbox did not start");
        // Node 1 holds classic Maildirs with mail in new/ and cur/, in Maildir++ folders; the
        // other nodes start empty.
        const QString seedError = seedClassicMaildirs(*m_sandbox, 0);
        QVERIFY2(seedError.isEmpty(), qPrintable(seedError));
    }

    void cleanupTestCase()
    {
        if (!m_sandbox)
            return;
        // A Dovecot that a deploy's restart command started (even by a test that failed half-way)
        // left the sandbox's process groups: stop it before the sandbox sweeps the rest.
        for (int i = 0; i < 3; ++i)
            test::stopDovecotMaster(m_sandbox->node(i).dovecotBaseDir);
        m_sandbox->tearDown();
    }

    void nodeModelPassesTheModelTester()
    {
        ui::NodeDraftModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setNodes(sandboxNodes());
        QVERIFY(model.isValid());
        const int row = model.addNode();
        QVERIFY(!model.isValid());
        QVERIFY(model.problems(row).contains(QStringLiteral("ssh")));
        model.removeNode(row);
        QVERIFY(model.isValid());
    }

    void setsUpAPairedMigratedClusterEndToEnd()
    {
        const QString path = m_home + QStringLiteral("/wizard/cluster.json");
        ui::SetupWizard wizard;
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));

        // 1. Name, UID policy, file.
        QCOMPARE(wizard.currentId(), int(ui::SetupWizard::NamePage));
        QVERIFY(!nextEnabled(wizard));
        wizard.setField(QStringLiteral("clusterName"), QStringLiteral("wizard e2e"));
        wizard.setField(QStringLiteral("clusterPath"), path);
        QVERIFY(nextEnabled(wizard));
        QVERIFY(saveScreenshot(&wizard, QStringLiteral("1-name")));
        wizard.next();
        QCOMPARE(wizard.currentId(), int(ui::SetupWizard::NodesPage));
        QVERIFY(QFileInfo::exists(path)); // the draft is saved after every page

        // 2. Nodes, checked as they are typed.
        auto *nodesPage = qobject_cast<ui::NodesPage *>(wizard.currentPage());
        QVERIFY(nodesPage);
        QVERIFY(!nextEnabled(wizard));
        nodesPage->model()->setNodes(sandboxNodes());
        nodesPage->view()->selectRow(1);
        QVERIFY(nextEnabled(wizard));
        QLineEdit *mailRoot = nodesPage->editorField(QStringLiteral("mailRoot"));
        QCOMPARE(mailRoot->text(), m_sandbox->node(1).mailRoot);
        mailRoot->selectAll();
        QTest::keyClicks(mailRoot, QStringLiteral("mail"));
        QVERIFY(nodesPage->model()->problems(1).contains(QStringLiteral("mailRoot")));
        QVERIFY(!nextEnabled(wizard));
        QVERIFY(saveScreenshot(&wizard, QStringLiteral("2-nodes-invalid")));
        mailRoot->selectAll();
        QTest::keyClicks(mailRoot, m_sandbox->node(1).mailRoot);
        QVERIFY(nodesPage->model()->problems(1).isEmpty());
        QVERIFY(nextEnabled(wizard));
        QVERIFY(saveScreenshot(&wizard, QStringLiteral("2-nodes")));
        wizard.next();

        // 3. Host keys: unknown at first, shown with their fingerprint, accepted.
        auto *connectPage = qobject_cast<ui::ConnectPage *>(wizard.currentPage());
        QVERIFY(connectPage);
        for (int i = 0; i < 3; ++i)
            QTRY_VERIFY_WITH_TIMEOUT(connectPage->state(m_sandbox->node(i).id) == ui::ConnectPage::State::UnknownHostKey,
                                     60000);
        QVERIFY(!nextEnabled(wizard));
        QVERIFY(saveScreenshot(&wizard, QStringLiteral("3-connect-hostkeys")));
        for (int i = 0; i < 3; ++i) {
            const QString id = m_sandbox->node(i).id;
            auto *accept = connectPage->findChild<QPushButton *>(QStringLiteral("acceptHostKey-") + id);
            QVERIFY(accept && accept->isVisible());
            QVERIFY(connectPage->findChild<QGroupBox *>(QStringLiteral("connect-") + id)
                        ->findChildren<QLabel *>().size() >= 2);
            accept->click();
        }
        QTRY_VERIFY_WITH_TIMEOUT(nextEnabled(wizard), 180000);
        for (int i = 0; i < 3; ++i)
            QCOMPARE(wizard.session()->cluster().nodes[i].hostKey, m_sandbox->node(i).sshHostKeyFingerprint);
        QVERIFY(saveScreenshot(&wizard, QStringLiteral("3-connect")));
        wizard.next();

        // 4. Probe: every node probed by add-node already.
        QCOMPARE(wizard.currentId(), int(ui::SetupWizard::ProbePage));
        QTRY_VERIFY_WITH_TIMEOUT(nextEnabled(wizard), 60000);
        auto *problems = wizard.currentPage()->findChild<QLabel *>(QStringLiteral("problems-node1"));
        QVERIFY(problems);
        QVERIFY(saveScreenshot(&wizard, QStringLiteral("4-probe")));
        // A node whose Syncthing stopped: Fix It runs prepare, which cannot start it here (no
        // systemd) and shows the command instead.
        auto *probePage = qobject_cast<ui::ProbePage *>(wizard.currentPage());
        QVERIFY(m_sandbox->stopSyncthing(1));
        probePage->probeNode(QStringLiteral("node2"));
        auto *fix = probePage->findChild<QPushButton *>(QStringLiteral("fix-node2"));
        QTRY_VERIFY_WITH_TIMEOUT(!probePage->isBusy(), 60000);
        const QString node2Problems = probePage->findChild<QLabel *>(QStringLiteral("problems-node2"))->text();
        if (!fix->isVisible())
            saveScreenshot(&wizard, QStringLiteral("4-probe-unfixable"));
        QVERIFY2(fix->isVisible() && node2Problems.contains(QStringLiteral("not running")), qPrintable(node2Problems));
        fix->click();
        auto *manual = probePage->findChild<QLabel *>(QStringLiteral("manualActions-node2"));
        QTRY_VERIFY_WITH_TIMEOUT(!probePage->isBusy() && manual->isVisible(), 60000);
        QVERIFY2(manual->text().contains(QStringLiteral("syncthing serve")), qPrintable(manual->text()));
        QVERIFY(saveScreenshot(&wizard, QStringLiteral("4-probe-fix")));
        QVERIFY(m_sandbox->startSyncthing(1));
        probePage->probeNode(QStringLiteral("node2"));
        QTRY_VERIFY_WITH_TIMEOUT(!probePage->isBusy() && !fix->isVisible(), 60000);
        QVERIFY(nextEnabled(wizard));
        wizard.next();

        // 5. Pairing until every node is connected and in sync.
        QCOMPARE(wizard.currentId(), int(ui::SetupWizard::PairingPage));
        QTRY_VERIFY_WITH_TIMEOUT(nextEnabled(wizard), 240000);
        for (const cluster::NodeConfig &node : wizard.session()->cluster().nodes)
            QVERIFY2(!node.syncthing.deviceId.isEmpty(), qPrintable(node.id));
        QVERIFY(saveScreenshot(&wizard, QStringLiteral("5-pairing")));
        wizard.next();

        // 6. Dovecot: the patched build everywhere; go on.
        QCOMPARE(wizard.currentId(), int(ui::SetupWizard::DovecotPage));
        QVERIFY(nextEnabled(wizard));
        QVERIFY(saveScreenshot(&wizard, QStringLiteral("6-dovecot")));
        wizard.next();

        // 7. The plan from a dry run, then the migration.
        QCOMPARE(wizard.currentId(), int(ui::SetupWizard::MigrationPage));
        auto *migrationPage = qobject_cast<ui::MigrationPage *>(wizard.currentPage());
        auto *migrateNow = migrationPage->findChild<QPushButton *>(QStringLiteral("migrateNow"));
        QTRY_VERIFY_WITH_TIMEOUT(migrateNow->isEnabled(), 180000);
        QVERIFY(!nextEnabled(wizard));
        QVERIFY(saveScreenshot(&wizard, QStringLiteral("7-migration-plan")));
        migrateNow->click();
        QTRY_VERIFY_WITH_TIMEOUT(nextEnabled(wizard), 600000);
        QVERIFY2(migrationPage->verdict().contains(QStringLiteral("accounted for on all 3 nodes")),
                 qPrintable(migrationPage->verdict()));
        QVERIFY(saveScreenshot(&wizard, QStringLiteral("7-migration")));
        for (int i = 0; i < 3; ++i) {
            const QStringList folders = test::maildirFolders(m_sandbox->node(i).mailRoot);
            QCOMPARE(folders.size(), 7); // 2 users × 3 folders + the sandbox's own INBOX
            for (const QString &folder : folders) {
                const QFileInfo newDir(folder + QStringLiteral("/new"));
                QVERIFY2(newDir.isSymLink() && newDir.symLinkTarget() == folder + QStringLiteral("/cur"), qPrintable(folder));
            }
        }
        wizard.next();

        // 8. Summary with the file's path; Finish saves and hands the file on.
        QCOMPARE(wizard.currentId(), int(ui::SetupWizard::SummaryPage));
        auto *pathLabel = wizard.currentPage()->findChild<QLabel *>(QStringLiteral("clusterPath"));
        QVERIFY(pathLabel && pathLabel->text().contains(path));
        QVERIFY(saveScreenshot(&wizard, QStringLiteral("8-summary")));
        QSignalSpy created(&wizard, &ui::SetupWizard::clusterCreated);
        wizard.button(QWizard::FinishButton)->click();
        QCOMPARE(created.size(), 1);
        QCOMPARE(created[0][0].toString(), path);
        QCOMPARE(ui::SetupSession::lastCompletedPage(path), -1);
        const auto saved = cluster::ClusterConfig::load(path);
        QVERIFY(saved);
        QCOMPARE(saved->nodes.size(), 3);
        for (const cluster::NodeConfig &node : saved->nodes)
            QVERIFY(node.dovecot.curOnlyEnabled && !node.syncthing.deviceId.isEmpty());

        ui::MainWindow window;
        QVERIFY(window.openCluster(path, false));
        QCOMPARE(window.windowTitle(), QStringLiteral("wizard e2e — Mailmesh"));
    }

    // The Dovecot page deploys onto nodes still on stock Dovecot, from a prefix on the nodes or
    // from packages on this computer; a package directory with nothing that fits is refused
    // before anything on a node changes.
    void dovecotPageDeploysFromAPrefixOrPackages()
    {
        const auto saved = cluster::ClusterConfig::load(m_home + QStringLiteral("/wizard/cluster.json"));
        QVERIFY2(saved, "the end-to-end test saves the cluster this one starts from");
        ui::SetupSession session;
        session.cluster() = *saved;
        session.cluster().nodes[1].dovecot.curOnlyBuild = false; // as if node2 still ran stock Dovecot
        // The sandbox runs no systemd: node2 restarts its Dovecot with the command its admin gives
        // in the node's advanced settings.
        const sandbox::NodeInfo node2 = m_sandbox->node(1);
        const QString restartScript = test::writeDovecotRestartScript(node2);
        QVERIFY(!restartScript.isEmpty());
        session.cluster().nodes[1].dovecot.restartCommand = {{QStringLiteral("sh"), restartScript}};
        session.cluster().nodes[1].dovecot.imapPort = node2.imapPort;
        ui::DovecotPage page(&session);
        page.initializePage();
        page.resize(900, 720); // the wizard's size: the page alone would open cramped
        page.show();
        QCOMPARE(page.stockNodes(), QStringList{session.cluster().nodes[1].id});
        auto *source = page.findChild<QComboBox *>(QStringLiteral("dovecotSource"));
        auto *location = page.findChild<QLineEdit *>(QStringLiteral("dovecotPrefix"));
        auto *deploy = page.findChild<QPushButton *>(QStringLiteral("deployButton"));
        auto *view = page.findChild<ui::WorkflowView *>();
        QVERIFY(source && location && deploy && view && source->isVisible());

        source->setCurrentIndex(1); // packages on this computer
        QVERIFY(page.findChild<QPushButton *>(QStringLiteral("browsePackages"))->isVisible());
        QTemporaryDir emptyDir;
        location->setText(emptyDir.path());
        const QByteArray snippetBefore = directoryContents(m_sandbox->node(1).dovecotConfD);
        deploy->click();
        QTRY_VERIFY_WITH_TIMEOUT(deploy->isEnabled() && !view->errorText().isEmpty(), 120000);
        QVERIFY2(view->errorText().contains(QStringLiteral(".deb")), qPrintable(view->errorText()));
        QCOMPARE(directoryContents(m_sandbox->node(1).dovecotConfD), snippetBefore);
        QVERIFY(saveScreenshot(&page, QStringLiteral("6-dovecot-packages-refused")));

        source->setCurrentIndex(0); // the prefix every sandbox node runs
        location->setText(m_sandbox->node(1).dovecotPrefix);
        deploy->click();
        QTRY_VERIFY_WITH_TIMEOUT(!deploy->isEnabled(), 10000);
        QTRY_VERIFY_WITH_TIMEOUT(deploy->isEnabled(), 300000);
        QVERIFY2(view->errorText().isEmpty(), qPrintable(view->errorText()));
        QVERIFY(page.stockNodes().isEmpty());
        QVERIFY(session.cluster().nodes[1].dovecot.curOnlyBuild);
        QVERIFY(m_sandbox->imapLoginSelect(1));
    }

    void aChangedHostKeyIsRefusedWithoutAnAcceptButton()
    {
        QVERIFY(m_sandbox->restartSshdWithNewHostKey(2));
        const QString path = m_home + QStringLiteral("/changed/cluster.json");
        ui::SetupWizard wizard;
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        wizard.setField(QStringLiteral("clusterName"), QStringLiteral("changed key"));
        wizard.setField(QStringLiteral("clusterPath"), path);
        wizard.next();
        auto *nodesPage = qobject_cast<ui::NodesPage *>(wizard.currentPage());
        nodesPage->model()->setNodes(sandboxNodes());
        wizard.next();
        auto *connectPage = qobject_cast<ui::ConnectPage *>(wizard.currentPage());
        QVERIFY(connectPage);
        const QString id = m_sandbox->node(2).id;
        QTRY_VERIFY_WITH_TIMEOUT(connectPage->state(id) == ui::ConnectPage::State::ChangedHostKey, 120000);
        QTRY_VERIFY_WITH_TIMEOUT(!connectPage->isBusy(), 120000);
        for (int i = 0; i < 2; ++i)
            QCOMPARE(connectPage->state(m_sandbox->node(i).id), ui::ConnectPage::State::Connected);
        QVERIFY(!connectPage->findChild<QPushButton *>(QStringLiteral("acceptHostKey-") + id)->isVisible());
        const QString status = connectPage->findChild<QLabel *>(QStringLiteral("status-") + id)->text();
        QVERIFY2(status.contains(QStringLiteral("CHANGED")) && status.contains(QStringLiteral("in the middle")),
                 qPrintable(status));
        QVERIFY(!nextEnabled(wizard));
        QVERIFY(saveScreenshot(&wizard, QStringLiteral("3-connect-changed-key")));

        // Back is safe, and the draft can be resumed where it stopped.
        wizard.back();
        QCOMPARE(wizard.currentId(), int(ui::SetupWizard::NodesPage));
        QCOMPARE(ui::SetupSession::lastCompletedPage(path), int(ui::SetupWizard::NodesPage));
        QCOMPARE(ui::SetupSession::unfinishedDraft(), path);
        ui::SetupWizard resumed(nullptr, path);
        QCOMPARE(resumed.startId(), int(ui::SetupWizard::ConnectPage));
        QCOMPARE(resumed.session()->cluster().name, QStringLiteral("changed key"));
        QCOMPARE(resumed.session()->cluster().nodes.size(), 3);
    }

    void mainWindowOffersNewCluster()
    {
        ui::MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QAction *action = nullptr;
        for (QAction *menu : window.menuBar()->actions())
            for (QAction *item : menu->menu()->actions())
                if (item->text().contains(QStringLiteral("New Cluster")))
                    action = item;
        QVERIFY(action);
        QVERIFY(window.findChild<QPushButton *>() != nullptr);
        QVERIFY(saveScreenshot(&window, QStringLiteral("0-empty-state")));
    }

private:
    QList<cluster::NodeConfig> sandboxNodes() const
    {
        QList<cluster::NodeConfig> nodes;
        for (int i = 0; i < 3; ++i) {
            const sandbox::NodeInfo info = m_sandbox->node(i);
            cluster::NodeConfig node;
            node.id = info.id;
            node.ssh = QStringLiteral("ssh://%1@127.0.0.1:%2").arg(info.sshUser).arg(info.sshPort);
            node.sshOptions = {QStringLiteral("IdentityFile=") + info.sshIdentityFile, QStringLiteral("IdentitiesOnly=yes")};
            node.mailRoot = info.mailRoot;
            node.syncthing.home = info.syncthingHome;
            node.syncthing.guiAddress = info.syncthingGuiAddress();
            node.syncthing.syncAddress = info.syncthingSyncAddress();
            node.stateDir = info.stateDir;
            node.dovecot.prefix = info.dovecotPrefix;
            node.dovecot.configFile = info.dovecotConfigFile;
            nodes << node;
        }
        return nodes;
    }

    QString m_home;
    std::unique_ptr<sandbox::Sandbox> m_sandbox;
};

int main(int argc, char **argv)
{
    // known_hosts, the cluster files and QSettings all live under HOME / XDG_CONFIG_HOME: a fresh
    // one per run, set before Qt reads either.
    QTemporaryDir home;
    if (!home.isValid())
        return 2;
    qputenv("HOME", home.path().toLocal8Bit());
    qputenv("XDG_CONFIG_HOME", (home.path() + QStringLiteral("/.config")).toLocal8Bit());
    qputenv("MAILMESH_AGENT", MAILMESH_AGENT_BINARY);
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("mailmesh-test"));
    QApplication::setApplicationName(QStringLiteral("tst_setupwizard"));
    TestSetupWizard test(home.path());
    return QTest::qExec(&test, argc, argv);
}

#include "tst_setupwizard.moc"
