#include "maildir/keywordfiles.h"
#include "maildir/keywordsettle.h"

#include <nlohmann/json.hpp>

#include <QtTest>

using namespace Qt::StringLiterals;
using mm::maildir::FolderKeywordReport;
using mm::maildir::Keywords;
using mm::maildir::KeywordSettlement;

namespace {

// "a=$Junk;c=Work" -> a table
Keywords table(const std::string &spec)
{
    Keywords k;
    std::size_t pos = 0;
    while (pos < spec.size()) {
        std::size_t end = spec.find(';', pos);
        if (end == std::string::npos)
            end = spec.size();
        const std::string item = spec.substr(pos, end - pos);
        if (item.size() > 2 && item[1] == '=')
            k.names[std::size_t(item[0] - 'a')] = item.substr(2);
        pos = end + 1;
    }
    return k;
}

std::string spec(const Keywords &k)
{
    std::string out;
    for (std::size_t i = 0; i < Keywords::kMaxKeywords; ++i)
        if (!k.names[i].empty())
            out += (out.empty() ? "" : ";") + std::string(1, char('a' + i)) + "=" + k.names[i];
    return out;
}

std::string renames(const KeywordSettlement &s)
{
    std::string out;
    for (std::size_t i = 0; i < Keywords::kMaxKeywords; ++i)
        if (s.renameTo[i] != '\0')
            out += (out.empty() ? "" : ";") + std::string(1, char('a' + i)) + ">" + s.renameTo[i];
    return out;
}

FolderKeywordReport report(const std::string &tableSpec, const std::string &usedLetters = {})
{
    FolderKeywordReport r;
    r.folder = ".Work";
    r.table = table(tableSpec);
    for (char c : usedLetters)
        r.letterUse[std::size_t(c - 'a')] = 3;
    return r;
}

} // namespace

class TestKeywordSettle : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void settle_data();
    void settle();
    void foldersWithoutKeywordsNeedNothing();
    void renameLetters_data();
    void renameLetters();
    void placeholders_data();
    void placeholders();
    void jsonRoundTrip();
};

void TestKeywordSettle::settle_data()
{
    QTest::addColumn<QStringList>("tables"); // one per node, cluster order
    QTest::addColumn<QString>("used");       // letters the messages carry (same on every node)
    QTest::addColumn<QString>("expectedTable");
    QTest::addColumn<QString>("expectedRenames");
    QTest::addColumn<int>("notes");

    QTest::newRow("all agree") << QStringList{u"a=$Junk;b=Work"_s, u"a=$Junk;b=Work"_s}
                               << u"ab"_s << u"a=$Junk;b=Work"_s << QString() << 0;
    QTest::newRow("a node that has not seen a letter yet")
        << QStringList{u"a=$Junk;b=Work"_s, u"a=$Junk"_s} << u"ab"_s << u"a=$Junk;b=Work"_s
        << QString() << 0;
    // Two nodes gave one keyword a letter each: the smaller letter stays, names move to it.
    QTest::newRow("one name, two letters")
        << QStringList{u"a=$Junk"_s, u"b=$Junk"_s} << u"ab"_s << u"a=$Junk"_s << u"b>a"_s << 0;
    QTest::newRow("case does not make another keyword")
        << QStringList{u"c=$label1"_s, u"a=$Label1"_s} << u"ac"_s << u"a=$Label1"_s << u"c>a"_s
        << 0;
    // The race this all exists for: three nodes each gave letter a to their own keyword.
    QTest::newRow("one letter, three names: the first node's stays, noted")
        << QStringList{u"a=$Node1"_s, u"a=$Node2"_s, u"a=$Node3"_s} << u"a"_s << u"a=$Node1"_s
        << QString() << 1;
    QTest::newRow("letter used but named nowhere: noted, kept")
        << QStringList{u"a=$Junk"_s, u"a=$Junk"_s} << u"ak"_s << u"a=$Junk"_s << QString() << 1;
}

void TestKeywordSettle::settle()
{
    QFETCH(QStringList, tables);
    QFETCH(QString, used);
    QFETCH(QString, expectedTable);
    QFETCH(QString, expectedRenames);
    QFETCH(int, notes);

    std::vector<std::vector<FolderKeywordReport>> reports;
    std::vector<std::string> ids;
    for (const QString &t : tables) {
        reports.push_back({report(t.toStdString(), used.toStdString())});
        ids.push_back("node" + std::to_string(ids.size() + 1));
    }
    const auto settled = mm::maildir::settleKeywords(reports, ids);
    QCOMPARE(settled.size(), std::size_t(1));
    QCOMPARE(QString::fromStdString(spec(settled[0].table)), expectedTable);
    QCOMPARE(QString::fromStdString(renames(settled[0])), expectedRenames);
    QCOMPARE(int(settled[0].notes.size()), notes);
    QCOMPARE(settled[0].folder, std::string(".Work"));
    // Deterministic: the same reports decide the same, however often.
    QCOMPARE(nlohmann::json(mm::maildir::settleKeywords(reports, ids)), nlohmann::json(settled));
}

