// `probe`: the parsers of what it reads (recorded outputs, Syncthing 1.19 config.xml files,
// /etc/passwd, /proc files), the ProbeReport JSON round trip, and the real handler run
// in-process on this machine, checked against what Qt reports independently, plus cur/-only
// detection through stand-in dovecot/doveconf programs and the inventory of a mail root built
// here with known numbers and owners.

#include "agentcommands.h"

#include "node/dovecotversion.h"
#include "node/osrelease.h"
#include "node/passwd.h"
#include "node/proc.h"
#include "node/syncthingconfig.h"
#include "protocol/probereport.h"
#include "protocol/version.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QScopeGuard>
#include <QStandardPaths>
#include <QStorageInfo>
#include <QSysInfo>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace mm::node;
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

std::string recorded(const char *name)
{
    QFile file(QStringLiteral(MAILMESH_SOURCE_DIR "/tests/unit/data/syncthing/") +
               QLatin1String(name));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll().toStdString();
}

int tristate(const std::optional<bool> &value)
{
    return value ? int(*value) : -1;
}

std::string joined(const std::vector<std::string> &values)
{
    std::string out;
    for (const auto &value : values)
        out += (out.empty() ? "" : "|") + value;
    return out;
}

// Writes `bytes` to root/relPath, creating the directories on the way.
qint64 writeFile(const QString &root, const QString &relPath, const QByteArray &bytes)
{
    const QString path = root + QLatin1Char('/') + relPath;
    QDir().mkpath(QFileInfo(path).path());
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return -1;
    return file.write(bytes);
}

bool makeDirs(const QString &root, const QStringList &relPaths)
{
    for (const QString &rel : relPaths)
        if (!QDir(root).mkpath(rel))
            return false;
    return true;
}

std::string userName(uid_t uid)
{
    const passwd *entry = ::getpwuid(uid); // NSS is fine in the test; the agent reads the file
    return entry ? std::string(entry->pw_name) : std::string();
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
    void everyImplementedCommandIsDefined();
    void osRelease_data();
    void osRelease();
    void versions_data();
    void versions();
    void curOnlySetting_data();
    void curOnlySetting();
    void curOnlySettingName_data();
    void curOnlySettingName();
    void syncthingConfig_data();
    void syncthingConfig();
    void loopbackGuiAddress_data();
    void loopbackGuiAddress();
    void passwd_data();
    void passwd();
    void cmdlineHome_data();
    void cmdlineHome();
    void procFiles_data();
    void procFiles();
    void changeWatcherCmdline_data();
    void changeWatcherCmdline();
    void reportRoundTrip();

    void probesThisMachine();
    void missingPathIsNotFound();
    void detectsCurOnlyBuild();
    void stockBuildIsNotCurOnly();
    void missingProgramsAreReportedNotFailed();
    void syncthingHomeIsRead();
    void missingSyncthingConfigIsAWarning();
    void hostileSyncthingConfigIsNotRead();
    void inventoryOfAMailRoot();
    void inventoryCanBeSkipped();
    void runningChangeWatcherIsListed();
};

// An agent asked for a command that a newer one implements answers not-found ("defined, not
// here"), never bad-request: that needs every implemented name in the defined list.
void TestProtocolProbe::everyImplementedCommandIsDefined()
{
    CommandRegistry registry;
    mm::agent::registerAgentCommands(registry);
    const auto &defined = CommandRegistry::definedCommands();
    for (const Command *command : registry.commands())
        QVERIFY2(std::find(defined.begin(), defined.end(), command->name) != defined.end(), command->name.c_str());
}

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
    QCOMPARE(dovecotVersionLine(dovecotOutput), dovecotVersion);
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

void TestProtocolProbe::curOnlySettingName_data()
{
    QTest::addColumn<std::string>("version");
    QTest::addColumn<std::string>("name");
    QTest::newRow("2.3") << std::string("2.3.19.1+mailmesh3 (9b53102964)") << std::string("maildir_cur_only");
    // 2.4 keeps maildir settings in the `maildir` named filter (migrate failed on the bare name).
    QTest::newRow("2.4") << std::string("2.4.1-4+mailmesh3 (7d8c0e5759)") << std::string("maildir/maildir_cur_only");
    QTest::newRow("3.0") << std::string("3.0.0") << std::string("maildir/maildir_cur_only");
    QTest::newRow("unknown") << std::string() << std::string("maildir_cur_only");
}

void TestProtocolProbe::curOnlySettingName()
{
    QFETCH(std::string, version);
    QFETCH(std::string, name);
    QCOMPARE(mm::node::curOnlySettingName(version), name);
}

