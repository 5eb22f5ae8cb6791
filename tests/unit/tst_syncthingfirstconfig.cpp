// prepare's configuration for a Syncthing that never ran, applied to what this machine's
// `syncthing generate` writes: no default folder, no global or local discovery, relays, NAT or
// usage reporting, the GUI and listener where the cluster file says. On the lab's Debian nodes a
// bare `systemctl enable --now syncthing@vmail` made ~/Sync (inside the mail root) and dialled
// the internet's discovery servers and relays.

#include "cluster/workflows/preparenodeworkflow.h"

#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using mm::cluster::PrepareNodeWorkflow;

class TestSyncthingFirstConfig : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void configuresAGeneratedSyncthing()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("syncthing")).isEmpty())
            QSKIP("syncthing is not installed");
        QTemporaryDir home;
        QVERIFY(home.isValid());
        QCOMPARE(
            QProcess::execute(QStringLiteral("syncthing"),
                              {QStringLiteral("generate"), QStringLiteral("--home=") + home.path(),
                               QStringLiteral("--no-default-folder"),
                               QStringLiteral("--skip-port-probing")}),
            0);
        const QString config = home.filePath(QStringLiteral("config.xml"));
        QProcess edit;
        edit.start(QStringLiteral("sh"),
                   {QStringLiteral("-c"), PrepareNodeWorkflow::configScript(), QStringLiteral("sh"),
                    config, QStringLiteral("127.0.0.1:8385"), QStringLiteral("22001")});
        QVERIFY(edit.waitForFinished(10'000));
        QVERIFY2(edit.exitCode() == 0, edit.readAllStandardError().constData());
        QFile file(config);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray xml = file.readAll();
        for (const char *wanted : {"<globalAnnounceEnabled>false<", "<localAnnounceEnabled>false<",
                                   "<relaysEnabled>false<", "<natEnabled>false<", "<urAccepted>-1<",
                                   "<crashReportingEnabled>false<", "<autoUpgradeIntervalH>0<",
                                   "<address>127.0.0.1:8385</address>",
                                   "<listenAddress>tcp://0.0.0.0:22001</listenAddress>"})
            QVERIFY2(xml.contains(wanted), wanted);
        QVERIFY(!xml.contains("<folder id=\"default\""));
        // Devices keep their dynamic addresses: only the GUI's address changed.
        QVERIFY(xml.contains("<address>dynamic</address>"));

        // Empty arguments keep Syncthing's defaults.
        QTemporaryDir other;
        QCOMPARE(
            QProcess::execute(QStringLiteral("syncthing"),
                              {QStringLiteral("generate"), QStringLiteral("--home=") + other.path(),
                               QStringLiteral("--no-default-folder"),
                               QStringLiteral("--skip-port-probing")}),
            0);
        QCOMPARE(
            QProcess::execute(QStringLiteral("sh"),
                              {QStringLiteral("-c"), PrepareNodeWorkflow::configScript(),
                               QStringLiteral("sh"), other.filePath(QStringLiteral("config.xml")),
                               QString(), QString()}),
            0);
        QFile kept(other.filePath(QStringLiteral("config.xml")));
        QVERIFY(kept.open(QIODevice::ReadOnly));
        const QByteArray defaults = kept.readAll();
        QVERIFY(defaults.contains("<listenAddress>default</listenAddress>"));
        QVERIFY(defaults.contains("<relaysEnabled>false<"));
    }
};

QTEST_GUILESS_MAIN(TestSyncthingFirstConfig)
#include "tst_syncthingfirstconfig.moc"
