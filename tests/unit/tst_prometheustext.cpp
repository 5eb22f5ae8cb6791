// `status --prometheus` (issue #25): the exposition writer escapes label values and help texts,
// writes one HELP and one TYPE per family, refuses what the format would not accept (bad names, a
// second series with the same labels); the cluster's metrics read back through a strict parser of
// the text format with the expected series. The parser is checked too, on texts it must refuse.
// The canary's history keeps the latest run and the p95 of the last hour per pair; status
// --check judges the canary's latencies.

#include "prometheustextparser.h"
#include "snapshotfactory.h"

#include "cluster/monitor/canaryhistory.h"
#include "cluster/monitor/clustermetrics.h"
#include "cluster/monitor/prometheustext.h"
#include "cluster/monitor/statuscheck.h"

#include <QtTest>

using namespace mm;
using namespace mm::cluster;
using mm::test::PrometheusTextParser;

namespace {

CanaryReport canaryRun(const QDateTime &at, const QList<std::tuple<QString, QString, std::optional<double>>> &pairs)
{
    CanaryReport report;
    report.startedAt = at.addSecs(-2);
    report.finishedAt = at;
    for (const auto &[origin, observer, latency] : pairs)
        report.pairs << CanaryPairResult{origin, observer, latency, latency ? QString() : QStringLiteral("timeout"),
                                         latency ? QStringLiteral("event") : QString()};
    return report;
}

} // namespace