void TestProtocolProbe::syncthingConfig_data()
{
    QTest::addColumn<std::string>("xml");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<std::string>("guiAddress");
    QTest::addColumn<bool>("guiEnabled");
    QTest::addColumn<bool>("guiTls");
    QTest::addColumn<std::string>("listenAddresses"); // joined with '|'
    QTest::addColumn<int>("globalAnnounce");          // -1 absent, 0 false, 1 true
    QTest::addColumn<int>("relays");

    // `syncthing generate --home=H --no-default-folder --skip-port-probing` (1.19.2), API key
    // replaced: a <device> with its own <address> comes before <gui>.
    QTest::newRow("1.19 generated")
        << recorded("config-generated.xml") << true << std::string("127.0.0.1:8384") << true
        << false << std::string("default") << 1 << 1;
    // A sandbox node's config (folders shared with two devices, every announce and relay off).
    QTest::newRow("1.19 configured node")
        << recorded("config.xml") << true << std::string("127.0.0.1:42384") << true << false
        << std::string("tcp://127.0.0.1:42391") << 0 << 0;
    QTest::newRow("tls, all interfaces, several listeners, entities, comments")
        << std::string(
               "<?xml version=\"1.0\"?>\n<!-- <gui><address>bad</address></gui> -->\n"
               "<configuration version=\"37\">\n"
               "  <device id=\"X\"><address>tcp://10.0.0.1:22000</address></device>\n"
               "  <gui debugging='false' tls='true' enabled=\"1\" >\n"
               "    <address> 0.0.0.0:8384 </address><apikey>k&amp;</apikey>\n"
               "  </gui>\n"
               "  <options>\n"
               "    <listenAddress>tcp://0.0.0.0:22000</listenAddress>\n"
               "    <listenAddress>quic://0.0.0.0:22000?a=1&amp;b=2</listenAddress>\n"
               "    <listenAddress><![CDATA[dynamic+https://relays.example/x]]></listenAddress>\n"
               "    <globalAnnounceEnabled>True</globalAnnounceEnabled>\n"
               "    <relaysEnabled>0</relaysEnabled>\n"
               "  </options>\n"
               "</configuration>\n")
        << true << std::string("0.0.0.0:8384") << true << true
        << std::string("tcp://0.0.0.0:22000|quic://0.0.0.0:22000?a=1&b=2|"
                       "dynamic+https://relays.example/x")
        << 1 << 0;
    QTest::newRow("gui disabled, no options")
        << std::string("<configuration><gui enabled=\"false\"><address>[::1]:8384</address>"
                       "</gui></configuration>")
        << true << std::string("[::1]:8384") << false << false << std::string() << -1 << -1;
    QTest::newRow("address only inside a device is not the gui's")
        << std::string("<configuration><device id=\"x\"><address>dynamic</address></device>"
                       "<gui/><options><listenAddress/><relaysEnabled>maybe</relaysEnabled>"
                       "</options></configuration>")
        << true << std::string() << true << false << std::string() << -1 << -1;
    QTest::newRow("nested gui elements are not top-level")
        << std::string("<configuration><folder><gui><address>1.2.3.4:1</address></gui></folder>"
                       "</configuration>")
        << true << std::string() << true << false << std::string() << -1 << -1;
    QTest::newRow("truncated") << std::string("<configuration><gui><address>127.0.0.1:1") << false
                               << std::string() << true << false << std::string() << -1 << -1;
    QTest::newRow("not a config") << std::string("{\"gui\": 1}") << false << std::string() << true
                                  << false << std::string() << -1 << -1;
    QTest::newRow("empty") << std::string() << false << std::string() << true << false
                           << std::string() << -1 << -1;
}

void TestProtocolProbe::syncthingConfig()
{
    QFETCH(std::string, xml);
    QFETCH(bool, valid);
    QFETCH(std::string, guiAddress);
    QFETCH(bool, guiEnabled);
    QFETCH(bool, guiTls);
    QFETCH(std::string, listenAddresses);
    QFETCH(int, globalAnnounce);
    QFETCH(int, relays);
    QVERIFY(!xml.empty() || QByteArray(QTest::currentDataTag()) == "empty");
    const auto config = parseSyncthingConfig(xml);
    QCOMPARE(config.has_value(), valid);
    if (!config)
        return;
    QCOMPARE(config->guiAddress, guiAddress);
    QCOMPARE(config->guiEnabled, guiEnabled);
    QCOMPARE(config->guiTls, guiTls);
    QCOMPARE(joined(config->listenAddresses), listenAddresses);
    QCOMPARE(tristate(config->globalAnnounceEnabled), globalAnnounce);
    QCOMPARE(tristate(config->relaysEnabled), relays);
}

void TestProtocolProbe::loopbackGuiAddress_data()
{
    QTest::addColumn<std::string>("address");
    QTest::addColumn<bool>("loopback");
    QTest::newRow("127.0.0.1") << std::string("127.0.0.1:8384") << true;
    QTest::newRow("127.8.9.10") << std::string("127.8.9.10:8384") << true;
    QTest::newRow("localhost") << std::string("LocalHost:8384") << true;
    QTest::newRow("::1") << std::string("[::1]:8384") << true;
    QTest::newRow("mapped v4") << std::string("[::ffff:127.0.0.1]:8384") << true;
    QTest::newRow("with scheme") << std::string("https://127.0.0.1:8384/") << true;
    QTest::newRow("all interfaces") << std::string("0.0.0.0:8384") << false;
    QTest::newRow("port only") << std::string(":8384") << false;
    QTest::newRow("v6 any") << std::string("[::]:8384") << false;
    QTest::newRow("lan") << std::string("192.168.1.5:8384") << false;
    QTest::newRow("128.x") << std::string("128.0.0.1:8384") << false;
    QTest::newRow("127 as a name prefix") << std::string("127.0.0.1.example.org:8384") << false;
    QTest::newRow("localhost prefix") << std::string("localhost.evil:8384") << false;
    QTest::newRow("unix socket") << std::string("unix:///run/syncthing.sock") << false;
    QTest::newRow("empty") << std::string() << false;
}

