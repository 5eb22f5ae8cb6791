// `mailmesh-agent watch-changes`: the recursive inotify watch (TreeWatcher) against the real
// kernel in a temporary directory — the gaps of Syncthing's own watcher it must not have (a
// directory deleted and made again, renamed, written into at once), pruned and ignored names,
// the root going away and a full kernel queue — and the pure parts of the service: which sub
// paths one scan request carries, which names are noise, the request target's encoding and the
// config.xml reader that gives it the API and the folders.
//
// The events are read with poll() on the watcher's descriptor until what is expected shows up
// or a deadline passes; nothing here depends on how long anything takes. "Nothing else was
// reported" is checked after a later sentinel file showed up: inotify keeps its events in order,
// so by then everything before it was read.

#include "changewatch.h"
#include "treewatcher.h"

#include "node/syncthingconfig.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <vector>

using mm::agent::TreeWatcher;
using Paths = std::set<std::string>;

Q_DECLARE_METATYPE(std::string)
Q_DECLARE_METATYPE(std::vector<std::string>)

namespace {

constexpr std::chrono::seconds kDeadline(5);

// What watch-changes gives its watchers (changewatch.cpp, filterFor): Maildir tmp/ directories
// pruned, Dovecot's and Syncthing's churn ignored.
TreeWatcher::Filter mailFilter()
{
    return TreeWatcher::Filter{
        [](const std::string &rel) { return rel.substr(rel.rfind('/') + 1) == "tmp"; },
        mm::agent::isChangeNoise};
}

QString joined(const Paths &paths)
{
    QStringList out;
    for (const std::string &path : paths)
        out << QString::fromStdString(path);
    return out.join(QLatin1Char('|'));
}

QString joined(const std::vector<std::string> &values)
{
    return joined(Paths(values.begin(), values.end())) + QStringLiteral(" (%1)").arg(values.size());
}

// Reads the watcher's events into changes until done(changes) holds or the deadline passes.
bool readUntil(TreeWatcher &watcher, TreeWatcher::Changes &changes,
               const std::function<bool(const TreeWatcher::Changes &)> &done)
{
    using namespace std::chrono;
    const auto deadline = steady_clock::now() + kDeadline;
    watcher.readEvents(changes);
    while (!done(changes)) {
        const auto left = duration_cast<milliseconds>(deadline - steady_clock::now()).count();
        if (left <= 0)
            return false;
        pollfd ready{watcher.fd(), POLLIN, 0};
        ::poll(&ready, 1, int(left));
        watcher.readEvents(changes);
    }
    return true;
}

// Reads until every one of expected was reported.
bool readUntilPaths(TreeWatcher &watcher, TreeWatcher::Changes &changes, const Paths &expected)
{
    return readUntil(watcher, changes, [&](const TreeWatcher::Changes &seen) {
        for (const std::string &path : expected)
            if (!seen.paths.contains(path))
                return false;
        return true;
    });
}

class Tree
{
public:
    bool valid() const { return m_dir.isValid(); }
    std::string root() const { return m_dir.path().toStdString(); }
    std::string path(const std::string &rel) const { return root() + '/' + rel; }

    bool mkdir(const std::string &rel) const { return ::mkdir(path(rel).c_str(), 0700) == 0; }
    bool write(const std::string &rel) const
    {
        const int fd = ::open(path(rel).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
            return false;
        const bool written = ::write(fd, "x", 1) == 1;
        return ::close(fd) == 0 && written;
    }
    bool rename(const std::string &from, const std::string &to) const
    {
        return ::rename(path(from).c_str(), path(to).c_str()) == 0;
    }
    bool unlink(const std::string &rel) const { return ::unlink(path(rel).c_str()) == 0; }
    bool removeTree(const std::string &rel) const
    {
        return QDir(QString::fromStdString(path(rel))).removeRecursively();
    }

private:
    QTemporaryDir m_dir;
};

bool anyBelow(const Paths &paths, const std::string &dir)
{
    for (const std::string &path : paths)
        if (path == dir || path.starts_with(dir + '/'))
            return true;
    return false;
}

} // namespace

class TestTreeWatcher : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void filesInRootAndSubdirectory();
    void newDirectoryWrittenAtOnce();
    void directoryMadeAgain_data();
    void directoryMadeAgain();
    void directoryRenamed();
    void prunedAndIgnored();
    void rootGone_data();
    void rootGone();
    void overflow();
    void scanSubs_data();
    void scanSubs();
    void changeNoise_data();
    void changeNoise();
    void scanRequestTarget_data();
    void scanRequestTarget();
    void syncthingLocalApi();
};

