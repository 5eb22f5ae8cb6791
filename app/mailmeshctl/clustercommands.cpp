#include "clustercommands.h"

#include "commandsupport.h"
#include "duplicatecommands.h"
#include "statuscommand.h"

#include "cluster/addnodeworkflow.h"
#include "cluster/clusterconfig.h"
#include "cluster/deploydovecotworkflow.h"
#include "cluster/joinnodeworkflow.h"
#include "cluster/migrationworkflow.h"
#include "cluster/pairworkflow.h"
#include "cluster/preparenodeworkflow.h"
#include "cluster/removenodeworkflow.h"
#include "protocol/exitcodes.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>

#include <optional>

namespace mm::ctl {

namespace {

int initCommand(const QStringList &arguments, const GlobalOptions &options, QTextStream &out, QTextStream &err)
{
    const QString usage = QStringLiteral("mailmeshctl [--cluster FILE] init NAME [--uid-policy per-node|replicated] [--force]");
    CommandLine line(arguments, {QStringLiteral("force")}, {QStringLiteral("uid-policy")}, {});
    if (!line.error().isEmpty() || line.positionals().size() != 1)
        return usageError(err, line.error().isEmpty() ? QStringLiteral("init takes one NAME") : line.error(), usage);
    const QString path = clusterPath(options);
    if (QFileInfo::exists(path) && !line.isSet(QStringLiteral("force"))) {
        err << "mailmeshctl: " << path << " already exists; pass --force to start a new cluster file over it, or "
            << "--cluster to write another one\n";
        return protocol::kExitUsage;
    }
    cluster::ClusterConfig config;
    config.name = line.positionals().first();
    if (line.isSet(QStringLiteral("uid-policy"))) {
        const auto policy = cluster::uidPolicyFromName(line.value(QStringLiteral("uid-policy")));
        if (!policy)
            return usageError(err, QStringLiteral("--uid-policy must be per-node or replicated"), usage);
        config.uidPolicy = *policy;
    }
    if (const QStringList problems = config.validate(); !problems.isEmpty())
        return usageError(err, problems.join(QStringLiteral("; ")), usage);
    if (const int saved = saveCluster(config, options, err); saved != 0)
        return saved;
    if (options.json)
        out << QJsonDocument(config.toJson()).toJson(QJsonDocument::Compact) << '\n';
    else
        out << "Cluster \"" << config.name << "\" written to " << path << " (uidPolicy " << cluster::uidPolicyName(config.uidPolicy)
            << ").\nNext: mailmeshctl add-node ID --ssh ssh://root@HOST --mail-root PATH\n";
    return protocol::kExitOk;
}

QList<QStringList> commandLists(const QStringList &shellLines)
{
    QList<QStringList> commands;
    for (const QString &line : shellLines)
        commands << QProcess::splitCommand(line);
    return commands;
}

int addNodeCommand(const QStringList &arguments, const GlobalOptions &options, QTextStream &out, QTextStream &err)
{
    const QString usage = QStringLiteral(
        "mailmeshctl add-node ID --ssh ssh://[USER@]HOST[:PORT]|ALIAS --mail-root PATH [--mail-user USER]\n"
        "            [--ssh-option OPT]... [--syncthing-home DIR] [--syncthing-gui HOST:PORT] [--sync-address URL]\n"
        "            [--state-dir DIR] [--dovecot-prefix DIR] [--dovecot-config FILE] [--dovecot-reload CMD]\n"
        "            [--dovecot-restart CMD] [--imap-port PORT]\n"
        "            [--hold-command CMD]... [--resume-command CMD]... [--accept-host-key SHA256:...]");
    CommandLine line(arguments, {},
                     {QStringLiteral("ssh"), QStringLiteral("mail-root"), QStringLiteral("mail-user"),
                      QStringLiteral("syncthing-home"), QStringLiteral("syncthing-gui"), QStringLiteral("sync-address"),
                      QStringLiteral("state-dir"), QStringLiteral("dovecot-prefix"), QStringLiteral("dovecot-config"),
                      QStringLiteral("dovecot-reload"), QStringLiteral("dovecot-restart"), QStringLiteral("imap-port"),
                      QStringLiteral("accept-host-key")},
                     {QStringLiteral("ssh-option"), QStringLiteral("hold-command"), QStringLiteral("resume-command")});
    if (!line.error().isEmpty())
        return usageError(err, line.error(), usage);
    if (line.positionals().size() != 1 || !line.isSet(QStringLiteral("ssh")) || !line.isSet(QStringLiteral("mail-root")))
        return usageError(err, QStringLiteral("add-node needs ID, --ssh and --mail-root"), usage);
    int exitCode = 0;
    std::optional<cluster::ClusterConfig> config = loadCluster(options, err, exitCode);
    if (!config)
        return exitCode;

    cluster::NodeConfig node;
    if (const cluster::NodeConfig *existing = config->node(line.positionals().first()))
        node = *existing; // re-adding updates what is given and keeps the rest
    node.id = line.positionals().first();
    node.ssh = line.value(QStringLiteral("ssh"));
    node.mailRoot = line.value(QStringLiteral("mail-root"));
    const auto setIfGiven = [&line](const char *option, QString &field) {
        if (line.isSet(QLatin1String(option)))
            field = line.value(QLatin1String(option));
    };
    setIfGiven("mail-user", node.mailUser);
    setIfGiven("state-dir", node.stateDir);
    setIfGiven("syncthing-home", node.syncthing.home);
    setIfGiven("syncthing-gui", node.syncthing.guiAddress);
    setIfGiven("sync-address", node.syncthing.syncAddress);
    setIfGiven("dovecot-prefix", node.dovecot.prefix);
    setIfGiven("dovecot-config", node.dovecot.configFile);
    if (line.isSet(QStringLiteral("dovecot-reload")))
        node.dovecot.reloadCommand = commandLists({line.value(QStringLiteral("dovecot-reload"))});
    if (line.isSet(QStringLiteral("dovecot-restart")))
        node.dovecot.restartCommand = commandLists({line.value(QStringLiteral("dovecot-restart"))});
    if (line.isSet(QStringLiteral("imap-port"))) {
        bool ok = false;
        node.dovecot.imapPort = line.value(QStringLiteral("imap-port")).toInt(&ok);
        if (!ok || node.dovecot.imapPort < 1 || node.dovecot.imapPort > 65535)
            return usageError(err, QStringLiteral("--imap-port must be a port number"), usage);
    }
    if (!line.values(QStringLiteral("ssh-option")).isEmpty())
        node.sshOptions = line.values(QStringLiteral("ssh-option"));
    if (!line.values(QStringLiteral("hold-command")).isEmpty())
        node.holdCommands = commandLists(line.values(QStringLiteral("hold-command")));
    if (!line.values(QStringLiteral("resume-command")).isEmpty())
        node.resumeCommands = commandLists(line.values(QStringLiteral("resume-command")));

    QObject owner;
    auto *workflow = new cluster::AddNodeWorkflow(*config, node, line.value(QStringLiteral("accept-host-key")),
                                                  monitorOptions(&owner), &owner);
    exitCode = runWorkflow(workflow, options, out, err);
    if (workflow->report().succeeded)
        if (const int saved = saveCluster(workflow->cluster(), options, err); saved != 0)
            return saved;
    return exitCode;
}

int prepareCommand(const QStringList &arguments, const GlobalOptions &options, QTextStream &out, QTextStream &err)
{
    const QString usage = QStringLiteral("mailmeshctl prepare ID [--dry-run]");
    CommandLine line(arguments, {QStringLiteral("dry-run")}, {}, {});
    if (!line.error().isEmpty() || line.positionals().size() != 1)
        return usageError(err, line.error().isEmpty() ? QStringLiteral("prepare takes one node ID") : line.error(), usage);
    int exitCode = 0;
    std::optional<cluster::ClusterConfig> config = loadCluster(options, err, exitCode);
    if (!config)
        return exitCode;
    QObject owner;
    auto *workflow = new cluster::PrepareNodeWorkflow(*config, line.positionals().first(), line.isSet(QStringLiteral("dry-run")),
                                                      monitorOptions(&owner), &owner);
    exitCode = runWorkflow(workflow, options, out, err);
    if (!options.json) {
        for (const QJsonValue &value : workflow->report().details.value(QStringLiteral("manualActions")).toArray()) {
            const QJsonObject action = value.toObject();
            out << "Manual action: " << action.value(QStringLiteral("what")).toString() << '\n';
            for (const QJsonValue &command : action.value(QStringLiteral("commands")).toArray())
                out << "    " << command.toString() << '\n';
        }
    }
    return exitCode;
}

int migrationCommand(cluster::MigrationWorkflow::Direction direction, const QStringList &arguments,
                     const GlobalOptions &options, QTextStream &out, QTextStream &err)
{
    const bool migrate = direction == cluster::MigrationWorkflow::Direction::Migrate;
    const QString usage = migrate ? QStringLiteral("mailmeshctl migrate [--dry-run] [--allow-stock-dovecot]")
                                  : QStringLiteral("mailmeshctl revert [--dry-run]");
    CommandLine line(arguments,
                     migrate ? QStringList{QStringLiteral("dry-run"), QStringLiteral("allow-stock-dovecot")}
                             : QStringList{QStringLiteral("dry-run")},
                     {}, {});
    if (!line.error().isEmpty() || !line.positionals().isEmpty())
        return usageError(err, line.error().isEmpty() ? QStringLiteral("unexpected argument") : line.error(), usage);
    int exitCode = 0;
    std::optional<cluster::ClusterConfig> config = loadCluster(options, err, exitCode);
    if (!config)
        return exitCode;
    cluster::MigrationWorkflow::Options workflowOptions;
    workflowOptions.dryRun = line.isSet(QStringLiteral("dry-run"));
    workflowOptions.allowStockDovecot = line.isSet(QStringLiteral("allow-stock-dovecot"));
    QObject owner;
    auto *workflow = new cluster::MigrationWorkflow(*config, direction, workflowOptions, monitorOptions(&owner), &owner);
    exitCode = runWorkflow(workflow, options, out, err);
    // What was learnt about each node's Dovecot is kept, whatever the outcome; a dry run writes nothing.
    if (!workflowOptions.dryRun && workflow->cluster() != *config)
        if (const int saved = saveCluster(workflow->cluster(), options, err); saved != 0 && exitCode == 0)
            return saved;
    return exitCode;
}

int deployDovecotCommand(const QStringList &arguments, const GlobalOptions &options, QTextStream &out,
                         QTextStream &err)
{
    const QString usage = QStringLiteral(
        "mailmeshctl deploy-dovecot (--packages DIR | --prefix DIR) [ID...] [--dry-run] [--allow-downgrade]\n"
        "            [--check-user USER]");
    CommandLine line(arguments, {QStringLiteral("dry-run"), QStringLiteral("allow-downgrade")},
                     {QStringLiteral("packages"), QStringLiteral("prefix"), QStringLiteral("check-user")}, {});
    if (!line.error().isEmpty())
        return usageError(err, line.error(), usage);
    if (line.isSet(QStringLiteral("packages")) == line.isSet(QStringLiteral("prefix")))
        return usageError(err, QStringLiteral("give either --packages DIR or --prefix DIR"), usage);
    int exitCode = 0;
    std::optional<cluster::ClusterConfig> config = loadCluster(options, err, exitCode);
    if (!config)
        return exitCode;
    cluster::DeployDovecotWorkflow::Options workflowOptions;
    workflowOptions.prefix = line.value(QStringLiteral("prefix"));
    workflowOptions.packagesDir = line.value(QStringLiteral("packages"));
    workflowOptions.nodeIds = line.positionals();
    workflowOptions.dryRun = line.isSet(QStringLiteral("dry-run"));
    workflowOptions.allowDowngrade = line.isSet(QStringLiteral("allow-downgrade"));
    workflowOptions.checkUser = line.value(QStringLiteral("check-user"));
    QObject owner;
    auto *workflow = new cluster::DeployDovecotWorkflow(*config, workflowOptions, monitorOptions(&owner), &owner);
    exitCode = runWorkflow(workflow, options, out, err);
    // Found on the way, whatever the outcome: a newer Debian build than the patched packages.
    if (!options.json)
        for (const QJsonValue &warning : workflow->report().details.value(QStringLiteral("warnings")).toArray())
            err << "warning: " << warning.toString() << '\n';
    if (workflowOptions.dryRun && !options.json) {
        // The snippet each node would get, as a diff against what it has.
        for (const QJsonValue &value : workflow->report().details.value(QStringLiteral("nodes")).toArray()) {
            const QJsonObject node = value.toObject();
            const QString diff = node.value(QStringLiteral("diff")).toString();
            if (node.value(QStringLiteral("unchanged")).toBool() || diff.isEmpty())
                continue;
            out << "--- " << node.value(QStringLiteral("id")).toString() << ": "
                << node.value(QStringLiteral("snippet")).toString() << '\n' << diff << '\n';
        }
    }
    // Facts of the nodes that now run the target build are kept, whatever the outcome.
    if (!workflowOptions.dryRun && workflow->cluster() != *config)
        if (const int saved = saveCluster(workflow->cluster(), options, err); saved != 0 && exitCode == 0)
            return saved;
    return exitCode;
}

int pairCommand(const QStringList &arguments, const GlobalOptions &options, QTextStream &out, QTextStream &err)
{
    if (!arguments.isEmpty())
        return usageError(err, QStringLiteral("pair takes no arguments"), QStringLiteral("mailmeshctl pair"));
    int exitCode = 0;
    std::optional<cluster::ClusterConfig> config = loadCluster(options, err, exitCode);
    if (!config)
        return exitCode;
    // A node added to a cluster that was paired before must not serve before its copy is
    // complete (docs/maildir-dovecot-syncthing.md, "Pitfall 3"); pair would let its Dovecot run
    // during the copy.
    QStringList paired, unpaired;
    for (const cluster::NodeConfig &node : std::as_const(config->nodes))
        (node.syncthing.deviceId.isEmpty() ? unpaired : paired) << node.id;
    if (!paired.isEmpty() && !unpaired.isEmpty()) {
        err << "mailmeshctl: " << paired.join(QStringLiteral(", ")) << " are paired already; add "
            << unpaired.join(QStringLiteral(", ")) << " with `mailmeshctl join ID`, which holds the new node's Dovecot "
            << "until its copy is complete\n";
        return protocol::kExitUsage;
    }
    QObject owner;
    cluster::PairWorkflow pair(*config, monitorOptions(&owner));
    QObject::connect(&pair, &cluster::PairWorkflow::progress, &pair, [&](const QString &step, int done, int total) {
        if (options.json)
            out << QJsonDocument(QJsonObject{{QStringLiteral("type"), QStringLiteral("progress")},
                                             {QStringLiteral("step"), QStringLiteral("pair")},
                                             {QStringLiteral("message"), step},
                                             {QStringLiteral("done"), done},
                                             {QStringLiteral("total"), total}})
                       .toJson(QJsonDocument::Compact)
                << '\n';
        else
            err << "  " << step << '\n';
        out.flush();
        err.flush();
    });
    std::optional<Error> failure;
    QObject::connect(&pair, &cluster::PairWorkflow::succeeded, &pair, [] { QCoreApplication::exit(0); });
    QObject::connect(&pair, &cluster::PairWorkflow::failed, &pair, [&](const Error &error) {
        failure = error;
        QCoreApplication::exit(0);
    });
    pair.start();
    QCoreApplication::exec();
    if (failure) {
        const int code = protocol::exitCodeFor(failure->code);
        if (options.json)
            out << QJsonDocument(QJsonObject{{QStringLiteral("type"), QStringLiteral("report")},
                                             {QStringLiteral("workflow"), QStringLiteral("pair")},
                                             {QStringLiteral("succeeded"), false},
                                             {QStringLiteral("exitCode"), code},
                                             {QStringLiteral("error"),
                                              QJsonObject{{QStringLiteral("code"),
                                                           QString::fromUtf8(errorCodeName(failure->code).data())},
                                                          {QStringLiteral("message"),
                                                           QString::fromStdString(failure->describe())}}}})
                       .toJson(QJsonDocument::Compact)
                << '\n';
        else
            out << "pair failed: " << QString::fromStdString(failure->describe()) << '\n';
        return code;
    }
    if (const int saved = saveCluster(pair.cluster(), options, err); saved != 0)
        return saved;
    if (options.json)
        out << QJsonDocument(QJsonObject{{QStringLiteral("type"), QStringLiteral("report")},
                                         {QStringLiteral("workflow"), QStringLiteral("pair")},
                                         {QStringLiteral("succeeded"), true},
                                         {QStringLiteral("exitCode"), 0}})
                   .toJson(QJsonDocument::Compact)
            << '\n';
    else
        out << "pair: every node is connected and in sync; device ids saved to " << clusterPath(options) << '\n';
    return protocol::kExitOk;
}

int joinCommand(const QStringList &arguments, const GlobalOptions &options, QTextStream &out, QTextStream &err)
{
    const QString usage = QStringLiteral("mailmeshctl join ID [--dry-run] [--without-hold] [--timeout MINUTES]");
    CommandLine line(arguments, {QStringLiteral("dry-run"), QStringLiteral("without-hold")}, {QStringLiteral("timeout")}, {});
    if (!line.error().isEmpty() || line.positionals().size() != 1)
        return usageError(err, line.error().isEmpty() ? QStringLiteral("join takes one node ID") : line.error(), usage);
    int exitCode = 0;
    std::optional<cluster::ClusterConfig> config = loadCluster(options, err, exitCode);
    if (!config)
        return exitCode;
    cluster::JoinNodeWorkflow::Options workflowOptions;
    workflowOptions.dryRun = line.isSet(QStringLiteral("dry-run"));
    workflowOptions.withoutHold = line.isSet(QStringLiteral("without-hold"));
    if (line.isSet(QStringLiteral("timeout"))) {
        bool ok = false;
        const int minutes = line.value(QStringLiteral("timeout")).toInt(&ok);
        if (!ok || minutes < 1 || minutes > 7 * 24 * 60)
            return usageError(err, QStringLiteral("--timeout takes minutes, 1 to 10080"), usage);
        workflowOptions.syncTimeoutMs = minutes * 60'000;
    }
    QObject owner;
    auto *workflow = new cluster::JoinNodeWorkflow(*config, line.positionals().first(), workflowOptions,
                                                   monitorOptions(&owner), &owner);
    exitCode = runWorkflow(workflow, options, out, err);
    if (workflowOptions.dryRun && !options.json) {
        out << "Plan:\n";
        for (const QJsonValue &action : workflow->report().details.value(QStringLiteral("plan")).toArray())
            out << "  " << action.toString() << '\n';
    }
    // The new device id is recorded only once every peer knows it: a failed run keeps the old
    // one, so that the next run still removes it from the peers it could not reach this time.
    if (!workflowOptions.dryRun && workflow->report().succeeded && workflow->cluster() != *config)
        if (const int saved = saveCluster(workflow->cluster(), options, err); saved != 0)
            return saved;
    return exitCode;
}

int removeNodeCommand(const QStringList &arguments, const GlobalOptions &options, QTextStream &out, QTextStream &err)
{
    const QString usage = QStringLiteral("mailmeshctl remove-node ID [--dry-run]");
    CommandLine line(arguments, {QStringLiteral("dry-run")}, {}, {});
    if (!line.error().isEmpty() || line.positionals().size() != 1)
        return usageError(err, line.error().isEmpty() ? QStringLiteral("remove-node takes one node ID") : line.error(),
                          usage);
    int exitCode = 0;
    std::optional<cluster::ClusterConfig> config = loadCluster(options, err, exitCode);
    if (!config)
        return exitCode;
    cluster::RemoveNodeWorkflow::Options workflowOptions;
    workflowOptions.dryRun = line.isSet(QStringLiteral("dry-run"));
    QObject owner;
    auto *workflow = new cluster::RemoveNodeWorkflow(*config, line.positionals().first(), workflowOptions,
                                                     monitorOptions(&owner), &owner);
    exitCode = runWorkflow(workflow, options, out, err);
    if (workflowOptions.dryRun && !options.json) {
        out << "Plan:\n";
        for (const QJsonValue &action : workflow->report().details.value(QStringLiteral("plan")).toArray())
            out << "  " << action.toString() << '\n';
    }
    if (!workflowOptions.dryRun && workflow->report().succeeded)
        if (const int saved = saveCluster(workflow->cluster(), options, err); saved != 0)
            return saved;
    return exitCode;
}

} // namespace

int runClusterCommand(const QString &command, const QStringList &arguments, const GlobalOptions &options,
                      QTextStream &out, QTextStream &err)
{
    if (command == QLatin1String("init"))
        return initCommand(arguments, options, out, err);
    if (command == QLatin1String("add-node"))
        return addNodeCommand(arguments, options, out, err);
    if (command == QLatin1String("dupes"))
        return dupesCommand(arguments, options, out, err);
    if (command == QLatin1String("dedupe"))
        return dedupeCommand(arguments, options, out, err);
    if (command == QLatin1String("quarantine"))
        return quarantineCommand(arguments, options, out, err);
    if (command == QLatin1String("status"))
        return statusCommand(arguments, options, out, err);
    if (command == QLatin1String("prepare"))
        return prepareCommand(arguments, options, out, err);
    if (command == QLatin1String("pair"))
        return pairCommand(arguments, options, out, err);
    if (command == QLatin1String("join"))
        return joinCommand(arguments, options, out, err);
    if (command == QLatin1String("remove-node"))
        return removeNodeCommand(arguments, options, out, err);
    if (command == QLatin1String("migrate"))
        return migrationCommand(cluster::MigrationWorkflow::Direction::Migrate, arguments, options, out, err);
    if (command == QLatin1String("deploy-dovecot"))
        return deployDovecotCommand(arguments, options, out, err);
    if (command == QLatin1String("revert"))
        return migrationCommand(cluster::MigrationWorkflow::Direction::Revert, arguments, options, out, err);
    return -1;
}

} // namespace mm::ctl
