// Re-keying a reinstalled node from the dashboard, offscreen, against one sandbox node whose sshd
// comes back with a new host key: the dialog shows both keys and what to compare, pins nothing
// until the admin ticks that they compared, and then pins the offered key.

#include "screenshots.h"
#include "cluster/pluralforms.h"
#include "cluster/config/sandboxcluster.h"
#include "sandbox/sandbox.h"
#include "ui/rekeydialog.h"

#include <QCheckBox>
#include <QLineEdit>
#include <QNetworkAccessManager>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>

using namespace mm;

class TestRekeyDialog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(mm::cluster::installPluralForms());
        sandbox::SandboxOptions sandboxOptions;
        sandboxOptions.nodeCount = 1;
        m_sandbox = std::make_unique<sandbox::Sandbox>(sandboxOptions);
        QVERIFY2(m_sandbox->start(), "sandbox did not start");
        auto config = cluster::clusterFromSandboxDescription(m_sandbox->description(), QStringLiteral("rekeying"));
        QVERIFY2(config, config ? "" : config.error().message.c_str());
        m_cluster = *config;
        m_options.network = &m_network;
        m_options.ssh.configFile = m_sandbox->sshConfigFile();
        m_options.ssh.knownHostsFile = m_sandbox->dir() + QStringLiteral("/client/mailmesh_known_hosts");
        m_options.ssh.readKnownHostsFiles.clear();
    }

    void cleanupTestCase()
    {
        if (m_sandbox)
            m_sandbox->tearDown();
    }

    void showsBothKeysAndPinsOnlyAfterTheAdminCompared()
    {
        const QString id = m_cluster.nodes.first().id;
        {
            // First contact with the pinned key: Mailmesh's known_hosts learns it.
            ui::RekeyDialog unchanged(m_cluster, id, m_options);
            QSignalSpy looked(&unchanged, &ui::RekeyDialog::looked);
            unchanged.look();
            QVERIFY(looked.wait(60000));
            QVERIFY(!unchanged.findChild<QCheckBox *>(QStringLiteral("comparedCheck"))->isEnabled());
        }
        const QString original = m_sandbox->node(0).sshHostKeyFingerprint;
        QVERIFY(m_sandbox->restartSshdWithNewHostKey(0));
        const QString reinstalled = m_sandbox->node(0).sshHostKeyFingerprint;

        ui::RekeyDialog dialog(m_cluster, id, m_options);
        dialog.show();
        QSignalSpy looked(&dialog, &ui::RekeyDialog::looked);
        dialog.look();
        QVERIFY(looked.wait(60000));
        QCoreApplication::processEvents();
        QCOMPARE(dialog.offeredHostKey(), reinstalled);
        QCOMPARE(dialog.findChild<QLineEdit *>(QStringLiteral("pinnedHostKey"))->text(), original);
        QCOMPARE(dialog.findChild<QLineEdit *>(QStringLiteral("offeredHostKey"))->text(), reinstalled);
        auto *compared = dialog.findChild<QCheckBox *>(QStringLiteral("comparedCheck"));
        auto *pin = dialog.findChild<QPushButton *>(QStringLiteral("pinButton"));
        QVERIFY(compared->isEnabled());
        QVERIFY2(!pin->isEnabled(), "a key can be pinned without saying it was compared");
        QVERIFY(dialog.grab().save(screenshotPath(QStringLiteral("rekey-dialog.png"))));

        compared->setChecked(true);
        QVERIFY(pin->isEnabled());
        QSignalSpy rekeyed(&dialog, &ui::RekeyDialog::rekeyed);
        pin->click();
        QVERIFY(rekeyed.wait(60000));
        QCOMPARE(std::as_const(dialog.cluster()).node(id)->hostKey, reinstalled);
        QVERIFY(dialog.grab().save(screenshotPath(QStringLiteral("rekey-dialog-pinned.png"))));
    }

private:
    std::unique_ptr<sandbox::Sandbox> m_sandbox;
    cluster::ClusterConfig m_cluster;
    cluster::MonitorOptions m_options;
    QNetworkAccessManager m_network;
};

QTEST_MAIN(TestRekeyDialog)
#include "tst_rekeydialog.moc"
