#pragma once

// Chaos on a cluster: several real IMAP clients per node doing random flag changes, keywords,
// APPEND, EXPUNGE, CREATE/RENAME/DELETE and SUBSCRIBE/UNSUBSCRIBE, plus MTA-style deliveries into
// every node's new/, all at once; then, once the cluster has settled, what every node's IMAP
// says is compared with what the clients did (docs/mailbox-state.md, "the chaos run"):
//   - no message lost: appended or delivered, never expunged, its folder never deleted, and yet
//     missing on a node;
//   - no message twice: one Message-ID twice in one folder of one node;
//   - no UID ever naming two messages on one node (every FETCH of the run is checked);
//   - the same flags and keywords, folders and subscriptions on every node;
//   - expunged messages that came back (an expunge racing a flag change elsewhere): counted.
// Folders are created, renamed and deleted only by their own node's clients (n2f3 is node 2's):
// two nodes renaming one folder at once would copy it under two names, which is the admin's
// race, not a replication bug. Appends, flag changes and expunges go to any node's folders.

#include "chaoscluster.h"
#include "imapclient.h"

#include <QElapsedTimer>
#include <QFile>
#include <QTime>
#include <QMap>
#include <QRegularExpression>
#include <QSet>
#include <QStringList>
#include <QThread>

#include <atomic>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace mm::test {

struct ChaosOptions
{
    int seconds = 60;
    int clientsPerNode = 2;
    int deliveryIntervalMs = 700; // per node
    unsigned seed = 20261205;
    int settleTimeoutMs = 180000;
    // A client waits this long for each answer. Dovecot gives up its own lock waits after 60 s,
    // so a command unanswered after this is a hung server, and counts as broken.
    int answerTimeoutMs = 180000;
};

struct ChaosFigures
{
    QMap<QString, qint64> operations; // by kind
    qint64 failedCommands = 0;        // NO/BAD answers (a folder renamed away meanwhile, ...)
    int unanswered = 0;               // commands still unanswered after ChaosOptions::answerTimeoutMs
    int messagesCreated = 0;          // appended + delivered
    int expunged = 0;
    int duplicates = 0;   // (node, folder, Message-ID) seen more than once
    int lost = 0;         // expected on every node, missing on at least one
    int resurrected = 0;  // expunged by a client, present after settling
    int uidConflicts = 0; // (node, folder, uidvalidity, uid) naming two Message-IDs
    int messageDisagreements = 0; // a message in other folders or with other flags on a node
    int folderDisagreements = 0;
    int subscriptionDisagreements = 0;
    int messagesAtEnd = 0; // distinct Message-IDs on node 1 after settling
    double settleSeconds = -1; // from the end of the traffic to every node agreeing; -1: never
    QStringList examples;      // a few concrete findings for the test's message

    qint64 totalOperations() const
    {
        qint64 total = 0;
        for (qint64 n : operations)
            total += n;
        return total;
    }

    // Empty when the run kept every promise: the nodes settled, and nothing was lost, duplicated,
    // given a UID twice or seen differently on two nodes. Else what broke, with the examples.
    QString broken() const
    {
        QStringList what;
        if (settleSeconds < 0)
            what << QStringLiteral("the nodes never agreed");
        const QList<std::pair<const char *, int>> counts{
            {"commands unanswered", unanswered},
            {"duplicates", duplicates},
            {"lost", lost},
            {"UID conflicts", uidConflicts},
            {"message disagreements", messageDisagreements},
            {"folder disagreements", folderDisagreements},
            {"subscription disagreements", subscriptionDisagreements}};
        for (const auto &[name, count] : counts)
            if (count != 0)
                what << QStringLiteral("%1 %2").arg(QLatin1String(name)).arg(count);
        return what.isEmpty() ? QString() : what.join(QStringLiteral(", ")) + u'\n' + examples.join(u'\n');
    }

