#include "maildir/dedupe.h"
#include "maildir/dupes.h"
#include "maildir/quarantineadmin.h"
#include "maildir/restore.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <map>

using namespace mm::maildir;

namespace {

void writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly), qPrintable(path));
    f.write(bytes);
}

void makeFolder(const QString &dir, bool curOnly = true)
{
    QVERIFY(QDir().mkpath(dir + QStringLiteral("/cur")));
    QVERIFY(QDir().mkpath(dir + QStringLiteral("/tmp")));
    if (curOnly)
        QVERIFY(QFile::link(QStringLiteral("cur"), dir + QStringLiteral("/new")));
    else
        QVERIFY(QDir().mkpath(dir + QStringLiteral("/new")));
}

QByteArray message(const QByteArray &id, const QByteArray &body, const QByteArray &extra = {})
{
    QByteArray m = extra;
    if (!id.isEmpty())
        m += "Message-ID: " + id + "\r\n";
    return m + "Subject: test\r\n\r\n" + body;
}

} // namespace

class TestDupes : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void keeperFlags_data();
    void keeperFlags();
    void findsAllKinds();
    void onlyWithinOneFolder();
    void classicFolderNewAndCur();
    void groupIdIsStable();
    void groupsAreDescribedByTheirFirstCopysHeader();
    void dedupeDryRunChangesNothing();
    void dedupeSelectedGroupRestoreAndPurge();
};

void TestDupes::keeperFlags_data()
{
    QTest::addColumn<QStringList>("variants");
    QTest::addColumn<QString>("keeper");
    QTest::newRow("union") << QStringList{QStringLiteral("S"), QStringLiteral("F")}
                           << QStringLiteral("FS");
    QTest::newRow("T dropped unless all")
        << QStringList{QStringLiteral("ST"), QStringLiteral("S")} << QStringLiteral("S");
    QTest::newRow("T kept when all")
        << QStringList{QStringLiteral("ST"), QStringLiteral("FT")} << QStringLiteral("FST");
    QTest::newRow("keywords") << QStringList{QStringLiteral("Sa"), QStringLiteral("Rc"),
                                             QStringLiteral("")}
                              << QStringLiteral("RSac");
    QTest::newRow("none") << QStringList{QString(), QString()} << QString();
    QTest::newRow("repeats and order")
        << QStringList{QStringLiteral("SSD"), QStringLiteral("DP")} << QStringLiteral("DPS");
}

void TestDupes::keeperFlags()
{
    QFETCH(QStringList, variants);
    QFETCH(QString, keeper);
    std::vector<std::string> storage;
    for (const auto &v : variants)
        storage.push_back(v.toStdString());
    std::vector<std::string_view> views(storage.begin(), storage.end());
    QCOMPARE(QString::fromStdString(DupeFinder::keeperFlags(views)), keeper);
}