void TestTreeWatcher::filesInRootAndSubdirectory()
{
    const Tree tree;
    QVERIFY(tree.valid());
    QVERIFY(tree.mkdir("sub"));
    TreeWatcher watcher(tree.root(), mailFilter());
    QCOMPARE(QString::fromStdString(watcher.start()), QString());
    QCOMPARE(watcher.watchCount(), std::size_t(2));

    TreeWatcher::Changes created;
    QVERIFY(tree.write("a"));
    QVERIFY(tree.write("sub/b"));
    QVERIFY2(readUntilPaths(watcher, created, {"a", "sub/b"}), qPrintable(joined(created.paths)));
    QCOMPARE(joined(created.paths), joined(Paths{"a", "sub/b"}));

    TreeWatcher::Changes renamed;
    QVERIFY(tree.rename("a", "a2"));
    QVERIFY(tree.rename("sub/b", "sub/b2"));
    QVERIFY(tree.rename("sub/b2", "b3")); // out of the subdirectory into the root
    QVERIFY2(readUntilPaths(watcher, renamed, {"a", "a2", "sub/b", "sub/b2", "b3"}),
             qPrintable(joined(renamed.paths)));
    QCOMPARE(joined(renamed.paths), joined(Paths{"a", "a2", "b3", "sub/b", "sub/b2"}));

    TreeWatcher::Changes deleted;
    QVERIFY(tree.write("sub/c"));
    QVERIFY(tree.unlink("a2"));
    QVERIFY(tree.unlink("sub/c"));
    QVERIFY2(readUntilPaths(watcher, deleted, {"a2", "sub/c"}), qPrintable(joined(deleted.paths)));
    QCOMPARE(joined(deleted.paths), joined(Paths{"a2", "sub/c"}));
    QVERIFY(!deleted.overflowed);
    QVERIFY(!deleted.rootGone);
}

void TestTreeWatcher::newDirectoryWrittenAtOnce()
{
    const Tree tree;
    QVERIFY(tree.valid());
    TreeWatcher watcher(tree.root(), mailFilter());
    QCOMPARE(QString::fromStdString(watcher.start()), QString());

    // All of it before the first event is read: the watches on "new" and "new/cur" are added
    // after the files were written, only the listings can see them.
    TreeWatcher::Changes changes;
    QVERIFY(tree.mkdir("new"));
    QVERIFY(tree.write("new/f"));
    QVERIFY(tree.mkdir("new/cur"));
    QVERIFY(tree.write("new/cur/g"));
    QVERIFY2(readUntilPaths(watcher, changes, {"new", "new/f", "new/cur", "new/cur/g"}),
             qPrintable(joined(changes.paths)));
    QCOMPARE(watcher.watchCount(), std::size_t(3));

    // And both are watched from now on.
    TreeWatcher::Changes later;
    QVERIFY(tree.write("new/cur/h"));
    QVERIFY(tree.write("new/i"));
    QVERIFY2(readUntilPaths(watcher, later, {"new/cur/h", "new/i"}),
             qPrintable(joined(later.paths)));
}

void TestTreeWatcher::directoryMadeAgain_data()
{
    QTest::addColumn<bool>("readBetween");
    QTest::newRow("deleted and made again at once") << false;
    QTest::newRow("deletion read before it is made again") << true;
}

