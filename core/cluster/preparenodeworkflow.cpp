#include "cluster/preparenodeworkflow.h"

#include "cluster/clustersession.h"
#include "cluster/remotecalls.h"
#include "maildir/statedir.h"
#include "remote/agentcall.h"
#include "remote/agentclient.h"
#include "remote/shellquote.h"
#include "remote/sshsession.h"

#include <QDir>

#include <algorithm>

namespace mm::cluster {

namespace {

constexpr const char *kSysctlFile = "/etc/sysctl.d/60-mailmesh-inotify.conf";

} // namespace

PrepareNodeWorkflow::PrepareNodeWorkflow(ClusterConfig cluster, QString nodeId, bool dryRun, MonitorOptions options,
                                         QObject *parent)
    : Workflow(QStringLiteral("prepare"), dryRun, parent)
    , m_cluster(std::move(cluster))
    , m_options(std::move(options))
{
    if (const NodeConfig *node = m_cluster.node(nodeId))
        m_node = *node;
    else
        m_node.id = nodeId;
    addStep(QStringLiteral("connect"), tr("Connect and start the agent"), [this] { connectNode(); });
    addStep(QStringLiteral("probe"), tr("Probe Syncthing and the mail root"), [this] { probe(); });
    addStep(QStringLiteral("syncthing"), tr("Syncthing runs as the mail user and starts with the system"),
            [this] { syncthingService(); });
    addStep(QStringLiteral("gui"), tr("Syncthing's GUI listens on loopback only"), [this] { guiOnLoopback(); });
    addStep(QStringLiteral("inotify"), tr("inotify watches cover every mail folder"), [this] { inotifyLimits(); });
    addStep(QStringLiteral("state"), tr("The journal and quarantine directory belongs to the mail user"),
            [this] { stateDir(); });
}

PrepareNodeWorkflow::~PrepareNodeWorkflow()
{
    cleanUp();
}

qint64 PrepareNodeWorkflow::inotifyWatchTarget(qint64 needed)
{
    constexpr qint64 kFloor = 204'800;
    return std::max(kFloor, needed * 2);
}

void PrepareNodeWorkflow::cleanUp()
{
    m_report.details.insert(QStringLiteral("manualActions"), m_manualActions);
    if (m_session) {
        m_session->close();
        m_session->deleteLater();
        m_session = nullptr;
    }
}

void PrepareNodeWorkflow::addManualAction(const QString &what, const QStringList &commands)
{
    m_manualActions.append(QJsonObject{{QStringLiteral("what"), what},
                                       {QStringLiteral("commands"), QJsonArray::fromStringList(commands)}});
    m_report.skippedItems = true;
    m_report.nextAction = tr("Run the commands listed under manual actions on %1, then run prepare again.").arg(m_node.id);
}

QStringList PrepareNodeWorkflow::asRoot(const QStringList &argv) const
{
    if (m_session->ssh(0)->loginUser() == QLatin1String("root"))
        return argv;
    return QStringList{QStringLiteral("sudo"), QStringLiteral("-n"), QStringLiteral("--")} + argv;
}

void PrepareNodeWorkflow::connectNode()
{
    if (!m_cluster.node(m_node.id)) {
        failStep(Error{ErrorCode::NotFound, QStringLiteral("no node \"%1\" in the cluster file").arg(m_node.id).toStdString(), {}},
                 tr("Add it first with `mailmeshctl add-node %1 ...`.").arg(m_node.id));
        return;
    }
    if (m_node.mailUser.isEmpty() || m_node.syncthing.home.isEmpty()) {
        failStep(Error{ErrorCode::BadRequest,
                       QStringLiteral("nodes.%1: mailUser and syncthing.home must be known").arg(m_node.id).toStdString(), {}},
                 tr("Run add-node again with --mail-user and --syncthing-home."));
        return;
    }
    m_session = new ClusterSession({m_node}, m_options, ClusterSession::Agent, this);
    connect(m_session, &ClusterSession::ready, this, [this] { completeStep(); });
    connect(m_session, &ClusterSession::failed, this, [this](const QString &, const Error &error) {
        failStep(error, tr("Check that the node is up and its host key is pinned (add-node), then run prepare again."));
    });
    m_session->open();
}

void PrepareNodeWorkflow::probe()
{
    const QJsonObject params{{QStringLiteral("path"), m_node.mailRoot}, {QStringLiteral("syncthingHome"), m_node.syncthing.home}};
    whenAgentFinished(m_session->agent(0)->call(QStringLiteral("probe"), params), this,
                      [this](const Result<QJsonObject> &probe) {
                          if (!probe) {
                              failStep(onNode(m_node.id, probe.error()), tr("Check the mail root, then run prepare again."));
                              return;
                          }
                          m_probe = *probe;
                          completeStep();
                      });
}

QString PrepareNodeWorkflow::startSyncthingCommand(const QString &mailUser, const QString &home)
{
    return remote::shellJoin({QStringLiteral("runuser"), QStringLiteral("-u"), mailUser, QStringLiteral("--"),
                              QStringLiteral("syncthing"), QStringLiteral("serve"), QStringLiteral("--no-browser"),
                              QStringLiteral("--no-restart"), QStringLiteral("--home=") + home})
           + QStringLiteral(" >> ") + remote::shellQuote(home + QStringLiteral("/syncthing.log")) + QStringLiteral(" 2>&1 &");
}

QString PrepareNodeWorkflow::generateSyncthingConfigCommand(const QString &mailUser, const QString &home)
{
    return remote::shellJoin({QStringLiteral("runuser"), QStringLiteral("-u"), mailUser, QStringLiteral("--"),
                              QStringLiteral("syncthing"), QStringLiteral("generate"), QStringLiteral("--home=") + home,
                              QStringLiteral("--no-default-folder")});
}

QString PrepareNodeWorkflow::bindGuiToLoopbackCommand(const QString &mailUser, const QString &home, const QString &port)
{
    return remote::shellJoin({QStringLiteral("runuser"), QStringLiteral("-u"), mailUser, QStringLiteral("--"),
                              QStringLiteral("syncthing"), QStringLiteral("cli"), QStringLiteral("--home=") + home,
                              QStringLiteral("config"), QStringLiteral("gui"), QStringLiteral("raw-address"),
                              QStringLiteral("set"), QStringLiteral("127.0.0.1:") + port});
}

void PrepareNodeWorkflow::syncthingService()
{
    const QJsonObject syncthing = m_probe.value(QStringLiteral("syncthing")).toObject();
    if (!syncthing.value(QStringLiteral("found")).toBool()) {
        addManualAction(tr("install Syncthing"),
                        {remote::shellJoin({QStringLiteral("apt-get"), QStringLiteral("install"), QStringLiteral("syncthing")})});
        skipStep(tr("Syncthing is not installed"));
        return;
    }
    QStringList users;
    for (const QJsonValue &value : syncthing.value(QStringLiteral("processes")).toArray()) {
        const QJsonObject process = value.toObject();
        const QString home = process.value(QStringLiteral("home")).toString();
        if (home.isEmpty() || home == m_node.syncthing.home)
            users << process.value(QStringLiteral("user")).toString();
    }
    users.removeDuplicates();
    if (users.contains(m_node.mailUser)) {
        completeStep(tr("running as %1").arg(m_node.mailUser));
        return;
    }
    if (!users.isEmpty()) {
        failStep(Error{ErrorCode::Conflict,
                       tr("Syncthing for %1 runs as %2, but the mail belongs to %3: the files it writes would belong "
                          "to the wrong user")
                           .arg(m_node.syncthing.home, users.join(QStringLiteral(", ")), m_node.mailUser)
                           .toStdString(),
                       {}},
                 tr("Stop that Syncthing (%1), then run prepare again to start it as %2.")
                     .arg(remote::shellJoin({QStringLiteral("systemctl"), QStringLiteral("disable"), QStringLiteral("--now"),
                                             QStringLiteral("syncthing@%1").arg(users.first())}),
                          m_node.mailUser));
        return;
    }
    const QString unit = QStringLiteral("syncthing@%1.service").arg(m_node.mailUser);
    runNodeCommand(m_session->ssh(0), {QStringLiteral("test"), QStringLiteral("-d"), QStringLiteral("/run/systemd/system")}, {},
                   this, [this, unit](const Result<remote::SshCommand::Output> &systemd) {
                       if (!systemd) {
                           // No systemd: the command to start it at boot, for the admin's init system.
                           const QString command = startSyncthingCommand(m_node.mailUser, m_node.syncthing.home);
                           addManualAction(tr("start Syncthing as %1 now and at every boot (no systemd on this node)")
                                               .arg(m_node.mailUser),
                                           {command});
                           skipStep(tr("not running, and no systemd to start it"));
                           return;
                       }
                       checkServiceHome(unit);
                   });
}

QString PrepareNodeWorkflow::configScript()
{
    // The generated file's shape is Syncthing's own (1.19 here); each edit is checked after.
    return QStringLiteral(
        "set -e; f=\"$1\"; "
        "sed -i -e 's|<globalAnnounceEnabled>true<|<globalAnnounceEnabled>false<|' "
        "-e 's|<localAnnounceEnabled>true<|<localAnnounceEnabled>false<|' "
        "-e 's|<relaysEnabled>true<|<relaysEnabled>false<|' "
        "-e 's|<natEnabled>true<|<natEnabled>false<|' "
        "-e 's|<urAccepted>[-0-9]*<|<urAccepted>-1<|' "
        "-e 's|<crashReportingEnabled>true<|<crashReportingEnabled>false<|' "
        "-e 's|<autoUpgradeIntervalH>[0-9]*<|<autoUpgradeIntervalH>0<|' \"$f\"; "
        "if [ -n \"$2\" ]; then sed -i -e '/<gui /,/<\\/gui>/ s|<address>[^<]*</address>|<address>'\"$2\"'</address>|' \"$f\"; fi; "
        "if [ -n \"$3\" ]; then sed -i -e 's|<listenAddress>default</listenAddress>|<listenAddress>tcp://0.0.0.0:'\"$3\"'</listenAddress>|' \"$f\"; fi; "
        "for want in '<globalAnnounceEnabled>false<' '<relaysEnabled>false<' '<natEnabled>false<' '<urAccepted>-1<'; do "
        "grep -qF \"$want\" \"$f\" || { echo \"$f: could not set $want\" >&2; exit 1; }; done");
}

void PrepareNodeWorkflow::checkServiceHome(const QString &unit)
{
    // Debian's unit starts `syncthing serve` without --home: the user's default home is used.
    runNodeCommand(
        m_session->ssh(0), {QStringLiteral("getent"), QStringLiteral("passwd"), m_node.mailUser}, {}, this,
        [this, unit](const Result<remote::SshCommand::Output> &passwd) {
            const QString userHome =
                passwd ? QString::fromUtf8(passwd->standardOutput.trimmed()).section(u':', 5, 5) : QString();
            const QString unitHome = QDir::cleanPath(userHome + QStringLiteral("/.config/syncthing"));
            if (!userHome.isEmpty() && unitHome != QDir::cleanPath(m_node.syncthing.home)) {
                const QString dropIn = QStringLiteral("/etc/systemd/system/%1.d/mailmesh-home.conf").arg(unit);
                addManualAction(tr("point %1 at %2 (it would use %3)").arg(unit, m_node.syncthing.home, unitHome),
                                {remote::shellJoin({QStringLiteral("mkdir"), QStringLiteral("-p"), dropIn.section(u'/', 0, -2)}),
                                 QStringLiteral("printf '[Service]\\nExecStart=\\nExecStart=/usr/bin/syncthing serve "
                                                "--no-browser --no-restart --logflags=0 --home=%1\\n' > %2")
                                     .arg(remote::shellQuote(m_node.syncthing.home), remote::shellQuote(dropIn)),
                                 QStringLiteral("systemctl daemon-reload"),
                                 remote::shellJoin({QStringLiteral("systemctl"), QStringLiteral("enable"),
                                                    QStringLiteral("--now"), unit})});
                skipStep(tr("%1 would run with the home %2, not %3").arg(unit, unitHome, m_node.syncthing.home));
                return;
            }
            const bool configured =
                m_probe.value(QStringLiteral("syncthing")).toObject().value(QStringLiteral("configRead")).toBool();
            if (m_report.dryRun) {
                skipStep(configured ? tr("would run: systemctl enable --now %1").arg(unit)
                                    : tr("would write Syncthing's configuration (no default folder, discovery, "
                                         "relays or NAT), then run: systemctl enable --now %1")
                                          .arg(unit));
                return;
            }
            if (configured)
                enableService(unit);
            else
                generateConfig(unit);
        });
}

void PrepareNodeWorkflow::generateConfig(const QString &unit)
{
    remote::SshCommand::Options asMailUser;
    asMailUser.runAs = m_node.mailUser;
    const QString config = m_node.syncthing.home + QStringLiteral("/config.xml");
    const QString port =
        m_node.syncthing.syncAddress.isEmpty() ? QString() : m_node.syncthing.syncAddress.section(u':', -1);
    const QList<QStringList> commands{
        {QStringLiteral("syncthing"), QStringLiteral("generate"), QStringLiteral("--home=") + m_node.syncthing.home,
         QStringLiteral("--no-default-folder"), QStringLiteral("--skip-port-probing")},
        {QStringLiteral("sh"), QStringLiteral("-c"), configScript(), QStringLiteral("sh"), config,
         m_node.syncthing.guiAddress, port},
    };
    runNodeCommands(m_session->ssh(0), commands, asMailUser, this, [this, unit](const Status &generated) {
        if (!generated) {
            failStep(onNode(m_node.id, generated.error()),
                     tr("Check that %1 may write %2, then run prepare again.").arg(m_node.mailUser, m_node.syncthing.home));
            return;
        }
        m_configGenerated = true;
        enableService(unit);
    });
}

void PrepareNodeWorkflow::enableService(const QString &unit)
{
    runNodeCommand(m_session->ssh(0),
                   asRoot({QStringLiteral("systemctl"), QStringLiteral("enable"), QStringLiteral("--now"), unit}), {},
                   this, [this, unit](const Result<remote::SshCommand::Output> &enabled) {
                       if (!enabled) {
                           addManualAction(tr("start Syncthing as %1 with the system").arg(m_node.mailUser),
                                           {remote::shellJoin({QStringLiteral("systemctl"), QStringLiteral("enable"),
                                                               QStringLiteral("--now"), unit})});
                           skipStep(QString::fromStdString(enabled.error().describe()));
                           return;
                       }
                       completeStep(m_configGenerated ? tr("configured (no default folder, discovery, relays or NAT), "
                                                           "enabled and started %1")
                                                            .arg(unit)
                                                      : tr("enabled and started %1").arg(unit));
                   });
}

void PrepareNodeWorkflow::guiOnLoopback()
{
    const QJsonObject syncthing = m_probe.value(QStringLiteral("syncthing")).toObject();
    if (m_configGenerated) {
        completeStep(m_node.syncthing.guiAddress.isEmpty() ? tr("Syncthing's default, 127.0.0.1:8384")
                                                           : m_node.syncthing.guiAddress);
        return;
    }
    if (!syncthing.value(QStringLiteral("configRead")).toBool()) {
        addManualAction(tr("let Syncthing create its configuration"),
                        {generateSyncthingConfigCommand(m_node.mailUser, m_node.syncthing.home)});
        skipStep(tr("no config.xml under %1").arg(m_node.syncthing.home));
        return;
    }
    const QString address = syncthing.value(QStringLiteral("guiAddress")).toString();
    if (syncthing.value(QStringLiteral("guiOnLoopback")).toBool()) {
        completeStep(address);
        return;
    }
    // Syncthing rewrites its config.xml while it runs: the address is changed through its own
    // settings (GUI or REST), never by editing the file under it.
    const QString port = address.section(u':', -1);
    addManualAction(tr("bind Syncthing's GUI to loopback (it listens on %1)").arg(address),
                    {bindGuiToLoopbackCommand(m_node.mailUser, m_node.syncthing.home, port)});
    skipStep(tr("listens on %1").arg(address));
}

void PrepareNodeWorkflow::inotifyLimits()
{
    const qint64 needed = m_probe.value(QStringLiteral("inventory")).toObject().value(QStringLiteral("inotifyWatchesNeeded")).toInteger();
    const QJsonValue current = m_probe.value(QStringLiteral("inotify")).toObject().value(QStringLiteral("maxUserWatches"));
    m_report.details.insert(QStringLiteral("inotifyWatchesNeeded"), needed);
    m_report.details.insert(QStringLiteral("maxUserWatches"), current);
    // Syncthing shares the limit with everything else the mail user watches: keep headroom.
    if (!current.isNull() && current.toInteger() >= needed * 3 / 2) {
        completeStep(tr("%1 watches allowed, %2 needed").arg(current.toInteger()).arg(needed));
        return;
    }
    const qint64 target = inotifyWatchTarget(needed);
    const QByteArray content = QStringLiteral("# Written by Mailmesh prepare: Syncthing watches 3 directories per Maildir folder.\n"
                                              "fs.inotify.max_user_watches = %1\n")
                                   .arg(target)
                                   .toUtf8();
    const QStringList manual{remote::shellJoin({QStringLiteral("echo"), QStringLiteral("fs.inotify.max_user_watches = %1").arg(target)})
                                 + QStringLiteral(" > ") + remote::shellQuote(QLatin1String(kSysctlFile)),
                             remote::shellJoin({QStringLiteral("sysctl"), QStringLiteral("-p"), QLatin1String(kSysctlFile)})};
    if (m_report.dryRun) {
        skipStep(tr("would raise fs.inotify.max_user_watches to %1").arg(target));
        return;
    }
    remote::SshCommand::Options write;
    write.input = content;
    runNodeCommand(
        m_session->ssh(0),
        asRoot({QStringLiteral("sh"), QStringLiteral("-c"), QStringLiteral("cat > \"$1\" && sysctl -q -p \"$1\""),
                QStringLiteral("sh"), QLatin1String(kSysctlFile)}),
        write, this, [this, target, manual](const Result<remote::SshCommand::Output> &raised) {
            if (!raised) {
                addManualAction(tr("raise fs.inotify.max_user_watches to %1 (needs root)").arg(target), manual);
                skipStep(QString::fromStdString(raised.error().describe()));
                return;
            }
            completeStep(tr("raised to %1 in %2").arg(target).arg(QLatin1String(kSysctlFile)));
        });
}

void PrepareNodeWorkflow::stateDir()
{
    const QString path = m_node.stateDir.isEmpty()
                             ? QString::fromStdString(maildir::StateDir::defaultPathFor(QDir::cleanPath(m_node.mailRoot).toStdString()))
                             : m_node.stateDir;
    m_report.details.insert(QStringLiteral("stateDir"), path);
    remote::SshCommand::Options asMailUser;
    asMailUser.runAs = m_node.mailUser;
    runNodeCommand(
        m_session->ssh(0), {QStringLiteral("sh"), QStringLiteral("-c"), QStringLiteral("[ -O \"$1\" ] && [ -w \"$1\" ]"),
                            QStringLiteral("sh"), path},
        asMailUser, this, [this, path](const Result<remote::SshCommand::Output> &owned) {
            if (owned) {
                completeStep(path);
                return;
            }
            // Its parent is made for everyone to pass, the dir itself private to the mail user.
            const QStringList create{QStringLiteral("sh"), QStringLiteral("-c"),
                                     QStringLiteral("install -d -m 0755 \"${1%/*}\" && install -d -m 0700 -o \"$2\" \"$1\" "
                                                    "&& chown \"$2\" \"$1\""),
                                     QStringLiteral("sh"), path, m_node.mailUser};
            if (m_report.dryRun) {
                skipStep(tr("would create %1 for %2").arg(path, m_node.mailUser));
                return;
            }
            runNodeCommand(m_session->ssh(0), asRoot(create), {}, this,
                           [this, path](const Result<remote::SshCommand::Output> &created) {
                               if (!created) {
                                   addManualAction(tr("give %1 its state dir %2 (needs root)").arg(m_node.mailUser, path),
                                                   {QStringLiteral("install -d -m 0700 -o %1 %2")
                                                        .arg(m_node.mailUser, remote::shellQuote(path))});
                                   skipStep(QString::fromStdString(created.error().describe()));
                                   return;
                               }
                               completeStep(tr("created %1 for %2").arg(path, m_node.mailUser));
                           });
        });
}

} // namespace mm::cluster
