// The commands that set a cluster up and change it: init, add-node, prepare, pair, join,
// remove-node, migrate, revert, deploy-dovecot. Each is one entry of the command table; the
// workflows do the work (core/cluster), commandsupport.cpp runs them.

#include "commandsupport.h"

#include "cluster/workflows/addnodeworkflow.h"
#include "cluster/workflows/deploydovecotworkflow.h"
#include "cluster/workflows/joinnodeworkflow.h"
#include "cluster/workflows/migrationworkflow.h"
#include "cluster/workflows/pairworkflow.h"
#include "cluster/workflows/preparenodeworkflow.h"
#include "cluster/workflows/rekeynodeworkflow.h"
#include "cluster/workflows/removenodeworkflow.h"
#include "protocol/exitcodes.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>

using namespace Qt::StringLiterals;

namespace mm::ctl {

namespace {

CommandOutcome init(const CommandContext &context)
{
    const QString path = clusterPath(context.options);
    if (QFileInfo::exists(path) && !context.line.isSet(u"force"_s)) {
        context.err << "mailmeshctl: " << path
                    << " already exists; pass --force to start a new cluster file over it, or --cluster to write "
                       "another one\n";
        return {protocol::kExitUsage};
    }
    cluster::ClusterConfig config;
    config.name = context.line.positional(0);
    if (context.line.isSet(u"uid-policy"_s)) {
        const auto policy = cluster::uidPolicyFromName(context.line.value(u"uid-policy"_s));
        if (!policy)
            return {usageError(context, u"--uid-policy must be per-node or replicated"_s)};
        config.uidPolicy = *policy;
    }
    if (const QStringList problems = config.validate(); !problems.isEmpty())
        return {usageError(context, problems.join(u"; "_s))};
    CommandOutcome outcome;
    outcome.clusterToSave = config;
    outcome.afterSave = [&out = context.out, json = context.options.json, config, path] {
        if (json)
            out << QJsonDocument(config.toJson()).toJson(QJsonDocument::Compact) << '\n';
        else
            out << "Cluster \"" << config.name << "\" written to " << path << " (uidPolicy "
                << cluster::uidPolicyName(config.uidPolicy)
                << ").\nNext: mailmeshctl add-node ID --ssh ssh://root@HOST --mail-root PATH\n";
    };
    return outcome;
}

QList<QStringList> commandLists(const QStringList &shellLines)
{
    QList<QStringList> commands;
    for (const QString &line : shellLines)
        commands << QProcess::splitCommand(line);
    return commands;
}

Result<StartedWorkflow> addNode(const CommandLine &line, const cluster::ClusterConfig &config,
                                const cluster::MonitorOptions &monitor, QObject *owner)
{
    cluster::NodeConfig node;
    if (const cluster::NodeConfig *existing = config.node(line.positional(0)))
        node = *existing; // re-adding updates what is given and keeps the rest
    node.id = line.positional(0);
    node.ssh = line.value(u"ssh"_s);
    node.mailRoot = line.value(u"mail-root"_s);
    const auto setIfGiven = [&line](const QString &option, QString &field) {
        if (line.isSet(option))
            field = line.value(option);
    };
    setIfGiven(u"mail-user"_s, node.mailUser);
    setIfGiven(u"state-dir"_s, node.stateDir);
    setIfGiven(u"syncthing-home"_s, node.syncthing.home);
    setIfGiven(u"syncthing-gui"_s, node.syncthing.guiAddress);
    setIfGiven(u"sync-address"_s, node.syncthing.syncAddress);
    setIfGiven(u"dovecot-prefix"_s, node.dovecot.prefix);
    setIfGiven(u"dovecot-config"_s, node.dovecot.configFile);
    if (line.isSet(u"dovecot-reload"_s))
        node.dovecot.reloadCommand = commandLists({line.value(u"dovecot-reload"_s)});
    if (line.isSet(u"dovecot-restart"_s))
        node.dovecot.restartCommand = commandLists({line.value(u"dovecot-restart"_s)});
    if (line.isSet(u"imap-port"_s)) {
        bool ok = false;
        node.dovecot.imapPort = line.value(u"imap-port"_s).toInt(&ok);
        if (!ok || node.dovecot.imapPort < 1 || node.dovecot.imapPort > 65535)
            return badUsage(u"--imap-port must be a port number"_s);
    }
    if (line.isSet(u"ssh-option"_s))
        node.sshOptions = line.values(u"ssh-option"_s);
    if (line.isSet(u"hold-command"_s))
        node.holdCommands = commandLists(line.values(u"hold-command"_s));
    if (line.isSet(u"resume-command"_s))
        node.resumeCommands = commandLists(line.values(u"resume-command"_s));
    const QString acceptHostKey = line.value(u"accept-host-key"_s);
    return startedWorkflow(new cluster::AddNodeWorkflow(config, node, acceptHostKey, monitor, owner));
}

void printManualActions(const cluster::WorkflowReport &report, const CommandLine &, QTextStream &out, QTextStream &)
{
    for (const QJsonValue &value : report.details.value(u"manualActions"_s).toArray()) {
        const QJsonObject action = value.toObject();
        out << "Manual action: " << action.value(u"what"_s).toString() << '\n';
        for (const QJsonValue &command : action.value(u"commands"_s).toArray())
            out << "    " << command.toString() << '\n';
    }
}

// A dry run of join or remove-node shows what the real run would do.
void printPlan(const cluster::WorkflowReport &report, const CommandLine &line, QTextStream &out, QTextStream &)
{
    if (!line.isSet(u"dry-run"_s))
        return;
    out << "Plan:\n";
    for (const QJsonValue &action : report.details.value(u"plan"_s).toArray())
        out << "  " << action.toString() << '\n';
}

WorkflowFactory migration(cluster::MigrationWorkflow::Direction direction)
{
    return [direction](const CommandLine &line, const cluster::ClusterConfig &config,
                       const cluster::MonitorOptions &monitor, QObject *owner) -> Result<StartedWorkflow> {
        cluster::MigrationWorkflow::Options options;
        options.dryRun = line.isSet(u"dry-run"_s);
        options.allowStockDovecot = line.isSet(u"allow-stock-dovecot"_s);
        return startedWorkflow(new cluster::MigrationWorkflow(config, direction, options, monitor, owner));
    };
}

Result<StartedWorkflow> deployDovecot(const CommandLine &line, const cluster::ClusterConfig &config,
                                      const cluster::MonitorOptions &monitor, QObject *owner)
{
    cluster::DeployDovecotWorkflow::Options options;
    options.prefix = line.value(u"prefix"_s);
    options.packagesDir = line.value(u"packages"_s);
    options.nodeIds = line.positionals();
    options.dryRun = line.isSet(u"dry-run"_s);
    options.allowDowngrade = line.isSet(u"allow-downgrade"_s);
    options.checkUser = line.value(u"check-user"_s);
    return startedWorkflow(new cluster::DeployDovecotWorkflow(config, options, monitor, owner));
}

void printDeployment(const cluster::WorkflowReport &report, const CommandLine &line, QTextStream &out, QTextStream &err)
{
    // Found on the way, whatever the outcome: a newer Debian build than the patched packages.
    for (const QJsonValue &warning : report.details.value(u"warnings"_s).toArray())
        err << "warning: " << warning.toString() << '\n';
    if (!line.isSet(u"dry-run"_s))
        return;
    // The snippet each node would get, as a diff against what it has.
    for (const QJsonValue &value : report.details.value(u"nodes"_s).toArray()) {
        const QJsonObject node = value.toObject();
        const QString diff = node.value(u"diff"_s).toString();
        if (node.value(u"unchanged"_s).toBool() || diff.isEmpty())
            continue;
        out << "--- " << node.value(u"id"_s).toString() << ": " << node.value(u"snippet"_s).toString() << '\n'
            << diff << '\n';
    }
}

Result<StartedWorkflow> pair(const CommandLine &, const cluster::ClusterConfig &config,
                             const cluster::MonitorOptions &monitor, QObject *owner)
{
    // A node added to a cluster that was paired before must not serve before its copy is
    // complete (docs/maildir-dovecot-syncthing.md, "Pitfall 3"); pair would let its Dovecot run
    // during the copy.
    QStringList paired, unpaired;
    for (const cluster::NodeConfig &node : config.nodes)
        (node.syncthing.deviceId.isEmpty() ? unpaired : paired) << node.id;
    if (!paired.isEmpty() && !unpaired.isEmpty())
        return badUsage(u"%1 are paired already; add %2 with `mailmeshctl join ID`, which holds the new node's "
                        u"Dovecot until its copy is complete"_s
                            .arg(paired.join(u", "_s), unpaired.join(u", "_s)));
    return startedWorkflow(new cluster::PairWorkflow(config, monitor, owner));
}

Result<StartedWorkflow> join(const CommandLine &line, const cluster::ClusterConfig &config,
                             const cluster::MonitorOptions &monitor, QObject *owner)
{
    cluster::JoinNodeWorkflow::Options options;
    options.dryRun = line.isSet(u"dry-run"_s);
    options.withoutHold = line.isSet(u"without-hold"_s);
    if (line.isSet(u"timeout"_s)) {
        bool ok = false;
        const int minutes = line.value(u"timeout"_s).toInt(&ok);
        if (!ok || minutes < 1 || minutes > 7 * 24 * 60)
            return badUsage(u"--timeout takes minutes, 1 to 10080"_s);
        options.syncTimeoutMs = minutes * 60'000;
    }
    return startedWorkflow(new cluster::JoinNodeWorkflow(config, line.positional(0), options, monitor, owner));
}

Result<StartedWorkflow> removeNode(const CommandLine &line, const cluster::ClusterConfig &config,
                                   const cluster::MonitorOptions &monitor, QObject *owner)
{
    cluster::RemoveNodeWorkflow::Options options;
    options.dryRun = line.isSet(u"dry-run"_s);
    return startedWorkflow(new cluster::RemoveNodeWorkflow(config, line.positional(0), options, monitor, owner));
}

Result<StartedWorkflow> rekey(const CommandLine &line, const cluster::ClusterConfig &config,
                              const cluster::MonitorOptions &monitor, QObject *owner)
{
    return startedWorkflow(new cluster::RekeyNodeWorkflow(config, line.positional(0), line.value(u"accept-host-key"_s),
                                                          monitor, owner));
}

// Both fingerprints, and how to decide: the admin compares the offered key on the node's own
// console, never through the connection in question.
void printRekey(const cluster::WorkflowReport &report, const CommandLine &line, QTextStream &out, QTextStream &)
{
    const QJsonObject details = report.details;
    const QString node = details.value(u"node"_s).toString();
    if (!report.succeeded || !details.value(u"keyChanged"_s).toBool())
        return;
    if (line.isSet(u"accept-host-key"_s)) {
        out << node << ": pinned " << details.value(u"pinnedHostKey"_s).toString() << " (was "
            << details.value(u"previousHostKey"_s).toString() << ")\n";
        return;
    }
    const QString offered = details.value(u"offeredHostKey"_s).toString();
    out << node << "'s host key changed.\n"
        << "  pinned:  " << details.value(u"pinnedHostKey"_s).toString() << '\n'
        << "  offered: " << offered << " (" << details.value(u"offeredKeyType"_s).toString() << ")\n"
        << "A key changes when the node was reinstalled or its keys were regenerated, and when someone sits "
           "between you and the node. Compare the offered key with the node's own, read on the node itself "
           "(its console, or a channel you trust), not over this connection:\n"
        << "  " << cluster::RekeyNodeWorkflow::compareCommand() << '\n'
        << "If they match, confirm:\n"
        << "  mailmeshctl rekey " << node << " --accept-host-key " << offered << '\n';
}

const CommandArgument kNodeId{.name = u"ID"_s};

} // namespace

QList<Command> clusterCommands()
{
    return {
        {.name = u"init"_s,
         .summary = u"start a cluster file (never over an existing one without --force)"_s,
         .arguments = {{.name = u"NAME"_s}},
         .options = {{.name = u"uid-policy"_s, .valueName = u"per-node|replicated"_s,
                      .help = u"whether dovecot-uidlist replicates (default per-node: each node numbers its own)"_s},
                     {.name = u"force"_s, .help = u"write over an existing cluster file"_s}},
         .clusterFile = ClusterFile::Named,
         .run = init},
        {.name = u"add-node"_s,
         .summary = u"probe a node and add it to the cluster file (or update it)"_s,
         .arguments = {kNodeId},
         .options =
             {{.name = u"ssh"_s, .valueName = u"ADDRESS"_s, .help = u"ssh://[USER@]HOST[:PORT] or an ssh alias"_s,
               .required = true},
              {.name = u"mail-root"_s, .valueName = u"PATH"_s, .help = u"the tree Syncthing shares, e.g. /var/vmail"_s,
               .required = true},
              {.name = u"mail-user"_s, .valueName = u"USER"_s, .help = u"the user who owns the mail files"_s},
              {.name = u"ssh-option"_s, .valueName = u"OPT"_s, .help = u"an ssh -o option, e.g. IdentityFile=..."_s,
               .repeated = true},
              {.name = u"syncthing-home"_s, .valueName = u"DIR"_s, .help = u"Syncthing's home on the node"_s},
              {.name = u"syncthing-gui"_s, .valueName = u"HOST:PORT"_s,
               .help = u"Syncthing's GUI address on the node"_s},
              {.name = u"sync-address"_s, .valueName = u"URL"_s, .help = u"the address the other nodes sync with"_s},
              {.name = u"state-dir"_s, .valueName = u"DIR"_s,
               .help = u"journals and quarantine (default beside the mail root)"_s},
              {.name = u"dovecot-prefix"_s, .valueName = u"DIR"_s, .help = u"where the node's Dovecot is installed"_s},
              {.name = u"dovecot-config"_s, .valueName = u"FILE"_s, .help = u"the node's dovecot.conf"_s},
              {.name = u"dovecot-reload"_s, .valueName = u"CMD"_s, .help = u"how to reload Dovecot on the node"_s},
              {.name = u"dovecot-restart"_s, .valueName = u"CMD"_s, .help = u"how to restart Dovecot on the node"_s},
              {.name = u"imap-port"_s, .valueName = u"PORT"_s, .help = u"the node's IMAP port"_s},
              {.name = u"hold-command"_s, .valueName = u"CMD"_s,
               .help = u"stops delivery or IMAP during a migration or join, e.g. \"postfix stop\""_s, .repeated = true},
              {.name = u"resume-command"_s, .valueName = u"CMD"_s, .help = u"starts them again afterwards"_s,
               .repeated = true},
              {.name = u"accept-host-key"_s, .valueName = u"SHA256:..."_s,
               .help = u"pin this host key when known_hosts does not know it"_s}},
         .workflow = addNode},
        {.name = u"prepare"_s,
         .summary = u"Syncthing as the mail user, GUI on loopback, inotify, mailmesh-agent watch-changes as a "
                    u"service"_s,
         .arguments = {kNodeId},
         .options = {{.name = u"dry-run"_s, .help = u"only check; change nothing"_s}},
         .workflow =
             [](const CommandLine &line, const cluster::ClusterConfig &config, const cluster::MonitorOptions &monitor,
                QObject *owner) -> Result<StartedWorkflow> {
             return startedWorkflow(new cluster::PrepareNodeWorkflow(config, line.positional(0),
                                                                     line.isSet(u"dry-run"_s), monitor, owner));
         },
         .printReport = printManualActions},
        {.name = u"pair"_s,
         .summary = u"pair every node's Syncthing, share the mail root, wait until every node is in sync"_s,
         .workflow = pair},
        {.name = u"join"_s,
         .summary = u"add a node to a live cluster: held until its copy is complete, cur/-only setting, then "
                    u"released"_s,
         .arguments = {kNodeId},
         .options = {{.name = u"dry-run"_s, .help = u"show the plan; hold and change nothing"_s},
                     {.name = u"without-hold"_s,
                      .help = u"the node's Dovecot and MTA are stopped by hand: run no hold or resume commands"_s},
                     {.name = u"timeout"_s, .valueName = u"MINUTES"_s,
                      .help = u"how long the first copy may take (default 60)"_s}},
         .workflow = join,
         .printReport = printPlan},
        {.name = u"remove-node"_s,
         .summary = u"unshare and forget a node everywhere (also a dead one); its mail stays on its disk"_s,
         .arguments = {kNodeId},
         .options = {{.name = u"dry-run"_s, .help = u"show the plan; change nothing"_s}},
         .workflow = removeNode,
         .printReport = printPlan},
        {.name = u"rekey"_s,
         .summary = u"show a node's changed host key; with --accept-host-key, pin it after you compared it"_s,
         .arguments = {kNodeId},
         .options = {{.name = u"accept-host-key"_s, .valueName = u"SHA256:..."_s,
                      .help = u"the offered key you compared on the node: pinned only if the node still offers it"_s}},
         .workflow = rekey,
         .printReport = printRekey},
        {.name = u"migrate"_s,
         .summary = u"convert every Maildir to cur/-only, on every node"_s,
         .options = {{.name = u"dry-run"_s, .help = u"stop after the plan: nothing is paused, held or written"_s},
                     {.name = u"allow-stock-dovecot"_s,
                      .help = u"go on where a node runs stock Dovecot (it must get the patched build before "
                              u"clients use it)"_s}},
         .workflow = migration(cluster::MigrationWorkflow::Direction::Migrate)},
        {.name = u"revert"_s,
         .summary = u"turn every Maildir classic again, in reverse order"_s,
         .options = {{.name = u"dry-run"_s, .help = u"stop after the plan: nothing is paused, held or written"_s}},
         .workflow = migration(cluster::MigrationWorkflow::Direction::Revert)},
        {.name = u"deploy-dovecot"_s,
         .summary = u"put the cur/-only Dovecot on the nodes (all, or the IDs given), setting off"_s,
         .arguments = {{.name = u"ID"_s, .optional = true, .repeated = true}},
         .options = {{.name = u"packages"_s, .valueName = u"DIR"_s,
                      .help = u"the patched .debs on this machine, installed with apt and held"_s,
                      .alternatives = u"build"_s},
                     {.name = u"prefix"_s, .valueName = u"DIR"_s,
                      .help = u"a patched build installed in this directory on every node"_s,
                      .alternatives = u"build"_s},
                     {.name = u"dry-run"_s, .help = u"stop after render: show each node's snippet diff"_s},
                     {.name = u"allow-downgrade"_s, .help = u"install an older build than the node runs"_s},
                     {.name = u"check-user"_s, .valueName = u"USER"_s,
                      .help = u"after the restart, read this user's mailbox with doveadm"_s}},
         .workflow = deployDovecot,
         .printReport = printDeployment},
    };
}

} // namespace mm::ctl
