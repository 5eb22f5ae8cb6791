// What prepare (and the Dovecot workflows) hand to a shell: the manual actions pasted for the
// admin keep every value one word, however hostile the cluster file or the node's config.xml,
// and files on nodes are written through a mktemp name, never a predictable one. Each command
// is run by a real /bin/sh with the programs replaced by a function that prints its arguments.

#include "cluster/dovecotcontrol.h"
#include "cluster/preparenodeworkflow.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

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
};

QTEST_GUILESS_MAIN(TestPrepareNodeWorkflow)
#include "tst_preparenodeworkflow.moc"
