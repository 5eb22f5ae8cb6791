#pragma once

#include "cluster/workflows/clusterworkflow.h"

#include <QJsonArray>
#include <QJsonObject>

namespace mm::cluster {

class ClusterSession;

// `prepare`: makes a node ready for Syncthing when the admin asks for it:
//  - Syncthing runs as the mail user (it writes every file as the user it runs as), started
//    with the system: Debian's `syncthing@USER` unit where systemd runs, otherwise the report
//    gives the command to run at boot. A Syncthing that never ran gets its configuration
//    first (configScript): no default folder (it would be ~/Sync, inside the mail root when
//    the mail user's home is the mail root), no global discovery, relays, NAT or usage
//    reporting (peers dial each other's syncAddress; a relay would carry the mail through a
//    stranger), the GUI on the node's guiAddress and the listener on the syncAddress's port.
//    The unit uses the user's default home: a node whose syncthing.home is another one gets
//    the drop-in that points the unit at it as a manual action;
//  - its GUI/REST API listens on loopback only (Mailmesh reaches it through ssh);
//  - fs.inotify.max_user_watches covers the mail root's folders (3 watches per Maildir folder),
//    raised through /etc/sysctl.d when the login user may;
//  - the state dir (journals and quarantine) exists and belongs to the mail user, who runs the
//    agent: its default beside the mail root (/var/.mailmesh-state/vmail) lies in a directory
//    only root may write;
//  - mailmesh-agent watch-changes (app/mailmesh-agent/changewatch.h) runs beside Syncthing as
//    the mail user and starts with the system: a root-owned copy of the agent this session
//    deployed, a template unit mailmesh-watch-changes@.service and, per instance, a drop-in
//    holding the node's Syncthing home; without systemd, the command to start it at boot.
// What it cannot do itself (no root, no systemd) ends as a manual action with the exact
// commands, and exit code 1. A dry run only checks.
class PrepareNodeWorkflow : public ClusterWorkflow
{
    Q_OBJECT

public:
    PrepareNodeWorkflow(ClusterConfig cluster, QString nodeId, bool dryRun, MonitorOptions options,
                        QObject *parent = nullptr);
    ~PrepareNodeWorkflow() override;

    // The watches to configure for a mail root that needs `needed`: room for the folders that
    // new users and Postfix will add, and never below the kernel's usual default.
    static qint64 inotifyWatchTarget(qint64 needed);
    // POSIX sh run as the mail user (`sh -c SCRIPT sh CONFIG_XML GUI_ADDRESS LISTEN_PORT`): edits
    // a configuration that `syncthing generate` just wrote, before Syncthing's first start.
    // An empty GUI_ADDRESS or LISTEN_PORT keeps Syncthing's default.
    static QString configScript();

    // The commands handed to the admin when prepare cannot act itself. The values come from the
    // cluster file and from the node, so every one is quoted for a POSIX shell.
    static QString startSyncthingCommand(const QString &mailUser, const QString &home);
    static QString generateSyncthingConfigCommand(const QString &mailUser, const QString &home);
    static QString bindGuiToLoopbackCommand(const QString &mailUser, const QString &home, const QString &port);

    // The change watcher's files on a systemd node. The paths are fixed on a real node; tests
    // move them into a temporary directory.
    struct ChangeWatcherFiles
    {
        QString binary;     // the stable copy of the agent the unit runs
        QString unit;       // the template unit
        QString unitText;
        QString dropIn;     // the instance's drop-in: the node's Syncthing home
        QString dropInText;
    };
    static ChangeWatcherFiles changeWatcherFiles(const QString &mailUser, const QString &syncthingHome);
    // "mailmesh-watch-changes@USER.service"
    static QString changeWatcherUnit(const QString &mailUser);
    static QString changeWatcherUnitText();
    static QString changeWatcherDropInText(const QString &syncthingHome);
    // POSIX sh (`sh -c SCRIPT sh MODE SOURCE SHA256 BINARY UNIT UNIT_TEXT DROPIN DROPIN_TEXT`):
    // prints a line for each of the files that is not as wanted: "binary" (BINARY does not hash
    // to SHA256, or is not root's with mode 0755), "unit", "drop-in". MODE "check" changes
    // nothing (any user may run it); MODE "apply" (root) also puts each in place through a
    // temporary name in the same directory and one rename; a SOURCE that does not hash to SHA256
    // is refused with exit 3.
    static QString changeWatcherFilesScript();
    static QStringList changeWatcherFilesCommand(const QString &mode, const QString &source, const QString &sha256,
                                                 const ChangeWatcherFiles &files);
    // The systemctl commands that bring the unit where it should be, given what changed and its
    // state: none when everything is in place (prepare run again changes nothing).
    static QList<QStringList> changeWatcherServiceCommands(const QString &unit, bool unitFilesChanged,
                                                           bool binaryChanged, bool enabled, bool active);
    // For the admin when prepare may not act: every command to run as root, values quoted.
    static QStringList changeWatcherManualCommands(const QString &source, const QString &mailUser,
                                                   const ChangeWatcherFiles &files);
    // Without systemd: the command that starts the watcher as the mail user, for the admin's
    // init system.
    static QString startChangeWatcherCommand(const QString &mailUser, const QString &syncthingHome);

protected:
    void cleanUp() override;

private:
    void connectNode();
    void probe();
    void syncthingService();
    void checkServiceHome(const QString &unit);
    void generateConfig(const QString &unit);
    void enableService(const QString &unit);
    void startService(const QString &unit);
    void guiOnLoopback();
    void inotifyLimits();
    void stateDir();
    void changeWatcher();
    void changeWatcherWithoutSystemd();
    void checkChangeWatcher();
    void applyChangeWatcher(const ChangeWatcherFiles &files, const QString &unit, const QStringList &manual,
                            bool enabled, bool active);
    void addManualAction(const QString &what, const QStringList &commands);
    // Runs argv as root: directly when logged in as root, else through `sudo -n`.
    QStringList asRoot(const QStringList &argv) const;

    NodeConfig m_node;
    QJsonObject m_probe;
    QJsonArray m_manualActions;
    bool m_configGenerated = false;
    QString m_mailUserHome; // from getent passwd, for Syncthing's default data dir
};

} // namespace mm::cluster
