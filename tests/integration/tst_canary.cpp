// The replication canary and status --prometheus on three sandbox nodes with the patched Dovecot,
// set up through mailmeshctl (issue #25): `canary` measures every ordered pair and removes its
// probes everywhere again; a probe is no IMAP folder, no message and no duplicate; a probe a
// crash left behind goes at the next run; status --json and --check carry the figures and
// status --prometheus prints text a strict parser of the format accepts, with the expected
// series; a node whose Syncthing is stopped makes its pairs time out, the run still ends.
// MAILMESH_CANARY_RUNS=N measures N runs (3 by default) and prints p50/p95 of the latencies.

#include "ctlcluster.h"

#include "../unit/prometheustextparser.h"

#include <QtTest>

#include <algorithm>
#include <cmath>

using namespace mm;
using namespace mm::test;

namespace {

const QString kPrefix = QStringLiteral(MAILMESH_DOVECOT_PREFIX);

double percentile(QList<double> values, double p)
{
    std::sort(values.begin(), values.end());
    const auto i = qsizetype(std::ceil(p * double(values.size()))) - 1;
    return values.isEmpty() ? 0 : values[std::clamp<qsizetype>(i, 0, values.size() - 1)];
}

// The canary's JSON report among mailmeshctl's output lines.
QJsonObject canaryReport(const CtlRun &run)
{
    for (const QByteArray &line : run.output.split('\n')) {
        const QJsonObject object = QJsonDocument::fromJson(line).object();
        if (object.contains(QStringLiteral("pairs")))
            return object;
    }
    return {};
}

} // namespace

class TestCanary : public QObject
{
    Q_OBJECT

private:
    CtlCluster m_cluster;
    QTemporaryDir m_scratch;

    // The probe files in a node's canary directory (its tmp/ left out).
    QStringList probesOn(int n)
    {
        const auto listed = m_cluster.sandbox().runOnNode(
            n, QStringLiteral("ls -A '%1/.mailmesh-canary' 2>/dev/null; true").arg(m_cluster.sandbox().node(n).mailRoot));
        if (!listed)
            return {QStringLiteral("(ssh failed)")};
        QStringList names = QString::fromUtf8(listed->standardOutput).split(u'\n', Qt::SkipEmptyParts);
        names.removeAll(QStringLiteral("tmp"));
        return names;
    }

    bool noProbesAnywhere()
    {
        for (int n = 0; n < m_cluster.size(); ++n)
            if (!probesOn(n).isEmpty())
                return false;
        return true;
    }

    // mailmeshctl without --json (status --prometheus refuses it): exit code and stdout.
    std::pair<int, QByteArray> runPlain(const QStringList &arguments)
    {
        QProcess process;
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert(QStringLiteral("HOME"), m_cluster.homePath());
        environment.insert(QStringLiteral("XDG_CONFIG_HOME"), m_cluster.homePath() + QStringLiteral("/.config"));
        environment.insert(QStringLiteral("MAILMESH_AGENT"), QStringLiteral(MAILMESH_AGENT_BINARY));
        process.setProcessEnvironment(environment);
        process.start(QStringLiteral(MAILMESHCTL_BINARY),
                      QStringList{QStringLiteral("--cluster"), m_cluster.clusterFilePath()} + arguments);
        if (!process.waitForFinished(300000)) {
            process.kill();
            process.waitForFinished();
            return {-1, {}};
        }
        return {process.exitCode(), process.readAllStandardOutput()};
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (kPrefix.isEmpty())
            QSKIP("MAILMESH_DOVECOT_PREFIX is not configured: run installers/dovecot/build-prefix.sh and configure "
                  "with -DMAILMESH_DOVECOT_PREFIX=<the path it prints>");
        CtlCluster::Options options;
        options.dovecotPrefix = kPrefix;
        options.migrate = false;
        const QString error = m_cluster.setUp(options);
        QVERIFY2(error.isEmpty(), qPrintable(error));
    }

    void cleanupTestCase() { m_cluster.tearDown(); }

