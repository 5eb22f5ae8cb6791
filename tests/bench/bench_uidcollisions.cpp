// The question behind uidPolicy (docs/architecture.md, "UIDs across nodes"), measured: UID
// collisions per 1,000 concurrent APPENDs on two cur/-only nodes, with dovecot-uidlist replicated
// by Syncthing and with it kept per node (ignored by Syncthing); and what an IMAP client sees
// when it switches nodes under each.
//
// A collision is one UID handed out by both nodes (same UIDVALIDITY) to two different messages
// in their APPENDUID answers. The per-node run is the baseline of the printed ratio.
//
//   bench_uidcollisions [appends]      (default 1000, split evenly over the two nodes)

#include "sandboxmailcluster.h"

#include <QCoreApplication>
#include <QTextStream>

#include <cstdio>
#include <thread>

using mm::test::ImapClient;
using MailCluster = mm::test::SandboxMailCluster;

namespace {

struct Outcome
{
    QString policy;
    int appends = 0;
    int failedAppends = 0;
    int collisions = 0;           // same (UIDVALIDITY, UID) given to two different messages
    QList<int> messagesPerNode;   // after quiescence, in INBOX
    QList<int> duplicatesPerNode; // one Message-ID listed twice
    QList<int> lostPerNode;       // appended but not listed
    QList<int> uidMovedPerNode;   // the appending node lists the message under another UID
    QList<quint32> uidValidity;
    int switchWrongMessage = 0;    // switching client: same UID shows another message
    int switchMissing = 0;         // switching client: UID it knew is gone
    bool switchFullResync = false; // UIDVALIDITY differs: the client must drop its cache
};

QTextStream &out()
{
    static QTextStream s(stdout);
    return s;
}

Outcome run(bool replicateUidlist, int appends, const QString &dovecotPrefix)
{
    Outcome o;
    o.policy = replicateUidlist ? QStringLiteral("replicated") : QStringLiteral("per-node");
    o.appends = appends;
    MailCluster cluster;
    MailCluster::Options options;
    options.nodes = 2;
    options.dovecotPrefix = dovecotPrefix;
    options.curOnly = true;
    options.replicateUidlist = replicateUidlist;
    if (const QString error = cluster.start(options); !error.isEmpty()) {
        out() << "cluster failed: " << error << Qt::endl;
        std::exit(3);
    }
    {
        ImapClient seed;
        cluster.login(seed, 0);
        seed.append("INBOX", mm::test::makeMessage("seed"));
    }
    cluster.waitQuiet();
    {
        ImapClient other;
        cluster.login(other, 1);
        other.select("INBOX");
    }
    cluster.waitQuiet();

    // node -> (uid -> message id) as APPENDUID told the client; node -> uidvalidity.
    QMap<int, QMap<quint32, QByteArray>> appended;
    QMap<int, quint32> appendValidity;
    std::vector<std::thread> threads;
    std::atomic<int> failed{0};
    std::vector<QMap<quint32, QByteArray>> perThread(2);
    std::vector<quint32> validity(2, 0);
    for (int n = 0; n < 2; ++n) {
        threads.emplace_back([&, n] {
            ImapClient imap;
            if (!cluster.login(imap, n)) {
                failed += appends / 2;
                return;
            }
            for (int k = 0; k < appends / 2; ++k) {
                const QByteArray id = o.policy.toLatin1() + "-n" + QByteArray::number(n) + "-" +
                                      QByteArray::number(k);
                if (!imap.append("INBOX", mm::test::makeMessage(id))) {
                    ++failed;
                    continue;
                }
                const auto [v, uid] = imap.lastAppendUid();
                validity[n] = v;
                perThread[n].insert(uid, "<" + id + "@mailmesh.test>");
            }
        });
    }
    for (auto &t : threads)
        t.join();
    o.failedAppends = failed;
    for (int n = 0; n < 2; ++n) {
        appended[n] = perThread[n];
        appendValidity[n] = validity[n];
    }
    if (appendValidity[0] == appendValidity[1]) {
        for (auto it = appended[0].cbegin(); it != appended[0].cend(); ++it)
            if (appended[1].contains(it.key()) && appended[1].value(it.key()) != it.value())
                ++o.collisions;
    }

    // Quiescence: Syncthing quiet and a Dovecot sync on both nodes changing nothing more.
    QMap<int, QMap<quint32, QByteArray>> listed;
    QByteArray previous;
    for (int round = 0; round < 12; ++round) {
        cluster.waitQuiet(120000);
        QByteArray signature;
        listed.clear();
        o.uidValidity.clear();
        for (int n = 0; n < 2; ++n) {
            ImapClient imap;
            cluster.login(imap, n);
            for (const auto &m : imap.fetchAll("INBOX"))
                listed[n].insert(m.uid, m.messageId);
            o.uidValidity << imap.uidValidity();
            for (auto it = listed[n].cbegin(); it != listed[n].cend(); ++it)
                signature += QByteArray::number(it.key()) + it.value();
            signature += '|';
        }
        if (signature == previous)
            break;
        previous = signature;
    }

    QSet<QByteArray> expected;
    for (int n = 0; n < 2; ++n)
        for (const QByteArray &id : std::as_const(appended[n]))
            expected.insert(id);
    for (int n = 0; n < 2; ++n) {
        const QList<QByteArray> ids = listed[n].values();
        const QSet<QByteArray> unique(ids.begin(), ids.end());
        o.messagesPerNode << int(ids.size());
        o.duplicatesPerNode << int(ids.size() - unique.size());
        o.lostPerNode << int((expected - unique).size());
        int moved = 0;
        for (auto it = appended[n].cbegin(); it != appended[n].cend(); ++it)
            if (listed[n].value(it.key()) != it.value())
                ++moved;
        o.uidMovedPerNode << moved;
    }

    // A client synced with node 1 switches to node 2.
    o.switchFullResync = o.uidValidity.value(0) != o.uidValidity.value(1);
    if (!o.switchFullResync) {
        for (auto it = listed[0].cbegin(); it != listed[0].cend(); ++it) {
            if (!listed[1].contains(it.key()))
                ++o.switchMissing;
            else if (listed[1].value(it.key()) != it.value())
                ++o.switchWrongMessage;
        }
    }
    return o;
}

QString list(const QList<int> &v)
{
    QStringList s;
    for (int x : v)
        s << QString::number(x);
    return s.join(QLatin1Char('/'));
}

void print(const Outcome &o)
{
    const double per1000 = o.appends ? 1000.0 * o.collisions / o.appends : 0.0;
    out() << "policy=" << o.policy << " appends=" << o.appends << " failed=" << o.failedAppends
          << " collisions=" << o.collisions << " collisionsPer1000=" << per1000
          << " messages(node1/node2)=" << list(o.messagesPerNode)
          << " duplicates=" << list(o.duplicatesPerNode) << " lost=" << list(o.lostPerNode)
          << " uidChangedAfterAppend=" << list(o.uidMovedPerNode)
          << " uidvalidity=" << o.uidValidity.value(0) << "/" << o.uidValidity.value(1) << Qt::endl;
    out() << "  switching node1->node2: "
          << (o.switchFullResync
                  ? QStringLiteral("UIDVALIDITY differs: the client drops its cache and "
                                   "downloads the mailbox again (no wrong message shown)")
                  : QStringLiteral("same UIDVALIDITY: %1 UIDs show another message, %2 UIDs "
                                   "vanished")
                        .arg(o.switchWrongMessage)
                        .arg(o.switchMissing))
          << Qt::endl;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QString prefix = QStringLiteral(MAILMESH_DOVECOT_PREFIX);
    if (prefix.isEmpty()) {
        out() << "SKIP: MAILMESH_DOVECOT_PREFIX is not configured "
                 "(installers/dovecot/build-prefix.sh)"
              << Qt::endl;
        return 0;
    }
    const int appends = argc > 1 ? std::max(2, std::atoi(argv[1])) : 1000;

    const Outcome baseline = run(false, appends, prefix);
    print(baseline);
    const Outcome replicated = run(true, appends, prefix);
    print(replicated);
    const double base = std::max(1, baseline.collisions);
    out() << "ratio collisions replicated/per-node(baseline, floor 1) = "
          << replicated.collisions / base << Qt::endl;
    return 0;
}
