// Answers too large for one frame (issue #20): the agent's streamIfLarge sends their lists as
// items, splitting an element that alone is too large (a convert folder with a huge plan), and
// the app's AgentCall::assembleStreamed puts the very same document back together. Exit codes
// computed from a streamed result match the ones of the whole result.

#include "largeresult.h"

#include "protocol/version.h"
#include "remote/agentcall.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace mm;
using nlohmann::json;

namespace {

QJsonObject toQt(const json &value)
{
    return QJsonDocument::fromJson(QByteArray::fromStdString(value.dump())).object();
}

// A convert dry run's plan (a real run lists no names): one folder with `moves` names in new/, a
// small folder, some problems.
json convertResult(int moves, int problems)
{
    json big = {{"path", "example.org/alice"}, {"stateBefore", "classic"}, {"skipped", false},
                {"createTmp", false}, {"swapNew", true}, {"finishSwap", false},
                {"moves", json::array()}, {"renames", json::array()}, {"quarantines", json::array()}};
    for (int i = 0; i < moves; ++i)
        big["moves"].push_back("17000" + std::to_string(i) + ".M" + std::to_string(i) + "P4242.mail.example.org,S=4096");
    big["renames"].push_back({{"from", "1.M1P1.h:2,F"}, {"to", "1.M1P1.h-mm8d74beec1be99632:2,F"},
                              {"sha256", std::string(64, 'a')}, {"reason", "base-collision"}});
    big["quarantines"].push_back({{"name", ".dot"}, {"reason", "dotfile-in-new"}, {"size", 2}});
    json small = {{"path", "example.org/bob"}, {"stateBefore", "classic"}, {"moves", json::array({"2.M2P2.h"})},
                  {"renames", json::array()}, {"quarantines", json::array()}};
    json result = {{"schemaVersion", 1}, {"dryRun", true}, {"root", "/var/vmail"},
                   {"folders", json::array({big, small})}, {"problems", json::array()},
                   {"totals", {{"moved", moves + 1}}}};
    for (int i = 0; i < problems; ++i)
        result["problems"].push_back({{"kind", i % 2 ? "action-failed" : "symlink"},
                                      {"path", "p" + std::to_string(i)}, {"detail", "d"}});
    return result;
}

} // namespace

class TestLargeResult : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void smallAnswersStayWhole()
    {
        const json result = convertResult(10, 2);
        int items = 0;
        const json out = agent::streamIfLarge(result, protocol::ItemSink([&](json) { ++items; }),
                                              {{"folders", "folder"}, {"problems", "problem"}});
        QCOMPARE(items, 0);
        QVERIFY(out == result);
    }

    void aHugeFolderIsSplitAndPutBackTogether()
    {
        // About 12 MiB of names in one folder: more than a frame can carry after escaping, and
        // more than one item may hold.
        const json result = convertResult(200000, 30);
        QList<QJsonObject> items;
        std::size_t largestItem = 0;
        const json out = agent::streamIfLarge(result, protocol::ItemSink([&](json item) {
                                                  largestItem = std::max(largestItem, agent::dumpedSize(item));
                                                  items << toQt(item);
                                              }),
                                              {{"folders", "folder"}, {"problems", "problem"}});
        QVERIFY(!out.contains("folders"));
        QVERIFY(!out.contains("problems"));
        QVERIFY(items.size() > 4); // the big folder in parts, the small one, 30 problems
        QVERIFY2(largestItem <= agent::kItemBudget + 4096, std::to_string(largestItem).c_str());
        QVERIFY(largestItem < protocol::kMaxFrameBytes / 2);
        QCOMPARE(out["streamed"]["folderItems"].get<int>(), int(items.size()) - 30);
        QCOMPARE(out["streamed"]["problemItems"].get<int>(), 30);
        QCOMPARE(out["streamed"]["problemKinds"]["action-failed"].get<int>(), 15);
        // The exit codes read the same counts from the streamed result.
        QCOMPARE(agent::problemCount(out, "action-failed"), agent::problemCount(result, "action-failed"));
        QCOMPARE(agent::problemCount(out), std::size_t(30));

        QJsonObject assembled = remote::AgentCall::assembleStreamed(toQt(out), items);
        assembled.remove(QStringLiteral("streamed"));
        QCOMPARE(assembled, toQt(result));
    }

    // Results of agents from before the "lists" descriptor: folders and problems.
    void olderStreamedResultsAreUnderstood()
    {
        const QJsonObject result{{QStringLiteral("streamed"),
                                  QJsonObject{{QStringLiteral("folderItems"), 1}, {QStringLiteral("problemItems"), 1}}}};
        const QList<QJsonObject> items{
            QJsonObject{{QStringLiteral("folder"), QJsonObject{{QStringLiteral("path"), QStringLiteral("a")}}}},
            QJsonObject{{QStringLiteral("problem"), QJsonObject{{QStringLiteral("kind"), QStringLiteral("symlink")}}}}};
        const QJsonObject assembled = remote::AgentCall::assembleStreamed(result, items);
        QCOMPARE(assembled.value(QStringLiteral("folders")).toArray().size(), 1);
        QCOMPARE(assembled.value(QStringLiteral("problems")).toArray().size(), 1);
    }
};

QTEST_GUILESS_MAIN(TestLargeResult)
#include "tst_largeresult.moc"
