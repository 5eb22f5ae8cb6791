#pragma once

#include "common/result.h"
#include "lab/labnetwork.h"
#include "lab/labnodeinfo.h"
#include "lab/laboptions.h"
#include "lab/labprocess.h"

#include <QJsonObject>
#include <QList>
#include <QString>

#include <memory>
#include <vector>

namespace mm::lab {

// A lab of real Debian nodes on this machine, to rehearse what Mailmesh does to production
// servers: each node boots Debian with systemd as PID 1 under systemd-nspawn, from a cached root
// file system (labhost::ensureImage) through an overlay of its own, in a network namespace of its
// own on the lab's private bridge (LabNetwork). Each has unique host keys, Postfix delivering
// for alice@lab.test and bob@lab.test through Dovecot's LMTP into
// /var/vmail/lab.test/<user>/Maildir (owned by vmail), Dovecot with the lab CA's certificate on
// 993, and Syncthing installed but not running. Root logs in by key, or root login is off and the
// sudo user `admin` logs in.
//
// Layout under dir():
//   lab.json                 description() plus what teardown needs (tag, pids, namespaces)
//   admin/ id_ed25519[.pub] ssh_config known_hosts ca.pem     the admin side
//   ca/ca.key                the lab CA's key (signs each node's certificate)
//   nodes/nodeK/ upper/ work/ root/ console.log               overlay layers, mount, console
// Outside it: /run/netns/mmlab-<tag>-*, cgroups mailmesh-lab/<tag>/nodeK, and the registration
// /run/mailmesh-lab/<tag>.json (made first, removed last) that the leftover check reads.
//
// Blocking API: call it from one thread. Needs root (labhost::whyLabCannotRun).
class Lab
{
public:
    // A mailbox on every node: its login (user@lab.test) and throw-away password.
    struct Account
    {
        QString login;
        QString password;
    };

    explicit Lab(LabOptions options = {});
    ~Lab(); // tearDown(), except for a persistent lab
    Lab(const Lab &) = delete;
    Lab &operator=(const Lab &) = delete;

    // Installs missing tools, builds the root file system if it is not cached, makes the
    // network and boots every node in parallel; returns once all run (or on the first error,
    // having torn down what it made).
    Status start();
    // Boots one more node on the same network (e.g. a fresh one to join the cluster); its index.
    Result<int> addNode();
    // Powers a node off (its disk stays): a dead node, for the admin side.
    Status stopNode(int index);
    // Stops every node, removes mounts, cgroups and namespaces, and a temporary dir.
    void tearDown();

    bool isRunning() const { return m_running; }
    QString dir() const { return m_dir; }
    QString tag() const { return m_network ? m_network->tag() : QString(); }
    QString identityFile() const;
    QString sshConfigFile() const;
    QString knownHostsFile() const;
    QString caFile() const;
    QString mailDomain() const { return QStringLiteral("lab.test"); }
    QList<Account> accounts() const { return m_accounts; }
    QList<LabNodeInfo> nodes() const;
    LabNodeInfo node(int index) const;
    int nodeCount() const { return int(m_nodes.size()); }
    qint64 startupMs() const { return m_startupMs; }
    qint64 imageBuildMs() const { return m_imageBuildMs; }
    QString adminNamespace() const;

    // What `mailmeshctl lab up` prints.
    QJsonObject description() const;

    // Moves the calling thread to the admin side's namespace (LabNetwork::enter): the sockets it
    // opens and the processes it starts afterwards reach the nodes, and only them.
    Status enterAdminNetwork() const;
    // Runs argv as root inside the node (nsenter into its namespaces), for checks and tests.
    Result<ProgramOutput> runInNode(int index, const QStringList &argv,
                                    const QByteArray &input = {}, int timeoutMs = 60'000) const;

    // `mailmeshctl lab down`: tears down the lab recorded in dir/lab.json.
    static Status tearDownDirectory(const QString &dir);
    // The lab that `lab up` left running in dir (persistent), e.g. to add a node to it.
    static Result<std::unique_ptr<Lab>> attach(const QString &dir);
    // Where `lab up`/`lab down` put a lab without --dir.
    static QString defaultDirectory();

    // The registrations of labs on this machine: /run/mailmesh-lab/<tag>.json.
    static QString registryDir();

private:
    struct Node;

    Status startOnce();
    Status prepareDirectory();
    Status makeAdminFiles();
    Status makeNode(int number);
    Status writeNodeFiles(Node &node);
    Status launchNode(Node &node);
    Status waitUntilBooted(const QList<int> &indexes);
    qint64 leaderPid(const Node &node) const;
    Status writeClientFiles() const;
    Status writeStateFile() const;
    Status writeRegistration() const;
    Status stopNodeProcesses(Node &node);
    Status checkIndex(int index) const;

    LabOptions m_options;
    QString m_dir;
    bool m_dirIsTemporary = false;
    QString m_image;
    std::unique_ptr<LabNetwork> m_network;
    std::vector<std::unique_ptr<Node>> m_nodes;
    QList<Account> m_accounts;
    QByteArray m_usersFile; // Dovecot's passwd-file for the accounts
    qint64 m_startupMs = 0;
    qint64 m_imageBuildMs = 0;
    bool m_running = false;
};

} // namespace mm::lab
