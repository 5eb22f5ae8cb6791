// kill -9 during convert, at many random points, then convert again: every message must be
// present exactly once, and the result must equal an undisturbed run's (same names, same bytes,
// same quarantine contents). Runs the real mailmesh-agent binary as a child process.

#include "../unit/mailtreefixture.h"

#include <signal.h>
#include <sys/wait.h>

#include <QtTest>

#include <chrono>
#include <map>
#include <random>
#include <thread>

using namespace mailtree;

namespace {

const std::string kAgent = MAILMESH_BUILD_DIR "/app/mailmesh-agent/mailmesh-agent";

// A deterministic messy tree: three users, Maildir++ and fs folders, collisions of both kinds,
// dotfiles in new/, a folder without tmp/.
void buildTree(const std::string &root)
{
    std::mt19937 rng(42);
    int serial = 0;
    auto body = [&](int n) {
        return "Message-ID: <" + std::to_string(n) + "@test>\n\nbody " + std::to_string(n) + "\n";
    };
    const std::vector<std::string> folders = {
        "dom/u1", "dom/u1/.Sent",         "dom/u1/.Archive.2024",
        "dom/u2", "dom/u2/Work/Projects", "other/u3"};
    for (const std::string &folder : folders) {
        const std::string path = root + "/" + folder;
        makeFolder(path, folder != "dom/u2/Work/Projects");
        if (folder.find("/.") != std::string::npos)
            writeFile(path + "/maildirfolder", "");
        const int inNew = 150 + int(rng() % 150);
        for (int i = 0; i < inNew; ++i) {
            const int n = ++serial;
            const std::string name =
                std::to_string(1700000000 + n) + ".M" + std::to_string(n) + "P1.host";
            writeFile(path + "/new/" + name + ((n % 7 == 0) ? ":2,S" : ""), body(n));
        }
        for (int i = 0; i < 50; ++i) {
            const int n = ++serial;
            writeFile(path + "/cur/" + std::to_string(1600000000 + n) + ".M" + std::to_string(n) +
                          "P1.host:2,S",
                      body(n));
        }
        for (int i = 0; i < 5; ++i) {
            // identical copy of a cur/ message: quarantined
            const int n = ++serial;
            const std::string base =
                std::to_string(1500000000 + n) + ".M" + std::to_string(n) + "P1.host";
            writeFile(path + "/cur/" + base + ":2,RS", body(n));
            writeFile(path + "/new/" + base, body(n));
            // different bytes under a BASE already in cur/: renamed deterministically
            const int m = ++serial;
            const std::string base2 =
                std::to_string(1400000000 + m) + ".M" + std::to_string(m) + "P1.host";
            writeFile(path + "/cur/" + base2 + ":2,S", body(m));
            writeFile(path + "/new/" + base2, body(m) + "changed\n");
        }
        writeFile(path + "/new/.dotfile" + std::to_string(serial), "dot " + std::to_string(serial));
    }
}

// Content hash -> count, over the given subdirectories of every folder (and the quarantine).
using Multiset = std::map<std::string, int>;

void collect(const std::string &dir, Multiset &out)
{
    for (const Entry &e : listing(dir))
        if (e.type == 'f')
            ++out[sha(readFile(dir + "/" + e.path))];
}

// Everything a message can be in: cur/, a real new/, a swap leftover, the quarantine.
Multiset allContents(const std::string &base)
{
    Multiset out;
    for (const Entry &e : listing(base + "/vmail")) {
        if (e.type != 'd')
            continue;
        const std::string leaf = e.path.substr(e.path.rfind('/') + 1);
        if (leaf == "cur" || leaf == "new" || leaf == "new.mailmesh-swap") {
            for (const Entry &m : listing(base + "/vmail/" + e.path))
                if (m.type == 'f')
                    ++out[sha(readFile(base + "/vmail/" + e.path + "/" + m.path))];
        }
    }
    collect(base + "/.mailmesh-state/vmail/quarantine", out);
    return out;
}

// The converted tree as names + content hashes (mtimes and journal names differ between runs).
std::vector<std::string> describe(const std::string &base)
{
    std::vector<std::string> out;
    for (const Entry &e : listing(base + "/vmail")) {
        std::string line = std::string(1, e.type) + " " + e.path;
        if (e.type == 'f')
            line += " " + sha(readFile(base + "/vmail/" + e.path));
        if (e.type == 'l')
            line += " -> " + e.target;
        out.push_back(line);
    }
    Multiset quarantine;
    collect(base + "/.mailmesh-state/vmail/quarantine", quarantine);
    for (const auto &[hash, count] : quarantine)
        out.push_back("q " + hash + " x" + std::to_string(count));
    return out;
}

pid_t startConvert(const std::string &root)
{
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
        ::execl(kAgent.c_str(), kAgent.c_str(), "convert", root.c_str(), "--json", nullptr);
        ::_exit(127);
    }
    return pid;
}

