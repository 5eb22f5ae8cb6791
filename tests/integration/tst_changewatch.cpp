// mailmesh-agent watch-changes on real Syncthing (docs/maildir-dovecot-syncthing.md, "Syncthing's
// watcher misses changes"): two sandbox nodes with the patched Dovecot, set up and migrated by
// mailmeshctl, then Syncthing's own watcher switched off on both. Its full rescan stays hourly,
// so whatever reaches the other node within the deadline below was reported by watch-changes:
//   - a delivery into new/ (the link to cur/);
//   - a folder deleted and made again under the same name, and mail put into it afterwards
//     (the case Syncthing's watcher goes blind on);
//   - a flag set on a message the moment it arrived from the other node (a rename of a file
//     Syncthing's puller has just written, whose event Syncthing's watcher drops);
//   - a directory deleted on one node while another wrote into it is kept with the new file.

#include "ctlcluster.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QTest>

#include <functional>

using namespace mm;
using namespace mm::test;

namespace {

const QString kPrefix = QStringLiteral(MAILMESH_DOVECOT_PREFIX);
// Far below the hourly full rescan, far above what one watched change needs (about a second).
constexpr int kDeadlineMs = 90000;

bool waitFor(const std::function<bool()> &condition, int timeoutMs = kDeadlineMs)
{
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < timeoutMs) {
        if (condition())
            return true;
        QThread::msleep(250);
    }
    return condition();
}

} // namespace

class TestChangeWatch : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        if (kPrefix.isEmpty())
            QSKIP("MAILMESH_DOVECOT_PREFIX is not configured: run installers/dovecot/build-prefix.sh");
        CtlCluster::Options options;
        options.nodes = 2;
        options.dovecotPrefix = kPrefix;
        const QString error = m_cluster.setUp(options);
        QVERIFY2(error.isEmpty(), qPrintable(error));
        for (int n = 0; n < 2; ++n) {
            int status = 0;
            m_cluster.rest().call(n, "PATCH", QStringLiteral("/rest/config/folders/mailmesh-mail"),
                                  QJsonObject{{QStringLiteral("fsWatcherEnabled"), false}}, &status);
            QCOMPARE(status, 200);
            const QJsonObject folder =
                m_cluster.rest().call(n, "GET", QStringLiteral("/rest/config/folders/mailmesh-mail")).toObject();
            QCOMPARE(folder.value(QStringLiteral("fsWatcherEnabled")).toBool(true), false);
            QCOMPARE(folder.value(QStringLiteral("rescanIntervalS")).toInt(), 3600);
        }
        QVERIFY(m_cluster.waitQuiet());
    }

    void cleanupTestCase() { m_cluster.tearDown(); }

    void aDeliveryReachesTheOtherNode()
    {
        QVERIFY(m_cluster.deliver(0, makeMessage("delivered1")));
        QVERIFY2(waitFor([&] { return has(1, "INBOX", "<delivered1@mailmesh.test>"); }),
                 "node 2 never saw the delivery on node 1");
    }

    void aFolderMadeAgainKeepsReplicating()
    {
        ImapClient imap;
        QVERIFY(m_cluster.login(imap, 0));
        QVERIFY(imap.command("CREATE Again"));
        QVERIFY(imap.append("Again", makeMessage("again1")));
        // Looked for on node 2's disk, not over IMAP: a Dovecot opening the folder there at the
        // moment node 1 deletes it would bring it back as an empty shell (its dovecot-keywords.d
        // is new on node 2: a change racing a delete wins; docs/maildir-dovecot-syncthing.md,
        // "Open findings").
        const QString again2 = m_cluster.maildir(1) + QStringLiteral("/.Again");
        QVERIFY2(waitFor([&] { return !QDir(again2 + QStringLiteral("/cur")).isEmpty(QDir::Files); }),
                 "first incarnation never reached node 2");

        QVERIFY(imap.command("DELETE Again"));
        QVERIFY2(waitFor([&] { return !QFileInfo::exists(again2); }), "node 2 still has .Again");
        QVERIFY(imap.command("CREATE Again"));
        QVERIFY(imap.append("Again", makeMessage("again2")));
        QVERIFY2(waitFor([&] { return has(1, "Again", "<again2@mailmesh.test>"); }),
                 "mail in the folder made again never reached node 2");
        // Later still, long after the directory appeared: an MTA's delivery into it.
        QThread::msleep(3000);
        QVERIFY(m_cluster.deliver(0, makeMessage("again3"), QStringLiteral(".Again")));
        QVERIFY2(waitFor([&] { return has(1, "Again", "<again3@mailmesh.test>"); }),
                 "a later delivery into the folder made again never reached node 2");
        imap.logout();
    }

    void aFlagSetOnArrivalReplicates()
    {
        for (int round = 0; round < 5; ++round) {
            const QByteArray name = "arrival" + QByteArray::number(round);
            const QByteArray id = '<' + name + "@mailmesh.test>"; // the Message-ID makeMessage writes
            ImapClient sender;
            QVERIFY(m_cluster.login(sender, 1));
            QVERIFY(sender.append("INBOX", makeMessage(name)));
            sender.logout();
            // Node 1 flags it the moment it is there: its file was just written by the puller.
            ImapClient reader;
            QVERIFY(m_cluster.login(reader, 0));
            quint32 uid = 0;
            QVERIFY2(waitFor([&] {
                         bool ok = false;
                         for (const ImapClient::Message &m : reader.fetchAll("INBOX", &ok))
                             if (m.messageId == id)
                                 uid = m.uid;
                         return uid != 0;
                     }),
                     id.constData());
            QVERIFY(reader.command("UID STORE " + QByteArray::number(uid) + " +FLAGS.SILENT (\\Flagged $label1)"));
            reader.logout();
            QVERIFY2(waitFor([&] { return flagsOf(1, "INBOX", id).contains(QStringLiteral("\\Flagged")); }),
                     qPrintable(QStringLiteral("node 2 never saw %1 flagged").arg(QString::fromLatin1(id))));
            QVERIFY(flagsOf(1, "INBOX", id).contains(QStringLiteral("$label1")));
        }
    }

    // A directory deleted on node 1 while node 2, its folder paused, wrote a new file into it.
    // For a moment Syncthing holds the directory as deleted and the file as live, and node 2
    // fails to delete the directory ("... is not empty"); it ends when node 1 pulls the file,
    // makes the directory again and scans it: a change wins over a delete. Node 1's
    // watch-changes is stopped here (and Syncthing's own watcher is off): Syncthing's puller
    // does this on its own, nothing of Mailmesh's is needed for it.
    void aDirectoryDeletedWhileWrittenElsewhereIsKept()
    {
        const QString dir = QStringLiteral("sandbox.test/kept");
        QVERIFY(shell(0, QStringLiteral("mkdir -p %1 && echo one > %1/first").arg(dir)));
        QVERIFY2(waitFor([&] { return QFileInfo::exists(mailRoot(1) + u'/' + dir + QStringLiteral("/first")); }),
                 "the directory never reached node 2");
        QVERIFY(m_cluster.waitQuiet());
        QVERIFY(stopChangeWatcher(0));
        QVERIFY(setPaused(1, true));
        QVERIFY(shell(0, QStringLiteral("rm -r %1").arg(dir)));
        int status = 0;
        m_cluster.rest().call(0, "POST", QStringLiteral("/rest/db/scan?folder=mailmesh-mail&sub=") + dir, {}, &status);
        QCOMPARE(status, 200);
        QVERIFY(shell(1, QStringLiteral("echo two > %1/second").arg(dir)));
        QVERIFY(setPaused(1, false));
        QVERIFY2(waitFor([&] { return QFileInfo::exists(mailRoot(0) + u'/' + dir + QStringLiteral("/second")); },
                         180000),
                 "node 1 never got the file written on node 2 into the directory it deleted");
        QVERIFY2(waitFor([&] { return pullErrors(0).isEmpty() && pullErrors(1).isEmpty(); }, 120000),
                 qPrintable(pullErrors(0) + pullErrors(1)));
        QVERIFY(!QFileInfo::exists(mailRoot(0) + u'/' + dir + QStringLiteral("/first")));
    }