void TestTreeWatcher::directoryMadeAgain()
{
    QFETCH(bool, readBetween);
    const Tree tree;
    QVERIFY(tree.valid());
    QVERIFY(tree.mkdir("box"));
    QVERIFY(tree.mkdir("box/cur"));
    QVERIFY(tree.write("box/cur/old"));
    TreeWatcher watcher(tree.root(), mailFilter());
    QCOMPARE(QString::fromStdString(watcher.start()), QString());
    QCOMPARE(watcher.watchCount(), std::size_t(3));

    // A mailbox deleted and made again under the same name (Dovecot's DELETE and CREATE, or
    // Syncthing pulling both): new inodes, which a path-keyed watch would not see.
    TreeWatcher::Changes recreated;
    QVERIFY(tree.removeTree("box"));
    if (readBetween) {
        QVERIFY2(readUntilPaths(watcher, recreated, {"box"}), qPrintable(joined(recreated.paths)));
    }
    QVERIFY(tree.mkdir("box"));
    QVERIFY(tree.mkdir("box/cur"));
    QVERIFY2(readUntilPaths(watcher, recreated, {"box", "box/cur"}),
             qPrintable(joined(recreated.paths)));
    QVERIFY(!recreated.rootGone);

    TreeWatcher::Changes after;
    QVERIFY(tree.write("box/cur/new"));
    QVERIFY(tree.write("box/top"));
    QVERIFY2(readUntilPaths(watcher, after, {"box/cur/new", "box/top"}),
             qPrintable(joined(after.paths)));
    QCOMPARE(joined(after.paths), joined(Paths{"box/cur/new", "box/top"}));
    QCOMPARE(watcher.watchCount(), std::size_t(3));
}

void TestTreeWatcher::directoryRenamed()
{
    const Tree tree;
    QVERIFY(tree.valid());
    QVERIFY(tree.mkdir("a"));
    QVERIFY(tree.mkdir("a/sub"));
    QVERIFY(tree.mkdir("other"));
    TreeWatcher watcher(tree.root(), mailFilter());
    QCOMPARE(QString::fromStdString(watcher.start()), QString());
    QCOMPARE(watcher.watchCount(), std::size_t(4));

    TreeWatcher::Changes renamed;
    QVERIFY(tree.rename("a", "b"));
    QVERIFY2(readUntilPaths(watcher, renamed, {"a", "b"}), qPrintable(joined(renamed.paths)));

    TreeWatcher::Changes after;
    QVERIFY(tree.write("b/f"));
    QVERIFY(tree.write("b/sub/g"));
    QVERIFY2(readUntilPaths(watcher, after, {"b/f", "b/sub/g"}), qPrintable(joined(after.paths)));

    // Moved again, into another directory of the tree.
    QVERIFY(tree.rename("b", "other/c"));
    QVERIFY2(readUntilPaths(watcher, after, {"b", "other/c"}), qPrintable(joined(after.paths)));
    QVERIFY(tree.write("other/c/sub/h"));
    QVERIFY(tree.write("sentinel"));
    QVERIFY2(readUntilPaths(watcher, after, {"other/c/sub/h", "sentinel"}),
             qPrintable(joined(after.paths)));
    QVERIFY2(!anyBelow(after.paths, "a"), qPrintable(joined(after.paths)));
    // A directory moved in is listed like a new one (it may come from outside the tree).
    QCOMPARE(joined(after.paths),
             joined(Paths{"b", "b/f", "b/sub/g", "other/c", "other/c/f", "other/c/sub",
                          "other/c/sub/g", "other/c/sub/h", "sentinel"}));
    // root, other, other/c, other/c/sub: the old names' watches are gone.
    QCOMPARE(watcher.watchCount(), std::size_t(4));
}

