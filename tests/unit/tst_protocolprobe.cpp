// `probe`: the parsers of what it reads (recorded outputs), the ProbeReport JSON round trip, and
// the real handler run in-process on this machine, checked against what Qt reports
// independently, plus cur/-only detection through stand-in dovecot/doveconf programs.

#include "agentcommands.h"

#include "protocol/probereport.h"
#include "protocol/version.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QStorageInfo>
#include <QSysInfo>
#include <QTemporaryDir>
#include <QTest>

#include <string>

using namespace mm::protocol;
using nlohmann::json;

// QCOMPARE cannot take nlohmann::json (its implicit conversions make the overloads ambiguous).
#define JCOMPARE(actual, expected) QCOMPARE(json(actual).dump(), json(expected).dump())

Q_DECLARE_METATYPE(std::string)

namespace {

mm::Result<json> runProbe(const json &params)
{
    CommandRegistry registry;
    mm::agent::registerAgentCommands(registry);
    const Command *probe = registry.find("probe");
    if (!probe)
        return mm::fail(mm::ErrorCode::InternalError, "probe is not registered");
    return probe->run(params, mm::maildir::ProgressSink(), ItemSink());
}

void writeScript(const QString &path, const QByteArray &body)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("#!/bin/sh\n" + body);
    file.close();
    QVERIFY(file.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
}

std::optional<qint64> procNumber(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    return file.readAll().trimmed().toLongLong();
}

} // namespace

class TestProtocolProbe : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void osRelease_data();
    void osRelease();
    void versions_data();
    void versions();
    void curOnlySetting_data();
    void curOnlySetting();
    void reportRoundTrip();

    void probesThisMachine();
    void missingPathIsNotFound();
    void detectsCurOnlyBuild();
    void stockBuildIsNotCurOnly();
    void missingProgramsAreReportedNotFailed();
};

void TestProtocolProbe::osRelease_data()
{
    QTest::addColumn<std::string>("text");
    QTest::addColumn<std::string>("id");
    QTest::addColumn<std::string>("versionId");
    QTest::addColumn<std::string>("prettyName");
    QTest::newRow("debian 12")
        << std::string("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"
                       "VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n")
        << std::string("debian") << std::string("12")
        << std::string("Debian GNU/Linux 12 (bookworm)");
    QTest::newRow("single quotes and comments")
        << std::string(
               "# comment\nID='alpine'\n\nVERSION_ID=3.19.1\nPRETTY_NAME='Alpine Linux v3.19'\n")
        << std::string("alpine") << std::string("3.19.1") << std::string("Alpine Linux v3.19");
    QTest::newRow("escapes in double quotes")
        << std::string("ID=x\nPRETTY_NAME=\"A \\\"quoted\\\" \\$name\"\n") << std::string("x")
        << std::string() << std::string("A \"quoted\" $name");
    QTest::newRow("crlf and spaces")
        << std::string("ID = ubuntu\r\nVERSION_ID=\"24.04\"\r\n") << std::string("ubuntu")
        << std::string("24.04") << std::string();
    QTest::newRow("garbage lines") << std::string("=x\nnoequals\nID=arch\n") << std::string("arch")
                                   << std::string() << std::string();
    QTest::newRow("empty") << std::string() << std::string() << std::string() << std::string();
}

void TestProtocolProbe::osRelease()
{
    QFETCH(std::string, text);
    QFETCH(std::string, id);
    QFETCH(std::string, versionId);
    QFETCH(std::string, prettyName);
    auto fields = parseOsRelease(text);
    QCOMPARE(fields["ID"], id);
    QCOMPARE(fields["VERSION_ID"], versionId);
    QCOMPARE(fields["PRETTY_NAME"], prettyName);
}

