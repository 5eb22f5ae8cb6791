#include "maildir/manifest.h"
#include "maildir/manifestdiff.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <utime.h>

using namespace mm::maildir;

namespace {

void writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly), qPrintable(path));
    f.write(bytes);
}

// A cur-only Maildir with an INBOX and a .Sent folder.
QString makeTree(const QString &parent, const QString &name)
{
    const QString md = parent + QLatin1Char('/') + name;
    for (const QString &f : {md, md + QStringLiteral("/.Sent")}) {
        QDir().mkpath(f + QStringLiteral("/cur"));
        QDir().mkpath(f + QStringLiteral("/tmp"));
        QFile::link(QStringLiteral("cur"), f + QStringLiteral("/new"));
    }
    writeFile(md + QStringLiteral("/.Sent/maildirfolder"), {});
    writeFile(md + QStringLiteral("/cur/1.M1P1.h,S=5:2,S"), "hello");
    writeFile(md + QStringLiteral("/cur/2.M2P2.h:2,"), "world!");
    writeFile(md + QStringLiteral("/.Sent/cur/3.M3P3.h:2,S"), "sent");
    writeFile(md + QStringLiteral("/dovecot-uidlist"),
              "3 V100 N3 G3085f01b7f11094c501100008c4a11c1\n1 :1.M1P1.h,S=5\n2 :2.M2P2.h\n");
    writeFile(md + QStringLiteral("/dovecot-keywords"), "0 $Junk\n");
    return md;
}

struct Run
{
    ManifestSummary summary;
    std::vector<ManifestFolder> folders;
};

Run runManifest(const QString &md, const QString &cacheDir)
{
    Run run;
    auto root = MailRoot::open(md.toStdString());
    if (!root)
        qFatal("%s", root.error().message.c_str());
    auto s = ManifestBuilder::build(*root, cacheDir.toStdString(),
                                    [&](const ManifestFolder &f) { run.folders.push_back(f); });
    if (!s)
        qFatal("%s", s.error().message.c_str());
    run.summary = *s;
    return run;
}

std::string asLines(const Run &run)
{
    std::string text;
    for (const auto &f : run.folders)
        text += nlohmann::json(f).dump() + "\n";
    return text + nlohmann::json(run.summary).dump() + "\n";
}

} // namespace

class TestManifest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void frames();
    void cacheSecondRunReadsNoBody();
    void cacheKeepsVariantsOfOneBase();
    void diffEqualTrees();
    void diffFindsEverything();
    void diffParsesServeTranscript();
    void agentManifestAndDiffExitCodes();
};

