// The proof of the cur/-only Dovecot (issue 7): three nodes replicated by Syncthing, IMAP clients
// on every node at once, MTA deliveries into new/, and the flag race forced by pausing
// Syncthing. The patched build must end with the same messages on every node, none duplicated,
// none lost; the stock build, in the same run and the same forced race, shows the duplicate.
//
// The nodes are core/sandbox nodes, whose Dovecot configuration follows the prefix's line, so
// one source is the proof for 2.3 (tst_dovecotcluster) and for 2.4 (tst_dovecotcluster24).
// The patched prefix comes from a CMake cache variable (installers/dovecot/build-prefix.sh
// prints it). The comparison runs the stock system Dovecot where this machine has one of the
// same line; where it has none (2.4 on Debian 12) it runs the patched build with
// maildir_cur_only off, which leaves every code path as stock.

#include "imapclient.h"
#include "sandbox/dovecotversion.h"
#include "sandboxmailcluster.h"

#include <QtTest>

#include <thread>

using mm::test::ImapClient;
using MailCluster = mm::test::SandboxMailCluster;

namespace {

const QString kPrefix = QStringLiteral(MAILMESH_DOVECOT_PREFIX);
const QString kPrefixVariable = QStringLiteral(MAILMESH_DOVECOT_PREFIX_VARIABLE);
const QString kComparisonPrefix = QStringLiteral(MAILMESH_COMPARISON_DOVECOT_PREFIX);

bool comparisonIsPatchedBuild()
{
    return kComparisonPrefix == kPrefix;
}

// Node -> mailbox -> messages, as IMAP shows them.
using Listing = QMap<int, QMap<QByteArray, QList<ImapClient::Message>>>;

QStringList messageIds(const QList<ImapClient::Message> &messages)
{
    QStringList ids;
    for (const auto &m : messages)
        ids << QString::fromLatin1(m.messageId);
    ids.sort();
    return ids;
}

int duplicateCount(const QList<ImapClient::Message> &messages)
{
    const QStringList ids = messageIds(messages);
    return int(ids.size() - QSet<QString>(ids.begin(), ids.end()).size());
}

// What every node shows, after Syncthing is quiet and a Dovecot sync on every node changed
// nothing more (a stock Dovecot renames files when it syncs, which Syncthing then replicates).
Listing settle(MailCluster &cluster, const QList<QByteArray> &mailboxes)
{
    Listing listing;
    QByteArray previous;
    for (int round = 0; round < 12; ++round) {
        cluster.waitQuiet();
        listing.clear();
        QByteArray signature;
        for (int n = 0; n < cluster.size(); ++n) {
            ImapClient imap;
            if (!cluster.login(imap, n))
                continue;
            for (const QByteArray &box : mailboxes) {
                const auto messages = imap.fetchAll(box);
                listing[n][box] = messages;
                for (const auto &m : messages)
                    signature += box + m.messageId + m.flags.join(QLatin1Char(' ')).toLatin1();
                signature += '|';
            }
        }
        if (signature == previous)
            break;
        previous = signature;
    }
    return listing;
}

QHash<QByteArray, quint32> uidsById(ImapClient &imap, const QByteArray &mailbox)
{
    QHash<QByteArray, quint32> out;
    for (const auto &m : imap.fetchAll(mailbox))
        out.insert(m.messageId, m.uid);
    return out;
}

QByteArray mid(const QByteArray &id)
{
    return "<" + id + "@mailmesh.test>";
}

bool store(ImapClient &imap, quint32 uid, const QByteArray &flags)
{
    return imap.command("UID STORE " + QByteArray::number(uid) + " +FLAGS (" + flags + ")");
}

int countInLogs(MailCluster &cluster, const QString &needle)
{
    int n = 0;
    for (int i = 0; i < cluster.size(); ++i)
        n += cluster.dovecotLog(i).count(needle);
    return n;
}

struct Counts
{
    int nodes = 0;
    int expectedPerNode = 0;
    QList<int> messagesPerNode;
    QList<int> duplicatesPerNode;
};

QString describe(const Counts &c)
{
    QStringList parts;
    for (int i = 0; i < c.messagesPerNode.size(); ++i)
        parts << QStringLiteral("node%1: %2 messages, %3 duplicated")
                     .arg(i + 1)
                     .arg(c.messagesPerNode[i])
                     .arg(c.duplicatesPerNode[i]);
    return QStringLiteral("expected %1 per node; ").arg(c.expectedPerNode) +
           parts.join(QStringLiteral("; "));
}

// The forced race: with replication paused, clients on two (or three) nodes change the flags of
// the same message, so each node renames it to its own name; then replication resumes.
void forceFlagRace(MailCluster &cluster, const QByteArray &id, const QList<QByteArray> &flags)
{
    cluster.setPaused(true);
    for (int n = 0; n < flags.size() && n < cluster.size(); ++n) {
        ImapClient imap;
        QVERIFY(cluster.login(imap, n));
        const auto uids = uidsById(imap, "INBOX");
        QVERIFY2(uids.contains(mid(id)), "the raced message is missing before the race");
        QVERIFY(store(imap, uids.value(mid(id)), flags[n]));
    }
    cluster.setPaused(false);
}

} // namespace