    // A probe that sits in the mail root long enough to be looked for: written as the agent
    // writes one, with the mtime of a run killed two hours ago.
    void aProbeIsNoMailboxNoMessageAndNoDuplicate()
    {
        const QString root = m_cluster.sandbox().node(0).mailRoot;
        ImapClient before;
        QVERIFY(m_cluster.login(before, 0));
        const QStringList mailboxes = before.listMailboxes();
        before.logout();
        QVERIFY(!mailboxes.isEmpty());

        const QString probe = QStringLiteral("node1.7.1765000000000");
        const auto written = m_cluster.sandbox().runOnNode(
            0, QStringLiteral("cd '%1' && mkdir -p .mailmesh-canary/tmp && chmod 700 .mailmesh-canary "
                              "&& echo 'canary probe' > .mailmesh-canary/tmp/%2 && touch -d '2 hours ago' .mailmesh-canary/tmp/%2 "
                              "&& mv .mailmesh-canary/tmp/%2 .mailmesh-canary/%2")
                   .arg(root, probe));
        QVERIFY(written && written->exitCode == 0);
        for (int n = 1; n < m_cluster.size(); ++n)
            QTRY_VERIFY_WITH_TIMEOUT(probesOn(n).contains(probe), 30000);

        for (int n = 0; n < m_cluster.size(); ++n) {
            ImapClient imap;
            QVERIFY(m_cluster.login(imap, n));
            QCOMPARE(imap.listMailboxes(), mailboxes);
            QVERIFY(!imap.select("mailmesh-canary"));
            QVERIFY(!imap.select(".mailmesh-canary"));
            imap.logout();
        }
        QVERIFY(m_cluster.run({QStringLiteral("status"), QStringLiteral("--no-canary")}).isEmpty());
        const QJsonObject status = QJsonDocument::fromJson(m_cluster.lastRun().output.split('\n').first()).object();
        QVERIFY2(!status.isEmpty(), m_cluster.lastRun().output.constData());
        QCOMPARE(status.value(QStringLiteral("duplicateGroups")).toInt(), 0);
        QVERIFY(!status.value(QStringLiteral("mailboxes")).toArray().isEmpty());
        for (const QJsonValue &mailbox : status.value(QStringLiteral("mailboxes")).toArray())
            QVERIFY2(!mailbox.toObject().value(QStringLiteral("mailbox")).toString().contains(QLatin1String("canary")),
                     qPrintable(mailbox.toObject().value(QStringLiteral("mailbox")).toString()));
        QVERIFY(probesOn(0).contains(probe)); // status --no-canary leaves it alone

        // The next run sweeps what a crash left behind, and Syncthing carries the deletion.
        QVERIFY2(m_cluster.run({QStringLiteral("canary"), QStringLiteral("--timeout"), QStringLiteral("30")}).isEmpty(),
                 m_cluster.lastRun().output.constData());
        QTRY_VERIFY_WITH_TIMEOUT(noProbesAnywhere(), 30000);
    }

    void everyPairIsMeasuredAndCleanedUp()
    {
        const int runs = qEnvironmentVariableIsSet("MAILMESH_CANARY_RUNS") ? qEnvironmentVariableIntValue("MAILMESH_CANARY_RUNS") : 3;
        QList<double> latencies;
        QMap<QString, int> noticedBy;
        for (int run = 0; run < runs; ++run) {
            const QString failed = m_cluster.run({QStringLiteral("canary"), QStringLiteral("--timeout"), QStringLiteral("30")});
            QVERIFY2(failed.isEmpty(), qPrintable(failed + QString::fromUtf8(m_cluster.lastRun().output)));
            const QJsonObject report = canaryReport(m_cluster.lastRun());
            const QJsonArray pairs = report.value(QStringLiteral("pairs")).toArray();
            QCOMPARE(pairs.size(), 6);
            QSet<QString> seen;
            for (const QJsonValue &value : pairs) {
                const QJsonObject pair = value.toObject();
                seen.insert(pair.value(QStringLiteral("origin")).toString() + u'>' + pair.value(QStringLiteral("observer")).toString());
                const double latency = pair.value(QStringLiteral("latencySeconds")).toDouble(-1);
                QVERIFY2(latency > 0, QJsonDocument(pair).toJson(QJsonDocument::Compact).constData());
                latencies << latency;
                ++noticedBy[pair.value(QStringLiteral("noticedBy")).toString()];
            }
            QCOMPARE(seen.size(), 6);
            QVERIFY2(report.value(QStringLiteral("cleanedUp")).toBool(), QJsonDocument(report).toJson().constData());
            // The run saw every probe gone on every node before it ended.
            QVERIFY2(noProbesAnywhere(), qPrintable(probesOn(0).join(u' ') + u'|' + probesOn(1).join(u' ') + u'|'
                                                    + probesOn(2).join(u' ')));
        }
        qInfo("canary on 3 sandbox nodes, %d runs, %lld pairs: p50 %.3f s, p95 %.3f s, max %.3f s; noticed by event %d, "
              "by poll %d",
              runs, qlonglong(latencies.size()), percentile(latencies, 0.5), percentile(latencies, 0.95),
              *std::max_element(latencies.cbegin(), latencies.cend()), noticedBy.value(QStringLiteral("event")),
              noticedBy.value(QStringLiteral("poll")));
    }

