// The journal: run ids, archiving of finished runs (a node with years of runs does not load them),
// and durability, watched with strace on the real agent: no rename happens while a journal write
// is not yet fdatasync()ed, and the directories are synced after the last rename, before "end".

#include "mailtreefixture.h"

#include "maildir/convert.h"
#include "maildir/dedupe.h"
#include "maildir/journal.h"
#include "maildir/quarantineadmin.h"
#include "maildir/restore.h"
#include "maildir/statedir.h"

#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <dirent.h>

using namespace mm::maildir;
using namespace mailtree;

namespace {

const QString kAgent = QStringLiteral(MAILMESH_BUILD_DIR "/app/mailmesh-agent/mailmesh-agent");

std::size_t countFiles(const std::string &dir, const char *suffix)
{
    std::size_t count = 0;
    DIR *d = ::opendir(dir.c_str());
    while (dirent *e = d ? ::readdir(d) : nullptr)
        count += std::string(e->d_name).ends_with(suffix);
    if (d)
        ::closedir(d);
    return count;
}

// A tree with work for every changing command: classic folders with mail in new/, a dotfile and
// an identical copy in new/ (quarantined by convert), flag-divergent names in cur/ (dedupe).
void makeTree(const std::string &root, int folders)
{
    for (int f = 0; f < folders; ++f) {
        const std::string folder = root + "/m" + (f == 0 ? std::string() : "/.F" + std::to_string(f));
        makeFolder(folder);
        if (f > 0)
            writeFile(folder + "/maildirfolder", "");
        for (int i = 0; i < 5; ++i)
            writeFile(folder + "/new/" + std::to_string(1700000000 + i) + ".M" + std::to_string(i) + "P1.h",
                      "Message-ID: <" + std::to_string(f) + "." + std::to_string(i) + "@x>\n\nbody\n");
        writeFile(folder + "/new/.dot", "dot");
        writeFile(folder + "/cur/17.M9P1.h:2,S", "Message-ID: <d" + std::to_string(f) + "@x>\n\nd\n");
        writeFile(folder + "/cur/17.M9P1.h:2,F", "Message-ID: <d" + std::to_string(f) + "@x>\n\nd\n");
        writeFile(folder + "/new/1700000000.M0P1.h:2,S",
                  "Message-ID: <" + std::to_string(f) + ".0@x>\n\nbody\n"); // BASE collision, same bytes
    }
}

struct Trace
{
    QString error;     // empty: the invariants held
    int renames = 0;   // successful renameat2 calls
    int dataSyncs = 0; // fdatasync of a journal
    int dirSyncs = 0;  // fsync/syncfs after the last rename
};

// Runs the agent under strace and checks the order of journal writes, syncs and renames.
Trace traced(const QStringList &arguments, const QString &workDir)
{
    Trace trace;
    const QString log = workDir + QStringLiteral("/strace.log");
    QProcess strace;
    strace.start(QStringLiteral("strace"), QStringList{QStringLiteral("-f"), QStringLiteral("-qq"), QStringLiteral("-y"),
                                                       QStringLiteral("-e"),
                                                       QStringLiteral("trace=write,fdatasync,fsync,syncfs,renameat2"),
                                                       QStringLiteral("-o"), log, kAgent} +
                                               arguments);
    if (!strace.waitForFinished(120000) || strace.exitCode() > 1) {
        trace.error = QStringLiteral("the agent failed: ") + QString::fromUtf8(strace.readAllStandardError().right(800));
        return trace;
    }
    QFile file(log);
    if (!file.open(QIODevice::ReadOnly)) {
        trace.error = QStringLiteral("no strace log");
        return trace;
    }
    bool journalDirty = false;
    int lastRename = -1, lastDirSync = -1, lastJournalWrite = -1, line = 0;
    for (const QByteArray &raw : file.readAll().split('\n')) {
        ++line;
        const bool ok = raw.endsWith(" = 0") || raw.contains(") = ");
        const bool journal = raw.contains(".jsonl>");
        if (raw.contains(" write(") && journal) {
            journalDirty = true;
            lastJournalWrite = line;
        } else if (raw.contains(" fdatasync(") && journal && raw.endsWith(" = 0")) {
            journalDirty = false;
            ++trace.dataSyncs;
        } else if (raw.contains(" renameat2(") && raw.endsWith(" = 0")) {
            if (journalDirty && !raw.contains("/journal>")) // archiving a journal file is no mail
                trace.error = QStringLiteral("line %1: a rename while the journal had unsynced writes: %2")
                                  .arg(line)
                                  .arg(QString::fromUtf8(raw));
            if (!raw.contains("/journal>"))
                lastRename = line;
            ++trace.renames;
        } else if ((raw.contains(" fsync(") || raw.contains(" syncfs(")) && ok) {
            lastDirSync = line;
        }
        if (!trace.error.isEmpty())
            return trace;
    }
    if (trace.renames == 0)
        trace.error = QStringLiteral("no rename at all");
    else if (lastDirSync < lastRename)
        trace.error = QStringLiteral("no directory sync after the last rename (line %1)").arg(lastRename);
    else if (lastJournalWrite < lastDirSync)
        trace.error = QStringLiteral("the journal ended before the directories were synced");
    return trace;
}

} // namespace