    QString summary() const
    {
        QStringList kinds;
        for (auto it = operations.begin(); it != operations.end(); ++it)
            kinds << QStringLiteral("%1 %2").arg(it.key()).arg(it.value());
        return QStringLiteral("%1 operations (%2; %3 refused, %15 of them unanswered), %4 messages created, %5 expunged, %6 at the end; "
                              "duplicates %7, lost %8, resurrected %9, UID conflicts %10, message disagreements %11, "
                              "folder disagreements %12, subscription disagreements %13; settled in %14 s")
            .arg(totalOperations())
            .arg(kinds.join(QStringLiteral(", ")))
            .arg(failedCommands)
            .arg(messagesCreated)
            .arg(expunged)
            .arg(messagesAtEnd)
            .arg(duplicates)
            .arg(lost)
            .arg(resurrected)
            .arg(uidConflicts)
            .arg(messageDisagreements)
            .arg(folderDisagreements)
            .arg(subscriptionDisagreements)
            .arg(settleSeconds, 0, 'f', 1)
            .arg(unanswered);
    }
};

class MailboxChaos
{
public:
    MailboxChaos(ChaosCluster &cluster, ChaosOptions options)
        : m_cluster(cluster)
        , m_options(options)
    {
        const QString tracePath = qEnvironmentVariable("MAILMESH_CHAOS_TRACE");
        if (!tracePath.isEmpty()) {
            m_trace.setFileName(tracePath);
            m_trace.open(QIODevice::WriteOnly | QIODevice::Truncate);
        }
    }

    ChaosFigures run()
    {
        std::atomic<bool> stop{false};
        std::vector<std::thread> threads;
        for (int n = 0; n < m_cluster.size(); ++n) {
            for (int c = 0; c < m_options.clientsPerNode; ++c)
                threads.emplace_back([this, n, c, &stop] { client(n, c, stop); });
            threads.emplace_back([this, n, &stop] { deliveries(n, stop); });
        }
        QThread::sleep((unsigned long)m_options.seconds);
        stop = true;
        for (std::thread &t : threads)
            t.join();
        settle();
        return m_figures;
    }

private:
    // One message as IMAP shows it on a node.
    struct Seen
    {
        QString folder;
        QStringList flags;
        bool operator==(const Seen &) const = default;
    };
    using NodeView = QMap<QByteArray, QList<Seen>>; // Message-ID -> where

    struct Snapshot
    {
        QStringList folders;
        QStringList subscribed;
        NodeView messages;
        bool ok = false;
    };

    void count(const QString &kind)
    {
        std::lock_guard lock(m_mutex);
        ++m_figures.operations[kind];
    }

    // With MAILMESH_CHAOS_TRACE=FILE every command that changes mail or folders is written there
    // with its time, node and answer: how a finding is followed through the nodes' own logs.
    void trace(int node, const QString &text)
    {
        std::lock_guard lock(m_mutex);
        if (!m_trace.isOpen())
            return;
        m_trace.write(QStringLiteral("%1 n%2 %3\n")
                          .arg(QTime::currentTime().toString(QStringLiteral("HH:mm:ss.zzz")))
                          .arg(node + 1)
                          .arg(text)
                          .toUtf8());
        m_trace.flush();
    }

    // Counts a failed command; one the server never answered is a finding of its own (its
    // outcome is unknown: the server may still carry it out). What the trace says of it.
    QString refused(const ImapClient &imap, int node, const QString &what)
    {
        std::lock_guard lock(m_mutex);
        ++m_figures.failedCommands;
        if (!imap.lastCommandTimedOut())
            return QStringLiteral("refused");
        ++m_figures.unanswered;
        if (m_figures.examples.size() < 12)
            m_figures.examples << QStringLiteral("node %1: %2 unanswered after %3 s")
                                      .arg(node + 1)
                                      .arg(what)
                                      .arg(m_options.answerTimeoutMs / 1000);
        return QStringLiteral("unanswered");
    }