class TestDovecotCluster : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void patchedBuildIdentifiesItself();
    void curOnlyClusterKeepsOneCopyOfEveryMessage_data();
    void curOnlyClusterKeepsOneCopyOfEveryMessage();
    void stockClusterDuplicatesTheRacedMessage();
    void cleanupTestCase();

private:
    QString patchedDovecot() const { return kPrefix + QStringLiteral("/sbin/dovecot"); }
    mm::sandbox::DovecotVersion m_version;
    QStringList m_summary;
};

void TestDovecotCluster::initTestCase()
{
    if (kPrefix.isEmpty())
        QSKIP(
            qPrintable(kPrefixVariable +
                       QStringLiteral(" is not configured: run installers/dovecot/build-prefix.sh "
                                      "and configure with -D%1=<the path it prints>")
                           .arg(kPrefixVariable)));
    QVERIFY2(QFileInfo(patchedDovecot()).isExecutable(),
             qPrintable(patchedDovecot() + QStringLiteral(" is missing: rerun build-prefix.sh")));
    QVERIFY2(QFileInfo(kComparisonPrefix + QStringLiteral("/sbin/dovecot")).isExecutable(),
             qPrintable(kComparisonPrefix +
                        QStringLiteral("/sbin/dovecot is needed for the comparison (the stock "
                                       "dovecot-core and dovecot-imapd packages)")));
    QVERIFY2(!QStandardPaths::findExecutable(QStringLiteral("syncthing")).isEmpty(),
             "syncthing is needed");
    const auto version = mm::sandbox::DovecotVersion::ofPrefix(kPrefix);
    QVERIFY2(version, version ? "" : version.error().describe().c_str());
    m_version = *version;
    qInfo().noquote() << "patched Dovecot" << m_version.text << "from" << kPrefix << "; comparison:"
                      << (comparisonIsPatchedBuild()
                              ? QStringLiteral("the same build with maildir_cur_only = no "
                                               "(no stock Dovecot of this line here)")
                              : QStringLiteral("stock Dovecot from ") + kComparisonPrefix);
}

void TestDovecotCluster::patchedBuildIdentifiesItself()
{
    QProcess version;
    version.start(patchedDovecot(), {QStringLiteral("--version")});
    QVERIFY(version.waitForFinished(10000));
    QVERIFY2(version.readAllStandardOutput().contains("+mailmesh6"),
             "dovecot --version must carry the +mailmesh6 suffix");

    // With the setting absent the build is stock: doveconf shows the default "no".
    const QByteArray minimalConfig =
        m_version.hasVersionedConfig()
            ? "dovecot_config_version = " + m_version.release().toLatin1() +
                  "\ndovecot_storage_version = " + m_version.release().toLatin1() +
                  "\nmail_driver = maildir\nmail_path = ~/Maildir\nssl = no\n"
            : QByteArray("mail_location = maildir:~/Maildir\nssl = no\n");
    QTemporaryDir dir;
    QFile config(dir.path() + QStringLiteral("/d.conf"));
    QVERIFY(config.open(QIODevice::WriteOnly));
    config.write(minimalConfig);
    config.close();
    QProcess doveconf;
    doveconf.start(kPrefix + QStringLiteral("/bin/doveconf"),
                   {QStringLiteral("-a"), QStringLiteral("-c"), config.fileName()});
    QVERIFY(doveconf.waitForFinished(10000));
    const QByteArray all = doveconf.readAllStandardOutput();
    QVERIFY2(all.contains("\nmaildir_cur_only = no\n"),
             qPrintable(QStringLiteral("doveconf -a must list maildir_cur_only = no by default; "
                                       "stderr: ") +
                        QString::fromLocal8Bit(doveconf.readAllStandardError())));
}