void TestManifest::frames()
{
    QTemporaryDir tmp;
    const QString md = makeTree(tmp.path(), QStringLiteral("Maildir"));
    const Run run = runManifest(md, tmp.filePath(QStringLiteral("cache")));
    QCOMPARE(run.folders.size(), std::size_t(2));
    QCOMPARE(run.summary.messages, std::uint64_t(3));
    const ManifestFolder &inbox = run.folders[0];
    QCOMPARE(inbox.folder, std::string());
    QCOMPARE(inbox.messages.size(), std::size_t(2));
    QCOMPARE(inbox.messages[0].base, std::string("1.M1P1.h,S=5"));
    QCOMPARE(inbox.messages[0].flags, std::string("S"));
    QCOMPARE(inbox.messages[0].size, std::uint64_t(5));
    QCOMPARE(inbox.messages[0].sha256,
             std::string("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
    QVERIFY(inbox.uidlist.has_value());
    QCOMPARE(inbox.uidlist->uidValidity, 100u);
    QCOMPARE(inbox.uidlist->records.size(), std::size_t(2));
    QVERIFY(inbox.keywords.has_value());
    QCOMPARE(*inbox.keywords->nameOf('a'), std::string("$Junk"));
    QCOMPARE(run.folders[1].folder, std::string(".Sent"));
    QVERIFY(!run.folders[1].uidlist.has_value());
    QVERIFY(inbox.digest != run.folders[1].digest);
    // JSON round trip keeps the digest computable.
    const nlohmann::json j = inbox;
    QCOMPARE(j["schemaVersion"].get<int>(), 1);
    const ManifestFolder back = j.get<ManifestFolder>();
    QCOMPARE(back.computeDigest(), inbox.digest);
}

void TestManifest::cacheSecondRunReadsNoBody()
{
    QTemporaryDir tmp;
    const QString md = makeTree(tmp.path(), QStringLiteral("Maildir"));
    const QString cache = tmp.filePath(QStringLiteral("cache"));
    const Run first = runManifest(md, cache);
    QCOMPARE(first.summary.bytesHashed, std::uint64_t(15));
    QCOMPARE(first.summary.cacheHits, std::uint64_t(0));

    const Run second = runManifest(md, cache);
    QCOMPARE(second.summary.bytesHashed, std::uint64_t(0));
    QCOMPARE(second.summary.cacheHits, std::uint64_t(3));
    QCOMPARE(second.folders[0].digest, first.folders[0].digest);

    // A flag change renames: same BASE, size and mtime, still a hit; the digest changes.
    QVERIFY(QFile::rename(md + QStringLiteral("/cur/2.M2P2.h:2,"),
                          md + QStringLiteral("/cur/2.M2P2.h:2,FS")));
    const Run third = runManifest(md, cache);
    QCOMPARE(third.summary.bytesHashed, std::uint64_t(0));
    QVERIFY(third.folders[0].digest != first.folders[0].digest);

    // New bytes under an old BASE (mtime moves): a miss, the new hash is used.
    writeFile(md + QStringLiteral("/cur/2.M2P2.h:2,FS"), "WORLD!");
    struct utimbuf times
    {
        1000, 1000
    };
    QCOMPARE(
        ::utime(QFile::encodeName(md + QStringLiteral("/cur/2.M2P2.h:2,FS")).constData(), &times),
        0);
    const Run fourth = runManifest(md, cache);
    QCOMPARE(fourth.summary.bytesHashed, std::uint64_t(6));
    QVERIFY(fourth.folders[0].messages[1].sha256 != first.folders[0].messages[1].sha256);

    // No cache dir: everything is read every time.
    const Run noCache = runManifest(md, QString());
    QCOMPARE(noCache.summary.bytesHashed, std::uint64_t(15));
}

void TestManifest::cacheKeepsVariantsOfOneBase()
{
    QTemporaryDir tmp;
    const QString md = makeTree(tmp.path(), QStringLiteral("Maildir"));
    const QString cache = tmp.filePath(QStringLiteral("cache"));
    // A flag-divergent copy with its own mtime: both names must hit on the second run.
    const QString copy = md + QStringLiteral("/cur/1.M1P1.h,S=5:2,FS");
    writeFile(copy, "hello");
    struct utimbuf times
    {
        2000, 2000
    };
    QCOMPARE(::utime(QFile::encodeName(copy).constData(), &times), 0);
    const Run first = runManifest(md, cache);
    QCOMPARE(first.summary.cacheMisses, std::uint64_t(4));
    const Run second = runManifest(md, cache);
    QCOMPARE(second.summary.cacheHits, std::uint64_t(4));
    QCOMPARE(second.summary.bytesHashed, std::uint64_t(0));
}

void TestManifest::diffEqualTrees()
{
    QTemporaryDir tmp;
    const QString a = makeTree(tmp.path(), QStringLiteral("a"));
    const QString b = makeTree(tmp.path(), QStringLiteral("b"));
    auto na = NodeManifest::parse(asLines(runManifest(a, {})), "a");
    auto nb = NodeManifest::parse(asLines(runManifest(b, {})), "b");
    QVERIFY(na && nb);
    const ManifestDiff d = ManifestDiff::compare({*na, *nb});
    QCOMPARE(d.foldersCompared, std::uint64_t(2));
    QCOMPARE(d.foldersEqual, std::uint64_t(2));
    QVERIFY(!d.hasUidConflict());
    QVERIFY(d.missingMessages.empty());
}

void TestManifest::diffFindsEverything()
{
    QTemporaryDir tmp;
    const QString a = makeTree(tmp.path(), QStringLiteral("a"));
    const QString b = makeTree(tmp.path(), QStringLiteral("b"));
    const QString c = makeTree(tmp.path(), QStringLiteral("c"));
    // b: a flag differs, a message is missing, another one only there, and its own UID 2
    QVERIFY(QFile::rename(b + QStringLiteral("/cur/1.M1P1.h,S=5:2,S"),
                          b + QStringLiteral("/cur/1.M1P1.h,S=5:2,FS")));
    QVERIFY(QFile::remove(b + QStringLiteral("/.Sent/cur/3.M3P3.h:2,S")));
    writeFile(b + QStringLiteral("/cur/9.M9P9.h:2,"), "only on b");
    writeFile(b + QStringLiteral("/dovecot-uidlist"),
              "3 V100 N3 G3085f01b7f11094c501100008c4a11c1\n1 :1.M1P1.h,S=5\n2 :9.M9P9.h\n");
    writeFile(b + QStringLiteral("/dovecot-keywords"), "0 $Label1\n");
    // c: another uidvalidity, so its UIDs are not comparable; an extra folder
    writeFile(c + QStringLiteral("/dovecot-uidlist"), "3 V200 N3\n1 :x\n2 :y\n");
    QDir().mkpath(c + QStringLiteral("/.Extra/cur"));
    QFile::link(QStringLiteral("cur"), c + QStringLiteral("/.Extra/new"));
    writeFile(c + QStringLiteral("/.Extra/maildirfolder"), {});

    auto na = NodeManifest::parse(asLines(runManifest(a, {})), "a");
    auto nb = NodeManifest::parse(asLines(runManifest(b, {})), "b");
    auto nc = NodeManifest::parse(asLines(runManifest(c, {})), "c");
    QVERIFY(na && nb && nc);
    const ManifestDiff d = ManifestDiff::compare({*na, *nb, *nc});

    QCOMPARE(d.uidConflicts.size(), std::size_t(1));
    QCOMPARE(d.uidConflicts[0].uid, 2u);
    QCOMPARE(d.uidConflicts[0].uidValidity, 100u);
    QCOMPARE(d.uidConflicts[0].baseByNode.at("a"), std::string("2.M2P2.h"));
    QCOMPARE(d.uidConflicts[0].baseByNode.at("b"), std::string("9.M9P9.h"));
    QVERIFY(d.hasUidConflict());

    QCOMPARE(d.flagDisagreements.size(), std::size_t(1));
    QCOMPARE(d.flagDisagreements[0].flagsByNode.at("b"), std::string("FS"));

    QCOMPARE(d.missingMessages.size(), std::size_t(2)); // 9.M9P9 (INBOX) and 3.M3P3 (.Sent)
    QCOMPARE(d.keywordClashes.size(), std::size_t(1));
    QCOMPARE(d.keywordClashes[0].letter, 'a');
    QCOMPARE(d.missingFolders.size(), std::size_t(1));
    QCOMPARE(d.missingFolders[0].folder, std::string(".Extra"));

    const nlohmann::json j = d;
    QCOMPARE(j["schemaVersion"].get<int>(), 1);
    QCOMPARE(j["uidConflicts"][0]["bases"]["b"].get<std::string>(), std::string("9.M9P9.h"));
    QVERIFY(!j.dump().empty());
}

void TestManifest::diffParsesServeTranscript()
{
    QTemporaryDir tmp;
    const QString a = makeTree(tmp.path(), QStringLiteral("a"));
    const Run run = runManifest(a, {});
    std::string transcript;
    int seq = 0;
    for (const auto &f : run.folders)
        transcript +=
            nlohmann::json{{"type", "item"}, {"id", "r1"}, {"seq", seq++}, {"item", f}}.dump() +
            "\n";
    auto n = NodeManifest::parse(transcript, "t");
    QVERIFY(n);
    QCOMPARE(n->folders.size(), std::size_t(2));
    QVERIFY(!NodeManifest::parse("{not json", "x"));
}

// The real agent: `manifest --json` output feeds `diff`, which exits 1 on a UID conflict only.
void TestManifest::agentManifestAndDiffExitCodes()
{
    const QString agent = QStringLiteral(MAILMESH_BUILD_DIR "/app/mailmesh-agent/mailmesh-agent");
    if (!QFileInfo::exists(agent))
        QSKIP("mailmesh-agent not built");
    QTemporaryDir tmp;
    const QString a = makeTree(tmp.path(), QStringLiteral("a"));
    const QString b = makeTree(tmp.path(), QStringLiteral("b"));
    const auto runAgent = [&](const QStringList &args, const QString &out = {}) {
        QProcess p;
        if (!out.isEmpty())
            p.setStandardOutputFile(out);
        p.start(agent, args);
        if (!p.waitForFinished(60000))
            qFatal("agent hangs");
        return p.exitCode();
    };
    const QString ma = tmp.filePath(QStringLiteral("a.jsonl")),
                  mb = tmp.filePath(QStringLiteral("b.jsonl"));
    QCOMPARE(runAgent({QStringLiteral("manifest"), a, QStringLiteral("--json")}, ma), 0);
    QCOMPARE(runAgent({QStringLiteral("manifest"), b, QStringLiteral("--json")}, mb), 0);
    QCOMPARE(runAgent({QStringLiteral("diff"), ma, mb, QStringLiteral("--json")}), 0);

    // A flag disagreement alone: still 0. A UID conflict: 1.
    QVERIFY(QFile::rename(b + QStringLiteral("/cur/2.M2P2.h:2,"),
                          b + QStringLiteral("/cur/2.M2P2.h:2,S")));
    QCOMPARE(runAgent({QStringLiteral("manifest"), b, QStringLiteral("--json")}, mb), 0);
    QCOMPARE(runAgent({QStringLiteral("diff"), ma, mb, QStringLiteral("--json")}), 0);
    writeFile(b + QStringLiteral("/dovecot-uidlist"),
              "3 V100 N3\n1 :1.M1P1.h,S=5\n2 :other.base\n");
    QCOMPARE(runAgent({QStringLiteral("manifest"), b, QStringLiteral("--json")}, mb), 0);
    const QString out = tmp.filePath(QStringLiteral("diff.json"));
    QCOMPARE(runAgent({QStringLiteral("diff"), ma, mb, QStringLiteral("--json")}, out), 1);
    QFile f(out);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const auto j = nlohmann::json::parse(f.readAll().toStdString());
    QCOMPARE(j["uidConflicts"].size(), std::size_t(1));
    QCOMPARE(j["flagDisagreements"].size(), std::size_t(1));
}

QTEST_GUILESS_MAIN(TestManifest)
#include "tst_manifest.moc"
