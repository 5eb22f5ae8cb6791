#pragma once

#include "cluster/clusterconfig.h"
#include "cluster/monitoroptions.h"
#include "cluster/workflow.h"

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
//    only root may write.
// What it cannot do itself (no root, no systemd) ends as a manual action with the exact
// commands, and exit code 1. A dry run only checks.
class PrepareNodeWorkflow : public Workflow
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

protected:
    void cleanUp() override;

private:
    void connectNode();
    void probe();
    void syncthingService();
    void checkServiceHome(const QString &unit);
    void generateConfig(const QString &unit);
    void enableService(const QString &unit);
    void guiOnLoopback();
    void inotifyLimits();
    void stateDir();
    void addManualAction(const QString &what, const QStringList &commands);
    // Runs argv as root: directly when logged in as root, else through `sudo -n`.
    QStringList asRoot(const QStringList &argv) const;

    ClusterConfig m_cluster;
    NodeConfig m_node;
    MonitorOptions m_options;
    ClusterSession *m_session = nullptr;
    QJsonObject m_probe;
    QJsonArray m_manualActions;
    bool m_configGenerated = false;
};

} // namespace mm::cluster