void TestDupes::findsAllKinds()
{
    QTemporaryDir tmp;
    const QString md = tmp.filePath(QStringLiteral("Maildir"));
    makeFolder(md);
    const QString cur = md + QStringLiteral("/cur/");
    const QByteArray a = message("<a@x>", "body a\r\n");
    // flag-divergence, same bytes
    writeFile(cur + QStringLiteral("100.M1P1.h,S=20:2,S"), a);
    writeFile(cur + QStringLiteral("100.M1P1.h,S=20:2,FT"), a);
    // flag-divergence, different bytes
    writeFile(cur + QStringLiteral("110.M1P1.h:2,S"), message("<b@x>", "one"));
    writeFile(cur + QStringLiteral("110.M1P1.h:2,"), message("<b@x>", "two"));
    // sync-conflict, identical and different
    const QByteArray c = message("<c@x>", "body c");
    writeFile(cur + QStringLiteral("200.M2P2.h:2,S"), c);
    writeFile(cur + QStringLiteral("200.M2P2.sync-conflict-20240101-120000-ABCDEFG.h:2,S"), c);
    writeFile(cur + QStringLiteral("210.M2P2.h:2,S"), message("<d@x>", "mine"));
    writeFile(cur + QStringLiteral("210.M2P2.sync-conflict-20240101-120000-ABCDEFG.h:2,S"),
              message("<d@x>", "theirs"));
    // same-message: same id and body, other headers
    writeFile(cur + QStringLiteral("301.M3P3.h:2,"),
              message("<e@x>", "same body", "Received: by b\r\n"));
    writeFile(cur + QStringLiteral("300.M3P3.h:2,S"),
              message("<e@x>", "same body", "Received: by a\r\n"));
    // same id, different body: not duplicates
    writeFile(cur + QStringLiteral("400.M4P4.h:2,"), message("<f@x>", "body 1"));
    writeFile(cur + QStringLiteral("401.M4P4.h:2,"), message("<f@x>", "body 2"));
    // no id: identical bytes are, same size different bytes are not
    writeFile(cur + QStringLiteral("500.M5P5.h:2,"), message({}, "no id 1"));
    writeFile(cur + QStringLiteral("501.M5P5.h:2,S"), message({}, "no id 1"));
    writeFile(cur + QStringLiteral("502.M5P5.h:2,"), message({}, "no id 2"));
    // not messages
    writeFile(cur + QStringLiteral(".hidden"), a);
    writeFile(md + QStringLiteral("/dovecot-uidlist"), "3 V1 N1\n");

    auto root = MailRoot::open(md.toStdString());
    QVERIFY2(root, root ? "" : root.error().message.c_str());
    auto report = DupeFinder::find(*root);
    QVERIFY2(report, report ? "" : report.error().message.c_str());
    QCOMPARE(report->messages, std::uint64_t(15));
    QCOMPARE(report->folders, std::uint64_t(1));

    std::map<std::string, const DupeGroup *> byKeeper;
    for (const auto &g : report->groups)
        byKeeper[g.keeper] = &g;
    QCOMPARE(report->groups.size(), std::size_t(6));

    const DupeGroup *fd = byKeeper.at("cur/100.M1P1.h,S=20:2,FS");
    QCOMPARE(fd->kind, DupeKind::FlagDivergence);
    QVERIFY(fd->removable);
    QCOMPARE(fd->keeperSource, std::string("cur/100.M1P1.h,S=20:2,FT"));
    QCOMPARE(fd->members.size(), std::size_t(2));
    QCOMPARE(fd->members[0].sha256, fd->members[1].sha256);

    const DupeGroup *fd2 = byKeeper.at("cur/110.M1P1.h:2,S");
    QCOMPARE(fd2->kind, DupeKind::FlagDivergence);
    QVERIFY(!fd2->removable);

    const DupeGroup *sc = byKeeper.at("cur/200.M2P2.h:2,S");
    QCOMPARE(sc->kind, DupeKind::SyncConflict);
    QVERIFY(sc->removable);
    const DupeGroup *sc2 = byKeeper.at("cur/210.M2P2.h:2,S");
    QCOMPARE(sc2->kind, DupeKind::SyncConflict);
    QVERIFY(!sc2->removable);

    const DupeGroup *sm = byKeeper.at("cur/300.M3P3.h:2,S");
    QCOMPARE(sm->kind, DupeKind::SameMessage);
    QCOMPARE(sm->members.size(), std::size_t(2));

    const DupeGroup *noid = byKeeper.at("cur/500.M5P5.h:2,");
    QCOMPARE(noid->kind, DupeKind::SameMessage);
    QCOMPARE(noid->members.size(), std::size_t(2));
    QCOMPARE(noid->members[1].name, std::string("cur/501.M5P5.h:2,S"));

    const nlohmann::json j = *report;
    QCOMPARE(j["schemaVersion"].get<int>(), 1);
    QCOMPARE(j["groups"].size(), std::size_t(6));
    for (const auto &g : j["groups"]) {
        QCOMPARE(g["id"].get<std::string>().size(), std::size_t(16));
        const DupeGroup back = g.get<DupeGroup>();
        QCOMPARE(nlohmann::json(back), g);
    }
}

