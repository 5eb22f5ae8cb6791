#include "cluster/config/mailfolderpolicy.h"

#include <QDir>
#include <QJsonArray>

namespace mm::cluster {

namespace {

QStringList dovecotAndSyncthingIgnores(UidPolicy policy)
{
    // Every file Dovecot keeps beside the messages, and why it does or does not replicate, is in
    // docs/mailbox-state.md. (?d): Syncthing may delete these when it removes their directory.
    QStringList ignores{
        QStringLiteral("// Managed by Mailmesh: per-node Dovecot files and transient data never replicate."),
        QStringLiteral("// Indexes, caches and logs: each node's Dovecot rebuilds its own."),
        QStringLiteral("(?d)**/dovecot.index*"),
        QStringLiteral("(?d)**/dovecot.list.index*"),
        QStringLiteral("(?d)**/dovecot.mailbox.log*"),
        QStringLiteral("(?d)**/dovecot-acl-list"),
        // Dovecot writes a new dovecot-uidlist here and renames it into place: replicated, it
        // would land in the middle of another node's write.
        QStringLiteral("(?d)**/dovecot-uidlist.tmp"),
        QStringLiteral("// Locks; dovecot-keywords.d/<node>.lock and subscriptions.d/<node>.lock too."),
        QStringLiteral("(?d)**/*.lock"),
        QStringLiteral("// Maildir++ quota: every node counts what its own Dovecot saves and expunges."),
        QStringLiteral("(?d)**/maildirsize"),
        QStringLiteral("// Delivery's duplicate database and compiled Sieve scripts: per node."),
        QStringLiteral("(?d)**/.dovecot.lda-dupes*"),
        QStringLiteral("(?d)**/*.svbin"),
        // The contents of tmp/ are half-delivered mail; the directory itself must exist everywhere.
        QStringLiteral("(?d)**/tmp/**"),
        // Dovecot renames a deleted folder here and then empties it: the deleting node's own
        // business. Replicated, it lands on nodes whose Dovecot empties any such directory it
        // finds before its own next DELETE (docs/maildir-dovecot-syncthing.md, "Open findings").
        // Its name depends on the folder layout (Dovecot's src/lib-storage/list/: Maildir++ in
        // mailbox-list-maildir.h, LAYOUT=fs in mailbox-list-fs.h, the same in 2.3 and 2.4).
        QStringLiteral("// A folder being deleted by the node's own Dovecot (Maildir++, LAYOUT=fs)."),
        QStringLiteral("(?d)**/..DOVECOT-TRASHED"),
        QStringLiteral("(?d)**/..DOVECOT-TrasH"),
        // A mail root that is a mount point keeps its journals and quarantine here
        // (core/maildir/statedir.h): per node, and never deleted by Syncthing, so no (?d).
        QStringLiteral("// This node's journals and quarantine, when the mail root is a mount point."),
        QStringLiteral("/.mailmesh-state"),
        // A second guard beside the anchored home pattern below: should a Syncthing home sit in
        // the mail root under another path than the cluster file says, its identity, API key and
        // database still stay on their node. No Maildir holds files of these names. No (?d).
        QStringLiteral("// Syncthing's own files, wherever a home may sit: keys, config, database."),
        QStringLiteral("**/key.pem"),
        QStringLiteral("**/cert.pem"),
        QStringLiteral("**/https-key.pem"),
        QStringLiteral("**/https-cert.pem"),
        QStringLiteral("**/config.xml"),
        QStringLiteral("**/index-v0.14.0.db"),
    };
    if (policy == UidPolicy::PerNode)
        ignores << QStringLiteral("// uidPolicy per-node: every node numbers its own messages.")
                << QStringLiteral("(?d)**/dovecot-uidlist") << QStringLiteral("(?d)**/dovecot-uidvalidity*");
    return ignores;
}

} // namespace

QStringList mailFolderIgnores(UidPolicy policy, const NodeConfig &node)
{
    QStringList ignores = dovecotAndSyncthingIgnores(policy);
    const QString root = QDir::cleanPath(node.mailRoot);
    const QString home = QDir::cleanPath(node.syncthing.home);
    if (root.isEmpty() || home.isEmpty() || !home.startsWith(root == QLatin1String("/") ? root : root + u'/'))
        return ignores;
    // Anchored at the folder root; escaped, since a home may hold pattern characters. No (?d):
    // Syncthing must never delete its own home.
    QString pattern = QDir(root).relativeFilePath(home);
    for (const QChar special : {u'\\', u'*', u'?', u'[', u']', u'{', u'}', u'!'})
        pattern.replace(special, QStringLiteral("\\") + special);
    ignores << QStringLiteral("// Syncthing's own home on this node lies inside the mail root: never shared.")
            << u'/' + pattern;
    // A home that is the user's default (~/.config/syncthing) comes with Syncthing 1.27's default
    // data dir, ~/.local/state/syncthing, which holds the database (prepare makes it).
    const QString anchored = u'/' + pattern;
    const QString defaultConfig = QStringLiteral("/.config/syncthing");
    if (anchored.endsWith(defaultConfig))
        ignores << QStringLiteral("// Its database (Syncthing 1.27 and later): never shared.")
                << anchored.chopped(defaultConfig.size()) + QStringLiteral("/.local/state/syncthing");
    return ignores;
}

QJsonObject mailFolderObject(const ClusterConfig &cluster, const NodeConfig &node, const QStringList &deviceIds)
{
    QJsonArray devices;
    for (const QString &id : deviceIds)
        devices.append(QJsonObject{{QStringLiteral("deviceID"), id}});
    return QJsonObject{
        {QStringLiteral("id"), cluster.folderId},
        {QStringLiteral("label"), QStringLiteral("Mailmesh: %1").arg(cluster.name)},
        {QStringLiteral("path"), node.mailRoot},
        {QStringLiteral("type"), QStringLiteral("sendreceive")},
        {QStringLiteral("devices"), devices},
        // Changes reach the peers within about a second; the rescan is only the fallback.
        {QStringLiteral("fsWatcherEnabled"), true},
        {QStringLiteral("fsWatcherDelayS"), 1},
        {QStringLiteral("rescanIntervalS"), 3600},
        // A conflict copy of a Maildir file is a new BASE, i.e. an extra message: never make one.
        {QStringLiteral("maxConflicts"), 0},
        {QStringLiteral("ignorePerms"), false},
        {QStringLiteral("markerName"), QStringLiteral(".stfolder")},
    };
}

} // namespace mm::cluster
