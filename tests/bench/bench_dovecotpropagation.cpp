// How long a flag change made over IMAP on node 1 takes until IMAP on node 2 shows it (p50, p95),
// on two cur/-only nodes replicated by Syncthing (fsWatcherDelayS=1). The baseline, measured in
// the same run, is Syncthing alone: a plain file written on node 1 until it exists on node 2.
//
//   bench_dovecotpropagation [samples]      (default 30)

#include "sandboxmailcluster.h"
#include "benchstats.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QTextStream>
#include <QThread>

#include <algorithm>

using mm::test::ImapClient;
using MailCluster = mm::test::SandboxMailCluster;

namespace {

QTextStream &out()
{
    static QTextStream s(stdout);
    return s;
}

using mm::bench::percentile;

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
    const int samples = argc > 1 ? std::max(3, std::atoi(argv[1])) : 30;

    MailCluster cluster;
    MailCluster::Options options;
    options.nodes = 2;
    // MAILMESH_BENCH_STOCK=1: the same measurement on the system Dovecot and a classic Maildir.
    const bool stock = !qEnvironmentVariableIsEmpty("MAILMESH_BENCH_STOCK");
    options.dovecotPrefix = stock ? QStringLiteral("/usr") : prefix;
    options.curOnly = !stock;
    options.replicateUidlist = false;
    if (const QString error = cluster.start(options); !error.isEmpty()) {
        out() << "cluster failed: " << error << Qt::endl;
        return 3;
    }
    {
        ImapClient seed;
        cluster.login(seed, 0);
        seed.append("INBOX", mm::test::makeMessage("probe"));
    }
    cluster.waitQuiet();

    // Baseline: Syncthing alone.
    QList<double> fileMs;
    for (int k = 0; k < samples; ++k) {
        const QString name = QStringLiteral("/bench-probe-%1").arg(k);
        QElapsedTimer t;
        t.start();
        QFile probe(cluster.maildir(0) + name);
        if (!probe.open(QIODevice::WriteOnly) || probe.write("x") != 1) {
            out() << "cannot write " << probe.fileName() << Qt::endl;
            return 3;
        }
        probe.close();
        while (!QFileInfo::exists(cluster.maildir(1) + name) && t.elapsed() < 60000)
            QThread::msleep(5);
        fileMs << double(t.nsecsElapsed()) / 1e6;
        QThread::msleep(200);
    }

    ImapClient writer, reader;
    cluster.login(writer, 0);
    cluster.login(reader, 1);
    const auto writerView = writer.fetchAll("INBOX");
    const auto readerView = reader.fetchAll("INBOX");
    if (writerView.isEmpty() || readerView.isEmpty()) {
        out() << "the probe message did not replicate" << Qt::endl;
        return 3;
    }
    const QByteArray writerUid = QByteArray::number(writerView.first().uid);
    const QByteArray readerUid = QByteArray::number(readerView.first().uid);

    QList<double> imapMs;
    int timeouts = 0;
    for (int k = 0; k < samples; ++k) {
        const bool set = k % 2 == 0;
        QElapsedTimer t;
        t.start();
        writer.command("UID STORE " + writerUid + (set ? " +" : " -") + "FLAGS (\\Flagged)");
        bool seen = false;
        while (!seen && t.elapsed() < 60000) {
            QList<QByteArray> lines;
            reader.command("NOOP");
            reader.command("UID FETCH " + readerUid + " (FLAGS)", &lines);
            for (const QByteArray &l : std::as_const(lines))
                if (l.contains("FETCH") && l.contains("\\Flagged") == set)
                    seen = true;
            if (!seen)
                QThread::msleep(10);
        }
        if (!seen) {
            // Tell a stale session from a change that never arrived: a fresh one selects anew.
            ++timeouts;
            ImapClient fresh;
            cluster.login(fresh, 1);
            const auto view = fresh.fetchAll("INBOX");
            const bool freshSees =
                !view.isEmpty() && view.first().flags.contains(QStringLiteral("\\Flagged")) == set;
            out() << "sample " << k << ": not visible after 60 s in the open session; a fresh "
                  << "session " << (freshSees ? "sees it" : "does not see it either") << Qt::endl;
            reader.logout();
            cluster.login(reader, 1);
            reader.select("INBOX");
        }
        imapMs << double(t.nsecsElapsed()) / 1e6;
        QThread::msleep(200);
    }

    const double fileP50 = percentile(fileMs, 0.5), fileP95 = percentile(fileMs, 0.95);
    const double imapP50 = percentile(imapMs, 0.5), imapP95 = percentile(imapMs, 0.95);
    out() << (stock ? "stock dovecot, classic Maildir" : "cur/-only dovecot")
          << " samples=" << samples << " timeouts=" << timeouts << Qt::endl;
    out() << "baseline syncthing file node1->node2: p50=" << fileP50 << " ms p95=" << fileP95
          << " ms" << Qt::endl;
    out() << "flag change IMAP node1 -> IMAP node2: p50=" << imapP50 << " ms p95=" << imapP95
          << " ms" << Qt::endl;
    out() << "ratio imap/baseline: p50=" << (fileP50 > 0 ? imapP50 / fileP50 : 0)
          << " p95=" << (fileP95 > 0 ? imapP95 / fileP95 : 0) << Qt::endl;
    return timeouts == 0 ? 0 : 1;
}
