// Folder discovery and scan on real trees: both layouts, every state, hostile input.

#include "mailtreefixture.h"

#include "maildir/jsonpath.h"
#include "maildir/maildirwalker.h"
#include "maildir/scan.h"

#include <grp.h>
#include <sys/wait.h>

#include <QtTest>

using namespace mm::maildir;
using namespace mailtree;

namespace {

const FolderScan *findFolder(const ScanReport &report, const std::string &rel)
{
    for (const auto &f : report.folders)
        if (f.folder.relPath == rel)
            return &f;
    return nullptr;
}

bool hasProblem(const std::vector<Problem> &problems, ProblemKind kind, const std::string &path)
{
    for (const auto &p : problems)
        if (p.kind == kind && p.path == path)
            return true;
    return false;
}

} // namespace

class TestScan : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init();
    void layoutsAndStates();
    void hostileEntries();
    void sparseFileIsNotRead();
    void rootSymlinkRefused();
    void unreadableFolderAsUnprivilegedUser();
    void jsonShape();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::string m_root;
};

void TestScan::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    ::chmod(m_dir->path().toLocal8Bit().constData(), 0755);
    m_root = m_dir->path().toStdString() + "/vmail";
    mkdirs(m_root);
}

void TestScan::layoutsAndStates()
{
    // Maildir++ user with subfolders
    const std::string u1 = m_root + "/example.org/u1";
    makeFolder(u1);
    makeFolder(u1 + "/.Sent");
    writeFile(u1 + "/.Sent/maildirfolder", "");
    makeFolder(u1 + "/.Sent.2024");
    writeFile(u1 + "/.Sent.2024/maildirfolder", "");
    makeFolder(u1 + "/.NoMarker");
    mkdirs(u1 + "/.stversions/cur"); // Syncthing's: never a folder
    writeFile(u1 + "/cur/1.M1.h:2,S", "one");
    writeFile(u1 + "/new/2.M1.h", "two");
    writeFile(u1 + "/new/3.M1.h", "three");
    writeFile(u1 + "/tmp/4.M1.h", "tmp");
    writeFile(u1 + "/dovecot-uidlist", "3 V1 N1\n");
    writeFile(u1 + "/.Sent/cur/5.M1.h:2,S", "five");
    // LAYOUT=fs user, with a \NoSelect parent
    const std::string u2 = m_root + "/example.org/u2";
    makeFolder(u2);
    makeFolder(u2 + "/Archive/2024", false);
    writeFile(u2 + "/Archive/2024/new/6.M1.h", "six");
    // cur-only user
    const std::string u3 = m_root + "/example.net/u3";
    mkdirs(u3 + "/cur");
    mkdirs(u3 + "/tmp");
    QCOMPARE(::symlink("cur", (u3 + "/new").c_str()), 0);
    writeFile(u3 + "/cur/7.M1.h", "seven");
    // broken ones
    const std::string b1 = m_root + "/example.net/broken1";
    mkdirs(b1 + "/cur");
    QCOMPARE(::symlink("/etc", (b1 + "/new").c_str()), 0);
    const std::string b2 = m_root + "/example.net/broken2";
    mkdirs(b2 + "/new");

    auto root = MailRoot::open(m_root);
    QVERIFY(root);
    auto report = Scan::run(*root);
    QVERIFY2(report, report ? "" : report.error().message.c_str());

    std::vector<std::string> paths;
    for (const auto &f : report->folders)
        paths.push_back(f.folder.relPath);
    QCOMPARE(paths, (std::vector<std::string>{"example.net/broken1", "example.net/broken2",
                                              "example.net/u3", "example.org/u1",
                                              "example.org/u1/.NoMarker", "example.org/u1/.Sent",
                                              "example.org/u1/.Sent.2024", "example.org/u2",
                                              "example.org/u2/Archive/2024"}));
    QCOMPARE(report->totals.maildirs, 5u);

    const FolderScan *f = findFolder(*report, "example.org/u1");
    QVERIFY(f);
    QCOMPARE(f->folder.state, FolderState::Classic);
    QCOMPARE(f->folder.name, std::string("INBOX"));
    QCOMPARE(f->curMessages, 1u);
    QCOMPARE(f->newMessages, 2u);
    QCOMPARE(f->tmpFiles, 1u);
    f = findFolder(*report, "example.org/u1/.Sent.2024");
    QCOMPARE(f->folder.layout, FolderLayout::MaildirPlusPlus);
    QCOMPARE(f->folder.name, std::string("Sent.2024"));
    QCOMPARE(f->folder.maildirRelPath, std::string("example.org/u1"));
    QVERIFY(hasProblem(report->problems, ProblemKind::MissingMaildirfolder,
                       "example.org/u1/.NoMarker"));
    f = findFolder(*report, "example.org/u2/Archive/2024");
    QCOMPARE(f->folder.layout, FolderLayout::Fs);
    QCOMPARE(f->folder.name, std::string("Archive/2024"));
    QCOMPARE(f->newMessages, 1u);
    QVERIFY(hasProblem(report->problems, ProblemKind::MissingTmp, "example.org/u2/Archive/2024"));
    f = findFolder(*report, "example.net/u3");
    QCOMPARE(f->folder.state, FolderState::CurOnly);
    QCOMPARE(f->curMessages, 1u);
    QCOMPARE(f->newMessages, 0u); // new is cur: not counted twice
    QCOMPARE(findFolder(*report, "example.net/broken1")->folder.state, FolderState::Broken);
    QCOMPARE(findFolder(*report, "example.net/broken2")->folder.state, FolderState::Broken);
    QVERIFY(hasProblem(report->problems, ProblemKind::BrokenFolder, "example.net/broken1"));

    QCOMPARE(report->totals.classic, 6u);
    QCOMPARE(report->totals.curOnly, 1u);
    QCOMPARE(report->totals.broken, 2u);
    QCOMPARE(report->totals.curMessages, 3u);
    QCOMPARE(report->totals.newMessages, 3u);
}

