// What mailmeshctl and the GUI read from a workflow: the report's exit codes and JSON, the
// Dovecot command lines built from a node's facts, and the terminal progress line.

#include "cluster/dovecot/dovecotcontrol.h"
#include "cluster/workflows/preparenodeworkflow.h"
#include "cluster/workflows/workflow.h"
#include "workflowprinter.h"

#include <QJsonArray>
#include <QTest>

using namespace mm;
using namespace mm::cluster;

class TestWorkflowReport : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void exitCodesFollowTheArchitecture_data()
    {
        QTest::addColumn<std::optional<ErrorCode>>("error");
        QTest::addColumn<bool>("skipped");
        QTest::addColumn<int>("exitCode");
        QTest::newRow("ok") << std::optional<ErrorCode>() << false << 0;
        QTest::newRow("skipped items") << std::optional<ErrorCode>() << true << 1;
        QTest::newRow("bad input") << std::optional<ErrorCode>(ErrorCode::BadRequest) << false << 2;
        QTest::newRow("stock dovecot") << std::optional<ErrorCode>(ErrorCode::Unsupported) << false << 2;
        QTest::newRow("failed") << std::optional<ErrorCode>(ErrorCode::IoError) << true << 3;
        QTest::newRow("not in sync") << std::optional<ErrorCode>(ErrorCode::Conflict) << false << 3;
        QTest::newRow("unknown host key") << std::optional<ErrorCode>(ErrorCode::UnknownHostKey) << false << 4;
        QTest::newRow("unreachable") << std::optional<ErrorCode>(ErrorCode::Unreachable) << false << 4;
    }

    void exitCodesFollowTheArchitecture()
    {
        QFETCH(std::optional<ErrorCode>, error);
        QFETCH(bool, skipped);
        QFETCH(int, exitCode);
        WorkflowReport report;
        report.skippedItems = skipped;
        if (error)
            report.error = Error{*error, "x", {}};
        QCOMPARE(report.exitCode(), exitCode);
        QCOMPARE(report.toJson().value(QStringLiteral("exitCode")).toInt(), exitCode);
    }

    void jsonCarriesStepsErrorAndNextAction()
    {
        WorkflowReport report;
        report.workflow = QStringLiteral("migrate");
        report.steps = {{QStringLiteral("connect"), QStringLiteral("Connect"), WorkflowStep::State::Done, QStringLiteral("3 nodes"), 12},
                        {QStringLiteral("freeze"), QStringLiteral("Freeze"), WorkflowStep::State::Failed, QStringLiteral("node3: hold failed"), 5},
                        {QStringLiteral("convert"), QStringLiteral("Convert"), WorkflowStep::State::Pending, {}, 0}};
        report.error = onNode(QStringLiteral("node3"), Error{ErrorCode::IoError, "hold failed", {}});
        report.nextAction = QStringLiteral("run it again");
        const QJsonObject json = report.toJson();
        QCOMPARE(json.value(QStringLiteral("workflow")).toString(), QStringLiteral("migrate"));
        QCOMPARE(json.value(QStringLiteral("error")).toObject().value(QStringLiteral("code")).toString(), QStringLiteral("io-error"));
        QCOMPARE(json.value(QStringLiteral("error")).toObject().value(QStringLiteral("message")).toString(),
                 QStringLiteral("node3: hold failed"));
        QCOMPARE(json.value(QStringLiteral("nextAction")).toString(), QStringLiteral("run it again"));
        const QJsonArray steps = json.value(QStringLiteral("steps")).toArray();
        QCOMPARE(steps.size(), 3);
        QCOMPARE(steps[1].toObject().value(QStringLiteral("state")).toString(), QStringLiteral("failed"));
        QCOMPARE(steps[2].toObject().value(QStringLiteral("state")).toString(), QStringLiteral("pending"));
        QVERIFY(!steps[2].toObject().contains(QStringLiteral("detail")));
    }

    void onNodeNamesTheNodeOnce()
    {
        const Error once = onNode(QStringLiteral("node2"), Error{ErrorCode::Timeout, "no answer", {}});
        QCOMPARE(once.message, std::string("node2: no answer"));
        QCOMPARE(onNode(QStringLiteral("node2"), once).message, std::string("node2: no answer"));
        QCOMPARE(once.code, ErrorCode::Timeout);
    }

    void dovecotCommandsFollowTheNodesFacts()
    {
        DovecotFacts packages;
        QCOMPARE(dovecotcontrol::curOnlySnippetPath(packages), QStringLiteral("/etc/dovecot/conf.d/99-mailmesh-cur-only.conf"));
        QCOMPARE(dovecotcontrol::readCurOnlySetting(packages),
                 (QStringList{QStringLiteral("doveconf"), QStringLiteral("-h"), QStringLiteral("maildir_cur_only")}));
        QCOMPARE(dovecotcontrol::reload(packages), (QList<QStringList>{{QStringLiteral("doveadm"), QStringLiteral("reload")}}));
        QVERIFY(dovecotcontrol::dovecotBinary(packages).isEmpty());

        DovecotFacts prefix;
        prefix.prefix = QStringLiteral("/opt/dc");
        prefix.configFile = QStringLiteral("/srv/node1/dovecot.conf");
        QCOMPARE(dovecotcontrol::curOnlySnippetPath(prefix), QStringLiteral("/srv/node1/conf.d/99-mailmesh-cur-only.conf"));
        QCOMPARE(dovecotcontrol::readCurOnlySetting(prefix),
                 (QStringList{QStringLiteral("/opt/dc/bin/doveconf"), QStringLiteral("-c"), QStringLiteral("/srv/node1/dovecot.conf"),
                              QStringLiteral("-h"), QStringLiteral("maildir_cur_only")}));
        QCOMPARE(dovecotcontrol::reload(prefix).first(),
                 (QStringList{QStringLiteral("/opt/dc/bin/doveadm"), QStringLiteral("-c"), QStringLiteral("/srv/node1/dovecot.conf"),
                              QStringLiteral("reload")}));
        QCOMPARE(dovecotcontrol::dovecotBinary(prefix), QStringLiteral("/opt/dc/sbin/dovecot"));

        prefix.reloadCommand = {{QStringLiteral("systemctl"), QStringLiteral("reload"), QStringLiteral("dovecot")}};
        QCOMPARE(dovecotcontrol::reload(prefix), prefix.reloadCommand);
        QVERIFY(dovecotcontrol::curOnlySnippet(true).contains("\nmaildir_cur_only = yes\n"));
        QVERIFY(dovecotcontrol::curOnlySnippet(false).contains("\nmaildir_cur_only = no\n"));
    }

    void inotifyTargetKeepsHeadroomAndAFloor()
    {
        QCOMPARE(PrepareNodeWorkflow::inotifyWatchTarget(0), qint64(204800));
        QCOMPARE(PrepareNodeWorkflow::inotifyWatchTarget(90000), qint64(204800));
        QCOMPARE(PrepareNodeWorkflow::inotifyWatchTarget(300000), qint64(600000));
    }

    void progressLineShowsBarCountsAndEta_data()
    {
        QTest::addColumn<qint64>("done");
        QTest::addColumn<qint64>("total");
        QTest::addColumn<int>("eta");
        QTest::addColumn<QString>("line");
        QTest::newRow("half") << qint64(1200) << qint64(2400) << 42 << QStringLiteral("node1 [#####.....] 50% 1,200/2,400 ETA 0:42");
        QTest::newRow("unknown eta") << qint64(0) << qint64(10) << -1 << QStringLiteral("node1 [..........] 0% 0/10 ETA --:--");
        QTest::newRow("hours") << qint64(10) << qint64(10) << 3725 << QStringLiteral("node1 [##########] 100% 10/10 ETA 1:02:05");
        QTest::newRow("no total") << qint64(7) << qint64(0) << -1 << QStringLiteral("node1 7");
    }

    void progressLineShowsBarCountsAndEta()
    {
        QFETCH(qint64, done);
        QFETCH(qint64, total);
        QFETCH(int, eta);
        QFETCH(QString, line);
        QCOMPARE(ctl::WorkflowPrinter::progressLine({{}, QStringLiteral("node1"), done, total, eta, {}}, 10), line);
    }
};

QTEST_GUILESS_MAIN(TestWorkflowReport)
#include "tst_workflowreport.moc"
