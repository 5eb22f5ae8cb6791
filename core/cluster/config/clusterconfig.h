#pragma once

#include "cluster/config/homenodes.h"
#include "cluster/config/uidpolicy.h"
#include "common/result.h"

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

namespace mm::cluster {

// What Mailmesh learned about a node's Dovecot when it last probed it.
struct DovecotFacts
{
    QString version;          // "2.3.19.1 (9b53102964)"; empty until probed
    bool curOnlyBuild = false; // our patched build (+mailmesh suffix, maildir_cur_only setting)
    bool curOnlyEnabled = false; // maildir_cur_only = yes in the running configuration
    QString prefix;           // install prefix when Dovecot runs from a directory; empty: packages
    QString configFile;       // dovecot.conf; Mailmesh writes its snippets into conf.d/ beside it
    QList<QStringList> restartCommand; // argv lists; empty: systemctl restart dovecot
    QList<QStringList> reloadCommand;  // argv lists; empty: doveadm [-c configFile] reload
    int imapPort = kDefaultImapPort;   // where deploy-dovecot checks IMAP, on the node's loopback
    // The keyword letters (a-z) this node's Dovecot may give new keywords once the cluster is
    // cur/-only (maildir_cur_only_keyword_letters); every node has its own (keywordletters.h).
    QString keywordLetters;

    static constexpr int kDefaultImapPort = 143;

    // Where dovecot.conf lives when the file does not say: a prefix build keeps it under its
    // sysconfdir, packages under /etc.
    static QString defaultConfigFile(const QString &prefix);

    friend bool operator==(const DovecotFacts &, const DovecotFacts &) = default;
};

struct SyncthingSettings
{
    QString home;        // Syncthing's --home on the node (holds config.xml and the API key)
    QString guiAddress;  // host:port of the REST API, on the node's loopback
    QString syncAddress; // "tcp://host:port" that peers dial; discovery and relays may be off
    QString deviceId;    // filled in by pairing

    friend bool operator==(const SyncthingSettings &, const SyncthingSettings &) = default;
};

struct NodeConfig
{
    QString id;              // short, unique, [a-z0-9-]
    QString ssh;             // ssh://[user@]host[:port] or an ssh_config alias
    QStringList sshOptions;  // extra "-o" options, e.g. "ProxyJump=bastion"; SshOptionPolicy decides which
    QString hostKey;         // pinned "SHA256:..." fingerprint; empty until accepted
    QString mailRoot;        // absolute path of the replicated mail tree
    QString mailUser;        // the user the mail files belong to; Syncthing runs as it
    QString stateDir;        // journal and quarantine; empty: the default beside the mail root
    SyncthingSettings syncthing;
    QList<QStringList> holdCommands;   // argv lists run on the node to stop delivery and IMAP
    QList<QStringList> resumeCommands; // argv lists that undo holdCommands
    DovecotFacts dovecot;

    friend bool operator==(const NodeConfig &, const NodeConfig &) = default;
};

// The cluster file: a versioned JSON document in the user's config directory or wherever
// --cluster points. It holds no secrets: SSH authenticates, API keys are read live from nodes.
struct ClusterConfig
{
    // 2: dovecot.configFile and dovecot.reloadCommand (version 1 files are migrated on load).
    static constexpr int kSchemaVersion = 2;

    QString name;
    // per-node by measurement (installers/dovecot/README.md): with a replicated dovecot-uidlist,
    // 500 of 1,000 concurrent APPENDs on two nodes got a UID that names another message on the
    // other node, silently; per-node had none, at the price of pinning each client to one node.
    UidPolicy uidPolicy = UidPolicy::PerNode;
    QString folderId = QStringLiteral("mailmesh-mail"); // the Syncthing folder sharing mail roots
    QList<NodeConfig> nodes;
    // Home nodes: the admin's overrides, drained nodes, IMAP addresses (homenodes.h). Optional:
    // a file without the section reads as an empty one, and an empty one is not written.
    HomesSettings homes;

    const NodeConfig *node(const QString &id) const;
    NodeConfig *node(const QString &id);

    // Every problem found, each naming its field ("nodes[1].mailRoot: ...").
    QStringList validate() const;

    QJsonObject toJson() const;
    static Result<ClusterConfig> fromJson(const QJsonObject &object);

    static Result<ClusterConfig> load(const QString &path);
    Status save(const QString &path) const; // atomic replace

    static QString defaultPath(); // <config dir>/mailmesh/cluster.json

    friend bool operator==(const ClusterConfig &, const ClusterConfig &) = default;

private:
    static Result<ClusterConfig> readCurrentShape(const QJsonObject &object);
};

} // namespace mm::cluster