void TestScan::hostileEntries()
{
    const std::string u = m_root + "/u";
    makeFolder(u);
    QCOMPARE(::symlink("/etc", (u + "/new/etc-link").c_str()), 0);
    QCOMPARE(::symlink("/etc/passwd", (u + "/cur/passwd-link:2,S").c_str()), 0);
    QCOMPARE(::symlink("/etc", (m_root + "/escape").c_str()), 0); // beside the Maildirs
    writeFile(u + "/cur/bad\nname:2,S", "nl");
    writeFile(u + "/cur/latin1-\xe9t\xe9:2,S", "l1");
    writeFile(u + "/cur/.syncthing.1.M.h.tmp", "partial");
    writeFile(u + "/cur/1.M1.sync-conflict-20240101-101010-ABCDEFG.h:2,S", "conflict");
    writeFile(u + "/cur/1.M1.h:2,S", "original");
    mkdirs(u + "/cur/subdir");
    QCOMPARE(::mkfifo((u + "/new/fifo").c_str(), 0644), 0);

    auto root = MailRoot::open(m_root);
    QVERIFY(root);
    auto report = Scan::run(*root);
    QVERIFY(report);
    const auto &problems = report->problems;
    QVERIFY(hasProblem(problems, ProblemKind::Symlink, "u/new/etc-link"));
    QVERIFY(hasProblem(problems, ProblemKind::Symlink, "u/cur/passwd-link:2,S"));
    QVERIFY(hasProblem(problems, ProblemKind::Symlink, "escape"));
    QVERIFY(hasProblem(problems, ProblemKind::BadName, "u/cur/bad\nname:2,S"));
    QVERIFY(hasProblem(problems, ProblemKind::BadName, "u/cur/latin1-\xe9t\xe9:2,S"));
    QVERIFY(hasProblem(problems, ProblemKind::SyncthingTemp, "u/cur/.syncthing.1.M.h.tmp"));
    QVERIFY(hasProblem(problems, ProblemKind::ConflictCopy,
                       "u/cur/1.M1.sync-conflict-20240101-101010-ABCDEFG.h:2,S"));
    QVERIFY(hasProblem(problems, ProblemKind::UnexpectedDirectory, "u/cur/subdir"));
    QVERIFY(hasProblem(problems, ProblemKind::SpecialFile, "u/new/fifo"));
    const FolderScan *f = findFolder(*report, "u");
    // regular, non-dot files: the two bad names (still messages to Dovecot), conflict, original
    QCOMPARE(f->curMessages, 4u);
    QCOMPARE(f->newMessages, 0u);

    // Non-UTF-8 names travel as text plus exact bytes.
    const nlohmann::json json = *report;
    bool found = false;
    for (const auto &p : json["problems"]) {
        if (p.contains("pathBase64")) {
            QCOMPARE(readPath(p, "path").value(), std::string("u/cur/latin1-\xe9t\xe9:2,S"));
            found = true;
        }
    }
    QVERIFY(found);
    QVERIFY(!json.dump().empty()); // every string valid UTF-8, or dump() would throw
}