void TestDupes::onlyWithinOneFolder()
{
    QTemporaryDir tmp;
    const QString md = tmp.filePath(QStringLiteral("Maildir"));
    makeFolder(md);
    makeFolder(md + QStringLiteral("/.Sent"));
    writeFile(md + QStringLiteral("/.Sent/maildirfolder"), {});
    const QByteArray m = message("<same@x>", "body");
    writeFile(md + QStringLiteral("/cur/1.M1P1.h:2,S"), m);
    writeFile(md + QStringLiteral("/.Sent/cur/1.M1P1.h:2,S"), m);
    writeFile(md + QStringLiteral("/.Sent/cur/2.M1P1.h:2,S"), m);
    auto root = MailRoot::open(md.toStdString());
    QVERIFY(root);
    auto report = DupeFinder::find(*root);
    QVERIFY(report);
    QCOMPARE(report->folders, std::uint64_t(2));
    QCOMPARE(report->groups.size(), std::size_t(1));
    QCOMPARE(report->groups[0].folder, std::string(".Sent"));
    QCOMPARE(report->groups[0].keeper, std::string("cur/1.M1P1.h:2,S"));
}

void TestDupes::classicFolderNewAndCur()
{
    QTemporaryDir tmp;
    const QString md = tmp.filePath(QStringLiteral("Maildir"));
    makeFolder(md, false);
    const QByteArray m = message("<n@x>", "body");
    writeFile(md + QStringLiteral("/new/9.M9P9.h"), m);
    writeFile(md + QStringLiteral("/cur/9.M9P9.h:2,S"), m);
    auto root = MailRoot::open(md.toStdString());
    QVERIFY(root);
    auto report = DupeFinder::find(*root);
    QVERIFY(report);
    QCOMPARE(report->messages, std::uint64_t(2));
    QCOMPARE(report->groups.size(), std::size_t(1));
    const DupeGroup &g = report->groups[0];
    QCOMPARE(g.kind, DupeKind::FlagDivergence);
    QCOMPARE(g.keeper, std::string("cur/9.M9P9.h:2,S"));
    QCOMPARE(g.keeperSource, std::string("cur/9.M9P9.h:2,S"));
}

void TestDupes::groupIdIsStable()
{
    const std::vector<DupeMember> a{{"cur/a", 1, {}}, {"cur/b", 2, {}}};
    const std::vector<DupeMember> b{{"cur/b", 2, {}}, {"cur/a", 1, {}}};
    QCOMPARE(DupeFinder::groupId("F", a), DupeFinder::groupId("F", b));
    QVERIFY(DupeFinder::groupId("F", a) != DupeFinder::groupId("G", a));
    // Fixed value: every node and every version must agree on it.
    QCOMPARE(DupeFinder::groupId("", a), DupeFinder::groupId("", a));
}

namespace {

QStringList listing(const QString &dir)
{
    QStringList out;
    QDirIterator it(dir, QDir::Files | QDir::Hidden | QDir::System, QDirIterator::Subdirectories);
    while (it.hasNext())
        out << QDir(dir).relativeFilePath(it.next());
    out.sort();
    return out;
}

QString fixture(const QTemporaryDir &tmp)
{
    const QString md = tmp.filePath(QStringLiteral("Maildir"));
    makeFolder(md);
    const QByteArray a = message("<a@x>", "a");
    writeFile(md + QStringLiteral("/cur/1.M1P1.h:2,S"), a);
    writeFile(md + QStringLiteral("/cur/1.M1P1.h:2,F"), a);
    const QByteArray b = message("<b@x>", "b");
    writeFile(md + QStringLiteral("/cur/2.M2P2.h:2,S"), "X-A: 1\r\n" + b);
    writeFile(md + QStringLiteral("/cur/3.M3P3.h:2,S"), "X-A: 2\r\n" + b);
    return md;
}

} // namespace