    void statusCarriesTheCanaryAndPrometheusParses()
    {
        QVERIFY2(m_cluster.run({QStringLiteral("status")}).isEmpty(), m_cluster.lastRun().output.constData());
        const QJsonObject status = QJsonDocument::fromJson(m_cluster.lastRun().output.split('\n').first()).object();
        const QJsonArray pairs = status.value(QStringLiteral("canary")).toObject().value(QStringLiteral("pairs")).toArray();
        QCOMPARE(pairs.size(), 6);
        for (const QJsonValue &pair : pairs) {
            QVERIFY(pair.toObject().value(QStringLiteral("latestSeconds")).toDouble() > 0);
            QCOMPARE(pair.toObject().value(QStringLiteral("samples")).toInt(), 1);
        }

        auto [code, line] = runPlain({QStringLiteral("status"), QStringLiteral("--check"), QStringLiteral("--canary-warn"),
                                      QStringLiteral("0")});
        QVERIFY2(code >= 1 && line.contains(" took ") && line.contains(" canary="), line.constData());
        std::tie(code, line) = runPlain({QStringLiteral("status"), QStringLiteral("--check"), QStringLiteral("--canary-warn"),
                                         QStringLiteral("1000"), QStringLiteral("--canary-crit"), QStringLiteral("2000")});
        QVERIFY2(code != 2 && !line.contains(" took ") && line.contains(" canary="), line.constData());

        const QString file = m_scratch.path() + QStringLiteral("/metrics/mailmesh.prom");
        QVERIFY(QDir().mkpath(m_scratch.path() + QStringLiteral("/metrics")));
        std::tie(code, line) = runPlain({QStringLiteral("status"), QStringLiteral("--prometheus")});
        QCOMPARE(code, 0);
        for (const QString &text : {QString::fromUtf8(line), QString()}) {
            QString exposition = text;
            if (exposition.isEmpty()) {
                const auto written = runPlain({QStringLiteral("status"), QStringLiteral("--prometheus"),
                                               QStringLiteral("--output"), file});
                QCOMPARE(written.first, 0);
                QVERIFY(written.second.isEmpty());
                QFile metrics(file);
                QVERIFY(metrics.open(QIODevice::ReadOnly));
                exposition = QString::fromUtf8(metrics.readAll());
                QCOMPARE(QDir(m_scratch.path() + QStringLiteral("/metrics")).entryList(QDir::Files | QDir::Hidden),
                         QStringList{QStringLiteral("mailmesh.prom")});
            }
            const PrometheusExposition parsed = PrometheusTextParser::parse(exposition);
            QVERIFY2(parsed.error.isEmpty(), qPrintable(parsed.error + u'\n' + exposition));
            QCOMPARE(parsed.series(QStringLiteral("mailmesh_node_up")).size(), 3);
            for (const PrometheusSample &up : parsed.series(QStringLiteral("mailmesh_node_up")))
                QCOMPARE(up.value, 1.0);
            QCOMPARE(parsed.series(QStringLiteral("mailmesh_peer_in_sync")).size(), 6);
            QCOMPARE(parsed.series(QStringLiteral("mailmesh_peer_need_items")).size(), 6);
            QCOMPARE(parsed.series(QStringLiteral("mailmesh_quarantine_files")).size(), 3);
            QCOMPARE(parsed.series(QStringLiteral("mailmesh_node_last_seen_timestamp_seconds")).size(), 3);
            const auto canary = parsed.series(QStringLiteral("mailmesh_canary_latency_seconds"));
            QCOMPARE(canary.size(), 6);
            for (const PrometheusSample &sample : canary) {
                QVERIFY(sample.value > 0);
                QVERIFY(sample.labels.contains(QStringLiteral("node")) && sample.labels.contains(QStringLiteral("peer")));
            }
            QCOMPARE(parsed.value(QStringLiteral("mailmesh_uid_conflicts")), 0.0);
            QCOMPARE(parsed.value(QStringLiteral("mailmesh_duplicate_groups")), 0.0);
            QCOMPARE(parsed.value(QStringLiteral("mailmesh_status_settled")), 1.0);
        }
        QVERIFY(noProbesAnywhere());
    }

    void aNodeWithoutSyncthingTimesOut()
    {
        QVERIFY(m_cluster.sandbox().stopSyncthing(2));
        const CtlRun run = runMailmeshctl(m_cluster.homePath(), m_cluster.clusterFilePath(),
                                          {QStringLiteral("canary"), QStringLiteral("--timeout"), QStringLiteral("8")});
        QCOMPARE(run.exitCode, 4); // ended by itself, not killed
        const QJsonObject report = canaryReport(run);
        int measured = 0;
        for (const QJsonValue &value : report.value(QStringLiteral("pairs")).toArray()) {
            const QJsonObject pair = value.toObject();
            const bool withNode3 = pair.value(QStringLiteral("origin")).toString() == QLatin1String("node3")
                                   || pair.value(QStringLiteral("observer")).toString() == QLatin1String("node3");
            if (withNode3) {
                QCOMPARE(pair.value(QStringLiteral("failure")).toString(), QStringLiteral("timeout"));
            } else {
                QVERIFY(pair.value(QStringLiteral("latencySeconds")).toDouble() > 0);
                ++measured;
            }
        }
        QCOMPARE(measured, 2);
        QVERIFY(m_cluster.sandbox().startSyncthing(2));
        QVERIFY(m_cluster.waitQuiet());
        QTRY_VERIFY_WITH_TIMEOUT(noProbesAnywhere(), 30000);
    }
};

QTEST_GUILESS_MAIN(TestCanary)
#include "tst_canary.moc"