void TestScan::sparseFileIsNotRead()
{
    const std::string u = m_root + "/u";
    makeFolder(u);
    const std::string big = u + "/cur/1.M1.h,S=5368709120:2,S";
    const int fd = ::open(big.c_str(), O_WRONLY | O_CREAT, 0644);
    QVERIFY(fd >= 0);
    QCOMPARE(::ftruncate(fd, 5LL * 1024 * 1024 * 1024), 0); // 5 GB, sparse
    ::close(fd);
    auto root = MailRoot::open(m_root);
    auto report = Scan::run(*root);
    QVERIFY(report);
    QCOMPARE(findFolder(*report, "u")->curMessages, 1u);
    QVERIFY(report->problems.empty());
}

void TestScan::rootSymlinkRefused()
{
    makeFolder(m_root + "/u");
    const std::string link = m_dir->path().toStdString() + "/link";
    QCOMPARE(::symlink(m_root.c_str(), link.c_str()), 0);
    auto root = MailRoot::open(link);
    QVERIFY(!root);
    QCOMPARE(root.error().code, mm::ErrorCode::UnsafePath);
    QVERIFY(root.error().message.find("symlink") != std::string::npos);
    // A trailing slash does not sneak past the check either.
    QVERIFY(!MailRoot::open(link + "/"));
}

void TestScan::unreadableFolderAsUnprivilegedUser()
{
    makeFolder(m_root + "/ok");
    writeFile(m_root + "/ok/new/1.M1.h", "x");
    makeFolder(m_root + "/locked");
    writeFile(m_root + "/locked/new/2.M1.h", "y");
    makeFolder(m_root + "/locked-new");
    ::chmod((m_root + "/locked").c_str(), 0);
    ::chmod((m_root + "/locked-new/new").c_str(), 0);

    const uid_t uid = ::getuid();
    uid_t runAs = uid;
    if (uid == 0)
        runAs = 65534; // nobody
    if (runAs == 0)
        QSKIP("no unprivileged uid available");

    int fds[2];
    QCOMPARE(::pipe(fds), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        if (uid == 0 &&
            (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(runAs) != 0))
            ::_exit(99);
        std::string out;
        auto root = MailRoot::open(m_root);
        if (!root) {
            out = "ERROR " + root.error().message;
        } else if (auto report = Scan::run(*root)) {
            out = nlohmann::json(*report).dump();
        } else {
            out = "ERROR " + report.error().message;
        }
        ssize_t ignored = ::write(fds[1], out.data(), out.size());
        (void)ignored;
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string text;
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buffer, sizeof buffer)) > 0)
        text.append(buffer, std::size_t(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::chmod((m_root + "/locked").c_str(), 0755);
    ::chmod((m_root + "/locked-new/new").c_str(), 0755);
    QCOMPARE(WEXITSTATUS(status), 0);
    QVERIFY2(!text.starts_with("ERROR"), text.c_str());
    const auto json = nlohmann::json::parse(text);
    bool lockedReported = false, lockedNewReported = false;
    for (const auto &p : json["problems"]) {
        if (p["kind"] == "unreadable" && p["path"] == "locked")
            lockedReported = true;
        if (p["kind"] == "unreadable" && p["path"] == "locked-new/new")
            lockedNewReported = true;
    }
    QVERIFY2(lockedReported, text.c_str());
    QVERIFY2(lockedNewReported, text.c_str());
    QCOMPARE(json["totals"]["newMessages"].get<int>(), 1); // the readable folder still counted
}

void TestScan::jsonShape()
{
    makeFolder(m_root + "/u");
    writeFile(m_root + "/u/new/1.M1.h", "x");
    auto root = MailRoot::open(m_root);
    auto report = Scan::run(*root);
    const nlohmann::json json = *report;
    QCOMPARE(json["schemaVersion"].get<int>(), 1);
    QCOMPARE(json["root"].get<std::string>(), root->path());
    const auto &folder = json["folders"][0];
    for (const char *key : {"path", "maildir", "name", "layout", "state", "hasTmp", "curMessages",
                            "newMessages", "tmpFiles"})
        QVERIFY2(folder.contains(key), key);
    for (const char *key : {"maildirs", "folders", "classic", "curOnly", "broken", "curMessages",
                            "newMessages", "tmpFiles", "problems"})
        QVERIFY2(json["totals"].contains(key), key);
    QCOMPARE(folder["state"].get<std::string>(), std::string("classic"));
    QCOMPARE(folder["path"].get<std::string>(), std::string("u"));
}

QTEST_GUILESS_MAIN(TestScan)
#include "tst_scan.moc"