void TestProtocolProbe::versions_data()
{
    QTest::addColumn<std::string>("dovecotOutput");
    QTest::addColumn<std::string>("dovecotVersion");
    QTest::addColumn<bool>("curOnly");
    QTest::newRow("debian stock") << std::string("2.3.19.1 (9b53102964)\n")
                                  << std::string("2.3.19.1 (9b53102964)") << false;
    QTest::newRow("mailmesh build") << std::string("2.3.19.1+mailmesh1 (9b53102964)\n")
                                    << std::string("2.3.19.1+mailmesh1 (9b53102964)") << true;
    QTest::newRow("2.4") << std::string("2.4.1-4 (7d8c0e5759)\nextra\n")
                         << std::string("2.4.1-4 (7d8c0e5759)") << false;
    QTest::newRow("empty") << std::string() << std::string() << false;
}

void TestProtocolProbe::versions()
{
    QFETCH(std::string, dovecotOutput);
    QFETCH(std::string, dovecotVersion);
    QFETCH(bool, curOnly);
    QCOMPARE(parseDovecotVersion(dovecotOutput), dovecotVersion);
    QCOMPARE(isCurOnlyDovecotVersion(dovecotVersion), curOnly);

    QCOMPARE(parseSyncthingVersion(
                 "syncthing v1.19.2-ds1 \"Fermium Flea\" (go1.19.8 linux-amd64) debian@debian "
                 "2023-04-09 10:47:16 UTC\n"),
             std::string("v1.19.2-ds1"));
    QCOMPARE(parseSyncthingVersion("syncthing v1.27.2 \"Gold Grasshopper\" (go1.21.5 linux-amd64)"),
             std::string("v1.27.2"));
    QCOMPARE(parseSyncthingVersion("something else\n"), std::string("something else"));
}

void TestProtocolProbe::curOnlySetting_data()
{
    QTest::addColumn<std::string>("output");
    QTest::addColumn<int>("exitCode");
    QTest::addColumn<int>("expected"); // -1 unknown, 0 no, 1 yes
    QTest::newRow("yes") << std::string("yes\n") << 0 << 1;
    QTest::newRow("no") << std::string("no\n") << 0 << 0;
    QTest::newRow("stock 2.3 prints nothing") << std::string() << 0 << -1;
    QTest::newRow("unknown setting error")
        << std::string("doveconf: Fatal: Unknown setting: maildir_cur_only\n") << 89 << -1;
    QTest::newRow("config error") << std::string("doveconf: Fatal: Error in configuration file\n")
                                  << 89 << -1;
}

void TestProtocolProbe::curOnlySetting()
{
    QFETCH(std::string, output);
    QFETCH(int, exitCode);
    QFETCH(int, expected);
    const auto value = parseCurOnlySetting(output, exitCode);
    QCOMPARE(value.has_value() ? int(*value) : -1, expected);
}

void TestProtocolProbe::reportRoundTrip()
{
    ProbeReport report;
    report.agentVersion = "0.1.0";
    report.hostname = "node1";
    report.architecture = "aarch64";
    report.os = {"debian", "12", "Debian GNU/Linux 12 (bookworm)", "6.1.0"};
    report.disk = ProbeReport::Disk{"/srv/m\xe4il", 100, 50, 40, 10, 5};
    report.inotify.maxUserWatches = 8192;
    report.dovecot.found = true;
    report.dovecot.path = "/opt/dovecot/sbin/dovecot";
    report.dovecot.version = "2.3.19.1+mailmesh1 (x)";
    report.dovecot.curOnlyBuild = true;
    report.dovecot.curOnlyEnabled = false;
    report.dovecot.curOnlyEvidence = "version-suffix";
    report.warnings = {"w1"};

    const json wire = json::parse(json(report).dump());
    JCOMPARE(wire.at("schemaVersion"), kSchemaVersion);
    QVERIFY(wire.at("inotify").at("maxQueuedEvents").is_null());
    QVERIFY(wire.at("disk").contains("pathBase64"));
    QVERIFY(!wire.at("syncthing").at("found").get<bool>());

    const ProbeReport back = wire.get<ProbeReport>();
    QCOMPARE(back.architecture, report.architecture);
    QCOMPARE(back.os.prettyName, report.os.prettyName);
    QVERIFY(back.disk.has_value());
    QCOMPARE(back.disk->path, report.disk->path);
    QCOMPARE(back.disk->availableBytes, std::uint64_t(40));
    QCOMPARE(back.inotify.maxUserWatches, std::optional<std::int64_t>(8192));
    QVERIFY(!back.inotify.maxQueuedEvents.has_value());
    QCOMPARE(back.dovecot.curOnlyEnabled, std::optional<bool>(false));
    QCOMPARE(back.dovecot.curOnlyEvidence, std::string("version-suffix"));
    QCOMPARE(back.warnings, report.warnings);

    // A report without disk and with unknown extra fields still reads.
    json minimal =
        json::parse(R"({"schemaVersion":1,"architecture":"x86_64","disk":null,"future":{"a":1}})");
    QVERIFY(!minimal.get<ProbeReport>().disk.has_value());
}