void TestTreeWatcher::prunedAndIgnored()
{
    const Tree tree;
    QVERIFY(tree.valid());
    QVERIFY(tree.mkdir("tmp"));
    QVERIFY(tree.mkdir("box"));
    QVERIFY(tree.mkdir("box/tmp"));
    QVERIFY(tree.mkdir("box/tmp/deeper"));
    QVERIFY(tree.mkdir("box/cur"));
    TreeWatcher watcher(tree.root(), mailFilter());
    QCOMPARE(QString::fromStdString(watcher.start()), QString());
    QCOMPARE(watcher.watchCount(), std::size_t(3)); // root, box, box/cur

    TreeWatcher::Changes changes;
    QVERIFY(tree.write("tmp/x"));
    QVERIFY(tree.write("box/tmp/y"));
    QVERIFY(tree.write("box/tmp/deeper/z"));
    // A delivery: written in tmp/, renamed into cur/.
    QVERIFY(tree.rename("box/tmp/y", "box/cur/y"));
    // Noise, by events and by the listing of a new directory.
    QVERIFY(tree.write("box/cur/dovecot.index.log"));
    QVERIFY(tree.write("box/dovecot-uidlist.lock"));
    QVERIFY(tree.write("box/.syncthing.y.tmp"));
    QVERIFY(tree.mkdir("new"));
    QVERIFY(tree.write("new/dovecot.index"));
    QVERIFY(tree.mkdir("new/tmp"));
    QVERIFY(tree.write("new/tmp/w"));
    QVERIFY(tree.mkdir("box/tmp2")); // not a pruned name
    QVERIFY(tree.write("sentinel"));
    QVERIFY2(readUntilPaths(watcher, changes, {"sentinel"}), qPrintable(joined(changes.paths)));
    QCOMPARE(joined(changes.paths), joined(Paths{"box/cur/y", "box/tmp2", "new", "sentinel"}));
    QCOMPARE(watcher.watchCount(), std::size_t(5)); // and new, box/tmp2

    // Still not watched once the new tmp/ exists.
    TreeWatcher::Changes later;
    QVERIFY(tree.write("new/tmp/v"));
    QVERIFY(tree.write("tmp/u"));
    QVERIFY(tree.write("new/sentinel"));
    QVERIFY2(readUntilPaths(watcher, later, {"new/sentinel"}), qPrintable(joined(later.paths)));
    QCOMPARE(joined(later.paths), joined(Paths{"new/sentinel"}));
}

void TestTreeWatcher::rootGone_data()
{
    QTest::addColumn<bool>("moved");
    QTest::newRow("removed") << false;
    QTest::newRow("moved away") << true;
}

void TestTreeWatcher::rootGone()
{
    QFETCH(bool, moved);
    const Tree tree;
    QVERIFY(tree.valid());
    QVERIFY(tree.mkdir("root"));
    QVERIFY(tree.mkdir("root/sub"));
    QVERIFY(tree.write("root/sub/f"));
    TreeWatcher watcher(tree.path("root"), mailFilter());
    QCOMPARE(QString::fromStdString(watcher.start()), QString());

    TreeWatcher::Changes changes;
    QVERIFY(tree.write("root/g"));
    QVERIFY2(readUntilPaths(watcher, changes, {"g"}), qPrintable(joined(changes.paths)));
    QVERIFY(!changes.rootGone);
    if (moved)
        QVERIFY(tree.rename("root", "elsewhere"));
    else
        QVERIFY(tree.removeTree("root"));
    QVERIFY(readUntil(watcher, changes, [](const auto &seen) { return seen.rootGone; }));
    if (!moved)
        QVERIFY(changes.paths.contains("sub/f"));
}