    void example(const QString &text)
    {
        std::lock_guard lock(m_mutex);
        if (m_figures.examples.size() < 12)
            m_figures.examples << text;
    }

    QByteArray newMessageId(const char *how, int node)
    {
        std::lock_guard lock(m_mutex);
        ++m_figures.messagesCreated;
        return QByteArray(how) + QByteArray::number(++m_nextMessage) + ".n" + QByteArray::number(node + 1);
    }

    // Every FETCH is checked: one UID of one folder incarnation names one message, forever.
    void observe(int node, const QString &folder, quint32 uidValidity, const QList<ImapClient::Message> &messages)
    {
        std::lock_guard lock(m_mutex);
        for (const ImapClient::Message &m : messages) {
            // A message whose file went away during the FETCH comes back without its header.
            if (m.messageId.isEmpty())
                continue;
            const QString key = QStringLiteral("n%1/%2/%3/%4").arg(node + 1).arg(folder).arg(uidValidity).arg(m.uid);
            auto [it, fresh] = m_uids.try_emplace(key, m.messageId);
            if (!fresh && it->second != m.messageId) {
                ++m_figures.uidConflicts;
                if (m_figures.examples.size() < 12)
                    m_figures.examples << QStringLiteral("UID conflict %1: %2 and %3")
                                              .arg(key, QString::fromLatin1(it->second),
                                                   QString::fromLatin1(m.messageId));
            }
        }
    }

    // Recorded before the APPEND is sent: a DELETE of the folder on another node may already
    // be under way, and a message that may have been in a deleted folder is not expected.
    void creating(const QByteArray &id, const QString &folder)
    {
        std::lock_guard lock(m_mutex);
        m_foldersOf[id].insert(folder);
    }

    void notCreated(const QByteArray &id)
    {
        std::lock_guard lock(m_mutex);
        m_foldersOf.erase(id);
        --m_figures.messagesCreated;
    }

    void expunged(const QByteArray &id)
    {
        std::lock_guard lock(m_mutex);
        if (m_expunged.contains(id))
            return;
        m_expunged.insert(id);
        ++m_figures.expunged;
    }

    // Messages in a deleted folder are gone on purpose; a rename carries them along. Every folder a
    // message may have been in is kept (recorded before the command is sent, so a command racing
    // another node's is covered): a message that may have been in any deleted folder is not
    // expected to survive, every other one is.
    void folderDeleted(const QString &folder)
    {
        std::lock_guard lock(m_mutex);
        for (auto &[id, folders] : m_foldersOf)
            if (folders.contains(folder))
                m_deletedWithFolder.insert(id);
    }

    void folderRenaming(const QString &from, const QString &to)
    {
        std::lock_guard lock(m_mutex);
        for (auto &[id, folders] : m_foldersOf)
            if (folders.contains(from))
                folders.insert(to);
    }

    static QList<ImapClient::Message> fetch(ImapClient &imap, const QString &folder, bool *ok)
    {
        return imap.fetchAll(folder.toUtf8(), ok);
    }