void TestProtocolProbe::probesThisMachine()
{
    const QString root = QDir::rootPath();
    const auto result = runProbe(json{{"path", root.toStdString()}});
    QVERIFY2(result.has_value(), result ? "" : result.error().message.c_str());
    const ProbeReport report = result->get<ProbeReport>();

    QCOMPARE(QString::fromStdString(report.hostname), QSysInfo::machineHostName());
    QCOMPARE(QString::fromStdString(report.os.kernelRelease), QSysInfo::kernelVersion());
    const QString arch = QSysInfo::currentCpuArchitecture(); // "x86_64", "arm64"...
    QVERIFY2(QString::fromStdString(report.architecture) == arch ||
                 (arch == QLatin1String("arm64") && report.architecture == "aarch64"),
             report.architecture.c_str());
    QCOMPARE(QString::fromStdString(report.os.id), QSysInfo::productType());
    QCOMPARE(QString::fromStdString(report.os.versionId), QSysInfo::productVersion());

    QVERIFY(report.disk.has_value());
    const QStorageInfo storage(root);
    QCOMPARE(qint64(report.disk->totalBytes), storage.bytesTotal());
    QVERIFY(report.disk->availableBytes <= report.disk->freeBytes);
    QVERIFY(report.disk->freeBytes <= report.disk->totalBytes);

    QCOMPARE(report.inotify.maxUserWatches,
             procNumber(QStringLiteral("/proc/sys/fs/inotify/max_user_watches")));
    QCOMPARE(report.inotify.maxUserInstances,
             procNumber(QStringLiteral("/proc/sys/fs/inotify/max_user_instances")));
    QCOMPARE(report.inotify.maxQueuedEvents,
             procNumber(QStringLiteral("/proc/sys/fs/inotify/max_queued_events")));

    // The machine's own Dovecot and Syncthing (bootstrap installs both), asked directly.
    const QString dovecot = QStandardPaths::findExecutable(
        QStringLiteral("dovecot"), {QStringLiteral("/usr/sbin"), QStringLiteral("/usr/bin")});
    QCOMPARE(report.dovecot.found, !dovecot.isEmpty());
    if (!dovecot.isEmpty()) {
        QProcess process;
        process.start(dovecot, {QStringLiteral("--version")});
        QVERIFY(process.waitForFinished());
        QCOMPARE(QString::fromStdString(report.dovecot.version),
                 QString::fromUtf8(process.readAllStandardOutput())
                     .section(QLatin1Char('\n'), 0, 0)
                     .trimmed());
        QCOMPARE(report.dovecot.curOnlyBuild,
                 report.dovecot.version.find("+mailmesh") != std::string::npos ||
                     report.dovecot.curOnlyEnabled.has_value());
    }
    const QString syncthing = QStandardPaths::findExecutable(QStringLiteral("syncthing"));
    QCOMPARE(report.syncthing.found, !syncthing.isEmpty());
    if (!syncthing.isEmpty())
        QVERIFY2(report.syncthing.version.starts_with("v"), report.syncthing.version.c_str());
}

void TestProtocolProbe::missingPathIsNotFound()
{
    const auto result = runProbe(json{{"path", "/nonexistent/mailmesh-probe"}});
    QVERIFY(!result.has_value());
    QCOMPARE(result.error().code, mm::ErrorCode::NotFound);
    QVERIFY(QString::fromStdString(result.error().message)
                .contains(QStringLiteral("/nonexistent/mailmesh-probe")));
    QVERIFY(!runProbe(json{{"path", 5}}).has_value());
}

