#include "cluster/workflows/preparenodeworkflow.h"

#include "cluster/session/clustersession.h"
#include "cluster/monitor/clusterstate.h"
#include "cluster/session/remotecalls.h"
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

// The change watcher's stable place: the agent in the mail user's cache is named by its hash and
// replaced by every upgrade, and belongs to the user; a unit runs a root-owned copy instead.
constexpr const char *kChangeWatcherBinary = "/usr/local/lib/mailmesh/mailmesh-agent";
constexpr const char *kSystemdUnitDir = "/etc/systemd/system";

QString directoryOf(const QString &path)
{
    return path.section(u'/', 0, -2);
}

// For the admin: the agent copied to its stable place as root (root's file, then one rename, so
// a running watcher keeps the binary it started with).
QStringList installAgentCopyCommands(const QString &source, const QString &binary)
{
    const QString staged = binary + QStringLiteral(".new");
    return {remote::shellJoin({QStringLiteral("install"), QStringLiteral("-D"), QStringLiteral("-m"), QStringLiteral("0755"),
                               source, staged}),
            remote::shellJoin({QStringLiteral("mv"), QStringLiteral("-f"), staged, binary})};
}

} // namespace

PrepareNodeWorkflow::PrepareNodeWorkflow(ClusterConfig cluster, QString nodeId, bool dryRun, MonitorOptions options,
                                         QObject *parent)
    : ClusterWorkflow(QStringLiteral("prepare"), dryRun, std::move(cluster), std::move(options), parent)
{
    // The one node prepared; the others are neither connected nor reported.
    QList<int> selected;
    for (int i = 0; i < m_cluster.nodes.size(); ++i)
        if (m_cluster.nodes[i].id == nodeId)
            selected << i;
    selectNodes(selected);
    if (nodeCount() > 0)
        m_node = node(0);
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
    // Last: it runs beside the Syncthing and within the inotify limit the steps above set up.
    addStep(QStringLiteral("watch-changes"),
            tr("mailmesh-agent watch-changes tells Syncthing what changed, and starts with the system"),
            [this] { changeWatcher(); });
}

PrepareNodeWorkflow::~PrepareNodeWorkflow()
{
    PrepareNodeWorkflow::cleanUp();
}

qint64 PrepareNodeWorkflow::inotifyWatchTarget(qint64 needed)
{
    constexpr qint64 kFloor = 204'800;
    return std::max(kFloor, needed * 2);
}

void PrepareNodeWorkflow::cleanUp()
{
    m_report.details.insert(QStringLiteral("manualActions"), m_manualActions);
    ClusterWorkflow::cleanUp();
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
    connectNodes(ClusterSession::Agent,
                 tr("Check that the node is up and its host key is pinned (add-node), then run prepare again."));
}

