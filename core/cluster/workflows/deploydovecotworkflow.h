#pragma once

#include "cluster/workflows/clusterworkflow.h"
#include "cluster/dovecot/dovecotversion.h"
#include "remote/sshcommand.h"

#include <QByteArray>
#include <QJsonObject>
#include <QMap>

#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace mm::cluster {

class DovecotInstallStrategy;

// What deploy-dovecot knows and did on one node, for the steps and the rollback.
struct DeployNodeState
{
    DovecotFacts before;            // as the cluster file had it, configFile made explicit
    QString osId, osVersionId, architecture;
    std::optional<DovecotVersion> current, target;
    QString runningBinary;          // /proc/<master>/exe; empty: unknown or not running
    bool runningReplaced = false;   // the master's binary was replaced on disk since it started
    qint64 masterPid = 0;
    QString mailLocation;
    QMap<QString, QString> runtimeDirs; // base_dir, state_dir of the Dovecot the node runs now
    QByteArray rendered;
    QByteArray previousSnippet;
    bool hadSnippet = false;
    bool curOnlyExists = false;
    bool curOnlyOn = false;
    bool unchanged = false;
    // What this run changed, for rollback (the strategy keeps what its install changed).
    bool snippetWritten = false;
    bool curOnlyWritten = false;
    bool restarted = false;
    // Commands run as root (sudo -n for another login user): always with --packages; with
    // --prefix when the login user may not write the configuration (Debian's /etc/dovecot
    // is root's; the admin logs in as a sudo user where root may not).
    bool asRoot = false;
};

// `deploy-dovecot`: puts the cur/-only Dovecot on nodes, with its setting off.
//
//   connect → detect → [install] → render  [a dry run stops here: the snippet diff, nothing written]
//   → configure → validate → restart → verify → updates
//
// detect learns each node's system and running Dovecot and the target build's version (a
// downgrade is refused unless allowed); render makes conf.d/90-mailmesh.conf from the template
// of the target's Dovecot line, keeping the node's mail location; configure writes it (the
// previous one kept in memory and as 90-mailmesh.conf.mailmesh-previous) and, when migrate
// never ran, 99-mailmesh-cur-only.conf with the setting off; validate runs the target's
// `doveconf -n` over it; restart uses the node's restart command (or systemd: dovecot.service,
// pointed at a prefix build by a drop-in), one node at a time, so at most one node's IMAP is
// down; verify checks the running master is the target binary, speaks IMAP through an ssh tunnel and, for --check-user, asks doveadm for a mailbox.
// A node that already runs the target with the same snippet is left alone ("unchanged").
// Any failure from configure on rolls every changed node back: snippets restored, nodes that
// were restarted started again with their previous binary.
//
// --prefix and --packages are two DovecotInstallStrategy classes (deploydovecotprefix.h,
// deploydovecotpackages.h): how the target build is detected and installed, how an install is
// rolled back, and which prefix the restart starts. The steps around them are the same.
//
// --prefix: detect runs the prefix's `dovecot --version` (it must be a +mailmesh build) and
// reads the MAILMESH-BUILD-INFO warning build-prefix.sh left there.
//
// --packages: detect reads the installed dovecot packages (dpkg-query) and the real version of
// the .debs (their control fields, read by the node's dpkg-deb from the first kB of the file),
// refuses a downgrade unless allowed, and asks the node's apt (apt-cache policy) whether its
// distribution offers a newer Debian build than the patched one: a security update to rebuild
// the patch for, reported as a warning. install, one node at a time, uploads the .debs to a
// private temp dir, checks their sha256, installs them with apt (conffiles kept) and holds
// them; a node that has exactly this build, held, is left alone. A later failure puts the
// previous versions back with apt (removing packages that were not there) along with the
// configuration, and says what to run by hand if apt cannot fetch them. With --packages every
// command on the node runs as root (sudo -n when the login user is not root).
//
// Restart commands run as `env MAILMESH_DOVECOT_PREFIX=P MAILMESH_DOVECOT_CONFIG=C CMD...`:
// P is the prefix to start (the target, or the previous one on rollback; /usr for packages).
class DeployDovecotWorkflow : public ClusterWorkflow
{
    Q_OBJECT

public:
    struct Options
    {
        QString prefix;      // --prefix: a patched build installed in this directory on every node
        QString packagesDir; // --packages: .deb files on this machine (selection only, see detect)
        QStringList nodeIds; // empty: every node
        bool dryRun = false;
        bool allowDowngrade = false;
        QString checkUser;   // --check-user: doveadm mailbox status for this user
        int imapTimeoutMs = 30'000; // IMAP back after a restart
    };

    DeployDovecotWorkflow(ClusterConfig cluster, Options options, MonitorOptions monitorOptions,
                          QObject *parent = nullptr);
    ~DeployDovecotWorkflow() override;

protected:
    void cleanUp() override;

private:
    friend class DovecotInstallStrategy;
    using Done = std::function<void(const Status &)>;

    void connectSelected();
    void detect();
    void install();
    void render();
    void configure();
    void validate();
    void restart();
    void verify();
    void checkUpdates();

    void detectNode(int position, Done done);
    void detectMaster(int position, Done done);
    void renderNode(int position, Done done);
    void renderSnippet(int position, Done done);
    bool targets24(int position); // the build deployed to the node is Dovecot 2.4
    void restartNode(int position, const QString &prefix, Done done);
    // Without a restart command on a systemd node: dovecot.service, pointed at the prefix.
    QList<QStringList> systemdRestart(int position, const QString &prefix) const;
    void waitForImap(int position, int timeoutMs, Done done);
    void rollBack(int position, Done done);
    // Runs argv on the node, as root when the node's commands run as root.
    void runOn(int position, const QStringList &argv, const remote::SshCommand::Options &options,
               std::function<void(const Result<remote::SshCommand::Output> &)> done);
    // Runs the commands one after the other with these options; nothing after the run ended.
    void runAllOn(int position, const QList<QStringList> &commands, const remote::SshCommand::Options &options, Done done);
    // Rolls every changed node back, then fails the step with what was undone.
    void failAndRollBack(const Error &error, const QString &nextAction);

    // The step runs perNode on every selected node (only the changing ones when changingOnly)
    // and ends once all of them did: the first failure fails it, after a rollback when asked.
    void forEachSelected(const std::function<void(int position, Done done)> &perNode, std::function<void()> allDone,
                         bool changingOnly, bool rollBackOnFailure);
    // A step summary of one line per node, sorted.
    void completeWithSummary(const std::shared_ptr<QStringList> &summary);
    QList<int> positions(bool changingOnly) const;
    DeployNodeState &state(int position) { return m_nodes[std::size_t(position)]; }
    const DeployNodeState &state(int position) const { return m_nodes[std::size_t(position)]; }
    // Package commands run as root: directly, or through sudo -n for another login user.
    static remote::SshCommand::Options asRoot(QByteArray input = {});
    void addWarning(const QString &warning);
    QString targetBinary() const;
    QString targetTool(const QString &name) const;
    QString snippetPath(int position) const;
    QString nothingChangedAdvice() const;
    QStringList changingNodes() const;

    Options m_options;
    std::unique_ptr<DovecotInstallStrategy> m_strategy;
    std::vector<DeployNodeState> m_nodes;
    bool m_rollingBack = false;
    QStringList m_warnings;
};

} // namespace mm::cluster
