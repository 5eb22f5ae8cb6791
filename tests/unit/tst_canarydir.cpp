// The replication canary's probes on a node (core/maildir/canarydir.h): written whole through
// tmp/ and a rename, listed, deleted only by name or age and only inside ROOT/.mailmesh-canary,
// refused in a root that is itself a Maildir, and never seen by the walkers that count mail.

#include "mailtreefixture.h"

#include "maildir/canarydir.h"
#include "maildir/dupes.h"
#include "maildir/inventory.h"
#include "maildir/scan.h"

#include <QtTest>

#include <sys/stat.h>
#include <sys/time.h>

using namespace mm::maildir;
using namespace mailtree;

namespace {

void setAge(const std::string &path, int seconds)
{
    const timeval then{std::time(nullptr) - seconds, 0};
    const timeval times[2] = {then, then};
    QCOMPARE(::utimes(path.c_str(), times), 0);
}

} // namespace

class TestCanaryDir : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    std::string m_root;
    std::string m_canary;

    mm::Result<MailRoot> root() const { return MailRoot::open(m_root); }

private Q_SLOTS:
    void init()
    {
        m_root = m_tmp.path().toStdString() + "/" + QTest::currentTestFunction() + "/vmail";
        m_canary = m_root + "/.mailmesh-canary";
        makeFolder(m_root + "/example.org/alice/Maildir");
        writeFile(m_root + "/example.org/alice/Maildir/cur/1.M1P1.h:2,S", "Message-ID: <a@x>\n\nbody\n");
    }

    void names_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("valid");
        QTest::newRow("plain") << "node1.1.1765015200123" << true;
        QTest::newRow("dashes") << "mail-2.42.7" << true;
        QTest::newRow("no sequence") << "node1.1765015200123" << false;
        QTest::newRow("extra part") << "node1.1.2.3" << false;
        QTest::newRow("upper case origin") << "Node1.1.2" << false;
        QTest::newRow("origin starting with a dash") << "-n.1.2" << false;
        QTest::newRow("letters in the sequence") << "node1.x1.2" << false;
        QTest::newRow("empty time") << "node1.1." << false;
        QTest::newRow("dot file") << ".syncthing.node1.1.2.tmp" << false;
        QTest::newRow("path") << "../node1.1.2" << false;
        QTest::newRow("huge number") << "node1.99999999999999999999999.2" << false;
    }

    void names()
    {
        QFETCH(QString, name);
        QFETCH(bool, valid);
        const auto parsed = CanaryProbeName::parse(name.toStdString());
        QCOMPARE(parsed.has_value(), valid);
        if (valid)
            QCOMPARE(QString::fromStdString(parsed->text()), name);
    }

    void writesAWholeProbeThroughTmp()
    {
        auto r = root();
        QVERIFY(r);
        auto written = CanaryDir::write(*r, CanaryProbeName{"node1", 7, 1765015200123});
        QVERIFY2(written, written ? "" : written.error().message.c_str());
        QCOMPARE(written->name, std::string("node1.7.1765015200123"));
        QCOMPARE(written->path, std::string(".mailmesh-canary/node1.7.1765015200123"));
        const std::string text = readFile(m_canary + "/node1.7.1765015200123");
        QVERIFY(text.find("origin: node1\n") != std::string::npos);
        QVERIFY(text.find("not mail") != std::string::npos);
        struct stat st;
        QCOMPARE(::stat(m_canary.c_str(), &st), 0);
        QCOMPARE(int(st.st_mode & 0777), 0700);
        // Nothing is left in tmp/, whose contents Syncthing never ships.
        QVERIFY(exists(m_canary + "/tmp"));
        QVERIFY(!exists(m_canary + "/tmp/node1.7.1765015200123"));
        // A name is used once.
        auto again = CanaryDir::write(*r, CanaryProbeName{"node1", 7, 1765015200123});
        QVERIFY(!again);
        QCOMPARE(again.error().code, mm::ErrorCode::Conflict);
        QCOMPARE(readFile(m_canary + "/node1.7.1765015200123"), text);
    }

    void listsProbesOnly()
    {
        auto r = root();
        QVERIFY(CanaryDir::list(*r));
        QVERIFY(CanaryDir::list(*r)->probes.empty()); // no directory: no probes, nothing made
        QVERIFY(!exists(m_canary));
        QVERIFY(CanaryDir::write(*r, CanaryProbeName{"node2", 1, 5}));
        QVERIFY(CanaryDir::write(*r, CanaryProbeName{"node1", 3, 9}));
        writeFile(m_canary + "/.syncthing.node3.1.2.tmp", "half");
        writeFile(m_canary + "/notes.txt", "x");
        auto listing = CanaryDir::list(*r);
        QVERIFY(listing);
        QCOMPARE(listing->probes.size(), std::size_t(2));
        QCOMPARE(listing->probes[0].name, std::string("node1.3.9"));
        QCOMPARE(listing->probes[0].origin, std::string("node1"));
        QCOMPARE(listing->probes[0].sequence, std::uint64_t(3));
        QCOMPARE(listing->probes[1].name, std::string("node2.1.5"));
        QVERIFY(listing->probes[1].size > 0);
    }

    void removesOnlyWhatItIsAskedTo()
    {
        auto r = root();
        for (const auto &name : {CanaryProbeName{"node1", 1, 1}, CanaryProbeName{"node1", 2, 2},
                                 CanaryProbeName{"node2", 1, 3}})
            QVERIFY(CanaryDir::write(*r, name));
        writeFile(m_canary + "/notes.txt", "not a probe");
        writeFile(m_canary + "/tmp/node1.0.0", "a write cut short");
        const std::string outside = m_tmp.path().toStdString() + "/outside";
        writeFile(outside, "keep");
        QCOMPARE(::symlink(outside.c_str(), (m_canary + "/node3.1.1").c_str()), 0);
        setAge(m_canary + "/node1.1.1", 3600);
        setAge(m_canary + "/node2.1.3", 3600);
        setAge(m_canary + "/tmp/node1.0.0", 3600);

        CanarySweep dry;
        dry.olderThanSeconds = 600;
        dry.dryRun = true;
        auto planned = CanaryDir::remove(*r, dry);
        QVERIFY(planned);
        QCOMPARE(planned->removed, (std::vector<std::string>{"node1.1.1", "node2.1.3", "tmp/node1.0.0"}));
        QVERIFY(exists(m_canary + "/node1.1.1"));
        QVERIFY(exists(m_canary + "/tmp/node1.0.0"));

        CanarySweep own;
        own.olderThanSeconds = 600;
        own.origin = "node1";
        auto removed = CanaryDir::remove(*r, own);
        QVERIFY(removed);
        QCOMPARE(removed->removed, (std::vector<std::string>{"node1.1.1", "tmp/node1.0.0"}));
        QVERIFY(!exists(m_canary + "/node1.1.1"));
        QVERIFY(exists(m_canary + "/node1.2.2"));  // young
        QVERIFY(exists(m_canary + "/node2.1.3"));  // another origin
        // The symlink is named, not followed, not removed; its target is untouched.
        QCOMPARE(removed->problems.size(), std::size_t(1));
        QVERIFY(removed->problems[0].find("node3.1.1") != std::string::npos);
        QVERIFY(exists(m_canary + "/node3.1.1"));
        QCOMPARE(readFile(outside), std::string("keep"));

        CanarySweep one;
        one.name = "node1.2.2";
        QCOMPARE(CanaryDir::remove(*r, one)->removed, std::vector<std::string>{"node1.2.2"});
        QVERIFY(!exists(m_canary + "/node1.2.2"));
        QCOMPARE(readFile(m_canary + "/notes.txt"), std::string("not a probe"));
        QVERIFY(exists(m_root + "/example.org/alice/Maildir/cur/1.M1P1.h:2,S"));

        CanarySweep path;
        path.name = "../example.org";
        QCOMPARE(CanaryDir::remove(*r, path).error().code, mm::ErrorCode::BadRequest);
        CanarySweep both;
        both.name = "node2.1.3";
        both.olderThanSeconds = 1;
        QCOMPARE(CanaryDir::remove(*r, both).error().code, mm::ErrorCode::BadRequest);
    }

    void aRootThatIsAMaildirIsRefused()
    {
        const std::string maildir = m_root + "/example.org/alice/Maildir";
        auto r = MailRoot::open(maildir);
        QVERIFY(r);
        auto written = CanaryDir::write(*r, CanaryProbeName{"node1", 1, 1});
        QVERIFY(!written);
        QCOMPARE(written.error().code, mm::ErrorCode::Unsupported);
        QVERIFY(!exists(maildir + "/.mailmesh-canary")); // would be an IMAP folder
        QCOMPARE(CanaryDir::list(*r).error().code, mm::ErrorCode::Unsupported);
    }

    void aSymlinkedCanaryDirIsRefused()
    {
        const std::string elsewhere = m_tmp.path().toStdString() + "/elsewhere";
        mkdirs(elsewhere);
        QCOMPARE(::symlink(elsewhere.c_str(), m_canary.c_str()), 0);
        auto r = root();
        auto written = CanaryDir::write(*r, CanaryProbeName{"node1", 1, 1});
        QVERIFY(!written);
        QCOMPARE(written.error().code, mm::ErrorCode::UnsafePath);
        QVERIFY(!exists(elsewhere + "/tmp"));
    }

    // Even probes that look like mail (a canary dir with cur/) are never counted; a user's own
    // Maildir++ folder of the same name inside a Maildir still is.
    void theWalkersNeverSeeTheCanary()
    {
        auto r = root();
        QVERIFY(CanaryDir::write(*r, CanaryProbeName{"node1", 1, 1}));
        makeFolder(m_canary);
        writeFile(m_canary + "/cur/1.M1P1.h:2,S", "Message-ID: <a@x>\n\nbody\n");
        writeFile(m_canary + "/cur/1.M1P1.h:2,", "Message-ID: <a@x>\n\nbody\n");
        const std::string userFolder = m_root + "/example.org/alice/Maildir/.mailmesh-canary";
        makeFolder(userFolder);
        writeFile(userFolder + "/maildirfolder", "");
        writeFile(userFolder + "/cur/2.M2P2.h:2,", "Message-ID: <b@x>\n\nbody\n");

        auto scan = Scan::run(*r);
        QVERIFY(scan);
        std::vector<std::string> folders;
        for (const auto &folder : scan->folders)
            folders.push_back(folder.folder.relPath);
        QCOMPARE(folders, (std::vector<std::string>{"example.org/alice/Maildir",
                                                    "example.org/alice/Maildir/.mailmesh-canary"}));
        auto dupes = DupeFinder::find(*r);
        QVERIFY(dupes);
        QVERIFY(dupes->groups.empty());
        InventoryOptions options;
        options.memoDir = m_tmp.path().toStdString() + "/" + QTest::currentTestFunction() + "/memo";
        auto inventory = Inventory::run(*r, options);
        QVERIFY2(inventory, inventory ? "" : inventory.error().message.c_str());
        QCOMPARE(inventory->scan.folders.size(), std::size_t(2));
        QVERIFY(inventory->dupes.groups.empty());
    }
};

QTEST_GUILESS_MAIN(TestCanaryDir)
#include "tst_canarydir.moc"