void TestProtocolProbe::detectsCurOnlyBuild()
{
    // A prefix laid out like the patched build (sbin/dovecot, bin/doveconf): the probe must ask
    // the doveconf of that prefix, not the system's.
    QTemporaryDir prefix;
    QVERIFY(QDir(prefix.path()).mkpath(QStringLiteral("sbin")) &&
            QDir(prefix.path()).mkpath(QStringLiteral("bin")));
    writeScript(prefix.filePath(QStringLiteral("sbin/dovecot")),
                "echo '2.3.19.1+mailmesh1 (9b53102964)'\n");
    writeScript(prefix.filePath(QStringLiteral("bin/doveconf")),
                "[ \"$1 $2\" = '-h maildir_cur_only' ] && echo yes && exit 0\nexit 64\n");
    const auto result =
        runProbe(json{{"dovecot", prefix.filePath(QStringLiteral("sbin/dovecot")).toStdString()}});
    QVERIFY(result.has_value());
    const auto dovecot = result->at("dovecot");
    JCOMPARE(dovecot.at("version"), "2.3.19.1+mailmesh1 (9b53102964)");
    JCOMPARE(dovecot.at("curOnlyBuild"), true);
    JCOMPARE(dovecot.at("curOnlyEvidence"), "version-suffix");
    JCOMPARE(dovecot.at("curOnlyEnabled"), true);

    // Without the suffix, knowing the setting is evidence enough.
    writeScript(prefix.filePath(QStringLiteral("sbin/dovecot")), "echo '2.3.21 (abc)'\n");
    writeScript(prefix.filePath(QStringLiteral("bin/doveconf")), "echo no\n");
    const auto second =
        runProbe(json{{"dovecot", prefix.filePath(QStringLiteral("sbin/dovecot")).toStdString()}});
    QVERIFY(second.has_value());
    JCOMPARE(second->at("dovecot").at("curOnlyBuild"), true);
    JCOMPARE(second->at("dovecot").at("curOnlyEvidence"), "doveconf-setting");
    JCOMPARE(second->at("dovecot").at("curOnlyEnabled"), false);
}

void TestProtocolProbe::stockBuildIsNotCurOnly()
{
    const QString dovecot =
        QStandardPaths::findExecutable(QStringLiteral("dovecot"), {QStringLiteral("/usr/sbin")});
    if (dovecot.isEmpty())
        QSKIP("no dovecot installed (installers/bootstrap.sh installs dovecot-core)");
    const auto result = runProbe(json{{"dovecot", dovecot.toStdString()}});
    QVERIFY(result.has_value());
    QProcess process;
    process.start(dovecot, {QStringLiteral("--version")});
    QVERIFY(process.waitForFinished());
    if (process.readAllStandardOutput().contains("+mailmesh"))
        QSKIP("the installed dovecot is the cur/-only build");
    JCOMPARE(result->at("dovecot").at("curOnlyBuild"), false);
    QVERIFY(result->at("dovecot").at("curOnlyEnabled").is_null());
}

void TestProtocolProbe::missingProgramsAreReportedNotFailed()
{
    QTemporaryDir dir;
    writeScript(dir.filePath(QStringLiteral("broken")), "exit 3\n");
    const auto result =
        runProbe(json{{"dovecot", dir.filePath(QStringLiteral("broken")).toStdString()},
                      {"syncthing", dir.filePath(QStringLiteral("absent")).toStdString()}});
    QVERIFY(result.has_value());
    JCOMPARE(result->at("dovecot").at("found"), true);
    JCOMPARE(result->at("dovecot").at("version"), "");
    QVERIFY(!result->at("warnings").empty());
    JCOMPARE(result->at("syncthing").at("version"), "");
}

QTEST_APPLESS_MAIN(TestProtocolProbe)
#include "tst_protocolprobe.moc"