void PrepareNodeWorkflow::probe()
{
    const QJsonObject params{{QStringLiteral("path"), m_node.mailRoot}, {QStringLiteral("syncthingHome"), m_node.syncthing.home}};
    whenAgentFinished(callAgent(0, QStringLiteral("probe"), params), this,
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
            m_mailUserHome = userHome;
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
    // Syncthing 1.27 and later (Debian 13) started without --home keep their database in the
    // user's XDG state dir, ~/.local/state/syncthing, and do not create it when the configuration
    // already exists: the unit then fails on its lock file at every start. Made first, as the
    // mail user; older versions leave it empty. Inside the mail root it is never shared
    // (mailFolderIgnores).
    if (m_mailUserHome.isEmpty()) {
        startService(unit);
        return;
    }
    remote::SshCommand::Options asMailUser;
    asMailUser.runAs = m_node.mailUser;
    runNodeCommand(m_session->ssh(0),
                   {QStringLiteral("mkdir"), QStringLiteral("-p"), QStringLiteral("-m"), QStringLiteral("0700"),
                    QDir::cleanPath(m_mailUserHome + QStringLiteral("/.local/state/syncthing"))},
                   asMailUser, this, [this, unit](const Result<remote::SshCommand::Output> &made) {
                       if (!made) {
                           failStep(onNode(m_node.id, made.error()),
                                    tr("Check that %1 may write its home %2, then run prepare again.")
                                        .arg(m_node.mailUser, m_mailUserHome));
                           return;
                       }
                       startService(unit);
                   });
}

void PrepareNodeWorkflow::startService(const QString &unit)
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
    // Syncthing and mailmesh-agent watch-changes (the last step) each take a watch per directory
    // of the mail root, both as the mail user, and the limit is per user: the probe's figure
    // (one watcher's) counts twice.
    const qint64 needed =
        2 * m_probe.value(QStringLiteral("inventory")).toObject().value(QStringLiteral("inotifyWatchesNeeded")).toInteger();
    const QJsonValue current = m_probe.value(QStringLiteral("inotify")).toObject().value(QStringLiteral("maxUserWatches"));
    m_report.details.insert(QStringLiteral("inotifyWatchesNeeded"), needed);
    m_report.details.insert(QStringLiteral("maxUserWatches"), current);
    // Syncthing shares the limit with everything else the mail user watches: keep headroom.
    if (!current.isNull() && current.toInteger() >= needed * 3 / 2) {
        completeStep(tr("%1 watches allowed, %2 needed").arg(current.toInteger()).arg(needed));
        return;
    }
    const qint64 target = inotifyWatchTarget(needed);
    const QByteArray content = QStringLiteral("# Written by Mailmesh prepare: Syncthing and mailmesh-agent watch-changes each watch 3 "
                                              "directories per Maildir folder.\n"
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
    // The agent's own default as the probe saw it on the node (inside the root when the root is a
    // mount point); an older agent without it: the default beside the root.
    const QString probedDefault = m_probe.value(QStringLiteral("defaultStateDir")).toString();
    const QString path = !m_node.stateDir.isEmpty() ? m_node.stateDir
                         : !probedDefault.isEmpty()
                             ? probedDefault
                             : QString::fromStdString(maildir::StateDir::defaultPathFor(QDir::cleanPath(m_node.mailRoot).toStdString()));
    m_report.details.insert(QStringLiteral("stateDir"), path);
    remote::SshCommand::Options asMailUser;
    asMailUser.runAs = m_node.mailUser;
    if (path.startsWith(QDir::cleanPath(m_node.mailRoot) + u'/')) {
        // ROOT/.mailmesh-state: the mail user makes it in its own root; the root's mode is
        // never touched.
        const QStringList create{QStringLiteral("install"), QStringLiteral("-d"), QStringLiteral("-m"),
                                 QStringLiteral("0700"), path};
        if (m_report.dryRun) {
            runNodeCommand(m_session->ssh(0), {QStringLiteral("test"), QStringLiteral("-d"), path}, asMailUser, this,
                           [this, path](const Result<remote::SshCommand::Output> &exists) {
                               if (exists)
                                   completeStep(path);
                               else
                                   skipStep(tr("would create %1 for %2").arg(path, m_node.mailUser));
                           });
            return;
        }
        runNodeCommand(m_session->ssh(0), create, asMailUser, this,
                       [this, path](const Result<remote::SshCommand::Output> &created) {
                           if (!created) {
                               failStep(onNode(m_node.id, created.error()),
                                        tr("Give %1 write access to its mail root, then run prepare again.")
                                            .arg(m_node.mailUser));
                               return;
                           }
                           completeStep(path);
                       });
        return;
    }
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

PrepareNodeWorkflow::ChangeWatcherFiles PrepareNodeWorkflow::changeWatcherFiles(const QString &mailUser,
                                                                             const QString &syncthingHome)
{
    const QString units = QLatin1String(kSystemdUnitDir);
    return {QLatin1String(kChangeWatcherBinary), units + QStringLiteral("/mailmesh-watch-changes@.service"),
            changeWatcherUnitText(),
            units + u'/' + changeWatcherUnit(mailUser) + QStringLiteral(".d/10-syncthing-home.conf"),
            changeWatcherDropInText(syncthingHome)};
}

QString PrepareNodeWorkflow::changeWatcherUnit(const QString &mailUser)
{
    return QStringLiteral("mailmesh-watch-changes@%1.service").arg(mailUser);
}

QString PrepareNodeWorkflow::changeWatcherUnitText()
{
    // One template, the same on every node and for every user, beside Debian's syncthing@.service:
    // the instance is the mail user. The one value that differs per node, its Syncthing home (the
    // cluster file's syncthing.home, not necessarily the user's default, so %h cannot stand in),
    // comes from the instance's drop-in as an environment variable. An ExecStart= override in the
    // drop-in would copy the whole command line into each instance, and a later change of it
    // here would miss the nodes prepared before.
    // PartOf= stops and restarts the watcher with Syncthing; WantedBy= syncthing@ brings it back
    // when Syncthing is started again after a stop that PartOf= carried over.
    return QStringLiteral("# Written by Mailmesh prepare, which rewrites it when it differs.\n"
                          "# mailmesh-agent watch-changes tells the Syncthing of user %i which paths changed,\n"
                          "# where Syncthing's own watcher goes blind. The Syncthing home comes from the\n"
                          "# instance's drop-in, mailmesh-watch-changes@%i.service.d/10-syncthing-home.conf.\n"
                          "[Unit]\n"
                          "Description=Mailmesh change watcher for the Syncthing of %i\n"
                          "After=syncthing@%i.service\n"
                          "PartOf=syncthing@%i.service\n"
                          "\n"
                          "[Service]\n"
                          "User=%i\n"
                          "ExecStart=")
           + QLatin1String(kChangeWatcherBinary)
           + QStringLiteral(" watch-changes --syncthing-home=${MAILMESH_SYNCTHING_HOME}\n"
                            "Restart=always\n"
                            "RestartSec=5\n"
                            "NoNewPrivileges=yes\n"
                            "\n"
                            "[Install]\n"
                            "WantedBy=multi-user.target\n"
                            "WantedBy=syncthing@%i.service\n");
}

QString PrepareNodeWorkflow::changeWatcherDropInText(const QString &syncthingHome)
{
    // systemd expands specifiers (%) in Environment= first, then reads one quoted word with C
    // escapes: whatever the home holds arrives as it is, and ${...} in ExecStart= makes it one
    // argument, spaces included.
    QString value;
    for (const QChar c : syncthingHome) {
        if (c == u'%')
            value += QStringLiteral("%%");
        else if (c == u'\\' || c == u'"')
            value += u'\\' + QString(c);
        else if (c.unicode() < 0x20 || c.unicode() == 0x7f)
            value += QStringLiteral("\\x%1").arg(int(c.unicode()), 2, 16, QLatin1Char('0'));
        else
            value += c;
    }
    return QStringLiteral("# Written by Mailmesh prepare: this node's Syncthing home (syncthing.home in the cluster file).\n"
                          "[Service]\n"
                          "Environment=\"MAILMESH_SYNCTHING_HOME=")
           + value + QStringLiteral("\"\n");
}

QString PrepareNodeWorkflow::changeWatcherFilesScript()
{
    // Readable by any user, so a dry run needs no root. The source lies in the mail user's cache,
    // which that user may change at any time: root copies it first, then checks the copy's hash.
    return QStringLiteral(
        "set -e; mode=$1; source=$2; hash=$3; binary=$4; unit=$5; unitText=$6; dropIn=$7; dropInText=$8; "
        "tmp=; trap 'if [ -n \"$tmp\" ]; then rm -f -- \"$tmp\"; fi' EXIT; "
        "have=$( { sha256sum < \"$binary\" | cut -d' ' -f1; } 2>/dev/null ) || have=; "
        "if [ \"$have\" != \"$hash\" ] || [ \"$(stat -c '%u %a' -- \"$binary\" 2>/dev/null)\" != '0 755' ]; then "
        "echo binary; "
        "if [ \"$mode\" = apply ]; then "
        "dir=${binary%/*}; [ -d \"$dir\" ] || mkdir -p -m 0755 -- \"$dir\"; "
        "tmp=$(mktemp \"$dir/.mailmesh-agent.XXXXXX\"); cat -- \"$source\" > \"$tmp\"; "
        "got=$(sha256sum < \"$tmp\" | cut -d' ' -f1); "
        "if [ \"$got\" != \"$hash\" ]; then echo \"$source is not the agent $hash (it hashes to $got)\" >&2; exit 3; fi; "
        "chmod 0755 -- \"$tmp\"; mv -f -- \"$tmp\" \"$binary\"; tmp=; "
        "fi; "
        "fi; "
        "put() { "
        "if [ -f \"$1\" ] && printf '%s' \"$2\" | cmp -s - \"$1\"; then return 0; fi; "
        "echo \"$3\"; [ \"$mode\" = apply ] || return 0; "
        "[ -d \"${1%/*}\" ] || mkdir -p -m 0755 -- \"${1%/*}\"; "
        "tmp=$(mktemp \"${1%/*}/.mailmesh.XXXXXX\"); printf '%s' \"$2\" > \"$tmp\"; "
        "chmod 0644 -- \"$tmp\"; mv -f -- \"$tmp\" \"$1\"; tmp=; "
        "}; "
        "put \"$unit\" \"$unitText\" unit; put \"$dropIn\" \"$dropInText\" drop-in");
}

QStringList PrepareNodeWorkflow::changeWatcherFilesCommand(const QString &mode, const QString &source,
                                                           const QString &sha256, const ChangeWatcherFiles &files)
{
    return {QStringLiteral("sh"), QStringLiteral("-c"), changeWatcherFilesScript(), QStringLiteral("sh"), mode, source,
            sha256, files.binary, files.unit, files.unitText, files.dropIn, files.dropInText};
}

QList<QStringList> PrepareNodeWorkflow::changeWatcherServiceCommands(const QString &unit, bool unitFilesChanged,
                                                                     bool binaryChanged, bool enabled, bool active)
{
    const auto systemctl = [&unit](const QString &verb) { return QStringList{QStringLiteral("systemctl"), verb, unit}; };
    QList<QStringList> commands;
    if (unitFilesChanged)
        commands << QStringList{QStringLiteral("systemctl"), QStringLiteral("daemon-reload")};
    // Enabled again after the unit changed: its [Install] section may name other targets now.
    if (unitFilesChanged || !enabled)
        commands << systemctl(QStringLiteral("enable"));
    // A running watcher keeps the old binary and settings until it starts again.
    if (unitFilesChanged || binaryChanged)
        commands << systemctl(QStringLiteral("restart"));
    else if (!active)
        commands << systemctl(QStringLiteral("start"));
    return commands;
}

QStringList PrepareNodeWorkflow::changeWatcherManualCommands(const QString &source, const QString &mailUser,
                                                             const ChangeWatcherFiles &files)
{
    const QString unit = changeWatcherUnit(mailUser);
    const auto writeFile = [](const QString &text, const QString &path) {
        return QStringLiteral("printf %s ") + remote::shellQuote(text) + QStringLiteral(" > ") + remote::shellQuote(path);
    };
    return installAgentCopyCommands(source, files.binary)
           + QStringList{remote::shellJoin({QStringLiteral("mkdir"), QStringLiteral("-p"), directoryOf(files.dropIn)}),
                         writeFile(files.unitText, files.unit),
                         writeFile(files.dropInText, files.dropIn),
                         QStringLiteral("systemctl daemon-reload"),
                         remote::shellJoin({QStringLiteral("systemctl"), QStringLiteral("enable"), unit}),
                         remote::shellJoin({QStringLiteral("systemctl"), QStringLiteral("restart"), unit})};
}

QString PrepareNodeWorkflow::startChangeWatcherCommand(const QString &mailUser, const QString &syncthingHome)
{
    return remote::shellJoin({QStringLiteral("runuser"), QStringLiteral("-u"), mailUser, QStringLiteral("--"),
                              QLatin1String(kChangeWatcherBinary), QStringLiteral("watch-changes"),
                              QStringLiteral("--syncthing-home=") + syncthingHome})
           + QStringLiteral(" >> ") + remote::shellQuote(syncthingHome + QStringLiteral("/watch-changes.log"))
           + QStringLiteral(" 2>&1 &");
}

void PrepareNodeWorkflow::changeWatcher()
{
    // It reads Syncthing's config.xml and talks to its REST API: without Syncthing it would only
    // fail and restart every few seconds. The syncthing step has asked for the install already.
    if (!m_probe.value(QStringLiteral("syncthing")).toObject().value(QStringLiteral("found")).toBool()) {
        skipStep(tr("Syncthing is not installed"));
        return;
    }
    runNodeCommand(m_session->ssh(0), {QStringLiteral("test"), QStringLiteral("-d"), QStringLiteral("/run/systemd/system")},
                   {}, this, [this](const Result<remote::SshCommand::Output> &systemd) {
                       if (systemd)
                           checkChangeWatcher();
                       else
                           changeWatcherWithoutSystemd();
                   });
}

void PrepareNodeWorkflow::changeWatcherWithoutSystemd()
{
    const QJsonArray watchers = m_probe.value(QStringLiteral("changeWatchers")).toArray();
    if (changeWatcherRunsFor(watchers, m_node.syncthing.home)) {
        completeStep(tr("running for %1 (started outside systemd)").arg(m_node.syncthing.home));
        return;
    }
    addManualAction(tr("start mailmesh-agent watch-changes as %1 now and at every boot (no systemd on this node)")
                        .arg(m_node.mailUser),
                    installAgentCopyCommands(m_session->agent(0)->remotePath(), QLatin1String(kChangeWatcherBinary))
                        + QStringList{startChangeWatcherCommand(m_node.mailUser, m_node.syncthing.home)});
    skipStep(tr("not running, and no systemd to start it"));
}

void PrepareNodeWorkflow::checkChangeWatcher()
{
    remote::AgentClient *agent = m_session->agent(0);
    const ChangeWatcherFiles files = changeWatcherFiles(m_node.mailUser, m_node.syncthing.home);
    const QString unit = changeWatcherUnit(m_node.mailUser);
    const QStringList manual = changeWatcherManualCommands(agent->remotePath(), m_node.mailUser, files);
    m_report.details.insert(QStringLiteral("changeWatcher"),
                            QJsonObject{{QStringLiteral("unit"), unit}, {QStringLiteral("binary"), files.binary},
                                        {QStringLiteral("syncthingHome"), m_node.syncthing.home}});
    // What differs is checked as the login user (the files are world-readable): a dry run needs no
    // root, and a run where all is in place touches nothing.
    runNodeCommand(
        m_session->ssh(0), changeWatcherFilesCommand(QStringLiteral("check"), agent->remotePath(), agent->binaryHash(), files),
        {}, this, [this, files, unit, manual](const Result<remote::SshCommand::Output> &checked) {
            if (!checked) {
                failStep(onNode(m_node.id, checked.error()), tr("Check %1 and %2 on the node, then run prepare again.")
                                                                 .arg(files.binary, files.unit));
                return;
            }
            const QStringList differ = QString::fromUtf8(checked->standardOutput).split(u'\n', Qt::SkipEmptyParts);
            // is-enabled and is-active answer in words (and exit non-zero unless enabled / active).
            const QString stateScript = QStringLiteral("e=$(systemctl is-enabled \"$1\" 2>/dev/null) || true; "
                                                       "a=$(systemctl is-active \"$1\" 2>/dev/null) || true; "
                                                       "printf '%s\\n%s\\n' \"$e\" \"$a\"");
            runNodeCommand(
                m_session->ssh(0), {QStringLiteral("sh"), QStringLiteral("-c"), stateScript, QStringLiteral("sh"), unit}, {},
                this, [this, files, unit, manual, differ](const Result<remote::SshCommand::Output> &state) {
                    const QStringList words =
                        state ? QString::fromUtf8(state->standardOutput).split(u'\n') : QStringList();
                    const bool enabled = words.value(0) == QLatin1String("enabled");
                    const bool active = words.value(1) == QLatin1String("active");
                    const QList<QStringList> systemctl = changeWatcherServiceCommands(
                        unit, differ.contains(QLatin1String("unit")) || differ.contains(QLatin1String("drop-in")),
                        differ.contains(QLatin1String("binary")), enabled, active);
                    if (differ.isEmpty() && systemctl.isEmpty()) {
                        completeStep(tr("%1 runs %2").arg(unit, files.binary));
                        return;
                    }
                    if (m_report.dryRun) {
                        QStringList plan;
                        if (differ.contains(QLatin1String("binary")))
                            plan << tr("install the agent as %1").arg(files.binary);
                        if (differ.contains(QLatin1String("unit")))
                            plan << tr("write %1").arg(files.unit);
                        if (differ.contains(QLatin1String("drop-in")))
                            plan << tr("write %1").arg(files.dropIn);
                        for (const QStringList &command : systemctl)
                            plan << tr("run: %1").arg(remote::shellJoin(command));
                        skipStep(tr("would %1").arg(plan.join(QStringLiteral(", "))));
                        return;
                    }
                    applyChangeWatcher(files, unit, manual, enabled, active);
                });
        });
}

void PrepareNodeWorkflow::applyChangeWatcher(const ChangeWatcherFiles &files, const QString &unit,
                                             const QStringList &manual, bool enabled, bool active)
{
    remote::AgentClient *agent = m_session->agent(0);
    const auto cannot = [this, manual](const Error &error) {
        addManualAction(tr("run mailmesh-agent watch-changes as %1 with the system (needs root)").arg(m_node.mailUser),
                        manual);
        skipStep(QString::fromStdString(error.describe()));
    };
    runNodeCommand(
        m_session->ssh(0),
        asRoot(changeWatcherFilesCommand(QStringLiteral("apply"), agent->remotePath(), agent->binaryHash(), files)), {},
        this, [this, files, unit, cannot, enabled, active](const Result<remote::SshCommand::Output> &applied) {
            if (!applied) {
                cannot(applied.error());
                return;
            }
            // What apply changed, not what the check saw: of the two answers, the later one holds.
            const QStringList changed = QString::fromUtf8(applied->standardOutput).split(u'\n', Qt::SkipEmptyParts);
            const bool binaryChanged = changed.contains(QLatin1String("binary"));
            const QList<QStringList> systemctl = changeWatcherServiceCommands(
                unit, changed.contains(QLatin1String("unit")) || changed.contains(QLatin1String("drop-in")),
                binaryChanged, enabled, active);
            QStringList done;
            if (binaryChanged)
                done << tr("installed the agent as %1").arg(files.binary);
            if (changed.contains(QLatin1String("unit")))
                done << tr("wrote %1").arg(files.unit);
            if (changed.contains(QLatin1String("drop-in")))
                done << tr("wrote %1").arg(files.dropIn);
            QList<QStringList> commands;
            for (const QStringList &command : systemctl) {
                commands << asRoot(command);
                done << tr("ran: %1").arg(remote::shellJoin(command));
            }
            runNodeCommands(m_session->ssh(0), commands, {}, this, [this, files, unit, done, cannot](const Status &ran) {
                if (!ran) {
                    cannot(ran.error());
                    return;
                }
                completeStep(done.isEmpty() ? tr("%1 runs %2").arg(unit, files.binary) : done.join(QStringLiteral(", ")));
            });
        });
}

} // namespace mm::cluster