void TestProtocolProbe::loopbackGuiAddress()
{
    QFETCH(std::string, address);
    QFETCH(bool, loopback);
    QCOMPARE(isLoopbackGuiAddress(address), loopback);
}

void TestProtocolProbe::passwd_data()
{
    QTest::addColumn<std::string>("text");
    QTest::addColumn<int>("uid");
    QTest::addColumn<std::string>("name"); // "" when the uid has no entry
    QTest::addColumn<int>("entries");
    const std::string debian = "root:x:0:0:root:/root:/bin/bash\n"
                               "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                               "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
                               "vmail:x:5000:5000::/var/vmail:/usr/sbin/nologin\n";
    QTest::newRow("root") << debian << 0 << std::string("root") << 4;
    QTest::newRow("vmail") << debian << 5000 << std::string("vmail") << 4;
    QTest::newRow("unknown uid") << debian << 4242 << std::string() << 4;
    QTest::newRow("first entry of a uid wins")
        << std::string("toor:x:0:0::/root:/bin/sh\nroot:x:0:0::/root:/bin/sh\n") << 0
        << std::string("toor") << 1;
    QTest::newRow("comments, nis, garbage, crlf-less end")
        << std::string("# c\n+::::::\n-bad:x:7:7::/:/bin/sh\n:x:8:8::/:\nshort:x:9\n"
                       "neg:x:-1:0::/:\nbig:x:99999999999:0::/:\nok:x:10:10::/:/bin/sh")
        << 10 << std::string("ok") << 1;
    QTest::newRow("empty") << std::string() << 0 << std::string() << 0;
}

void TestProtocolProbe::passwd()
{
    QFETCH(std::string, text);
    QFETCH(int, uid);
    QFETCH(std::string, name);
    QFETCH(int, entries);
    const auto users = parsePasswd(text);
    QCOMPARE(int(users.size()), entries);
    const auto it = users.find(std::uint32_t(uid));
    QCOMPARE(it == users.end() ? std::string() : it->second, name);
}

void TestProtocolProbe::cmdlineHome_data()
{
    using namespace std::string_literals;
    QTest::addColumn<std::string>("cmdline");
    QTest::addColumn<bool>("present");
    QTest::addColumn<std::string>("home");
    // As read from /proc/PID/cmdline: NUL after every argument.
    QTest::newRow("serve --home=")
        << "/usr/bin/syncthing\0serve\0--home=/var/lib/st\0--no-browser\0"s << true
        << std::string("/var/lib/st");
    QTest::newRow("--home X") << "syncthing\0serve\0--home\0/srv/st home\0"s << true
                              << std::string("/srv/st home");
    QTest::newRow("legacy -home") << "syncthing\0-home\0/h\0-no-browser\0"s << true
                                  << std::string("/h");
    QTest::newRow("legacy -home=") << "syncthing\0-home=/h2\0"s << true << std::string("/h2");
    QTest::newRow("last one wins")
        << "syncthing\0--home=/a\0--home\0/b\0"s << true << std::string("/b");
    QTest::newRow("non-utf8 bytes")
        << "syncthing\0--home=/m\xe4il\0"s << true << std::string("/m\xe4il");
    QTest::newRow("no home") << "syncthing\0serve\0--no-browser\0"s << false << std::string();
    QTest::newRow("--home without value") << "syncthing\0--home\0"s << false << std::string();
    QTest::newRow("after --") << "syncthing\0--\0--home=/x\0"s << false << std::string();
    QTest::newRow("argv[0] is not an option") << "--home=/x\0"s << false << std::string();
    QTest::newRow("similar flag") << "syncthing\0--homedir=/x\0--gui-home=/y\0"s << false
                                  << std::string();
    QTest::newRow("empty") << std::string() << false << std::string();
}

void TestProtocolProbe::cmdlineHome()
{
    QFETCH(std::string, cmdline);
    QFETCH(bool, present);
    QFETCH(std::string, home);
    const auto parsed = parseCmdlineHome(cmdline);
    QCOMPARE(parsed.has_value(), present);
    if (parsed)
        QCOMPARE(*parsed, home);
}

