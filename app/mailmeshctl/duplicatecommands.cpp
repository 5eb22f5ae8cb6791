// The commands about duplicates and the quarantine: dupes, dedupe, quarantine list, restore
// and purge.

#include "commandsupport.h"

#include "cluster/workflows/duplicatesworkflow.h"
#include "cluster/workflows/quarantineworkflow.h"

#include <QJsonArray>
#include <QJsonObject>

using namespace Qt::StringLiterals;

namespace mm::ctl {

namespace {

void printGroups(const cluster::WorkflowReport &report, const CommandLine &, QTextStream &out, QTextStream &)
{
    const QJsonArray groups = report.details.value(u"groups"_s).toArray();
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

void printQuarantine(const cluster::WorkflowReport &report, const CommandLine &, QTextStream &out, QTextStream &)
{
    for (const QJsonValue &value : report.details.value(u"nodes"_s).toArray()) {
        const QJsonObject node = value.toObject();
        for (const QJsonValue &entry : node.value(u"result"_s).toObject().value(u"entries"_s).toArray()) {
            const QJsonObject e = entry.toObject();
            out << node.value(u"id"_s).toString() << "  " << e.value(u"id"_s).toString() << "  "
                << e.value(u"time"_s).toString() << "  " << e.value(u"reason"_s).toString() << "  "
                << e.value(u"originalPath"_s).toString()
                << (e.value(u"restored"_s).toBool() ? u"  (restored)"_s : QString()) << '\n';
        }
    }
}

// --group and --id take several values at once too: "a,b" is "a" and "b".
QStringList commaSeparated(const QStringList &values)
{
    QStringList items;
    for (const QString &value : values)
        items << value.split(u',', Qt::SkipEmptyParts);
    return items;
}

Result<StartedWorkflow> dupes(const CommandLine &, const cluster::ClusterConfig &config,
                              const cluster::MonitorOptions &monitor, QObject *owner)
{
    return startedWorkflow(new cluster::DuplicatesWorkflow(config, {}, monitor, owner));
}

Result<StartedWorkflow> dedupe(const CommandLine &line, const cluster::ClusterConfig &config,
                               const cluster::MonitorOptions &monitor, QObject *owner)
{
    cluster::DuplicatesWorkflow::Options options;
    options.mode = cluster::DuplicatesWorkflow::Mode::Resolve;
    options.dryRun = line.isSet(u"dry-run"_s);
    options.groups = commaSeparated(line.values(u"group"_s));
    return startedWorkflow(new cluster::DuplicatesWorkflow(config, options, monitor, owner));
}

WorkflowFactory quarantine(cluster::QuarantineWorkflow::Action action)
{
    return [action](const CommandLine &line, const cluster::ClusterConfig &config,
                    const cluster::MonitorOptions &monitor, QObject *owner) -> Result<StartedWorkflow> {
        cluster::QuarantineWorkflow::Options options;
        options.action = action;
        options.dryRun = line.isSet(u"dry-run"_s);
        options.node = line.value(u"node"_s);
        options.all = line.isSet(u"all"_s);
        options.ids = commaSeparated(line.values(u"id"_s));
        if (action == cluster::QuarantineWorkflow::Action::Purge) {
            bool ok = false;
            options.olderThanDays = line.value(u"older-than"_s).toInt(&ok);
            if (!ok || options.olderThanDays < 0)
                return badUsage(u"--older-than takes DAYS, 0 or more"_s);
        }
        return startedWorkflow(new cluster::QuarantineWorkflow(config, options, monitor, owner));
    };
}

const CommandOption kDryRun{.name = u"dry-run"_s, .help = u"show what would change; change nothing"_s};

} // namespace

QList<Command> duplicateCommands()
{
    return {
        {.name = u"dupes"_s,
         .summary = u"duplicate groups on every node, and the differences between the nodes"_s,
         .workflow = dupes,
         .printReport = printGroups},
        {.name = u"dedupe"_s,
         .summary = u"settle duplicate groups on one node; Syncthing carries the result to the others"_s,
         .options = {{.name = u"group"_s, .valueName = u"ID"_s,
                      .help = u"only this group (again for more); default: every group found on every node"_s,
                      .repeated = true},
                     kDryRun},
         .workflow = dedupe},
        {.name = u"quarantine list"_s,
         .summary = u"every node's quarantine"_s,
         .workflow = quarantine(cluster::QuarantineWorkflow::Action::List),
         .printReport = printQuarantine},
        {.name = u"quarantine restore"_s,
         .summary = u"put quarantined files back on the node that holds them (they replicate from there)"_s,
         .options = {{.name = u"node"_s, .valueName = u"ID"_s, .help = u"the node that holds the files"_s,
                      .required = true},
                     {.name = u"id"_s, .valueName = u"ID"_s, .help = u"this entry (again for more)"_s, .repeated = true,
                      .alternatives = u"entries"_s},
                     {.name = u"all"_s, .help = u"every entry, newest first"_s, .alternatives = u"entries"_s},
                     kDryRun},
         .workflow = quarantine(cluster::QuarantineWorkflow::Action::Restore)},
        {.name = u"quarantine purge"_s,
         .summary = u"delete the entries older than DAYS on every node: the only command that deletes mail"_s,
         .options = {{.name = u"older-than"_s, .valueName = u"DAYS"_s, .help = u"the age of the entries to delete"_s,
                      .required = true},
                     kDryRun},
         .workflow = quarantine(cluster::QuarantineWorkflow::Action::Purge)},
    };
}

} // namespace mm::ctl
