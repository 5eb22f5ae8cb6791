#include "duplicatecommands.h"

#include "commandsupport.h"

#include "cluster/duplicatesworkflow.h"
#include "cluster/quarantineworkflow.h"

#include <QJsonArray>
#include <QJsonObject>

namespace mm::ctl {

namespace {

void printGroups(const QJsonArray &groups, QTextStream &out)
{
    if (groups.isEmpty()) {
        out << "No duplicate groups.\n";
        return;
    }
    out << QStringLiteral("%1 %2 %3 %4\n").arg(QStringLiteral("GROUP"), -17).arg(QStringLiteral("KIND"), -16).arg(QStringLiteral("NODES"), -20).arg(QStringLiteral("MEMBERS -> KEEPER"));
    for (const QJsonValue &value : groups) {
        const QJsonObject group = value.toObject();
        QStringList members;
        for (const QJsonValue &member : group.value(QStringLiteral("members")).toArray())
            members << member.toObject().value(QStringLiteral("name")).toString();
        QStringList nodes;
        for (const QJsonValue &node : group.value(QStringLiteral("presentOn")).toArray())
            nodes << node.toString();
        const QString folder = group.value(QStringLiteral("folder")).toString();
        out << QStringLiteral("%1 %2 %3 %4%5 -> %6%7\n")
                   .arg(group.value(QStringLiteral("id")).toString(), -17)
                   .arg(group.value(QStringLiteral("kind")).toString(), -16)
                   .arg(nodes.join(u','), -20)
                   .arg(folder.isEmpty() ? QString() : folder + QStringLiteral(": "), members.join(QStringLiteral(", ")),
                        group.value(QStringLiteral("keeper")).toString(),
                        group.value(QStringLiteral("removable")).toBool() ? QString() : QStringLiteral(" (bytes differ: kept)"));
    }
}

int runAndPrint(cluster::ClusterWorkflow *workflow, const GlobalOptions &options, QTextStream &out, QTextStream &err,
                bool showGroups)
{
    const int exitCode = runWorkflow(workflow, options, out, err);
    if (!options.json && showGroups)
        printGroups(workflow->report().details.value(QStringLiteral("groups")).toArray(), out);
    return exitCode;
}

} // namespace

int dupesCommand(const QStringList &arguments, const GlobalOptions &options, QTextStream &out, QTextStream &err)
{
    CommandLine line(arguments, {}, {}, {});
    if (!line.error().isEmpty() || !line.positionals().isEmpty())
        return usageError(err, line.error().isEmpty() ? QStringLiteral("dupes takes no arguments") : line.error(),
                          QStringLiteral("mailmeshctl dupes [--json]"));
    int exitCode = 0;
    std::optional<cluster::ClusterConfig> config = loadCluster(options, err, exitCode);
    if (!config)
        return exitCode;
    QObject owner;
    cluster::DuplicatesWorkflow::Options workflowOptions;
    auto *workflow = new cluster::DuplicatesWorkflow(*config, workflowOptions, monitorOptions(&owner), &owner);
    return runAndPrint(workflow, options, out, err, true);
}

int dedupeCommand(const QStringList &arguments, const GlobalOptions &options, QTextStream &out, QTextStream &err)
{
    CommandLine line(arguments, {QStringLiteral("dry-run")}, {}, {QStringLiteral("group")});
    if (!line.error().isEmpty() || !line.positionals().isEmpty())
        return usageError(err, line.error().isEmpty() ? QStringLiteral("unexpected argument") : line.error(),
                          QStringLiteral("mailmeshctl dedupe [--group ID]... [--dry-run]"));
    int exitCode = 0;
    std::optional<cluster::ClusterConfig> config = loadCluster(options, err, exitCode);
    if (!config)
        return exitCode;
    cluster::DuplicatesWorkflow::Options workflowOptions;
    workflowOptions.mode = cluster::DuplicatesWorkflow::Mode::Resolve;
    workflowOptions.dryRun = line.isSet(QStringLiteral("dry-run"));
    for (const QString &group : line.values(QStringLiteral("group")))
        workflowOptions.groups << group.split(u',', Qt::SkipEmptyParts);
    QObject owner;
    auto *workflow = new cluster::DuplicatesWorkflow(*config, workflowOptions, monitorOptions(&owner), &owner);
    return runAndPrint(workflow, options, out, err, false);
}

int quarantineCommand(const QStringList &arguments, const GlobalOptions &options, QTextStream &out, QTextStream &err)
{
    const QString usage = QStringLiteral(
        "mailmeshctl quarantine list\n"
        "       mailmeshctl quarantine restore --node ID (--id ID... | --all) [--dry-run]\n"
        "       mailmeshctl quarantine purge --older-than DAYS [--dry-run]");
    CommandLine line(arguments.mid(1), {QStringLiteral("dry-run"), QStringLiteral("all")},
                     {QStringLiteral("node"), QStringLiteral("older-than")}, {QStringLiteral("id")});
    if (!line.error().isEmpty() || !line.positionals().isEmpty())
        return usageError(err, line.error().isEmpty() ? QStringLiteral("unexpected argument") : line.error(), usage);
    cluster::QuarantineWorkflow::Options workflowOptions;
    workflowOptions.dryRun = line.isSet(QStringLiteral("dry-run"));
    const QString verb = arguments.value(0);
    if (verb == QLatin1String("list")) {
        workflowOptions.action = cluster::QuarantineWorkflow::Action::List;
    } else if (verb == QLatin1String("restore")) {
        workflowOptions.action = cluster::QuarantineWorkflow::Action::Restore;
        workflowOptions.node = line.value(QStringLiteral("node"));
        workflowOptions.all = line.isSet(QStringLiteral("all"));
        for (const QString &id : line.values(QStringLiteral("id")))
            workflowOptions.ids << id.split(u',', Qt::SkipEmptyParts);
        if (workflowOptions.node.isEmpty() || workflowOptions.all == !workflowOptions.ids.isEmpty())
            return usageError(err, QStringLiteral("restore needs --node and either --id or --all"), usage);
    } else if (verb == QLatin1String("purge")) {
        workflowOptions.action = cluster::QuarantineWorkflow::Action::Purge;
        bool ok = false;
        workflowOptions.olderThanDays = line.value(QStringLiteral("older-than")).toInt(&ok);
        if (!ok || workflowOptions.olderThanDays < 0)
            return usageError(err, QStringLiteral("purge needs --older-than DAYS (0 or more)"), usage);
    } else {
        return usageError(err, QStringLiteral("quarantine needs list, restore or purge"), usage);
    }
    int exitCode = 0;
    std::optional<cluster::ClusterConfig> config = loadCluster(options, err, exitCode);
    if (!config)
        return exitCode;
    QObject owner;
    auto *workflow = new cluster::QuarantineWorkflow(*config, workflowOptions, monitorOptions(&owner), &owner);
    exitCode = runWorkflow(workflow, options, out, err);
    if (!options.json && workflowOptions.action == cluster::QuarantineWorkflow::Action::List) {
        for (const QJsonValue &value : workflow->report().details.value(QStringLiteral("nodes")).toArray()) {
            const QJsonObject node = value.toObject();
            for (const QJsonValue &entry : node.value(QStringLiteral("result")).toObject().value(QStringLiteral("entries")).toArray()) {
                const QJsonObject e = entry.toObject();
                out << node.value(QStringLiteral("id")).toString() << "  " << e.value(QStringLiteral("id")).toString() << "  "
                    << e.value(QStringLiteral("time")).toString() << "  " << e.value(QStringLiteral("reason")).toString() << "  "
                    << e.value(QStringLiteral("originalPath")).toString()
                    << (e.value(QStringLiteral("restored")).toBool() ? QStringLiteral("  (restored)") : QString()) << '\n';
            }
        }
    }
    return exitCode;
}

} // namespace mm::ctl
