// `lab up N` boots N persistent Debian nodes under systemd-nspawn (core/lab) and prints their
// description (JSON); `lab add` boots one more; `lab down` stops them and removes what the lab
// made. Without --dir they use /var/tmp/mailmesh-lab.

#include "commandsupport.h"

#include "lab/lab.h"
#include "lab/labhost.h"
#include "protocol/exitcodes.h"

#include <QFileInfo>
#include <QJsonDocument>

using namespace Qt::StringLiterals;

namespace mm::ctl {

namespace {

QString labDir(const CommandLine &line)
{
    return line.isSet(u"dir"_s) ? line.value(u"dir"_s) : lab::Lab::defaultDirectory();
}

CommandOutcome labUp(const CommandContext &context)
{
    const CommandLine &line = context.line;
    QTextStream &err = context.err;
    lab::LabOptions options;
    options.dir = labDir(line);
    options.persistent = true;
    bool ok = false;
    options.nodeCount = line.positional(0).toInt(&ok);
    if (!ok || options.nodeCount < 1)
        return {usageError(context, u"N is a number of nodes, 1 or more"_s)};
    if (line.isSet(u"debian"_s))
        options.debianRelease = line.value(u"debian"_s);
    options.readOnlyBinds << line.values(u"dovecot-prefix"_s);
    if (line.isSet(u"login"_s)) {
        const QString login = line.value(u"login"_s);
        if (login == u"root"_s)
            options.login = lab::LoginVariant::Root;
        else if (login == u"sudo"_s)
            options.login = lab::LoginVariant::Sudo;
        else if (login == u"mixed"_s)
            options.login = lab::LoginVariant::Mixed;
        else
            return {usageError(context, u"--login is root, sudo or mixed"_s)};
    }
    const QString image = lab::labhost::imagePath(options.debianRelease, lab::labhost::defaultCacheDir());
    if (!lab::labhost::suiteOf(options.debianRelease).isEmpty() && !QFileInfo::exists(image + u"/.mailmesh-complete"_s))
        err << "lab up: building the Debian " << options.debianRelease << " root file system once into " << image
            << " (about 4 minutes; later labs start in seconds)\n";
    err.flush();
    lab::Lab lab(options);
    if (Status started = lab.start(); !started) {
        err << "lab up: " << QString::fromStdString(started.error().describe()) << '\n';
        return {started.error().code == ErrorCode::BadRequest ? protocol::kExitUsage : protocol::kExitFailed};
    }
    context.out << QJsonDocument(lab.description()).toJson(QJsonDocument::Indented);
    err << "lab up: " << lab.nodeCount() << " nodes in " << lab.startupMs() / 1000.0
        << " s; reach them from the admin namespace: nsenter --net=/run/netns/" << lab.adminNamespace() << " ssh -F "
        << lab.sshConfigFile() << " node1\n";
    return {protocol::kExitOk};
}

// One more node on the lab's network, e.g. a fresh server to `join`.
CommandOutcome labAdd(const CommandContext &context)
{
    QTextStream &err = context.err;
    Result<std::unique_ptr<lab::Lab>> attached = lab::Lab::attach(labDir(context.line));
    if (!attached) {
        err << "lab add: " << QString::fromStdString(attached.error().describe()) << '\n';
        return {attached.error().code == ErrorCode::NotFound ? protocol::kExitUsage : protocol::kExitFailed};
    }
    Result<int> added = (*attached)->addNode();
    if (!added) {
        err << "lab add: " << QString::fromStdString(added.error().describe()) << '\n';
        return {protocol::kExitFailed};
    }
    context.out << QJsonDocument((*attached)->description()).toJson(QJsonDocument::Indented);
    const lab::LabNodeInfo node = (*attached)->node(*added);
    err << "lab add: " << node.id << " booted in " << node.bootMs / 1000.0 << " s\n";
    return {protocol::kExitOk};
}

CommandOutcome labDown(const CommandContext &context)
{
    if (Status down = lab::Lab::tearDownDirectory(labDir(context.line)); !down) {
        context.err << "lab down: " << QString::fromStdString(down.error().describe()) << '\n';
        return {down.error().code == ErrorCode::NotFound ? protocol::kExitUsage : protocol::kExitFailed};
    }
    return {protocol::kExitOk};
}

const CommandOption kDir{.name = u"dir"_s, .valueName = u"DIR"_s,
                         .help = u"where the lab lives (default /var/tmp/mailmesh-lab)"_s};

} // namespace

QList<Command> labCommands()
{
    return {
        {.name = u"lab up"_s,
         .summary = u"boot N real Debian nodes (systemd-nspawn) to rehearse on; needs root"_s,
         .arguments = {{.name = u"N"_s}},
         .options = {{.name = u"debian"_s, .valueName = u"RELEASE"_s, .help = u"the Debian release (default 12)"_s},
                     kDir,
                     {.name = u"login"_s, .valueName = u"root|sudo|mixed"_s,
                      .help = u"how the admin logs in: as root, as the sudo user admin, or every second node each"_s},
                     {.name = u"dovecot-prefix"_s, .valueName = u"PREFIX"_s,
                      .help = u"show PREFIX read-only in every node (again for more)"_s, .repeated = true}},
         .clusterFile = ClusterFile::Unused,
         .run = labUp},
        {.name = u"lab add"_s,
         .summary = u"boot one more node on the lab's network, e.g. a fresh one to join"_s,
         .options = {kDir},
         .clusterFile = ClusterFile::Unused,
         .run = labAdd},
        {.name = u"lab down"_s,
         .summary = u"stop the lab's nodes and remove what the lab made"_s,
         .options = {kDir},
         .clusterFile = ClusterFile::Unused,
         .run = labDown},
    };
}

} // namespace mm::ctl
