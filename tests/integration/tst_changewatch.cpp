// mailmesh-agent watch-changes on real Syncthing (docs/maildir-dovecot-syncthing.md, "Syncthing's
// watcher misses changes"): two sandbox nodes with the patched Dovecot, set up and migrated by
// mailmeshctl, then Syncthing's own watcher switched off on both. Its full rescan stays hourly,
// so whatever reaches the other node within the deadline below was reported by watch-changes:
//   - a delivery into new/ (the link to cur/);
//   - a folder deleted and made again under the same name, and mail put into it afterwards
//     (the case Syncthing's watcher goes blind on);
//   - a flag set on a message the moment it arrived from the other node (a rename of a file
//     Syncthing's puller has just written, whose event Syncthing's watcher drops).

#include "ctlcluster.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
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

private:
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