void TestDovecotCluster::curOnlyClusterKeepsOneCopyOfEveryMessage_data()
{
    QTest::addColumn<bool>("replicateUidlist");
    // Per-node UIDs (Syncthing ignores dovecot-uidlist) with clients on every node appending at
    // once; the replicated uidlist is run too, with new mail arriving on one node only, since
    // new mail on two nodes at once under it is the UID collision bench_uidcollisions counts.
    QTest::newRow("uidlist per node") << false;
    QTest::newRow("uidlist replicated") << true;
}

void TestDovecotCluster::curOnlyClusterKeepsOneCopyOfEveryMessage()
{
    QFETCH(bool, replicateUidlist);
    MailCluster cluster;
    MailCluster::Options options;
    options.dovecotPrefix = kPrefix;
    options.curOnly = true;
    options.replicateUidlist = replicateUidlist;
    const QString error = cluster.start(options);
    QVERIFY2(error.isEmpty(), qPrintable(error));

    // Seed through node 1 only, then let every node catch up before its clients start.
    QStringList expectedInbox;
    {
        ImapClient imap;
        QVERIFY(cluster.login(imap, 0));
        QVERIFY(imap.command("CREATE Archive"));
        for (int i = 0; i < 12; ++i) {
            const QByteArray id = "m" + QByteArray::number(i);
            QVERIFY(imap.append("INBOX", mm::test::makeMessage(id)));
            if (i != 11)
                expectedInbox << QString::fromLatin1(mid(id));
        }
    }
    settle(cluster, {"INBOX", "Archive"});

    // Mailboxes Dovecot creates are cur/-only, and Syncthing's own files are no mailboxes.
    for (int n = 0; n < cluster.size(); ++n) {
        const QFileInfo link(cluster.maildir(n) + QStringLiteral("/.Archive/new"));
        QVERIFY2(link.isSymLink(), qPrintable(link.filePath() + QStringLiteral(" is no symlink")));
        QCOMPARE(link.symLinkTarget(), cluster.maildir(n) + QStringLiteral("/.Archive/cur"));
        ImapClient imap;
        QVERIFY(cluster.login(imap, n));
        QCOMPARE(imap.listMailboxes(),
                 (QStringList{QStringLiteral("Archive"), QStringLiteral("INBOX")}));
    }

    // Clients on all three nodes at the same time; an MTA delivers into new/ on every node.
    std::atomic<int> failures{0};
    auto client = [&](int node) {
        ImapClient imap;
        if (!cluster.login(imap, node)) {
            ++failures;
            return;
        }
        const auto uids = uidsById(imap, "INBOX");
        auto uid = [&](int i) { return uids.value(mid("m" + QByteArray::number(i))); };
        bool ok = true;
        switch (node) {
        case 0:
            for (int i = 0; i <= 5; ++i)
                ok = store(imap, uid(i), "\\Seen") && ok;
            ok = store(imap, uid(11), "\\Deleted") && ok;
            ok = imap.command("UID EXPUNGE " + QByteArray::number(uid(11))) && ok;
            break;
        case 1:
            for (int i = 3; i <= 8; ++i)
                ok = store(imap, uid(i), "\\Flagged") && ok;
            ok = imap.command("UID COPY " + QByteArray::number(uid(9)) + " Archive") && ok;
            break;
        default:
            for (int i : {0, 1, 2, 6, 7, 8})
                ok = store(imap, uid(i), "\\Answered") && ok;
            break;
        }
        // Under a replicated uidlist only node 1 appends and receives mail (see _data).
        if (!replicateUidlist || node == 0)
            ok = imap.append("INBOX", mm::test::makeMessage("n" + QByteArray::number(node))) && ok;
        if (!ok)
            ++failures;
    };
    std::vector<std::thread> clients;
    for (int n = 0; n < cluster.size(); ++n)
        clients.emplace_back(client, n);
    for (int n = 0; n < cluster.size(); ++n) {
        if (replicateUidlist && n != 0)
            continue;
        const QByteArray id = "d" + QByteArray::number(n);
        QVERIFY(cluster.deliver(n, mm::test::makeMessage(id, "delivered")));
        expectedInbox << QString::fromLatin1(mid(id));
    }
    for (auto &t : clients)
        t.join();
    QCOMPARE(failures.load(), 0);
    for (int n = 0; n < cluster.size(); ++n) {
        if (!replicateUidlist || n == 0)
            expectedInbox << QString::fromLatin1(mid("n" + QByteArray::number(n)));
    }
    settle(cluster, {"INBOX", "Archive"});

    // The race, forced: three nodes flag m10 differently while replication is paused.
    forceFlagRace(cluster, "m10", {"\\Flagged", "\\Answered", "\\Seen"});
    if (QTest::currentTestFailed())
        return;
    const Listing after = settle(cluster, {"INBOX", "Archive"});

    expectedInbox.sort();
    Counts counts;
    counts.expectedPerNode = int(expectedInbox.size());
    for (int n = 0; n < cluster.size(); ++n) {
        const auto inbox = after.value(n).value("INBOX");
        counts.messagesPerNode << int(inbox.size());
        counts.duplicatesPerNode << duplicateCount(inbox);
    }
    m_summary << QStringLiteral(
                     "Dovecot %5 cur/-only (%1): %2, \"Fixed a duplicate\" logged %3 times, "
                     "ignored duplicates logged %4 times")
                     .arg(QLatin1String(QTest::currentDataTag()), describe(counts))
                     .arg(countInLogs(cluster, QStringLiteral("Fixed a duplicate")))
                     .arg(countInLogs(cluster, QStringLiteral("cur_only: ignoring duplicate")))
                     .arg(m_version.text);
    qInfo().noquote() << m_summary.constLast();

    for (int n = 0; n < cluster.size(); ++n) {
        const auto inbox = after.value(n).value("INBOX");
        QCOMPARE(messageIds(inbox), expectedInbox);
        QCOMPARE(messageIds(after.value(n).value("Archive")),
                 (QStringList{QString::fromLatin1(mid("m9"))}));
        // Every node keeps the same name of the raced message, so the same flags.
        for (int other = 0; other < n; ++other) {
            QMap<QByteArray, QStringList> a, b;
            for (const auto &m : inbox)
                a.insert(m.messageId, m.flags);
            for (const auto &m : after.value(other).value("INBOX"))
                b.insert(m.messageId, m.flags);
            QCOMPARE(a, b);
        }
    }
    QCOMPARE(countInLogs(cluster, QStringLiteral("Fixed a duplicate")), 0);
}

