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
//    gives the command to run at boot;
//  - its GUI/REST API listens on loopback only (Mailmesh reaches it through ssh);
//  - fs.inotify.max_user_watches covers the mail root's folders (3 watches per Maildir folder),
//    raised through /etc/sysctl.d when the login user may.
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
    void guiOnLoopback();
    void inotifyLimits();
    void addManualAction(const QString &what, const QStringList &commands);
    // Runs argv as root: directly when logged in as root, else through `sudo -n`.
    QStringList asRoot(const QStringList &argv) const;

    ClusterConfig m_cluster;
    NodeConfig m_node;
    MonitorOptions m_options;
    ClusterSession *m_session = nullptr;
    QJsonObject m_probe;
    QJsonArray m_manualActions;
};

} // namespace mm::cluster