private:
    QString mailRoot(int n) { return m_cluster.sandbox().node(n).mailRoot; }

    // As the mail user in the node's mail root, like a local program (Dovecot, an MTA).
    bool shell(int n, const QString &command)
    {
        const auto ran = m_cluster.sandbox().runOnNode(
            n, QStringLiteral("cd '%1' && %2").arg(mailRoot(n), command));
        return ran && ran->exitCode == 0;
    }

    bool stopChangeWatcher(int n)
    {
        const QString home = m_cluster.sandbox().node(n).syncthingHome;
        return QProcess::execute(QStringLiteral("pkill"),
                                 {QStringLiteral("-f"), QStringLiteral("watch-changes --syncthing-home=") + home})
               == 0;
    }

    bool setPaused(int n, bool paused)
    {
        int status = 0;
        m_cluster.rest().call(n, "PATCH", QStringLiteral("/rest/config/folders/mailmesh-mail"),
                              QJsonObject{{QStringLiteral("paused"), paused}}, &status);
        return status == 200;
    }

    QString pullErrors(int n)
    {
        const QJsonObject answer =
            m_cluster.rest().call(n, "GET", QStringLiteral("/rest/folder/errors?folder=mailmesh-mail")).toObject();
        const QJsonArray errors = answer.value(QStringLiteral("errors")).toArray();
        return errors.isEmpty() ? QString()
                                : QStringLiteral("node %1: %2\n").arg(n + 1).arg(QString::fromUtf8(QJsonDocument(errors).toJson()));
    }

    QList<ImapClient::Message> messages(int n, const QByteArray &folder)
    {
        ImapClient imap;
        if (!m_cluster.login(imap, n))
            return {};
        bool ok = false;
        const QList<ImapClient::Message> all = imap.fetchAll(folder, &ok);
        imap.logout();
        return ok ? all : QList<ImapClient::Message>();
    }

    bool has(int n, const QByteArray &folder, const QByteArray &messageId)
    {
        for (const ImapClient::Message &m : messages(n, folder))
            if (m.messageId == messageId)
                return true;
        return false;
    }

    QStringList flagsOf(int n, const QByteArray &folder, const QByteArray &messageId)
    {
        for (const ImapClient::Message &m : messages(n, folder))
            if (m.messageId == messageId)
                return m.flags;
        return {};
    }

    bool listed(int n, const QString &folder)
    {
        ImapClient imap;
        if (!m_cluster.login(imap, n))
            return true;
        const bool found = imap.listMailboxes().contains(folder);
        imap.logout();
        return found;
    }

    CtlCluster m_cluster;
};

QTEST_GUILESS_MAIN(TestChangeWatch)
#include "tst_changewatch.moc"