void TestProtocolProbe::procFiles_data()
{
    QTest::addColumn<std::string>("stat");
    QTest::addColumn<std::string>("comm"); // "" when stat does not parse
    QTest::addColumn<QString>("state");
    QTest::addColumn<qint64>("ppid");
    QTest::addColumn<std::string>("status");
    QTest::addColumn<int>("uid"); // -1 when status does not parse
    const std::string status = "Name:\tsyncthing\nUmask:\t0022\nState:\tS (sleeping)\n"
                               "Tgid:\t812\nPid:\t812\nPPid:\t1\nUid:\t998\t5000\t5000\t5000\n"
                               "Gid:\t998\t998\t998\t998\n";
    QTest::newRow("syncthing sleeping")
        << std::string("812 (syncthing) S 1 812 812 0 -1 4194560 2155 0 0 0\n")
        << std::string("syncthing") << QStringLiteral("S") << qint64(1) << status << 5000;
    QTest::newRow("monitor child")
        << std::string("830 (syncthing) S 812 812 812 0 -1 4194560\n") << std::string("syncthing")
        << QStringLiteral("S") << qint64(812) << status << 5000;
    QTest::newRow("zombie with ) in its name")
        << std::string("77 (a) b) Z 1 77 77 0 -1\n") << std::string("a) b") << QStringLiteral("Z")
        << qint64(1) << std::string("Uid:\t0\t0\t0\t0\n") << 0;
    QTest::newRow("garbage") << std::string("77 no parens") << std::string() << QString()
                             << qint64(0) << std::string("Uid:\n") << -1;
    QTest::newRow("cut after comm") << std::string("77 (x)") << std::string() << QString()
                                    << qint64(0) << std::string("Name:\tx\n") << -1;
    QTest::newRow("no ppid") << std::string("77 (x) S ?") << std::string() << QString() << qint64(0)
                             << std::string("Uid:\t1\n") << -1;
}

void TestProtocolProbe::procFiles()
{
    QFETCH(std::string, stat);
    QFETCH(std::string, comm);
    QFETCH(QString, state);
    QFETCH(qint64, ppid);
    QFETCH(std::string, status);
    QFETCH(int, uid);
    const auto parsed = parseProcStat(stat);
    QCOMPARE(parsed.has_value(), !comm.empty());
    if (parsed) {
        QCOMPARE(parsed->comm, comm);
        QCOMPARE(QString(QLatin1Char(parsed->state)), state);
        QCOMPARE(qint64(parsed->ppid), ppid);
    }
    const auto parsedUid = parseProcStatusUid(status);
    QCOMPARE(parsedUid ? int(*parsedUid) : -1, uid);
}

void TestProtocolProbe::changeWatcherCmdline_data()
{
    using namespace std::string_literals;
    QTest::addColumn<std::string>("comm");
    QTest::addColumn<std::string>("cmdline");
    QTest::addColumn<bool>("watcher");
    QTest::addColumn<bool>("hasHome");
    QTest::addColumn<std::string>("home");
    // As systemd starts it (prepare's unit), from the agent's cache, and in a sandbox.
    QTest::newRow("unit")
        << "mailmesh-agent"s
        << "/usr/local/lib/mailmesh/mailmesh-agent\0watch-changes\0--syncthing-home=/var/vmail/.config/syncthing\0"s
        << true << true << "/var/vmail/.config/syncthing"s;
    QTest::newRow("cached copy, --syncthing-home X")
        << "agent-0123456789"s
        << "/home/vmail/.cache/mailmesh/agent-0123456789abcdef\0watch-changes\0--syncthing-home\0/srv/st home\0--verbose\0"s
        << true << true << "/srv/st home"s;
    QTest::newRow("last one wins")
        << "mailmesh-agent"s
        << "a\0watch-changes\0--syncthing-home=/a\0--syncthing-home\0/b\0"s << true << true
        << "/b"s;
    QTest::newRow("a --delay-ms value is no flag")
        << "mailmesh-agent"s
        << "a\0watch-changes\0--syncthing-home=/a\0--delay-ms\0--syncthing-home=/b\0"s << true
        << true << "/a"s;
    QTest::newRow("non-utf8 home")
        << "mailmesh-agent"s
        << "a\0watch-changes\0--syncthing-home=/m\xe4il\0"s << true << true << "/m\xe4il"s;
    QTest::newRow("no home") << "mailmesh-agent"s
                             << "a\0watch-changes\0--verbose\0"s << true << false << std::string();
    QTest::newRow("flag without value")
        << "mailmesh-agent"s
        << "a\0watch-changes\0--syncthing-home\0"s << true << false << std::string();
    QTest::newRow("similar flag") << "mailmesh-agent"s
                                  << "a\0watch-changes\0--syncthing-homes=/x\0"s << true << false
                                  << std::string();
    QTest::newRow("serve") << "agent-0123456789"s
                           << "agent-0123\0serve\0"s << false << false << std::string();
    QTest::newRow("watch-changes later")
        << "mailmesh-agent"s
        << "a\0probe\0watch-changes\0"s << false << false << std::string();
    QTest::newRow("empty cmdline (kernel thread)")
        << "mailmesh-agent"s << std::string() << false << false << std::string();
    // Another program with the same arguments is not the agent.
    QTest::newRow("other program")
        << "sh"s
        << "sh\0watch-changes\0--syncthing-home=/x\0"s << false << false << std::string();
}

