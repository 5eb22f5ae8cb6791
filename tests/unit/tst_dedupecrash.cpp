// dedupe killed with SIGKILL at random points, then run again, loses nothing; restore --all then
// returns the original tree, byte for byte and name for name.
#include "maildir/dedupe.h"
#include "maildir/dupes.h"
#include "maildir/restore.h"
#include "maildir/sha256.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <csignal>
#include <map>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

using namespace mm::maildir;

namespace {

using Tree = std::map<QString, QByteArray>; // relative path -> bytes

void writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly), qPrintable(path));
    f.write(bytes);
}

// A folder full of every kind of duplicate, plus innocent messages.
void makeMaildir(const QString &md, int groups)
{
    for (const QString &f : {md, md + QStringLiteral("/.Archive")}) {
        QVERIFY(QDir().mkpath(f + QStringLiteral("/cur")));
        QVERIFY(QDir().mkpath(f + QStringLiteral("/tmp")));
        QVERIFY(QFile::link(QStringLiteral("cur"), f + QStringLiteral("/new")));
    }
    writeFile(md + QStringLiteral("/.Archive/maildirfolder"), {});
    for (int i = 0; i < groups; ++i) {
        const QString dir =
            (i % 3 == 0 ? md + QStringLiteral("/.Archive") : md) + QStringLiteral("/cur/");
        const QString base = QStringLiteral("17000%1.M%1P1.node").arg(i);
        const QByteArray msg = "Message-ID: <m" + QByteArray::number(i) +
                               "@x>\nSubject: s\n\nbody " + QByteArray::number(i) + "\n";
        switch (i % 4) {
        case 0: // flag divergence, three variants
            writeFile(dir + base + QStringLiteral(":2,S"), msg);
            writeFile(dir + base + QStringLiteral(":2,FT"), msg);
            writeFile(dir + base + QStringLiteral(":2,Ra"), msg);
            break;
        case 1: // sync conflict, identical
            writeFile(dir + base + QStringLiteral(":2,S"), msg);
            writeFile(
                dir + QStringLiteral("17000%1.M%1P1.sync-conflict-20240101-000000-ABCDEFG.node:2,S")
                          .arg(i),
                msg);
            break;
        case 2: // same message, other BASE, other headers
            writeFile(dir + base + QStringLiteral(":2,S"), "Received: a\n" + msg);
            writeFile(dir + QStringLiteral("18000%1.M%1P2.node:2,").arg(i), "Received: b\n" + msg);
            break;
        default: // not a duplicate
            writeFile(dir + base + QStringLiteral(":2,S"), msg);
            break;
        }
    }
}

Tree readTree(const QString &root);

// "missing: PATH" and "extra: PATH" lines, for a failure message that shows only what differs.
QString treeDifference(const Tree &actual, const Tree &expected)
{
    QStringList lines;
    for (const auto &[path, bytes] : expected)
        if (auto it = actual.find(path); it == actual.end())
            lines << QStringLiteral("missing: ") + QString(path);
        else if (it->second != bytes)
            lines << QStringLiteral("changed: ") + QString(path);
    for (const auto &entry : actual)
        if (!expected.count(entry.first))
            lines << QStringLiteral("extra: ") + QString(entry.first);
    return lines.join(u'\n');
}

Tree readTree(const QString &root)
{
    Tree t;
    QDirIterator it(root, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        if (QFileInfo(path).isSymLink())
            continue;
        QFile f(path);
        if (f.open(QIODevice::ReadOnly))
            t[QDir(root).relativeFilePath(path)] = f.readAll();
    }
    return t;
}

std::multiset<QByteArray> contents(const Tree &t)
{
    std::multiset<QByteArray> s;
    for (const auto &[k, v] : t)
        s.insert(v);
    return s;
}

