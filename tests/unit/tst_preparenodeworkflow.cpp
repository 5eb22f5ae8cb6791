// What prepare (and the Dovecot workflows) hand to a shell: the manual actions pasted for the
// admin keep every value one word, however hostile the cluster file or the node's config.xml,
// and files on nodes are written through a mktemp name, never a predictable one. Each command
// is run by a real /bin/sh with the programs replaced by a function that prints its arguments.

#include "cluster/dovecot/dovecotcontrol.h"
#include "cluster/workflows/preparenodeworkflow.h"

#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>
#include <unistd.h>

using namespace mm::cluster;

namespace {

// Runs `command` with runuser defined as "print my arguments, NUL-separated" in `cwd`.
QStringList argumentsSeenBy(const QString &command, const QString &cwd)
{
    QProcess shell;
    shell.setWorkingDirectory(cwd);
    shell.start(QStringLiteral("/bin/sh"),
                {QStringLiteral("-c"), QStringLiteral("runuser() { printf '%s\\0' \"$@\" > args; }; ") + command + u'\n' +
                                           QStringLiteral("wait")});
    if (!shell.waitForFinished(5000) || shell.exitCode() != 0)
        return {QStringLiteral("shell failed: ") + QString::fromUtf8(shell.readAllStandardError())};
    QFile file(cwd + QStringLiteral("/args"));
    if (!file.open(QIODevice::ReadOnly))
        return {QStringLiteral("no arguments recorded")};
    QByteArray bytes = file.readAll();
    bytes.chop(1);
    QStringList words;
    for (const QByteArray &word : bytes.split('\0'))
        words << QString::fromUtf8(word);
    return words;
}

struct ShellRun
{
    int exitCode = -1;
    QStringList lines;
    QByteArray standardError;
};

ShellRun runArgv(const QStringList &argv)
{
    QProcess process;
    process.start(argv.first(), argv.mid(1));
    ShellRun run;
    if (!process.waitForFinished(10000))
        return run;
    run.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    run.lines = QString::fromUtf8(process.readAllStandardOutput()).split(u'\n', Qt::SkipEmptyParts);
    run.standardError = process.readAllStandardError();
    return run;
}

QByteArray readAll(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray("(unreadable)");
}

bool writeAll(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

QString sha256(const QByteArray &bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

// The change watcher's files with their fixed paths moved below `root`.
PrepareNodeWorkflow::ChangeWatcherFiles filesBelow(const QString &root, const QString &user, const QString &home)
{
    PrepareNodeWorkflow::ChangeWatcherFiles files = PrepareNodeWorkflow::changeWatcherFiles(user, home);
    files.binary.prepend(root);
    files.unit.prepend(root);
    files.dropIn.prepend(root);
    return files;
}

// Names in `dir` that the script's temporary files would have.
QStringList leftovers(const QString &dir)
{
    return QDir(dir).entryList({QStringLiteral(".mailmesh*")}, QDir::Files | QDir::Hidden | QDir::System);
}

} // namespace

class TestPrepareNodeWorkflow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void manualActionsQuoteEveryValue()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString user = QStringLiteral("vmail; touch PWNED-user");
        const QString home = dir.filePath(QStringLiteral("st home $(touch PWNED-home) `id`"));
        QVERIFY(QDir().mkpath(home));
        const QString port = QStringLiteral("8384; touch PWNED-port\nid");

        QCOMPARE(argumentsSeenBy(PrepareNodeWorkflow::startSyncthingCommand(user, home), dir.path()),
                 (QStringList{QStringLiteral("-u"), user, QStringLiteral("--"), QStringLiteral("syncthing"),
                              QStringLiteral("serve"), QStringLiteral("--no-browser"), QStringLiteral("--no-restart"),
                              QStringLiteral("--home=") + home}));
        QVERIFY(QFile::exists(home + QStringLiteral("/syncthing.log"))); // the redirection, quoted too
        QCOMPARE(argumentsSeenBy(PrepareNodeWorkflow::generateSyncthingConfigCommand(user, home), dir.path()),
                 (QStringList{QStringLiteral("-u"), user, QStringLiteral("--"), QStringLiteral("syncthing"),
                              QStringLiteral("generate"), QStringLiteral("--home=") + home,
                              QStringLiteral("--no-default-folder")}));
        QCOMPARE(argumentsSeenBy(PrepareNodeWorkflow::bindGuiToLoopbackCommand(user, home, port), dir.path()).last(),
                 QStringLiteral("127.0.0.1:") + port);
        const QStringList pwned = QDir(dir.path()).entryList({QStringLiteral("PWNED*")});
        QVERIFY2(pwned.isEmpty(), qPrintable(pwned.join(u' ')));
    }