void TestTreeWatcher::overflow()
{
    QFile limitFile(QStringLiteral("/proc/sys/fs/inotify/max_queued_events"));
    QVERIFY(limitFile.open(QIODevice::ReadOnly));
    bool ok = false;
    const qint64 limit = limitFile.readAll().trimmed().toLongLong(&ok);
    QVERIFY(ok && limit > 0);
    if (limit > 200000)
        QSKIP("fs.inotify.max_queued_events is above 200000: too many files to fill it here");

    const Tree tree;
    QVERIFY(tree.valid());
    QVERIFY(tree.mkdir("a"));
    QVERIFY(tree.mkdir("a/sub"));
    QVERIFY(tree.mkdir("gone"));
    TreeWatcher watcher(tree.root(), mailFilter());
    QCOMPARE(QString::fromStdString(watcher.start()), QString());
    QCOMPARE(watcher.watchCount(), std::size_t(4));
    // Each file is at least one event (IN_CREATE, then IN_CLOSE_WRITE), none read meanwhile.
    for (qint64 i = 0; i <= limit; ++i)
        QVERIFY(tree.write("f" + std::to_string(i)));
    // With the queue full, these events are lost: a directory made, one renamed, one deleted.
    QVERIFY(tree.mkdir("during"));
    QVERIFY(tree.rename("a", "a2"));
    QVERIFY(tree.removeTree("gone"));
    TreeWatcher::Changes changes;
    QVERIFY(readUntil(watcher, changes, [](const auto &seen) { return seen.overflowed; }));
    QVERIFY(!changes.rootGone);

    // Not blind afterwards on what the lost events would have told: the new directory is
    // watched, the renamed one is reported under its new name only.
    TreeWatcher::Changes later;
    QVERIFY(tree.write("during/f"));
    QVERIFY(tree.write("a2/sub/g"));
    QVERIFY(tree.write("after"));
    QVERIFY2(readUntilPaths(watcher, later, {"during/f", "a2/sub/g", "after"}),
             qPrintable(joined(later.paths)));
    QVERIFY2(!anyBelow(later.paths, "a"), qPrintable(joined(later.paths)));
    QVERIFY(!later.overflowed);
    // root, a2, a2/sub, during: none left for "gone".
    QCOMPARE(watcher.watchCount(), std::size_t(4));
}

void TestTreeWatcher::scanSubs_data()
{
    QTest::addColumn<std::vector<std::string>>("paths");
    QTest::addColumn<int>("maxSubs");
    QTest::addColumn<std::vector<std::string>>("subs");

    using V = std::vector<std::string>;
    QTest::newRow("few: themselves")
        << V{"a/cur/1", "a/new/2", "top"} << 3 << V{"a/cur/1", "a/new/2", "top"};
    QTest::newRow("one") << V{"box/cur/m"} << 256 << V{"box/cur/m"};
    QTest::newRow("many: their parents")
        << V{"a/cur/1", "a/cur/2", "a/cur/3", "b/new/4"} << 3 << V{"a/cur", "b/new"};
    QTest::newRow("parents exactly maxSubs")
        << V{"a/1", "a/2", "b/3", "c/4"} << 3 << V{"a", "b", "c"};
    QTest::newRow("too many parents: whole folder") << V{"a/1", "b/2", "c/3", "d/4"} << 3 << V{};
    QTest::newRow("a top-level path among many: whole folder")
        << V{"a/cur/1", "a/cur/2", "a/cur/3", "top"} << 3 << V{};
    QTest::newRow("the root: whole folder") << V{""} << 256 << V{};
    QTest::newRow("the root among others: whole folder") << V{"", "a/1"} << 256 << V{};
    QTest::newRow("nothing") << V{} << 256 << V{};
}

void TestTreeWatcher::scanSubs()
{
    QFETCH(std::vector<std::string>, paths);
    QFETCH(int, maxSubs);
    QFETCH(std::vector<std::string>, subs);
    const auto actual =
        mm::agent::scanSubsFor(Paths(paths.begin(), paths.end()), std::size_t(maxSubs));
    QCOMPARE(joined(actual), joined(subs));
}