int waitExit(pid_t pid)
{
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

} // namespace

class TestConvertCrash : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void killedAtRandomPointsThenRerun();
};

void TestConvertCrash::killedAtRandomPointsThenRerun()
{
    QVERIFY2(exists(kAgent), "build the mailmesh-agent target first");
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string top = tmp.path().toStdString();

    const std::string reference = top + "/reference";
    buildTree(reference + "/vmail");
    const Multiset original = allContents(reference);
    const auto started = std::chrono::steady_clock::now();
    QCOMPARE(waitExit(startConvert(reference + "/vmail")), 0);
    const auto undisturbed = std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::steady_clock::now() - started)
                                 .count();
    const std::vector<std::string> expected = describe(reference);
    QCOMPARE(allContents(reference), original);
    int links = 0;
    for (const auto &line : expected)
        links += line.find(" -> cur") != std::string::npos;
    QCOMPARE(links, 6); // every folder cur-only

    // Kill points spread over the whole run (and a little past it), several kills per tree.
    // The machine's load changes how long a run takes: a kill that came too late shrinks the
    // window, so the kills keep landing inside runs, and trees are added until enough did.
    std::mt19937 rng(20261128);
    const int iterations = qEnvironmentVariableIntValue("MAILMESH_CRASH_ITERATIONS") > 0
                               ? qEnvironmentVariableIntValue("MAILMESH_CRASH_ITERATIONS")
                               : 30;
    const int wantedMidway = iterations / 2;
    std::int64_t window = undisturbed;
    int killedMidway = 0;
    int it = 0;
    for (; it < iterations || (killedMidway < wantedMidway && it < iterations * 4); ++it) {
        const std::string work = top + "/work" + std::to_string(it);
        buildTree(work + "/vmail");
        const int kills = 1 + int(rng() % 3);
        for (int k = 0; k < kills; ++k) {
            const pid_t pid = startConvert(work + "/vmail");
            const auto delay =
                std::chrono::microseconds(rng() % std::uint64_t(window * 11 / 10 + 1));
            std::this_thread::sleep_for(delay);
            ::kill(pid, SIGKILL);
            const int code = waitExit(pid);
            if (code == 128 + SIGKILL)
                ++killedMidway;
            else
                window = std::max<std::int64_t>(window * 3 / 4, 1000);
            // At every kill point: each message is somewhere, exactly once.
            const Multiset now = allContents(work);
            if (now != original)
                QFAIL(qPrintable(
                    QStringLiteral("iteration %1 kill %2 after %3 us: messages lost or doubled")
                        .arg(it)
                        .arg(k)
                        .arg(qlonglong(delay.count()))));
        }
        const int code = waitExit(startConvert(work + "/vmail"));
        QVERIFY2(
            code == 0,
            qPrintable(QStringLiteral("rerun exit code %1 in iteration %2").arg(code).arg(it)));
        const std::vector<std::string> got = describe(work);
        if (got != expected) {
            for (std::size_t i = 0; i < std::max(got.size(), expected.size()); ++i) {
                const std::string a = i < got.size() ? got[i] : "<none>";
                const std::string b = i < expected.size() ? expected[i] : "<none>";
                if (a != b) {
                    qWarning("first difference: got '%s' expected '%s'", a.c_str(), b.c_str());
                    break;
                }
            }
            QFAIL(qPrintable(
                QStringLiteral("iteration %1: result differs from the undisturbed run").arg(it)));
        }
        // One more run changes nothing.
        QCOMPARE(waitExit(startConvert(work + "/vmail")), 0);
        QVERIFY(describe(work) == expected);
        QDir(QString::fromStdString(work)).removeRecursively();
    }
    qInfo("undisturbed run %lld us; %d trees; %d of the kills landed while convert was running",
          qlonglong(undisturbed), it, killedMidway);
    QVERIFY2(killedMidway >= wantedMidway, "too few kills landed while convert ran: the test proved little");
}

QTEST_GUILESS_MAIN(TestConvertCrash)
#include "tst_convertcrash.moc"