class TestPrometheusText : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void labelValuesAndHelpAreEscaped()
    {
        PrometheusText text;
        QVERIFY(text.family(QStringLiteral("mailmesh_test_seconds"), PrometheusText::Type::Gauge,
                            QStringLiteral("a help with a \\ backslash,\na line feed and \"quotes\"")));
        const QString hostile = QStringLiteral("a\\b\"c\nd}e,f=g");
        QVERIFY(text.sample(QStringLiteral("mailmesh_test_seconds"), {{QStringLiteral("node"), hostile}}, 1.5));
        const QString out = text.text();
        QVERIFY2(out.contains(QLatin1String("{node=\"a\\\\b\\\"c\\nd}e,f=g\"} 1.5\n")), qPrintable(out));
        QVERIFY(out.contains(QLatin1String("# HELP mailmesh_test_seconds a help with a \\\\ backslash,\\na line feed and \"quotes\"\n")));
        const auto parsed = PrometheusTextParser::parse(out);
        QVERIFY2(parsed.error.isEmpty(), qPrintable(parsed.error));
        QCOMPARE(parsed.samples.size(), 1);
        QCOMPARE(parsed.samples[0].labels.value(QStringLiteral("node")), hostile);
        QCOMPARE(parsed.helps.value(QStringLiteral("mailmesh_test_seconds")),
                 QStringLiteral("a help with a \\ backslash,\na line feed and \"quotes\""));
    }

    void oneTypePerFamilyAndNoSeriesTwice()
    {
        PrometheusText text;
        QVERIFY(text.family(QStringLiteral("mailmesh_a"), PrometheusText::Type::Gauge, QStringLiteral("a")));
        QVERIFY(!text.family(QStringLiteral("mailmesh_a"), PrometheusText::Type::Counter, QStringLiteral("again")));
        QVERIFY(text.family(QStringLiteral("mailmesh_b_total"), PrometheusText::Type::Counter, QStringLiteral("b")));
        QVERIFY(text.family(QStringLiteral("mailmesh_unused"), PrometheusText::Type::Gauge, QStringLiteral("no samples")));
        const PrometheusText::Labels ab{{QStringLiteral("node"), QStringLiteral("n1")}, {QStringLiteral("peer"), QStringLiteral("n2")}};
        const PrometheusText::Labels ba{{QStringLiteral("peer"), QStringLiteral("n2")}, {QStringLiteral("node"), QStringLiteral("n1")}};
        QVERIFY(text.sample(QStringLiteral("mailmesh_a"), ab, 1));
        QVERIFY(text.sample(QStringLiteral("mailmesh_b_total"), {}, 2));
        // Samples of one family stay together even when added between another's.
        QVERIFY(text.sample(QStringLiteral("mailmesh_a"), {{QStringLiteral("node"), QStringLiteral("n2")}}, 3));
        QVERIFY(!text.sample(QStringLiteral("mailmesh_a"), ab, 4));
        QVERIFY(!text.sample(QStringLiteral("mailmesh_a"), ba, 4)); // the same series in another order
        QVERIFY(!text.sample(QStringLiteral("mailmesh_nothing"), {}, 1));
        QVERIFY(!text.sample(QStringLiteral("mailmesh_a"), {{QStringLiteral("__name__"), QStringLiteral("x")}}, 1));
        QVERIFY(!text.sample(QStringLiteral("mailmesh_a"), {{QStringLiteral("bad-label"), QStringLiteral("x")}}, 1));
        QVERIFY(!text.sample(QStringLiteral("mailmesh_a"),
                             {{QStringLiteral("node"), QStringLiteral("x")}, {QStringLiteral("node"), QStringLiteral("y")}}, 1));
        QVERIFY(!text.family(QStringLiteral("9mailmesh"), PrometheusText::Type::Gauge, QStringLiteral("bad")));
        QVERIFY(!text.family(QStringLiteral("mailmesh-a"), PrometheusText::Type::Gauge, QStringLiteral("bad")));
        QCOMPARE(text.errors().size(), 9);
        const QString out = text.text();
        QCOMPARE(out, QStringLiteral("# HELP mailmesh_a a\n# TYPE mailmesh_a gauge\n"
                                     "mailmesh_a{node=\"n1\",peer=\"n2\"} 1\nmailmesh_a{node=\"n2\"} 3\n"
                                     "# HELP mailmesh_b_total b\n# TYPE mailmesh_b_total counter\nmailmesh_b_total 2\n"));
        QVERIFY(PrometheusTextParser::parse(out).error.isEmpty());
    }

    void values_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<QString>("text");
        QTest::newRow("integer") << 42.0 << "42";
        QTest::newRow("fraction") << 0.1 << "0.1";
        QTest::newRow("negative") << -2.5 << "-2.5";
        QTest::newRow("epoch seconds") << 1765015200.123 << "1765015200.123";
        QTest::newRow("huge") << 1e21 << "1e+21";
        QTest::newRow("nan") << std::nan("") << "NaN";
        QTest::newRow("plus infinity") << double(INFINITY) << "+Inf";
        QTest::newRow("minus infinity") << double(-INFINITY) << "-Inf";
    }

    void values()
    {
        QFETCH(double, value);
        QFETCH(QString, text);
        QCOMPARE(PrometheusText::formatValue(value), text);
    }

    void theParserRefusesWhatTheSpecDoesNotAllow_data()
    {
        QTest::addColumn<QString>("text");
        QTest::newRow("no final line feed") << "# TYPE a gauge\na 1";
        QTest::newRow("sample without TYPE") << "a 1\n";
        QTest::newRow("TYPE after the sample") << "# TYPE b gauge\nb 1\na 1\n# TYPE a gauge\n";
        QTest::newRow("two TYPE lines") << "# TYPE a gauge\n# TYPE a counter\na 1\n";
        QTest::newRow("unknown type") << "# TYPE a meter\na 1\n";
        QTest::newRow("the same series twice") << "# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n";
        QTest::newRow("a family split") << "# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na{x=\"2\"} 1\n";
        QTest::newRow("bad escape") << "# TYPE a gauge\na{x=\"\\t\"} 1\n";
        QTest::newRow("unterminated label") << "# TYPE a gauge\na{x=\"1} 1\n";
        QTest::newRow("bad label name") << "# TYPE a gauge\na{1x=\"1\"} 1\n";
        QTest::newRow("not a number") << "# TYPE a gauge\na one\n";
        QTest::newRow("bad timestamp") << "# TYPE a gauge\na 1 soon\n";
        QTest::newRow("bad metric name") << "# TYPE a-b gauge\n";
    }

    void theParserRefusesWhatTheSpecDoesNotAllow()
    {
        QFETCH(QString, text);
        QVERIFY(!PrometheusTextParser::parse(text).error.isEmpty());
    }

    void theParserAcceptsWhatTheSpecAllows()
    {
        const auto parsed = PrometheusTextParser::parse(QStringLiteral(
            "# a comment\n\n# HELP a the \\\\ help\n# TYPE a gauge\na{x=\"1\",y=\"\\\"\"} +Inf 1700000000000\na NaN\n"));
        QVERIFY2(parsed.error.isEmpty(), qPrintable(parsed.error));
        QCOMPARE(parsed.samples.size(), 2);
        QCOMPARE(parsed.samples[0].labels.value(QStringLiteral("y")), QStringLiteral("\""));
    }

    void theClusterMetricsParseAndHaveTheirSeries()
    {
        auto state = std::make_shared<ClusterState>(*test::snapshotOf({QStringLiteral("n1"), QStringLiteral("n2")}));
        state->takenAt = QDateTime::fromSecsSinceEpoch(1'800'000'100);
        state->nodes[0].quarantinedFiles = 3;
        state->nodes[0].quarantinedBytes = 4096;
        state->nodes[1].reachability = Reachability::Unreachable;
        state->peers[1].connected = false;
        state->peers[1].needItems = 7;
        state->folders << FolderState{QStringLiteral("n1"), QStringLiteral("idle"), 0, 0, 0, {}};
        state->duplicateGroups = 2;
        state->crossNodeChecked = true;
        state->uidConflicts = 1;
        state->keywordClashes = 0;
        CanaryHistory history;
        const QDateTime at = QDateTime::fromSecsSinceEpoch(1'800'000'000);
        history.add(canaryRun(at, {{QStringLiteral("n1"), QStringLiteral("n2"), 0.75}, {QStringLiteral("n2"), QStringLiteral("n1"), {}}}));
        state->canary = history.latencies(state->takenAt);
        state->canaryLastRunAt = at;

        const QString text = clusterMetrics(*state, true);
        const auto parsed = PrometheusTextParser::parse(text);
        QVERIFY2(parsed.error.isEmpty(), qPrintable(parsed.error + u'\n' + text));
        for (const QString &family : parsed.types.keys()) {
            QVERIFY2(family.startsWith(QLatin1String("mailmesh_")), qPrintable(family));
            QVERIFY(parsed.helps.contains(family));
        }
        const auto node = [](const char *id) { return QMap<QString, QString>{{QStringLiteral("node"), QLatin1String(id)}}; };
        const auto link = [](const char *id, const char *peer) {
            return QMap<QString, QString>{{QStringLiteral("node"), QLatin1String(id)}, {QStringLiteral("peer"), QLatin1String(peer)}};
        };
        QCOMPARE(parsed.value(QStringLiteral("mailmesh_node_up"), node("n1")), 1.0);
        QCOMPARE(parsed.value(QStringLiteral("mailmesh_node_up"), node("n2")), 0.0);
        QCOMPARE(parsed.value(QStringLiteral("mailmesh_node_last_seen_timestamp_seconds"), node("n1")), 1'800'000'000.0);
        QCOMPARE(parsed.value(QStringLiteral("mailmesh_quarantine_bytes"), node("n1")), 4096.0);
        QVERIFY(parsed.series(QStringLiteral("mailmesh_quarantine_files")).size() == 1); // n2's is unknown: left out
        QCOMPARE(parsed.value(QStringLiteral("mailmesh_peer_in_sync"), link("n1", "n2")), 1.0);
        QCOMPARE(parsed.value(QStringLiteral("mailmesh_peer_in_sync"), link("n2", "n1")), 0.0);
        QCOMPARE(parsed.value(QStringLiteral("mailmesh_peer_need_items"), link("n2", "n1")), 7.0);
        QCOMPARE(parsed.value(QStringLiteral("mailmesh_peer_completion_ratio"), link("n1", "n2")), 1.0);
        QCOMPARE(parsed.value(QStringLiteral("mailmesh_canary_latency_seconds"), link("n1", "n2")), 0.75);
        QCOMPARE(parsed.value(QStringLiteral("mailmesh_canary_latency_p95_seconds"), link("n1", "n2")), 0.75);
        QVERIFY(std::isnan(parsed.value(QStringLiteral("mailmesh_canary_latency_seconds"), link("n2", "n1"))));
        QCOMPARE(parsed.value(QStringLiteral("mailmesh_canary_arrived"), link("n2", "n1")), 0.0);
        QCOMPARE(parsed.value(QStringLiteral("mailmesh_canary_failures"), link("n2", "n1")), 1.0);
        QCOMPARE(parsed.value(QStringLiteral("mailmesh_duplicate_groups")), 2.0);
        QCOMPARE(parsed.value(QStringLiteral("mailmesh_uid_conflicts")), 1.0);
        QCOMPARE(parsed.value(QStringLiteral("mailmesh_keyword_clashes")), 0.0);
        QCOMPARE(parsed.value(QStringLiteral("mailmesh_status_settled")), 1.0);
        QCOMPARE(parsed.types.value(QStringLiteral("mailmesh_canary_latency_seconds")), QStringLiteral("gauge"));
    }

    void theCanaryHistoryKeepsAnHour()
    {
        CanaryHistory history;
        const QDateTime start = QDateTime::fromSecsSinceEpoch(1'800'000'000);
        // 20 runs a minute apart: 1 s ... 20 s, the 10th one lost.
        for (int i = 1; i <= 20; ++i)
            history.add(canaryRun(start.addSecs(60 * i), {{QStringLiteral("a"), QStringLiteral("b"),
                                                          i == 10 ? std::optional<double>() : std::optional<double>(i)}}));
        auto pairs = history.latencies(start.addSecs(60 * 20));
        QCOMPARE(pairs.size(), 1);
        QCOMPARE(pairs[0].latestSeconds, std::optional<double>(20));
        QCOMPARE(pairs[0].samples, 19);
        QCOMPARE(pairs[0].failures, 1);
        QCOMPARE(pairs[0].p95Seconds, std::optional<double>(20)); // nearest rank: the 19th of 19
        // An hour later only the runs of the last hour count.
        history.add(canaryRun(start.addSecs(60 * 20 + 3600 - 30), {{QStringLiteral("a"), QStringLiteral("b"), 0.5}}));
        pairs = history.latencies(start.addSecs(60 * 20 + 3600 - 30));
        QCOMPARE(pairs[0].samples, 2); // the run at minute 20 and this one
        QCOMPARE(pairs[0].failures, 0);
        QCOMPARE(pairs[0].latestSeconds, std::optional<double>(0.5));
        QCOMPARE(CanaryHistory::percentile({}, 0.95), std::optional<double>());
    }

    void statusCheckJudgesTheCanary()
    {
        auto state = std::make_shared<ClusterState>(*test::snapshotOf({QStringLiteral("n1"), QStringLiteral("n2")}));
        state->crossNodeChecked = true;
        CanaryHistory history;
        const QDateTime at = QDateTime::fromSecsSinceEpoch(1'800'000'000);
        const auto judge = [&](std::optional<double> latency) {
            history.add(canaryRun(at, {{QStringLiteral("n1"), QStringLiteral("n2"), latency},
                                       {QStringLiteral("n2"), QStringLiteral("n1"), 0.5}}));
            state->canary = history.latencies(at);
            state->canaryLastRunAt = at;
            return checkStatus(*state, StatusThresholds{}, true);
        };
        StatusVerdict verdict = judge(1.0);
        QCOMPARE(verdict.code, 0);
        QVERIFY2(verdict.line.contains(QLatin1String(" canary=1.000s;10;60")), qPrintable(verdict.line));
        verdict = judge(15.0);
        QCOMPARE(verdict.code, 1);
        QVERIFY2(verdict.line.contains(QLatin1String("canary n1->n2 took 15.0 s")), qPrintable(verdict.line));
        verdict = judge(90.0);
        QCOMPARE(verdict.code, 2);
        verdict = judge({});
        QCOMPARE(verdict.code, 2);
        QVERIFY2(verdict.line.contains(QLatin1String("canary probe did not arrive: n1->n2")), qPrintable(verdict.line));
        // In JSON, with the p95 of the hour.
        const QJsonObject canary = stateToJson(*state).value(QStringLiteral("canary")).toObject();
        QCOMPARE(canary.value(QStringLiteral("pairs")).toArray().size(), 2);
        const QJsonObject first = canary.value(QStringLiteral("pairs")).toArray().first().toObject();
        QCOMPARE(first.value(QStringLiteral("latestFailure")).toString(), QStringLiteral("timeout"));
        QCOMPARE(first.value(QStringLiteral("p95Seconds")).toDouble(), 90.0);
    }
};

QTEST_GUILESS_MAIN(TestPrometheusText)
#include "tst_prometheustext.moc"
