// `probe` against a real Syncthing: generated and started here on loopback (GUI and listener on
// free 127.0.0.1 ports, no announce, relays or NAT), then probed in-process with syncthingHome.
// The probe must see the process, its uid and --home, and read the config the same way the
// running Syncthing does.

#include "agentcommands.h"

#include "protocol/probereport.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

using namespace mm::protocol;
using nlohmann::json;

namespace {

quint16 freePort()
{
    QTcpServer server;
    return server.listen(QHostAddress::LocalHost, 0) ? server.serverPort() : 0;
}

mm::Result<json> runProbe(const json &params)
{
    CommandRegistry registry;
    mm::agent::registerAgentCommands(registry);
    return registry.find("probe")->run(params, mm::maildir::ProgressSink(), ItemSink());
}

// Replaces the text of the first <tag>...</tag> of config.xml.
bool setElement(QByteArray &xml, const QByteArray &tag, const QByteArray &value)
{
    const QByteArray open = '<' + tag + '>';
    const QByteArray close = "</" + tag + '>';
    const qsizetype start = xml.indexOf(open);
    const qsizetype end = xml.indexOf(close, start);
    if (start < 0 || end < 0)
        return false;
    xml.replace(start + open.size(), end - start - open.size(), value);
    return true;
}

} // namespace

class TestProbeSyncthing : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        m_syncthing = QStandardPaths::findExecutable(QStringLiteral("syncthing"));
        if (m_syncthing.isEmpty())
            QSKIP("no syncthing installed (installers/bootstrap.sh installs it)");
        QVERIFY(m_home.isValid());
        QProcess generate;
        generate.start(m_syncthing,
                       {QStringLiteral("generate"), QStringLiteral("--home=") + m_home.path(),
                        QStringLiteral("--no-default-folder"),
                        QStringLiteral("--skip-port-probing")});
        QVERIFY(generate.waitForFinished(30000));
        QCOMPARE(generate.exitCode(), 0);

        QFile config(m_home.filePath(QStringLiteral("config.xml")));
        QVERIFY(config.open(QIODevice::ReadOnly));
        QByteArray xml = config.readAll();
        config.close();
        m_guiAddress = "127.0.0.1:" + QByteArray::number(freePort());
        m_listenAddress = "tcp://127.0.0.1:" + QByteArray::number(freePort());
        QVERIFY(setElement(xml, "address", "dynamic")); // the device's, first in the file
        const qsizetype gui = xml.indexOf("<gui ");
        QVERIFY(gui > 0);
        QByteArray tail = xml.mid(gui);
        QVERIFY(setElement(tail, "address", m_guiAddress));
        xml = xml.left(gui) + tail;
        QVERIFY(setElement(xml, "listenAddress", m_listenAddress));
        for (const char *off : {"globalAnnounceEnabled", "localAnnounceEnabled", "relaysEnabled",
                                "natEnabled", "startBrowser", "crashReportingEnabled"})
            QVERIFY(setElement(xml, off, "false"));
        QVERIFY(setElement(xml, "urAccepted", "-1"));
        QVERIFY(setElement(xml, "autoUpgradeIntervalH", "0"));
        QVERIFY(config.open(QIODevice::WriteOnly | QIODevice::Truncate));
        config.write(xml);
        config.close();

        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("STMONITORED"), QStringLiteral("yes")); // no monitor fork
        m_process.setProcessEnvironment(environment);
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        // Even a test that aborts must not leave its Syncthing behind.
        m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
        m_process.start(m_syncthing,
                        {QStringLiteral("serve"), QStringLiteral("--home=") + m_home.path(),
                         QStringLiteral("--no-browser"), QStringLiteral("--no-restart"),
                         QStringLiteral("--no-upgrade")});
        QVERIFY(m_process.waitForStarted());
    }

    void seesTheProcessAndReadsItsHome()
    {
        const std::int64_t pid = m_process.processId();
        json mine;
        const auto seen = [&] {
            const auto result = runProbe(json{{"syncthingHome", m_home.path().toStdString()}});
            if (!result)
                return false;
            for (const json &process : result->at("syncthing").at("processes"))
                if (process.at("pid") == pid)
                    mine = process;
            return !mine.is_null();
        };
        // The process is there from exec on; wait only for the rare slow start.
        QTRY_VERIFY_WITH_TIMEOUT(seen(), 10000);
        QCOMPARE(mine.at("uid").get<std::uint32_t>(), std::uint32_t(::geteuid()));
        const passwd *me = ::getpwuid(::geteuid());
        QCOMPARE(mine.at("user").get<std::string>(), std::string(me ? me->pw_name : ""));
        QCOMPARE(mine.at("home").get<std::string>(), m_home.path().toStdString());
        QCOMPARE(mine.at("ppid").get<std::int64_t>(),
                 std::int64_t(::getpid())); // QProcess forked it

        const auto result = runProbe(json{{"syncthingHome", m_home.path().toStdString()}});
        QVERIFY(result.has_value());
        const json &syncthing = result->at("syncthing");
        QCOMPARE(syncthing.at("configRead").get<bool>(), true);
        QCOMPARE(syncthing.at("guiAddress").get<std::string>(), m_guiAddress.toStdString());
        QCOMPARE(syncthing.at("guiOnLoopback").get<bool>(), true);
        QCOMPARE(syncthing.at("listenAddresses").dump(),
                 json::array({m_listenAddress.toStdString()}).dump());
        QCOMPARE(syncthing.at("globalAnnounceEnabled").get<bool>(), false);
        QCOMPARE(syncthing.at("relaysEnabled").get<bool>(), false);
        QVERIFY2(result->at("warnings").empty(), result->at("warnings").dump().c_str());

        // The GUI answers where the probe says it listens (Syncthing read the same file).
        QByteArray log;
        QTRY_VERIFY_WITH_TIMEOUT(
            (log += m_process.readAll()).contains("GUI and API listening on " + m_guiAddress),
            15000);
    }

    void cleanupTestCase()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        m_process.terminate();
        if (!m_process.waitForFinished(10000)) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }

private:
    QString m_syncthing;
    QTemporaryDir m_home;
    QProcess m_process;
    QByteArray m_guiAddress;
    QByteArray m_listenAddress;
};

QTEST_GUILESS_MAIN(TestProbeSyncthing)
#include "tst_probesyncthing.moc"