class TestJournal : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;

private Q_SLOTS:
    // Journal lines escape exactly what JSON needs, wherever it falls in a run of plain bytes.
    void jsonStringsEscapeOnlyWhatTheyMust()
    {
        std::string out;
        appendJsonString(out, "a\"b\\c");
        QCOMPARE(QByteArray::fromStdString(out), QByteArray("\"a\\\"b\\\\c\""));
        out.clear();
        appendJsonString(out, std::string("\x01x\x1fy\x7f", 5));
        QCOMPARE(QByteArray::fromStdString(out), QByteArray("\"\\u0001x\\u001fy\\u007f\""));
        out.clear();
        appendJsonString(out, "");
        QCOMPARE(QByteArray::fromStdString(out), QByteArray("\"\""));
        for (int value = 1; value < 128; ++value)
            for (const std::string &text : {std::string(1, char(value)), "cur/" + std::string(1, char(value)),
                                            "cur/" + std::string(1, char(value)) + "1700000000.M1P2.host:2,S"}) {
                std::string line;
                JsonLineWriter(line).string("name", text).finish();
                QCOMPARE(nlohmann::json::parse(line).at("name").get<std::string>(), text);
            }
    }

    void knowsRunIds_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("isRunId");
        QTest::newRow("one") << "20261128T170715.812628Z-26683" << true;
        QTest::newRow("short pid") << "20261128T170715.812628Z-1" << true;
        QTest::newRow("no pid") << "20261128T170715.812628Z-" << false;
        QTest::newRow("path") << "../20261128T170715.812628Z-1" << false;
        QTest::newRow("slash") << "20261128T170715.812628Z-1/x" << false;
        QTest::newRow("letters") << "2026112xT170715.812628Z-1" << false;
        QTest::newRow("empty") << "" << false;
    }
    void knowsRunIds()
    {
        QFETCH(QString, text);
        QFETCH(bool, isRunId);
        QCOMPARE(Journal::isRunId(text.toStdString()), isRunId);
    }

    // Finished runs that hold nothing to restore leave journal/ for journal/archive/, which no
    // command reads; a run whose quarantined files are still there stays until they are gone.
    void finishedRunsAreArchived()
    {
        const std::string base = m_tmp.path().toStdString() + "/archive";
        const std::string root = base + "/vmail", state = base + "/state";
        makeTree(root, 3);
        auto mailRoot = MailRoot::open(root);
        ConvertOptions convert;
        convert.stateDir = state;
        QVERIFY(Convert::run(*mailRoot, convert)); // quarantines the dotfiles and identical copies
        DedupeOptions dedupe;
        dedupe.stateDir = state;
        QVERIFY(Dedupe::run(*mailRoot, dedupe)); // quarantines too
        QCOMPARE(countFiles(state + "/journal", ".jsonl"), std::size_t(2));

        // Everything purged: both runs hold nothing any more; the next changing run archives them.
        QVERIFY(QuarantineAdmin::purge(*mailRoot, 0, false, state, std::time(nullptr) + 86400));
        QVERIFY(Convert::run(*mailRoot, convert)); // nothing to do: no journal of its own
        QCOMPARE(countFiles(state + "/journal", ".jsonl"), std::size_t(0));
        QCOMPARE(countFiles(state + "/journal/archive", ".jsonl"), std::size_t(3)); // + the purge
        auto stateDir = StateDir::resolve(*mailRoot, state);
        QVERIFY(stateDir && stateDir->open());
        QCOMPARE(Journal::readAll(*stateDir)->size(), std::size_t(0));

        // A run with quarantined files stays readable (restore needs it).
        makeTree(root + "2", 1);
        auto second = MailRoot::open(root + "2");
        ConvertOptions secondConvert;
        secondConvert.stateDir = state + "2";
        QVERIFY(Convert::run(*second, secondConvert));
        DedupeOptions secondDedupe;
        secondDedupe.stateDir = state + "2";
        QVERIFY(Dedupe::run(*second, secondDedupe));
        QCOMPARE(countFiles(state + "2/journal", ".jsonl"), std::size_t(2));
        RestoreOptions all;
        all.all = true;
        all.stateDir = state + "2";
        auto restored = Restore::run(*second, all);
        QVERIFY2(restored && restored->problems.empty(), restored ? nlohmann::json(restored->problems).dump().c_str() : "");
    }

    // A dedupe killed after renaming a keeper and before quarantining anything leaves a run with
    // a rename and no quarantined file: it stays until restore has undone the rename.
    void aRunWithARenameToUndoIsNotArchived()
    {
        const std::string base = m_tmp.path().toStdString() + "/rename-kept";
        const std::string root = base + "/vmail", state = base + "/state";
        makeTree(root, 1);
        auto mailRoot = MailRoot::open(root);
        QVERIFY(mailRoot);
        auto stateDir = StateDir::resolve(*mailRoot, state);
        QVERIFY(stateDir && stateDir->create() && stateDir->open());
        QVERIFY(::rename((root + "/m/cur/17.M9P1.h:2,S").c_str(), (root + "/m/cur/17.M9P1.h:2,FS").c_str()) == 0);
        {
            auto run = Journal::begin(*stateDir, "dedupe", root);
            QVERIFY(run);
            run->add({{"type", "move"}, {"seq", run->nextSeq()}, {"from", "m/cur/17.M9P1.h:2,S"},
                      {"to", "m/cur/17.M9P1.h:2,FS"}, {"reason", "dedupe:flag-divergence"}});
            QVERIFY(run->end("recovered"));
        }
        auto runs = Journal::readAll(*stateDir);
        QVERIFY(runs);
        QCOMPARE(*Journal::archiveSettled(*stateDir, *runs), std::size_t(0));

        RestoreOptions all;
        all.all = true;
        all.stateDir = state;
        auto restored = Restore::run(*mailRoot, all);
        QVERIFY2(restored && restored->problems.empty(), restored ? nlohmann::json(restored->problems).dump().c_str() : "");
        QVERIFY(QFile::exists(QString::fromStdString(root + "/m/cur/17.M9P1.h:2,S")));
        runs = Journal::readAll(*stateDir);
        QVERIFY(runs);
        QCOMPARE(*Journal::archiveSettled(*stateDir, *runs), std::size_t(2)); // the dedupe and the restore
    }

    void renamesWaitForTheirIntentsOnDisk_data()
    {
        QTest::addColumn<int>("folders");
        QTest::newRow("a few folders (directories fsynced)") << 2;
        QTest::newRow("many folders (one syncfs)") << 40;
    }
    void renamesWaitForTheirIntentsOnDisk()
    {
        QFETCH(int, folders);
        if (QStandardPaths::findExecutable(QStringLiteral("strace")).isEmpty())
            QSKIP("strace is needed to watch the system calls (installers/bootstrap.sh deps installs it)");
        QVERIFY2(QFile::exists(kAgent), "build the mailmesh-agent target first");
        const QString base = m_tmp.path() + QStringLiteral("/durable-%1").arg(folders);
        const QString root = base + QStringLiteral("/vmail"), state = base + QStringLiteral("/state");
        makeTree(root.toStdString(), folders);

        for (const QStringList &command : {QStringList{QStringLiteral("convert"), root},
                                           QStringList{QStringLiteral("dedupe"), root},
                                           QStringList{QStringLiteral("restore"), root, QStringLiteral("--all")}}) {
            const Trace trace = traced(command + QStringList{QStringLiteral("--state"), state, QStringLiteral("--json")}, base);
            QVERIFY2(trace.error.isEmpty(), qPrintable(command.first() + QStringLiteral(": ") + trace.error));
            QVERIFY(trace.dataSyncs > 0);
        }
    }
};

QTEST_GUILESS_MAIN(TestJournal)
#include "tst_journal.moc"