    void client(int node, int index, const std::atomic<bool> &stop)
    {
        std::mt19937 random(m_options.seed + unsigned(node * 97 + index * 13));
        const auto chance = [&](int percent) { return int(random() % 100) < percent; };
        const auto pick = [&](const auto &list) { return list[int(random() % unsigned(list.size()))]; };
        // Mostly the newest mail, as people read it on two devices at once: the races that make
        // two names of one message on two nodes.
        const auto pickMessage = [&](const QList<ImapClient::Message> &list) {
            if (list.size() > 5 && chance(60))
                return list[list.size() - 1 - int(random() % 5u)];
            return pick(list);
        };
        static const QStringList flags{QStringLiteral("\\Seen"),     QStringLiteral("\\Flagged"),
                                       QStringLiteral("\\Answered"), QStringLiteral("$Junk"),
                                       QStringLiteral("$NotJunk"),   QStringLiteral("$label1"),
                                       QStringLiteral("$Forwarded"), QStringLiteral("$MDNSent"),
                                       QStringLiteral("Project-%1").arg(node + 1)};
        const QString own = QStringLiteral("n%1f").arg(node + 1);

        ImapClient imap;
        imap.setAnswerTimeout(m_options.answerTimeoutMs);
        if (!m_cluster.login(imap, node)) {
            example(QStringLiteral("node %1 client %2 could not log in").arg(node + 1).arg(index));
            return;
        }
        QStringList folders{QStringLiteral("INBOX")};
        QString current = QStringLiteral("INBOX");
        QList<ImapClient::Message> messages;
        while (!stop) {
            if (!imap.isConnected()) {
                // Dovecot ends a session whose selected folder another node deleted or renamed.
                count(QStringLiteral("reconnect"));
                QThread::msleep(100);
                if (!m_cluster.login(imap, node))
                    continue;
                messages.clear();
            }
            const int roll = int(random() % 100);
            if (roll < 12 || messages.isEmpty()) {
                // Look again: the folder list and the selected folder's messages.
                const QStringList listed = imap.listMailboxes();
                if (!listed.isEmpty())
                    folders = listed;
                current = chance(40) ? QStringLiteral("INBOX") : pick(folders);
                bool ok = false;
                messages = fetch(imap, current, &ok);
                if (ok)
                    observe(node, current, imap.uidValidity(), messages);
                count(QStringLiteral("select"));
                if (messages.isEmpty() && !chance(50))
                    continue;
            }
            if (roll < 32) {
                const QByteArray id = newMessageId("append", node);
                creating(makeMessageId(id), current);
                const bool appended = imap.append(current.toUtf8(), makeMessage(id));
                QString answer = QStringLiteral("ok");
                if (!appended) {
                    notCreated(makeMessageId(id));
                    answer = refused(imap, node, QStringLiteral("APPEND to ") + current);
                }
                trace(node, QStringLiteral("APPEND %1 %2 %3 uid %4")
                                .arg(current, QString::fromLatin1(id), answer)
                                .arg(imap.lastAppendUid().second));
                count(QStringLiteral("append"));
            } else if (roll < 67 && !messages.isEmpty()) {
                const ImapClient::Message m = pickMessage(messages);
                const QString flag = pick(flags);
                const bool add = chance(65);
                if (!imap.command(QStringLiteral("UID STORE %1 %2FLAGS.SILENT (%3)")
                                      .arg(m.uid)
                                      .arg(add ? QStringLiteral("+") : QStringLiteral("-"), flag)
                                      .toUtf8()))
                    refused(imap, node, QStringLiteral("STORE in ") + current);
                count(flag.startsWith(u'\\') ? QStringLiteral("flag") : QStringLiteral("keyword"));
            } else if (roll < 75 && !messages.isEmpty()) {
                const ImapClient::Message m = pickMessage(messages);
                const bool ok = imap.command(QStringLiteral("UID STORE %1 +FLAGS.SILENT (\\Deleted)").arg(m.uid).toUtf8())
                                && imap.command(QStringLiteral("UID EXPUNGE %1").arg(m.uid).toUtf8());
                const QString answer = ok ? QStringLiteral("ok") : refused(imap, node, QStringLiteral("EXPUNGE in ") + current);
                if (ok)
                    expunged(m.messageId);
                trace(node, QStringLiteral("EXPUNGE %1 uid %2 %3 %4")
                                .arg(current)
                                .arg(m.uid)
                                .arg(QString::fromLatin1(m.messageId), answer));
                messages.removeIf([&](const ImapClient::Message &x) { return x.uid == m.uid; });
                count(QStringLiteral("expunge"));
            } else if (roll < 81) {
                const QString name = own + QString::number(random() % 6);
                const bool created = imap.command("CREATE " + name.toUtf8());
                trace(node, QStringLiteral("CREATE %1 %2")
                                .arg(name, created ? QStringLiteral("ok") : refused(imap, node, QStringLiteral("CREATE ") + name)));
                count(QStringLiteral("create"));
            } else if (roll < 85) {
                const QStringList mine = folders.filter(QRegularExpression(QStringLiteral("^") + own));
                if (mine.isEmpty())
                    continue;
                const QString from = pick(mine);
                const QString to = own + QString::number(random() % 6);
                if (to == from)
                    continue;
                folderRenaming(from, to);
                trace(node, QStringLiteral("RENAME %1 %2 sent").arg(from, to));
                const bool renamed = imap.command("RENAME " + from.toUtf8() + ' ' + to.toUtf8());
                trace(node, QStringLiteral("RENAME %1 %2 %3")
                                .arg(from, to, renamed ? QStringLiteral("ok") : refused(imap, node, QStringLiteral("RENAME ") + from)));
                folderRenaming(from, to);
                count(QStringLiteral("rename"));
            } else if (roll < 88) {
                const QStringList mine = folders.filter(QRegularExpression(QStringLiteral("^") + own));
                if (mine.isEmpty())
                    continue;
                const QString victim = pick(mine);
                if (current == victim) {
                    imap.command("UNSELECT");
                    current = QStringLiteral("INBOX");
                    messages.clear();
                }
                // Before and after: whatever reached the folder until the DELETE was done (it may
                // wait for a lock for seconds) is gone with it, on purpose.
                folderDeleted(victim);
                trace(node, QStringLiteral("DELETE %1 sent").arg(victim));
                const bool deleted = imap.command("DELETE " + victim.toUtf8());
                trace(node, QStringLiteral("DELETE %1 %2")
                                .arg(victim, deleted ? QStringLiteral("ok") : refused(imap, node, QStringLiteral("DELETE ") + victim)));
                folderDeleted(victim);
                count(QStringLiteral("delete"));
            } else {
                const QString folder = pick(folders);
                if (!imap.command((chance(70) ? "SUBSCRIBE " : "UNSUBSCRIBE ") + folder.toUtf8()))
                    refused(imap, node, QStringLiteral("SUBSCRIBE ") + folder);
                count(QStringLiteral("subscribe"));
            }
        }
        imap.logout();
    }