void TestProtocolProbe::changeWatcherCmdline()
{
    QFETCH(std::string, comm);
    QFETCH(std::string, cmdline);
    QFETCH(bool, watcher);
    QFETCH(bool, hasHome);
    QFETCH(std::string, home);
    const auto parsed =
        isAgentCommandName(comm) ? parseChangeWatcherCmdline(cmdline) : std::nullopt;
    QCOMPARE(parsed.has_value(), watcher);
    if (!parsed)
        return;
    QCOMPARE(parsed->syncthingHome.has_value(), hasHome);
    if (hasHome)
        QCOMPARE(*parsed->syncthingHome, home);
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
    report.syncthing.home = "/var/lib/syncthing";
    report.syncthing.config =
        SyncthingConfig{"0.0.0.0:8384", true, true, {"default", "tcp://:1"}, false, std::nullopt};
    report.syncthing.processes = {{812, 1, 5000, "vmail", std::string("/srv/st\xe4")},
                                  {813, 812, 0, "", std::nullopt}};
    report.changeWatchers = {{845, 5000, "vmail", std::string("/srv/st\xe4")},
                             {846, 0, "", std::nullopt}};
    ProbeReport::Inventory inventory;
    inventory.maildirs = 2;
    inventory.folders = 5;
    inventory.classicFolders = 3;
    inventory.curOnlyFolders = 1;
    inventory.brokenFolders = 1;
    inventory.messages = 1200;
    inventory.bytes = 123456789012;
    inventory.owners = {{5000, "vmail", 1300}, {0, "root", 2}};
    inventory.inotifyWatchesNeeded = 22;
    inventory.problems = 4;
    report.inventory = inventory;

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

    const json &syncthing = wire.at("syncthing");
    JCOMPARE(syncthing.at("home"), "/var/lib/syncthing");
    JCOMPARE(syncthing.at("configRead"), true);
    JCOMPARE(syncthing.at("guiOnLoopback"), false);
    QVERIFY(syncthing.at("relaysEnabled").is_null());
    QVERIFY(syncthing.at("processes").at(0).contains("homeBase64"));
    QVERIFY(syncthing.at("processes").at(1).at("home").is_null());
    QCOMPARE(back.syncthing.home, report.syncthing.home);
    QVERIFY(back.syncthing.config.has_value());
    QCOMPARE(back.syncthing.config->guiAddress, std::string("0.0.0.0:8384"));
    QVERIFY(back.syncthing.config->guiTls);
    QCOMPARE(back.syncthing.config->listenAddresses, report.syncthing.config->listenAddresses);
    QCOMPARE(back.syncthing.config->globalAnnounceEnabled, std::optional<bool>(false));
    QVERIFY(!back.syncthing.config->relaysEnabled.has_value());
    QCOMPARE(back.syncthing.processes.size(), std::size_t(2));
    QCOMPARE(back.syncthing.processes[0].home, report.syncthing.processes[0].home);
    QCOMPARE(back.syncthing.processes[0].uid, std::uint32_t(5000));
    QCOMPARE(back.syncthing.processes[1].ppid, std::int64_t(812));
    QVERIFY(!back.syncthing.processes[1].home.has_value());
    JCOMPARE(wire.at("changeWatchers").at(0).at("user"), "vmail");
    QVERIFY(wire.at("changeWatchers").at(0).contains("syncthingHomeBase64"));
    QVERIFY(wire.at("changeWatchers").at(1).at("syncthingHome").is_null());
    QCOMPARE(back.changeWatchers.size(), std::size_t(2));
    QCOMPARE(back.changeWatchers[0].pid, std::int64_t(845));
    QCOMPARE(back.changeWatchers[0].uid, std::uint32_t(5000));
    QCOMPARE(back.changeWatchers[0].syncthingHome, report.changeWatchers[0].syncthingHome);
    QVERIFY(!back.changeWatchers[1].syncthingHome.has_value());
    JCOMPARE(wire.at("inventory"), json::parse(R"({"maildirs":2,"folders":5,"classicFolders":3,
        "curOnlyFolders":1,"brokenFolders":1,"messages":1200,"bytes":123456789012,
        "owners":[{"uid":5000,"user":"vmail","files":1300},{"uid":0,"user":"root","files":2}],
        "inotifyWatchesNeeded":22,"problems":4})"));
    QVERIFY(back.inventory.has_value());
    JCOMPARE(json(*back.inventory), wire.at("inventory"));

    // Without syncthingHome and path: the new fields are null, not missing.
    const json bare = json(ProbeReport{});
    QVERIFY(bare.at("inventory").is_null());
    QVERIFY(bare.at("syncthing").at("home").is_null());
    JCOMPARE(bare.at("syncthing").at("configRead"), false);
    QVERIFY(bare.at("syncthing").at("guiAddress").is_null());
    QVERIFY(bare.at("syncthing").at("listenAddresses").is_null());
    JCOMPARE(bare.at("syncthing").at("processes"), json::array());
    JCOMPARE(bare.at("changeWatchers"), json::array());
    const ProbeReport bareBack = bare.get<ProbeReport>();
    QVERIFY(!bareBack.inventory && !bareBack.syncthing.config && !bareBack.syncthing.home);

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
    // "/" cannot be a mail root (scan refuses it too): no inventory, a warning, no walk of /.
    QVERIFY(!report.inventory.has_value());
    QVERIFY(std::any_of(report.warnings.begin(), report.warnings.end(),
                        [](const auto &w) { return w.starts_with("no inventory of /:"); }));
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

void TestProtocolProbe::syncthingHomeIsRead()
{
    QTemporaryDir home;
    QFile config(home.filePath(QStringLiteral("config.xml")));
    QVERIFY(config.open(QIODevice::WriteOnly));
    std::string xml = recorded("config-generated.xml");
    const std::string loopback = "<address>127.0.0.1:8384</address>";
    xml.replace(xml.find(loopback), loopback.size(), "<address>0.0.0.0:8384</address>");
    config.write(xml.data(), qint64(xml.size()));
    config.close();

    const auto result = runProbe(json{{"syncthingHome", home.path().toStdString()}});
    QVERIFY(result.has_value());
    const json &syncthing = result->at("syncthing");
    JCOMPARE(syncthing.at("home"), home.path().toStdString());
    JCOMPARE(syncthing.at("configRead"), true);
    JCOMPARE(syncthing.at("guiAddress"), "0.0.0.0:8384");
    JCOMPARE(syncthing.at("guiTls"), false);
    JCOMPARE(syncthing.at("guiEnabled"), true);
    JCOMPARE(syncthing.at("guiOnLoopback"), false);
    JCOMPARE(syncthing.at("listenAddresses"), json::array({"default"}));
    JCOMPARE(syncthing.at("globalAnnounceEnabled"), true);
    JCOMPARE(syncthing.at("relaysEnabled"), true);
    QVERIFY(syncthing.at("processes").is_array());
    QVERIFY(result->at("inventory").is_null());
    const auto warnings = result->at("warnings");
    QVERIFY(std::any_of(warnings.begin(), warnings.end(), [](const json &w) {
        return w.get<std::string>().find("listen on 0.0.0.0:8384, not on loopback") !=
               std::string::npos;
    }));
    // The API key is never part of the answer.
    QVERIFY(result->dump().find("recorded-key-not-secret") == std::string::npos);
}

void TestProtocolProbe::missingSyncthingConfigIsAWarning()
{
    QTemporaryDir home;
    const auto result = runProbe(json{{"syncthingHome", home.path().toStdString()}});
    QVERIFY(result.has_value());
    JCOMPARE(result->at("syncthing").at("home"), home.path().toStdString());
    JCOMPARE(result->at("syncthing").at("configRead"), false);
    QVERIFY(result->at("syncthing").at("guiAddress").is_null());
    const auto warnings = result->at("warnings");
    QVERIFY(std::any_of(warnings.begin(), warnings.end(), [&](const json &w) {
        return w.get<std::string>().starts_with(
            home.filePath(QStringLiteral("config.xml")).toStdString() + " is not readable");
    }));
    // A config.xml that is not Syncthing's is a warning too.
    QFile bad(home.filePath(QStringLiteral("config.xml")));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("not xml");
    bad.close();
    const auto second = runProbe(json{{"syncthingHome", home.path().toStdString()}});
    QVERIFY(second.has_value());
    JCOMPARE(second->at("syncthing").at("configRead"), false);
    QVERIFY(second->at("warnings").dump().find("is not a Syncthing configuration") !=
            std::string::npos);
}

// A node's config.xml is read without following a symlink, without blocking on a FIFO and only
// up to a size limit: each is a warning, never a hang or a read elsewhere.
void TestProtocolProbe::hostileSyncthingConfigIsNotRead()
{
    QTemporaryDir home, elsewhere;
    const QString config = home.filePath(QStringLiteral("config.xml"));
    const auto warningOf = [&]() -> std::string {
        const auto result = runProbe(json{{"syncthingHome", home.path().toStdString()}});
        if (!result.has_value() || result->at("syncthing").at("configRead") != false)
            return "read";
        return result->at("warnings").dump();
    };
    // A symlink to a real Syncthing config elsewhere.
    QFile real(elsewhere.filePath(QStringLiteral("config.xml")));
    QVERIFY(real.open(QIODevice::WriteOnly));
    const std::string xml = recorded("config-generated.xml");
    real.write(xml.data(), qint64(xml.size()));
    real.close();
    QVERIFY(QFile::link(real.fileName(), config));
    QVERIFY2(warningOf().find("symlink: not followed") != std::string::npos, warningOf().c_str());
    QVERIFY(QFile::remove(config));
    // A FIFO: opening it for reading would wait for a writer forever.
    QCOMPARE(::mkfifo(config.toLocal8Bit().constData(), 0600), 0);
    QVERIFY2(warningOf().find("not a regular file") != std::string::npos, warningOf().c_str());
    QVERIFY(QFile::remove(config));
    // Larger than any real config (a sparse file: no disk is used).
    QFile huge(config);
    QVERIFY(huge.open(QIODevice::WriteOnly));
    QVERIFY(huge.resize(qint64(64) << 20));
    huge.close();
    QVERIFY2(warningOf().find("is larger than") != std::string::npos, warningOf().c_str());
}

void TestProtocolProbe::inventoryOfAMailRoot()
{
    // ROOT/example.org/alice: a classic Maildir with a cur/-only Maildir++ .Sent and a classic
    //                         .Trash; ROOT/example.org/bob: a cur/-only Maildir;
    // ROOT/example.org/link -> /etc: never followed (one problem).
    QTemporaryDir dir;
    const QString root = dir.path();
    QVERIFY(makeDirs(
        root,
        {QStringLiteral("example.org/alice/cur"), QStringLiteral("example.org/alice/new"),
         QStringLiteral("example.org/alice/tmp"), QStringLiteral("example.org/alice/.Sent/cur"),
         QStringLiteral("example.org/alice/.Sent/tmp"),
         QStringLiteral("example.org/alice/.Trash/cur"),
         QStringLiteral("example.org/alice/.Trash/new"),
         QStringLiteral("example.org/alice/.Trash/tmp"), QStringLiteral("example.org/bob/cur"),
         QStringLiteral("example.org/bob/tmp")}));
    qint64 bytes = 0;
    bytes += writeFile(root, QStringLiteral("example.org/alice/cur/1700000001.M1P1.h:2,S"),
                       QByteArray(1000, 'a'));
    bytes += writeFile(root, QStringLiteral("example.org/alice/cur/1700000002.M2P1.h:2,"),
                       QByteArray(234, 'b'));
    bytes += writeFile(root, QStringLiteral("example.org/alice/new/1700000003.M3P1.h"),
                       QByteArray(50, 'c'));
    bytes += writeFile(root, QStringLiteral("example.org/alice/.Sent/cur/1700000004.M4P1.h:2,S"),
                       QByteArray(7, 'd'));
    bytes += writeFile(root, QStringLiteral("example.org/bob/cur/1700000005.M5P1.h"),
                       QByteArray(3, 'e'));
    // Not messages: tmp/ files, dotfiles, control files. They count as owned files.
    QCOMPARE(writeFile(root, QStringLiteral("example.org/alice/tmp/1700000006.M6P1.h"), "t"), 1);
    QCOMPARE(writeFile(root, QStringLiteral("example.org/alice/cur/.hidden"), "hh"), 2);
    QCOMPARE(writeFile(root, QStringLiteral("example.org/alice/dovecot-uidlist"), "3 V1 N1\n"), 8);
    QCOMPARE(writeFile(root, QStringLiteral("example.org/alice/.Sent/maildirfolder"), ""), 0);
    QCOMPARE(writeFile(root, QStringLiteral("example.org/alice/.Trash/maildirfolder"), ""), 0);
    const QByteArray base = QFile::encodeName(root);
    QCOMPARE(::symlink("cur", base + "/example.org/alice/.Sent/new"), 0);
    QCOMPARE(::symlink("cur", base + "/example.org/bob/new"), 0);
    QCOMPARE(::symlink("/etc", base + "/example.org/link"), 0);

    // Owned entries: ROOT and example.org (the directories above the Maildirs) 2; alice: the
    // directory, cur new tmp dovecot-uidlist, 2 messages + .hidden, 1 new, 1 tmp = 10; .Sent:
    // the directory, cur new(link) tmp maildirfolder, 1 message = 6; .Trash: 5; bob: 5.
    const uid_t me = ::geteuid();
    std::vector<std::tuple<std::uint32_t, std::string, std::uint64_t>> owners;
    if (me == 0) {
        // Give bob's Maildir to nobody and one tmp/ file to a uid without a passwd entry.
        const uid_t nobody = 65534;
        const uid_t unknown = 4242420;
        QVERIFY(::getpwuid(unknown) == nullptr);
        for (const char *rel : {"/example.org/bob", "/example.org/bob/cur", "/example.org/bob/new",
                                "/example.org/bob/tmp", "/example.org/bob/cur/1700000005.M5P1.h"})
            QCOMPARE(::lchown(base + rel, nobody, nobody), 0);
        QCOMPARE(::lchown(base + "/example.org/alice/tmp/1700000006.M6P1.h", unknown, unknown), 0);
        owners = {{0, userName(0), 22}, {nobody, userName(nobody), 5}, {unknown, "", 1}};
    } else {
        owners = {{me, userName(me), 28}};
    }

    std::vector<std::tuple<std::uint64_t, std::uint64_t, std::string>> reports;
    const mm::maildir::ProgressSink progress(
        [&](std::uint64_t done, std::uint64_t total, std::string_view current) {
            reports.emplace_back(done, total, std::string(current));
        },
        nullptr);
    CommandRegistry registry;
    mm::agent::registerAgentCommands(registry);
    const auto result =
        registry.find("probe")->run(json{{"path", root.toStdString()}}, progress, ItemSink());
    QVERIFY2(result.has_value(), result ? "" : result.error().message.c_str());

    const json expectedOwners = [&] {
        json list = json::array();
        for (const auto &[uid, user, files] : owners)
            list.push_back({{"uid", uid}, {"user", user}, {"files", files}});
        return list;
    }();
    // 4 folders: 12 watches for their cur/new/tmp, plus ROOT, example.org, alice, alice/.Sent,
    // alice/.Trash, bob.
    const json expected{{"maildirs", 2},
                        {"folders", 4},
                        {"classicFolders", 2},
                        {"curOnlyFolders", 2},
                        {"brokenFolders", 0},
                        {"messages", 5},
                        {"bytes", bytes},
                        {"owners", expectedOwners},
                        {"inotifyWatchesNeeded", 18},
                        {"problems", 1}};
    JCOMPARE(result->at("inventory"), expected);
    JCOMPARE(result->at("disk").at("path"), root.toStdString());

    // Progress: six steps; the inventory step names the folders it is at, in the steps' unit.
    QVERIFY(!reports.empty());
    for (const auto &[done, total, current] : reports)
        QCOMPARE(total, std::uint64_t(6));
    QCOMPARE(std::get<0>(reports.back()), std::uint64_t(6));
    std::vector<std::string> inventorySteps;
    for (const auto &[done, total, current] : reports)
        if (done == 5)
            inventorySteps.push_back(current);
    QVERIFY(inventorySteps.size() > 1);
    QCOMPARE(inventorySteps.front(), std::string("inventory"));
    QVERIFY(std::find(inventorySteps.begin(), inventorySteps.end(), "example.org/alice/.Sent") !=
            inventorySteps.end());
}

void TestProtocolProbe::inventoryCanBeSkipped()
{
    QTemporaryDir dir;
    QVERIFY(makeDirs(dir.path(),
                     {QStringLiteral("cur"), QStringLiteral("new"), QStringLiteral("tmp")}));
    const auto with = runProbe(json{{"path", dir.path().toStdString()}});
    QVERIFY(with.has_value());
    JCOMPARE(with->at("inventory").at("maildirs"), 1);
    // ROOT is the Maildir itself: 3 + ROOT.
    JCOMPARE(with->at("inventory").at("inotifyWatchesNeeded"), 4);
    const auto without =
        runProbe(json{{"path", dir.path().toStdString()}, {"skipInventory", true}});
    QVERIFY(without.has_value());
    QVERIFY(without->at("inventory").is_null());
    QVERIFY(without->at("disk").is_object());
    QVERIFY(
        !runProbe(json{{"path", dir.path().toStdString()}, {"skipInventory", "yes"}}).has_value());
    // A symlinked ROOT is not walked (it would make "inside ROOT" somewhere else): a warning.
    QTemporaryDir links;
    const QString link = links.filePath(QStringLiteral("root"));
    QVERIFY(QFile::link(dir.path(), link));
    const auto linked = runProbe(json{{"path", link.toStdString()}});
    QVERIFY(linked.has_value());
    QVERIFY(linked->at("inventory").is_null());
    QVERIFY(linked->at("warnings").dump().find("no inventory of " + link.toStdString()) !=
            std::string::npos);
}

// The real agent's watch-changes, started here on a Syncthing home without config.xml (it waits
// for one), is found under /proc with its home; the agent's other processes are not.
void TestProtocolProbe::runningChangeWatcherIsListed()
{
    QTemporaryDir home;
    QVERIFY(home.isValid());
    const std::string agent = MAILMESH_AGENT_BINARY;
    const std::string flag = "--syncthing-home=" + home.path().toStdString();
    const pid_t pid = ::fork();
    QVERIFY(pid >= 0);
    if (pid == 0) {
        const char *argv[] = {agent.c_str(), "watch-changes", flag.c_str(), nullptr};
        ::execv(agent.c_str(), const_cast<char *const *>(argv));
        ::_exit(127);
    }
    const auto stop = qScopeGuard([pid] {
        ::kill(pid, SIGTERM);
        ::waitpid(pid, nullptr, 0);
    });
    // Until the child has exec'd, /proc shows it as this test.
    const auto execd = [cmdline = QStringLiteral("/proc/%1/cmdline").arg(pid)] {
        QFile file(cmdline);
        return file.open(QIODevice::ReadOnly) && file.readAll().contains("watch-changes");
    };
    for (int waited = 0; !execd() && waited < 5000; waited += 10)
        ::usleep(10'000);
    QVERIFY(execd());

    const auto result = runProbe(json::object());
    QVERIFY2(result.has_value(), result ? "" : result.error().message.c_str());
    const ProbeReport report = result->get<ProbeReport>();
    const auto found = std::find_if(report.changeWatchers.begin(), report.changeWatchers.end(),
                                    [pid](const auto &watcher) { return watcher.pid == pid; });
    QVERIFY2(found != report.changeWatchers.end(), result->at("changeWatchers").dump().c_str());
    QCOMPARE(found->syncthingHome, std::optional<std::string>(home.path().toStdString()));
    QCOMPARE(found->uid, std::uint32_t(::geteuid()));
    QCOMPARE(found->user, userName(::geteuid()));
}

QTEST_APPLESS_MAIN(TestProtocolProbe)
#include "tst_protocolprobe.moc"