void TestKeywordSettle::foldersWithoutKeywordsNeedNothing()
{
    std::vector<std::vector<FolderKeywordReport>> reports{{report("")}, {report("")}};
    QVERIFY(mm::maildir::settleKeywords(reports, {"node1", "node2"}).empty());
}

void TestKeywordSettle::renameLetters_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("expected");

    QTest::newRow("moves and sorts") << u"1700000000.M1P2.host,S=10:2,Sb"_s << u"1700000000.M1P2.host,S=10:2,Sa"_s;
    QTest::newRow("merges with the target letter")
        << u"1700000000.M1P2.host:2,Sab"_s << u"1700000000.M1P2.host:2,Sa"_s;
    QTest::newRow("other letters stay") << u"x:2,FSbc"_s << u"x:2,FSac"_s;
    QTest::newRow("nothing to rename") << u"x:2,RSc"_s << u"x:2,RSc"_s;
    QTest::newRow("no info") << u"1700000000.M1P2.host"_s << u"1700000000.M1P2.host"_s;
    QTest::newRow("flags before the info stay") << u"x,S=5:2,b"_s << u"x,S=5:2,a"_s;
}

void TestKeywordSettle::renameLetters()
{
    QFETCH(QString, name);
    QFETCH(QString, expected);
    std::array<char, Keywords::kMaxKeywords> renameTo{};
    renameTo['b' - 'a'] = 'a';
    QCOMPARE(QString::fromStdString(mm::maildir::renameKeywordLetters(name.toStdString(), renameTo)), expected);
}

void TestKeywordSettle::placeholders_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("placeholder");
    QTest::newRow("dovecot's") << u"unknown-3"_s << true;
    QTest::newRow("made unique") << u"unknown-12??"_s << true;
    QTest::newRow("no number") << u"unknown-"_s << false;
    QTest::newRow("a real keyword") << u"unknown-project"_s << false;
    QTest::newRow("$Junk") << u"$Junk"_s << false;
}

void TestKeywordSettle::placeholders()
{
    QFETCH(QString, name);
    QFETCH(bool, placeholder);
    QCOMPARE(mm::maildir::isDovecotPlaceholderKeyword(name.toStdString()), placeholder);

    // A placeholder yields to a real name on another node; alone, it stays.
    std::vector<std::vector<FolderKeywordReport>> reports{{report("c=" + name.toStdString(), "c")},
                                                          {report("c=$Real", "c")}};
    const auto settled = mm::maildir::settleKeywords(reports, {"node1", "node2"});
    QCOMPARE(settled.size(), std::size_t(1));
    QCOMPARE(QString::fromStdString(settled[0].table.names[2]), placeholder ? u"$Real"_s : name);
}

void TestKeywordSettle::jsonRoundTrip()
{
    KeywordSettlement s;
    s.folder = std::string(".Caf\xc3\xa9");
    s.table = table("a=$Junk;z=Last");
    s.renameTo['c' - 'a'] = 'a';
    s.notes = {"a note"};
    const nlohmann::json j = s;
    QCOMPARE(j.value("schemaVersion", 0), KeywordSettlement::kSchemaVersion);
    const KeywordSettlement back = j.get<KeywordSettlement>();
    QCOMPARE(back.folder, s.folder);
    QCOMPARE(back.table.names, s.table.names);
    QCOMPARE(back.renameTo, s.renameTo);
    QCOMPARE(back.notes, s.notes);

    // A hostile plan cannot rename into something that is not a letter.
    nlohmann::json hostile = j;
    hostile["renames"] = {{"c", "/"}, {"d", "dd"}, {"e", "e"}, {"F", "a"}};
    const KeywordSettlement cleaned = hostile.get<KeywordSettlement>();
    QVERIFY(!cleaned.renamesLetters());

    FolderKeywordReport r = report("a=$Junk", "az");
    const FolderKeywordReport rb = nlohmann::json(r).get<FolderKeywordReport>();
    QCOMPARE(rb.folder, r.folder);
    QCOMPARE(rb.table.names, r.table.names);
    QCOMPARE(rb.letterUse, r.letterUse);
}

QTEST_GUILESS_MAIN(TestKeywordSettle)
#include "tst_keywordsettle.moc"