void TestTreeWatcher::changeNoise_data()
{
    QTest::addColumn<std::string>("name");
    QTest::addColumn<bool>("noise");

    for (const char *name :
         {"dovecot.index", "dovecot.index.log", "dovecot.index.cache", "dovecot.list.index.log",
          "dovecot.mailbox.log", "dovecot-uidlist.lock", "dovecot-uidlist.tmp", ".syncthing.x.tmp",
          "~syncthing~x.tmp"})
        QTest::newRow(name) << std::string(name) << true;
    for (const char *name :
         {"1733.M1P2.host,S=10:2,S", "1733.M1P2.host,S=10,W=12:2,ST", "dovecot-uidlist",
          "dovecot-keywords", "subscriptions", "maildirfolder", ".syncthing.x", "cur", "tmp"})
        QTest::newRow(name) << std::string(name) << false;
}

void TestTreeWatcher::changeNoise()
{
    QFETCH(std::string, name);
    QFETCH(bool, noise);
    QCOMPARE(mm::agent::isChangeNoise(name), noise);
}

void TestTreeWatcher::scanRequestTarget_data()
{
    QTest::addColumn<std::string>("folder");
    QTest::addColumn<std::vector<std::string>>("subs");
    QTest::addColumn<std::string>("target");

    using V = std::vector<std::string>;
    QTest::newRow("whole folder") << std::string("mail") << V{}
                                  << std::string("/rest/db/scan?folder=mail");
    QTest::newRow("kept characters")
        << std::string("ab-c.d_e~f") << V{"user/Maildir/.Sent/cur", "x-y.z_w~"}
        << std::string("/rest/db/scan?folder=ab-c.d_e~f&sub=user/Maildir/.Sent/cur"
                       "&sub=x-y.z_w~");
    QTest::newRow("Maildir name, space, reserved and non-ASCII")
        << std::string("mail box")
        << V{"u/cur/1733.M1P2.host,S=10:2,S", "u/.Entw\xc3\xbcrfe/new", "a&b?c#d%e+f"}
        << std::string("/rest/db/scan?folder=mail%20box"
                       "&sub=u/cur/1733.M1P2.host%2CS%3D10%3A2%2CS"
                       "&sub=u/.Entw%C3%BCrfe/new"
                       "&sub=a%26b%3Fc%23d%25e%2Bf");
}

void TestTreeWatcher::scanRequestTarget()
{
    QFETCH(std::string, folder);
    QFETCH(std::vector<std::string>, subs);
    QFETCH(std::string, target);
    QCOMPARE(QString::fromStdString(mm::agent::scanRequestTarget(folder, subs)),
             QString::fromStdString(target));
}