void TestDovecotCluster::stockClusterDuplicatesTheRacedMessage()
{
    MailCluster cluster;
    MailCluster::Options options;
    options.dovecotPrefix = kComparisonPrefix;
    options.curOnly = false; // classic Maildir, no maildir_cur_only: what stock Dovecot expects
    const QString error = cluster.start(options);
    QVERIFY2(error.isEmpty(), qPrintable(error));

    {
        ImapClient imap;
        QVERIFY(cluster.login(imap, 0));
        for (int i = 0; i < 12; ++i)
            QVERIFY(imap.append("INBOX", mm::test::makeMessage("m" + QByteArray::number(i))));
        // Selecting moves new/ to cur/ on node 1 before the others ever look.
        QVERIFY(imap.select("INBOX"));
    }
    const Listing before = settle(cluster, {"INBOX"});
    for (int n = 0; n < cluster.size(); ++n)
        QCOMPARE(before.value(n).value("INBOX").size(), 12);

    forceFlagRace(cluster, "m10", {"\\Flagged", "\\Answered", "\\Seen"});
    if (QTest::currentTestFailed())
        return;
    const Listing after = settle(cluster, {"INBOX"});

    Counts counts;
    counts.expectedPerNode = 12;
    int duplicated = 0;
    for (int n = 0; n < cluster.size(); ++n) {
        const auto inbox = after.value(n).value("INBOX");
        counts.messagesPerNode << int(inbox.size());
        counts.duplicatesPerNode << duplicateCount(inbox);
        duplicated += duplicateCount(inbox);
    }
    m_summary << QStringLiteral("%1: %2, \"Fixed a duplicate\" logged %3 times")
                     .arg(comparisonIsPatchedBuild()
                              ? QStringLiteral("patched build, maildir_cur_only = no")
                              : QStringLiteral("stock"),
                          describe(counts))
                     .arg(countInLogs(cluster, QStringLiteral("Fixed a duplicate")));
    qInfo().noquote() << m_summary.constLast();
    QVERIFY2(duplicated > 0,
             "the stock code paths were expected to turn the race into a duplicate; "
             "if it no longer does, the proof above proves nothing");
}

void TestDovecotCluster::cleanupTestCase()
{
    for (const QString &line : std::as_const(m_summary))
        qInfo().noquote() << "SUMMARY" << line;
}

QTEST_GUILESS_MAIN(TestDovecotCluster)
#include "tst_dovecotcluster.moc"