    void deliveries(int node, const std::atomic<bool> &stop)
    {
        while (!stop) {
            const QByteArray id = newMessageId("delivered", node);
            creating(makeMessageId(id), QStringLiteral("INBOX"));
            if (!m_cluster.deliver(node, makeMessage(id)))
                notCreated(makeMessageId(id));
            count(QStringLiteral("delivery"));
            QThread::msleep(m_options.deliveryIntervalMs);
        }
    }

    Snapshot snapshot(int node)
    {
        Snapshot s;
        ImapClient imap;
        if (!m_cluster.login(imap, node))
            return s;
        s.folders = imap.listMailboxes();
        bool ok = true;
        s.subscribed = imap.listSubscribed(&ok);
        for (const QString &folder : std::as_const(s.folders)) {
            bool fetched = false;
            const QList<ImapClient::Message> messages = fetch(imap, folder, &fetched);
            ok = ok && fetched;
            observe(node, folder, imap.uidValidity(), messages);
            for (const ImapClient::Message &m : messages)
                s.messages[m.messageId].append({folder, m.flags});
        }
        s.ok = ok;
        return s;
    }

    static QString describe(const QList<Seen> &seen)
    {
        QStringList parts;
        for (const Seen &s : seen)
            parts << s.folder + u'(' + s.flags.join(u' ') + u')';
        return parts.join(QStringLiteral(", "));
    }