// Runs dedupe in a child process, as the agent would, and kills it after `delayUs`.
int dedupeChild(const QString &md, const QString &state, int delayUs)
{
    const pid_t pid = ::fork();
    if (pid == 0) {
        auto root = MailRoot::open(md.toStdString());
        if (!root)
            ::_exit(10);
        DedupeOptions options;
        options.stateDir = state.toStdString();
        auto r = Dedupe::run(*root, options);
        ::_exit(r ? 0 : 11);
    }
    if (delayUs >= 0) {
        ::usleep(static_cast<useconds_t>(delayUs));
        ::kill(pid, SIGKILL);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
}

} // namespace

class TestDedupeCrash : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void killedAtRandomPoints();
};

void TestDedupeCrash::killedAtRandomPoints()
{
    const int rounds = qEnvironmentVariableIntValue("MAILMESH_CRASH_ROUNDS") > 0
                           ? qEnvironmentVariableIntValue("MAILMESH_CRASH_ROUNDS")
                           : 25;
    // MAILMESH_CRASH_SEED replays a failed run.
    const quint32 seed = qEnvironmentVariableIsSet("MAILMESH_CRASH_SEED")
                             ? quint32(qEnvironmentVariable("MAILMESH_CRASH_SEED").toUInt())
                             : QRandomGenerator::global()->generate();
    qInfo("seed %u, %d rounds", seed, rounds);
    QRandomGenerator rng(seed);

    // How long an undisturbed run takes, to spread the kills over it.
    QElapsedTimer timer;
    {
        QTemporaryDir tmp;
        const QString md = tmp.filePath(QStringLiteral("Maildir"));
        makeMaildir(md, 200);
        timer.start();
        QCOMPARE(dedupeChild(md, tmp.filePath(QStringLiteral("state")), -1), 0);
    }
    const int runUs = std::max<int>(1000, int(timer.nsecsElapsed() / 1000));
    int killedMidway = 0;

    for (int round = 0; round < rounds; ++round) {
        QTemporaryDir tmp;
        const QString md = tmp.filePath(QStringLiteral("Maildir"));
        const QString state = tmp.filePath(QStringLiteral("state"));
        makeMaildir(md, 200);
        const Tree original = readTree(md);

        const int kills = 1 + int(rng.bounded(3));
        for (int k = 0; k < kills; ++k) {
            // Later runs have less left to do: aim their kills earlier.
            const int status = dedupeChild(md, state, int(rng.bounded(runUs >> k)));
            if (WIFSIGNALED(status))
                ++killedMidway;
            // After every kill: every byte is still somewhere, in the tree or the quarantine.
            const Tree now = readTree(md);
            const Tree quarantined = readTree(state + QStringLiteral("/quarantine"));
            std::multiset<QByteArray> all = contents(now);
            for (const auto &c : contents(quarantined))
                all.insert(c);
            QCOMPARE(all, contents(original));
        }
        QCOMPARE(dedupeChild(md, state, -1), 0); // the rerun finishes the job

        auto root = MailRoot::open(md.toStdString());
        QVERIFY(root);
        auto left = DupeFinder::find(*root);
        QVERIFY(left);
        for (const auto &g : left->groups)
            QVERIFY2(!g.removable, g.keeper.c_str());
        const Tree deduped = readTree(md);
        const Tree quarantined = readTree(state + QStringLiteral("/quarantine"));
        QCOMPARE(deduped.size() + quarantined.size(), original.size());

        RestoreOptions all;
        all.all = true;
        all.stateDir = state.toStdString();
        auto restored = Restore::run(*root, all);
        QVERIFY2(restored, restored ? "" : restored.error().message.c_str());
        QVERIFY2(restored->problems.empty(), nlohmann::json(restored->problems).dump().c_str());
        const Tree back = readTree(md);
        QVERIFY2(back == original, qPrintable(treeDifference(back, original)));
        QVERIFY(readTree(state + QStringLiteral("/quarantine")).empty());
    }
    qInfo("%d of the kills landed while dedupe was running", killedMidway);
    // Only a sanity check that the kills did hit running processes (how many depends on load).
    QVERIFY2(killedMidway > 0, "no kill landed while dedupe was running");
}

QTEST_GUILESS_MAIN(TestDedupeCrash)
#include "tst_dedupecrash.moc"
