// `sandbox up N` starts N persistent throw-away nodes on 127.0.0.1 (core/sandbox) and prints their
// description (JSON); `sandbox down` stops them. Without --dir both use
// <tmp>/mailmesh-sandbox-<user>.

#include "commandsupport.h"

#include "cluster/session/agentlocator.h"
#include "protocol/exitcodes.h"
#include "sandbox/sandbox.h"

#include <QDir>
#include <QJsonDocument>

#include <unistd.h>

using namespace Qt::StringLiterals;

namespace mm::ctl {

namespace {

QString sandboxDir(const CommandLine &line)
{
    if (line.isSet(u"dir"_s))
        return line.value(u"dir"_s);
    Result<sandbox::SandboxUser> me = sandbox::SandboxUser::current();
    return QDir::tempPath() + u"/mailmesh-sandbox-"_s + (me ? me->name() : QString::number(::geteuid()));
}

CommandOutcome sandboxUp(const CommandContext &context)
{
    bool ok = false;
    sandbox::SandboxOptions options;
    options.nodeCount = context.line.positional(0).toInt(&ok);
    if (!ok || options.nodeCount < 1)
        return {usageError(context, u"N is a number of nodes, 1 or more"_s)};
    options.dir = sandboxDir(context.line);
    options.persistent = true;
    options.changeWatcher = cluster::locateAgentBinary();
    if (const QString prefix = context.line.value(u"dovecot-prefix"_s); !prefix.isEmpty())
        options.dovecotPrefix = prefix;
    sandbox::Sandbox sandbox(options);
    if (Status started = sandbox.start(); !started) {
        context.err << "sandbox up: " << QString::fromStdString(started.error().describe()) << '\n';
        return {protocol::kExitFailed};
    }
    context.out << QJsonDocument(sandbox.description()).toJson(QJsonDocument::Indented);
    return {protocol::kExitOk};
}

CommandOutcome sandboxDown(const CommandContext &context)
{
    Result<QList<sandbox::ProcessTable::Entry>> left = sandbox::Sandbox::tearDownDirectory(sandboxDir(context.line));
    if (!left) {
        context.err << "sandbox down: " << QString::fromStdString(left.error().describe()) << '\n';
        return {left.error().code == ErrorCode::NotFound ? protocol::kExitUsage : protocol::kExitFailed};
    }
    if (!left->isEmpty()) {
        context.err << "sandbox down: still running:\n" << sandbox::ProcessTable::describe(*left) << '\n';
        return {protocol::kExitFailed};
    }
    return {protocol::kExitOk};
}

const CommandOption kDir{.name = u"dir"_s, .valueName = u"DIR"_s,
                         .help = u"where the sandbox lives (default <tmp>/mailmesh-sandbox-USER)"_s};

} // namespace

QList<Command> sandboxCommands()
{
    return {
        {.name = u"sandbox up"_s,
         .summary = u"start N throw-away local nodes (sshd, Syncthing, Dovecot each) that outlive the command"_s,
         .arguments = {{.name = u"N"_s}},
         .options = {kDir,
                     {.name = u"dovecot-prefix"_s, .valueName = u"PREFIX"_s,
                      .help = u"run the Dovecot installed under PREFIX (e.g. a cur/-only build)"_s}},
         .clusterFile = ClusterFile::Unused,
         .run = sandboxUp},
        {.name = u"sandbox down"_s,
         .summary = u"stop every daemon of the sandbox"_s,
         .options = {kDir},
         .clusterFile = ClusterFile::Unused,
         .run = sandboxDown},
    };
}

} // namespace mm::ctl