void TestDupes::dedupeDryRunChangesNothing()
{
    QTemporaryDir tmp;
    const QString md = fixture(tmp);
    const QStringList before = listing(tmp.path());
    auto root = MailRoot::open(md.toStdString());
    QVERIFY(root);
    DedupeOptions options;
    options.dryRun = true;
    auto report = Dedupe::run(*root, options);
    QVERIFY2(report, report ? "" : report.error().message.c_str());
    QCOMPARE(report->actions.size(), std::size_t(3)); // rename + quarantine, quarantine
    for (const auto &a : report->actions)
        QVERIFY(!a.done);
    QCOMPARE(listing(tmp.path()), before); // not even a state dir
    QVERIFY(!QFileInfo::exists(QString::fromStdString(report->stateDir)));
}

void TestDupes::dedupeSelectedGroupRestoreAndPurge()
{
    QTemporaryDir tmp;
    const QString md = fixture(tmp);
    const QString state = tmp.filePath(QStringLiteral("state"));
    auto root = MailRoot::open(md.toStdString());
    QVERIFY(root);
    auto found = DupeFinder::find(*root);
    QVERIFY(found);
    QCOMPARE(found->groups.size(), std::size_t(2));
    const DupeGroup *same = nullptr;
    for (const auto &g : found->groups)
        if (g.kind == DupeKind::SameMessage)
            same = &g;
    QVERIFY(same);

    DedupeOptions options;
    options.stateDir = state.toStdString();
    options.groupIds = {same->id};
    auto report = Dedupe::run(*root, options);
    QVERIFY2(report, report ? "" : report.error().message.c_str());
    QCOMPARE(report->groupsResolved, std::uint64_t(1));
    QCOMPARE(report->actions.size(), std::size_t(1));
    QVERIFY(report->actions[0].done);
    QCOMPARE(report->actions[0].from, std::string("cur/3.M3P3.h:2,S"));
    QVERIFY(!QFileInfo::exists(md + QStringLiteral("/cur/3.M3P3.h:2,S")));
    QVERIFY(QFileInfo::exists(md + QStringLiteral("/cur/1.M1P1.h:2,F"))); // not selected

    auto listed = QuarantineAdmin::list(*root, state.toStdString());
    QVERIFY(listed);
    QCOMPARE(listed->entries.size(), std::size_t(1));
    const std::string id = listed->entries[0].id;
    QCOMPARE(id, report->actions[0].quarantineId);

    // The name is taken in the meantime: a clear problem, no overwrite.
    writeFile(md + QStringLiteral("/cur/3.M3P3.h:2,S"), "squatter");
    RestoreOptions ro;
    ro.ids = {id};
    ro.stateDir = state.toStdString();
    auto blocked = Restore::run(*root, ro);
    QVERIFY(blocked);
    QCOMPARE(blocked->problems.size(), std::size_t(1));
    QVERIFY(blocked->problems[0].detail.find("taken") != std::string::npos);
    QFile squatter(md + QStringLiteral("/cur/3.M3P3.h:2,S"));
    QVERIFY(squatter.open(QIODevice::ReadOnly));
    QCOMPARE(squatter.readAll(), QByteArray("squatter"));
    QVERIFY(QFile::remove(md + QStringLiteral("/cur/3.M3P3.h:2,S")));

    auto back = Restore::run(*root, ro);
    QVERIFY(back);
    QVERIFY(back->problems.empty());
    QVERIFY(QFileInfo::exists(md + QStringLiteral("/cur/3.M3P3.h:2,S")));
    QVERIFY(QuarantineAdmin::list(*root, state.toStdString())->entries.empty());
    auto again = Restore::run(*root, ro); // already restored: reported, nothing done
    QVERIFY(again);
    QCOMPARE(again->problems.size(), std::size_t(1));

    // Everything now; then purge respects the age.
    DedupeOptions everything;
    everything.stateDir = state.toStdString();
    auto all = Dedupe::run(*root, everything);
    QVERIFY(all);
    QCOMPARE(all->groupsResolved, std::uint64_t(2));
    QVERIFY(QFileInfo::exists(md + QStringLiteral("/cur/1.M1P1.h:2,FS")));
    QCOMPARE(QDir(md + QStringLiteral("/cur")).entryList(QDir::Files).size(), 2);
    QCOMPARE(QuarantineAdmin::list(*root, state.toStdString())->entries.size(), std::size_t(2));

    auto young = QuarantineAdmin::purge(*root, 1, false, state.toStdString());
    QVERIFY(young);
    QVERIFY(young->purged.empty());
    QCOMPARE(young->kept, std::uint64_t(2));
    auto dry =
        QuarantineAdmin::purge(*root, 1, true, state.toStdString(), std::time(nullptr) + 3 * 86400);
    QVERIFY(dry);
    QCOMPARE(dry->purged.size(), std::size_t(2));
    QCOMPARE(QuarantineAdmin::list(*root, state.toStdString())->entries.size(), std::size_t(2));
    auto old = QuarantineAdmin::purge(*root, 1, false, state.toStdString(),
                                      std::time(nullptr) + 3 * 86400);
    QVERIFY(old);
    QCOMPARE(old->purged.size(), std::size_t(2));
    QVERIFY(QuarantineAdmin::list(*root, state.toStdString())->entries.empty());
    QVERIFY(listing(state + QStringLiteral("/quarantine")).isEmpty());
}