    // Waits until Syncthing is quiet and every node says the same, then counts.
    void settle()
    {
        QElapsedTimer clock;
        clock.start();
        std::vector<Snapshot> views;
        while (clock.elapsed() < m_options.settleTimeoutMs) {
            m_cluster.waitQuiet(60000);
            views.clear();
            bool agree = true;
            for (int n = 0; n < m_cluster.size(); ++n) {
                views.push_back(snapshot(n));
                agree = agree && views.back().ok;
                if (n > 0)
                    agree = agree && views[n].folders == views[0].folders
                            && views[n].subscribed == views[0].subscribed
                            && views[n].messages == views[0].messages;
            }
            if (agree) {
                m_figures.settleSeconds = clock.elapsed() / 1000.0;
                break;
            }
            QThread::msleep(1000);
        }
        tally(views);
    }

    void tally(const std::vector<Snapshot> &views)
    {
        m_figures.messagesAtEnd = int(views.empty() ? 0 : views[0].messages.size());
        for (std::size_t n = 1; n < views.size(); ++n) {
            if (views[n].folders != views[0].folders) {
                ++m_figures.folderDisagreements;
                example(QStringLiteral("folders on node 1: %1; on node %2: %3")
                            .arg(views[0].folders.join(u' '))
                            .arg(n + 1)
                            .arg(views[n].folders.join(u' ')));
            }
            if (views[n].subscribed != views[0].subscribed) {
                ++m_figures.subscriptionDisagreements;
                example(QStringLiteral("subscribed on node 1: %1; on node %2: %3")
                            .arg(views[0].subscribed.join(u' '))
                            .arg(n + 1)
                            .arg(views[n].subscribed.join(u' ')));
            }
        }
        QSet<QByteArray> everywhere;
        for (const Snapshot &view : views)
            for (auto it = view.messages.begin(); it != view.messages.end(); ++it)
                everywhere.insert(it.key());
        for (const QByteArray &id : std::as_const(everywhere)) {
            for (std::size_t n = 0; n < views.size(); ++n) {
                const QList<Seen> seen = views[n].messages.value(id);
                QSet<QString> folders;
                for (const Seen &s : seen)
                    if (folders.contains(s.folder)) {
                        ++m_figures.duplicates;
                        example(QStringLiteral("%1 twice on node %2: %3")
                                    .arg(QString::fromLatin1(id))
                                    .arg(n + 1)
                                    .arg(describe(seen)));
                    } else {
                        folders.insert(s.folder);
                    }
                if (n > 0 && seen != views[0].messages.value(id)) {
                    ++m_figures.messageDisagreements;
                    example(QStringLiteral("%1 is %2 on node 1 but %3 on node %4")
                                .arg(QString::fromLatin1(id), describe(views[0].messages.value(id)), describe(seen))
                                .arg(n + 1));
                }
            }
            if (m_expunged.contains(id))
                ++m_figures.resurrected;
        }
        for (const auto &[id, folders] : m_foldersOf) {
            if (m_expunged.contains(id) || m_deletedWithFolder.contains(id))
                continue;
            for (std::size_t n = 0; n < views.size(); ++n)
                if (!views[n].messages.contains(id)) {
                    ++m_figures.lost;
                    example(QStringLiteral("%1 (in %2) is missing on node %3")
                                .arg(QString::fromLatin1(id), QStringList(folders.values()).join(u','))
                                .arg(n + 1));
                    break;
                }
        }
    }

    static QByteArray makeMessageId(const QByteArray &id) { return '<' + id + "@mailmesh.test>"; }

    ChaosCluster &m_cluster;
    ChaosOptions m_options;
    std::mutex m_mutex;
    ChaosFigures m_figures;
    int m_nextMessage = 0;
    std::map<QString, QByteArray> m_uids;
    std::map<QByteArray, QSet<QString>> m_foldersOf; // Message-ID -> every folder it may have been in
    QSet<QByteArray> m_expunged;
    QSet<QByteArray> m_deletedWithFolder;
    QFile m_trace;
};

} // namespace mm::test
