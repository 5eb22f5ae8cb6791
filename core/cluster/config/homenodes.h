#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

namespace mm::cluster {

// Which node each mail user lives on. With uidPolicy per-node every node numbers messages on
// its own, so an IMAP client must keep talking to one node; Mailmesh gives every user a home
// node and makes every node's Dovecot proxy a login to it (docs/home-nodes.md).
//
// The admin's part, kept in the cluster file's "homes" section.
struct HomesSettings
{
    QMap<QString, QString> overrides; // user -> node id: the admin's choice wins over the hash
    QStringList drained;              // failed-over nodes: they are home to no one
    // node id -> the address other nodes reach its IMAP at ("10.0.0.2", "[2001:db8::2]:10143").
    // Without one: the host of the node's Syncthing sync address, and its dovecot.imapPort.
    QMap<QString, QString> imapAddresses;

    bool isEmpty() const
    {
        return overrides.isEmpty() && drained.isEmpty() && imapAddresses.isEmpty();
    }
    // Problems, each naming its field ("homes.overrides.bob@x: ...").
    QStringList validate() const;
    QJsonObject toJson() const;
    static HomesSettings fromJson(const QJsonObject &object, QStringList &problems);

    friend bool operator==(const HomesSettings &, const HomesSettings &) = default;
};

// Why a user lives where it does.
enum class HomeReason
{
    Hash,     // highest random weight among the nodes
    Override, // the admin's choice
    Failover, // its hashed (or chosen) node is drained; the next one by hash took it
    Nowhere   // every node is drained: no home, the user is served wherever it connects
};
QString homeReasonName(HomeReason reason);

struct HomeAssignment
{
    QString user;
    QString node; // empty with HomeReason::Nowhere
    HomeReason reason = HomeReason::Hash;
    QString preferred; // where it would live with no node drained (override or hash)

    friend bool operator==(const HomeAssignment &, const HomeAssignment &) = default;
};

namespace homenodes {

// Rendezvous (highest random weight) hashing: every (node, user) pair gets a weight from
// SHA-256, the node with the highest weight is home. Adding a node moves only the users it now
// wins (about 1/N); removing or draining one moves only its own users, each to its next best.
QString hashedHome(const QString &user, const QStringList &nodeIds);

// Every user's home. Overrides to a node not in nodeIds are ignored (the node was removed).
QList<HomeAssignment> assign(const QStringList &users, const QStringList &nodeIds,
                             const HomesSettings &settings);

// A user name Dovecot's passwd-file can carry: no ':', no whitespace or control characters,
// not empty, not starting with '#'.
bool isUsableUserName(const QString &user);

// The passwd-file Dovecot reads through the extra passdb: one line per user with a home,
// `user:::::::noauthenticate proxy_maybe=y host=H port=P`. endpoints: node id -> {host, port}.
struct Endpoint
{
    QString host;
    int port = 0;
};
QByteArray passwdFile(const QList<HomeAssignment> &homes, const QMap<QString, Endpoint> &endpoints);

// host[:port] or [v6]:port; the port defaults to defaultPort. Empty host: nullopt-like (port 0).
Endpoint parseAddress(const QString &address, int defaultPort);

// The users found in `doveadm user '*'` output: one per line, blank lines skipped.
QStringList parseUserList(const QByteArray &output);

} // namespace homenodes

} // namespace mm::cluster