    // The old script wrote "$1.mailmesh-tmp": a symlink planted under that name would have made
    // it write elsewhere. Now the name comes from mktemp, and nothing is left behind.
    void filesAreWrittenThroughAMktempName()
    {
        QTemporaryDir dir;
        const QString target = dir.filePath(QStringLiteral("99-mailmesh.conf"));
        const QString outside = dir.filePath(QStringLiteral("outside"));
        QVERIFY(QFile::link(outside, target + QStringLiteral(".mailmesh-tmp")));
        const QStringList argv = dovecotcontrol::writeFileAtomically(target);
        QProcess shell;
        shell.start(argv.first(), argv.mid(1));
        QVERIFY(shell.waitForStarted());
        shell.write("maildir_cur_only = yes\n");
        shell.closeWriteChannel();
        QVERIFY(shell.waitForFinished(5000));
        QCOMPARE(shell.exitCode(), 0);
        QFile written(target);
        QVERIFY(written.open(QIODevice::ReadOnly));
        QCOMPARE(written.readAll(), QByteArray("maildir_cur_only = yes\n"));
        QCOMPARE(written.permissions() & (QFile::ReadOther | QFile::WriteOther | QFile::WriteGroup),
                 QFile::ReadOther);
        QVERIFY(!QFile::exists(outside));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::System).size(), 2); // target + the planted link
    }

    // The unit is one template for every node: the per-node value, the Syncthing home, is in
    // the instance's drop-in, and reaches ExecStart= as one word whatever it holds.
    void changeWatcherUnitAndDropIn()
    {
        const auto files = PrepareNodeWorkflow::changeWatcherFiles(QStringLiteral("vmail"),
                                                                   QStringLiteral("/var/vmail/.config/syncthing"));
        QCOMPARE(files.binary, QStringLiteral("/usr/local/lib/mailmesh/mailmesh-agent"));
        QCOMPARE(files.unit, QStringLiteral("/etc/systemd/system/mailmesh-watch-changes@.service"));
        QCOMPARE(files.dropIn,
                 QStringLiteral("/etc/systemd/system/mailmesh-watch-changes@vmail.service.d/10-syncthing-home.conf"));
        QCOMPARE(PrepareNodeWorkflow::changeWatcherUnit(QStringLiteral("vmail")),
                 QStringLiteral("mailmesh-watch-changes@vmail.service"));
        for (const char *line : {"\n[Service]\nUser=%i\n",
                                 "\nExecStart=/usr/local/lib/mailmesh/mailmesh-agent watch-changes "
                                 "--syncthing-home=${MAILMESH_SYNCTHING_HOME}\n",
                                 "\nAfter=syncthing@%i.service\n", "\nPartOf=syncthing@%i.service\n",
                                 "\nRestart=always\n", "\nRestartSec=5\n", "\nWantedBy=multi-user.target\n"})
            QVERIFY2(files.unitText.contains(QLatin1String(line)), line);
        QVERIFY(files.dropInText.endsWith(
            QLatin1String("\n[Service]\nEnvironment=\"MAILMESH_SYNCTHING_HOME=/var/vmail/.config/syncthing\"\n")));
        // Specifiers doubled, quotes and backslashes escaped, control characters as \xNN.
        QVERIFY(PrepareNodeWorkflow::changeWatcherDropInText(QStringLiteral("/st 100%/\"a\"\\b\nc"))
                    .endsWith(QLatin1String("Environment=\"MAILMESH_SYNCTHING_HOME=/st 100%%/\\\"a\\\"\\\\b\\x0ac\"\n")));
    }

    // check reports what differs and changes nothing; apply puts each file in place through a
    // temporary name, once: run again, it finds nothing to do; a new agent replaces the binary only.
    void changeWatcherFilesArePutInPlaceOnce()
    {
        if (::geteuid() != 0)
            QSKIP("the binary must end up root's: run as root");
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString home = QStringLiteral("/srv/st home $(touch PWNED) 'x'");
        const auto files = filesBelow(dir.path(), QStringLiteral("vmail"), home);
        const QString source = dir.filePath(QStringLiteral("agent-v1"));
        QVERIFY(writeAll(source, "agent v1\n"));
        const QString hash = sha256("agent v1\n");
        const auto run = [&](const QString &mode, const QString &from, const QString &sha) {
            return runArgv(PrepareNodeWorkflow::changeWatcherFilesCommand(mode, from, sha, files));
        };
        const QStringList all{QStringLiteral("binary"), QStringLiteral("unit"), QStringLiteral("drop-in")};

        ShellRun checked = run(QStringLiteral("check"), source, hash);
        QCOMPARE(checked.exitCode, 0);
        QCOMPARE(checked.lines, all);
        QVERIFY(!QFileInfo::exists(files.binary) && !QFileInfo::exists(files.unit) && !QFileInfo::exists(files.dropIn));

        ShellRun applied = run(QStringLiteral("apply"), source, hash);
        QVERIFY2(applied.exitCode == 0, applied.standardError.constData());
        QCOMPARE(applied.lines, all);
        QCOMPARE(readAll(files.binary), QByteArray("agent v1\n"));
        QCOMPARE(readAll(files.unit), files.unitText.toUtf8());
        QCOMPARE(readAll(files.dropIn), files.dropInText.toUtf8());
        struct stat info{};
        QCOMPARE(::stat(files.binary.toLocal8Bit().constData(), &info), 0);
        QCOMPARE(info.st_mode & 07777, mode_t(0755));
        QCOMPARE(info.st_uid, uid_t(0));
        QCOMPARE(::stat(files.dropIn.toLocal8Bit().constData(), &info), 0);
        QCOMPARE(info.st_mode & 07777, mode_t(0644));

        QCOMPARE(run(QStringLiteral("check"), source, hash).lines, QStringList());
        applied = run(QStringLiteral("apply"), source, hash);
        QCOMPARE(applied.exitCode, 0);
        QCOMPARE(applied.lines, QStringList());

        // A new agent: only the binary differs, and is replaced by a rename (the old inode, which
        // a running watcher may hold, stays as it was).
        const QString newer = dir.filePath(QStringLiteral("agent-v2"));
        QVERIFY(writeAll(newer, "agent v2\n"));
        QFile old(files.binary);
        QVERIFY(old.open(QIODevice::ReadOnly));
        applied = run(QStringLiteral("apply"), newer, sha256("agent v2\n"));
        QVERIFY2(applied.exitCode == 0, applied.standardError.constData());
        QCOMPARE(applied.lines, QStringList{QStringLiteral("binary")});
        QCOMPARE(readAll(files.binary), QByteArray("agent v2\n"));
        QCOMPARE(old.readAll(), QByteArray("agent v1\n"));

        // A source that is not the agent it claims to be (the mail user swapped it) is refused.
        QVERIFY(writeAll(newer, "something else\n"));
        applied = run(QStringLiteral("apply"), newer, sha256("agent v3\n"));
        QCOMPARE(applied.exitCode, 3);
        QVERIFY2(applied.standardError.contains("is not the agent"), applied.standardError.constData());
        QCOMPARE(readAll(files.binary), QByteArray("agent v2\n"));

        // Another home: only the drop-in; a binary someone chmod'ed: only the binary.
        auto moved = filesBelow(dir.path(), QStringLiteral("vmail"), QStringLiteral("/srv/elsewhere"));
        QCOMPARE(runArgv(PrepareNodeWorkflow::changeWatcherFilesCommand(QStringLiteral("check"), newer,
                                                                         sha256("agent v2\n"), moved))
                     .lines,
                 QStringList{QStringLiteral("drop-in")});
        QVERIFY(QFile::setPermissions(files.binary, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner
                                                        | QFile::WriteGroup | QFile::ReadGroup | QFile::ExeGroup));
        QCOMPARE(run(QStringLiteral("check"), newer, sha256("agent v2\n")).lines, QStringList{QStringLiteral("binary")});

        for (const QString &path : {files.binary, files.unit, files.dropIn})
            QVERIFY2(leftovers(QFileInfo(path).path()).isEmpty(), qPrintable(leftovers(QFileInfo(path).path()).join(u' ')));
        QVERIFY(QDir(dir.path()).entryList({QStringLiteral("PWNED*")}).isEmpty());
        QVERIFY(QDir::current().entryList({QStringLiteral("PWNED*")}).isEmpty());
    }

    void changeWatcherServiceCommands_data()
    {
        QTest::addColumn<bool>("unitFilesChanged");
        QTest::addColumn<bool>("binaryChanged");
        QTest::addColumn<bool>("enabled");
        QTest::addColumn<bool>("active");
        QTest::addColumn<QString>("commands");
        QTest::newRow("all in place") << false << false << true << true << QString();
        QTest::newRow("first install") << true << true << false << false
                                       << QStringLiteral("daemon-reload; enable U; restart U");
        QTest::newRow("new agent") << false << true << true << true << QStringLiteral("restart U");
        QTest::newRow("new home") << true << false << true << true
                                  << QStringLiteral("daemon-reload; enable U; restart U");
        QTest::newRow("stopped by hand") << false << false << true << false << QStringLiteral("start U");
        QTest::newRow("disabled by hand") << false << false << false << true << QStringLiteral("enable U");
    }

    void changeWatcherServiceCommands()
    {
        QFETCH(bool, unitFilesChanged);
        QFETCH(bool, binaryChanged);
        QFETCH(bool, enabled);
        QFETCH(bool, active);
        QFETCH(QString, commands);
        QStringList seen;
        for (const QStringList &command : PrepareNodeWorkflow::changeWatcherServiceCommands(
                 QStringLiteral("U"), unitFilesChanged, binaryChanged, enabled, active)) {
            QCOMPARE(command.first(), QStringLiteral("systemctl"));
            seen << command.mid(1).join(u' ');
        }
        QCOMPARE(seen.join(QStringLiteral("; ")), commands);
    }

    // What the admin pastes when prepare may not act (no root): run by a real shell, with the
    // files' paths moved into a temporary directory and systemctl recorded, it leaves the same
    // files as prepare would, whatever the user, home and cache path hold.
    void changeWatcherManualCommandsQuoteEveryValue()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString user = QStringLiteral("vmail; touch PWNED-user");
        const QString home = dir.filePath(QStringLiteral("st home $(touch PWNED-home) `id` 'q'"));
        const QString source = dir.filePath(QStringLiteral("cache $(touch PWNED-source)/agent-abc"));
        QVERIFY(QDir().mkpath(QFileInfo(source).path()));
        QVERIFY(writeAll(source, "the agent\n"));
        const QString root = dir.filePath(QStringLiteral("root"));
        const auto files = filesBelow(root, user, home);
        QString script = QStringLiteral("set -e; systemctl() { printf '%s\\n' \"$*\" >> systemctl.log; }\n");
        for (const QString &command : PrepareNodeWorkflow::changeWatcherManualCommands(source, user, files))
            script += command + u'\n';
        QVERIFY(QDir().mkpath(root + QStringLiteral("/etc/systemd/system")));
        QProcess shell;
        shell.setWorkingDirectory(dir.path());
        shell.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), script});
        QVERIFY(shell.waitForFinished(10000));
        QVERIFY2(shell.exitCode() == 0, shell.readAllStandardError().constData());
        QCOMPARE(readAll(files.binary), QByteArray("the agent\n"));
        QVERIFY(QFileInfo(files.binary).isExecutable());
        QVERIFY(!QFileInfo::exists(files.binary + QStringLiteral(".new")));
        QCOMPARE(readAll(files.unit), PrepareNodeWorkflow::changeWatcherUnitText().toUtf8());
        QCOMPARE(readAll(files.dropIn), PrepareNodeWorkflow::changeWatcherDropInText(home).toUtf8());
        const QString unit = PrepareNodeWorkflow::changeWatcherUnit(user);
        QCOMPARE(QString::fromUtf8(readAll(dir.filePath(QStringLiteral("systemctl.log")))),
                 QStringLiteral("daemon-reload\nenable %1\nrestart %1\n").arg(unit));
        QVERIFY(QDir().mkpath(home));
        QCOMPARE(argumentsSeenBy(PrepareNodeWorkflow::startChangeWatcherCommand(user, home), dir.path()),
                 (QStringList{QStringLiteral("-u"), user, QStringLiteral("--"),
                              QStringLiteral("/usr/local/lib/mailmesh/mailmesh-agent"), QStringLiteral("watch-changes"),
                              QStringLiteral("--syncthing-home=") + home}));
        QVERIFY(QFile::exists(home + QStringLiteral("/watch-changes.log"))); // the redirection, quoted too
        QStringList pwned;
        QDirIterator it(dir.path(), {QStringLiteral("PWNED*")}, QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext())
            pwned << it.next();
        QVERIFY2(pwned.isEmpty(), qPrintable(pwned.join(u' ')));
    }
};

QTEST_GUILESS_MAIN(TestPrepareNodeWorkflow)
#include "tst_preparenodeworkflow.moc"