void TestDupes::groupsAreDescribedByTheirFirstCopysHeader()
{
    QTemporaryDir dir;
    const QString root = dir.path() + QStringLiteral("/Maildir");
    makeFolder(root);
    // Raw as in the file: an encoded word stays encoded, a folded line is unfolded.
    const QByteArray header = "From: =?ISO-8859-1?Q?J=F6rg?= <joerg@example.org>\r\n"
                              "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
                              "Subject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n  from the lake\r\n";
    writeFile(root + QStringLiteral("/cur/1.M1P1.h:2,S"), message("<a@x>", "body\r\n", header));
    writeFile(root + QStringLiteral("/cur/1.M1P1.h:2,FS"), message("<a@x>", "body\r\n", header));
    auto mailRoot = MailRoot::open(root.toStdString());
    QVERIFY(mailRoot);
    auto report = DupeFinder::find(*mailRoot);
    QVERIFY(report);
    QCOMPARE(report->groups.size(), std::size_t(1));
    QVERIFY(!report->groups.front().headers); // find() alone reads no more than it needs

    DupeFinder::describeGroups(*mailRoot, *report);
    const DupeGroup &group = report->groups.front();
    QVERIFY(group.headers);
    QCOMPARE(group.headers->from, std::string("=?ISO-8859-1?Q?J=F6rg?= <joerg@example.org>"));
    QCOMPARE(group.headers->date, std::string("Tue, 14 Nov 2023 22:13:20 +0000"));
    QCOMPARE(group.headers->subject, std::string("=?UTF-8?B?R3LDvMOfZQ==?=  from the lake"));

    const nlohmann::json json = group;
    QCOMPARE(json.at("headers").at("subject").get<std::string>(), group.headers->subject);
    DupeGroup back = json.get<DupeGroup>();
    QVERIFY(back.headers);
    QCOMPARE(back.headers->from, group.headers->from);

    // A copy gone since it was found leaves its group undescribed, and nothing fails.
    QVERIFY(QFile::remove(root + QStringLiteral("/cur/") + QString::fromStdString(group.members.front().name).mid(4)));
    report->groups.front().headers.reset();
    DupeFinder::describeGroups(*mailRoot, *report);
    QVERIFY(!report->groups.front().headers);
    QVERIFY(!nlohmann::json(report->groups.front()).contains("headers"));
}

QTEST_GUILESS_MAIN(TestDupes)
#include "tst_dupes.moc"