void TestTreeWatcher::syncthingLocalApi()
{
    // Shaped like Syncthing 1.19.2's config.xml: folders before <gui>, each with devices and
    // many options, and <defaults> holding a <folder> (and a <device>) that are templates only.
    const std::string xml = R"(<configuration version="36">
    <folder id="mail" label="mail" path="/var/vmail" type="sendreceive" rescanIntervalS="3600" fsWatcherEnabled="true" fsWatcherDelayS="10" ignorePerms="false" autoNormalize="true">
        <filesystemType>basic</filesystemType>
        <device id="KOMF4OL-YBUIVRC-3ECCYP5-HG326YK-AT6WFGZ-LPK6AZU-P3R2VXH-XM6VPQO" introducedBy="">
            <encryptionPassword></encryptionPassword>
        </device>
        <minDiskFree unit="%">1</minDiskFree>
        <versioning>
            <cleanupIntervalS>3600</cleanupIntervalS>
            <fsPath></fsPath>
            <fsType>basic</fsType>
        </versioning>
        <paused>false</paused>
        <markerName>.stfolder</markerName>
    </folder>
    <folder id="archive-2024" label="archive" path="~/archive" type="sendreceive" rescanIntervalS="3600" fsWatcherEnabled="true" fsWatcherDelayS="10" ignorePerms="false" autoNormalize="true">
        <filesystemType>basic</filesystemType>
        <minDiskFree unit="%">1</minDiskFree>
        <paused>true</paused>
        <markerName>.stfolder</markerName>
    </folder>
    <device id="KOMF4OL-YBUIVRC-3ECCYP5-HG326YK-AT6WFGZ-LPK6AZU-P3R2VXH-XM6VPQO" name="vm" compression="metadata" introducer="false" skipIntroductionRemovals="false" introducedBy="">
        <address>dynamic</address>
        <paused>false</paused>
    </device>
    <gui enabled="true" tls="false" debugging="false">
        <address>127.0.0.1:8384</address>
        <apikey>recorded-key-not-secret</apikey>
        <theme>default</theme>
    </gui>
    <ldap></ldap>
    <options>
        <listenAddress>default</listenAddress>
        <globalAnnounceEnabled>true</globalAnnounceEnabled>
    </options>
    <defaults>
        <folder id="defaults-template" label="" path="~" type="sendreceive" rescanIntervalS="3600" fsWatcherEnabled="true" fsWatcherDelayS="10" ignorePerms="false" autoNormalize="true">
            <filesystemType>basic</filesystemType>
            <device id="KOMF4OL-YBUIVRC-3ECCYP5-HG326YK-AT6WFGZ-LPK6AZU-P3R2VXH-XM6VPQO" introducedBy="">
                <encryptionPassword></encryptionPassword>
            </device>
            <paused>false</paused>
        </folder>
        <device id="" compression="metadata" introducer="false" skipIntroductionRemovals="false" introducedBy="">
            <address>dynamic</address>
            <paused>false</paused>
        </device>
    </defaults>
</configuration>
)";
    // (1.19 writes id="" on the template folder; an id here makes sure it is left out for being
    // inside <defaults>, not only for being unnamed.)
    const auto api = mm::node::parseSyncthingLocalApi(xml);
    QVERIFY(api.has_value());
    QCOMPARE(QString::fromStdString(api->guiAddress), QStringLiteral("127.0.0.1:8384"));
    QCOMPARE(QString::fromStdString(api->apiKey), QStringLiteral("recorded-key-not-secret"));
    QCOMPARE(api->guiTls, false);
    QCOMPARE(api->folders.size(), std::size_t(2));
    QCOMPARE(QString::fromStdString(api->folders[0].id), QStringLiteral("mail"));
    QCOMPARE(QString::fromStdString(api->folders[0].path), QStringLiteral("/var/vmail"));
    QCOMPARE(api->folders[0].paused, false);
    QCOMPARE(QString::fromStdString(api->folders[1].id), QStringLiteral("archive-2024"));
    QCOMPARE(QString::fromStdString(api->folders[1].path), QStringLiteral("~/archive"));
    QCOMPARE(api->folders[1].paused, true);

    // TLS required by the GUI: reported, so watch-changes can say why it cannot talk to it.
    const auto tls = mm::node::parseSyncthingLocalApi(
        "<configuration><gui tls=\"true\"><address>[::1]:8384</address><apikey>k</apikey></gui>"
        "</configuration>");
    QVERIFY(tls.has_value());
    QCOMPARE(tls->guiTls, true);
    QCOMPARE(QString::fromStdString(tls->guiAddress), QStringLiteral("[::1]:8384"));
    QCOMPARE(tls->folders.size(), std::size_t(0));

    QVERIFY(!mm::node::parseSyncthingLocalApi("").has_value());
    QVERIFY(!mm::node::parseSyncthingLocalApi("{\"gui\": {\"apikey\": \"k\"}}").has_value());
    QVERIFY(!mm::node::parseSyncthingLocalApi(
                 "<gui><address>127.0.0.1:8384</address><apikey>k</apikey></gui>"
                 "<folder id=\"mail\" path=\"/var/vmail\"/>")
                 .has_value());
}

QTEST_APPLESS_MAIN(TestTreeWatcher)
#include "tst_treewatcher.moc"
