#include "sandboxcommand.h"

#include "cluster/agentlocator.h"
#include "sandbox/sandbox.h"

#include <QDir>
#include <QJsonDocument>

#include <unistd.h>

using namespace Qt::StringLiterals;

namespace mm::sandbox {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitFailed = 3;

int usage(QTextStream &err)
{
    err << "usage: mailmeshctl sandbox up N [--dir DIR] [--dovecot-prefix PREFIX]\n"
           "       mailmeshctl sandbox down [--dir DIR]\n";
    return kExitUsage;
}

QString defaultDir()
{
    Result<SandboxUser> me = SandboxUser::current();
    return QDir::tempPath() + u"/mailmesh-sandbox-"_s +
           (me ? me->name() : QString::number(::geteuid()));
}

} // namespace

int runSandboxCommand(const QStringList &arguments, QTextStream &out, QTextStream &err)
{
    const QString verb = arguments.value(0);
    QString dir = defaultDir();
    QString prefix;
    int nodeCount = -1;
    for (qsizetype i = 1; i < arguments.size(); ++i) {
        const QString &argument = arguments[i];
        if (argument == u"--dir"_s && i + 1 < arguments.size())
            dir = arguments[++i];
        else if (argument == u"--dovecot-prefix"_s && i + 1 < arguments.size())
            prefix = arguments[++i];
        else if (verb == u"up"_s && nodeCount < 0) {
            bool ok = false;
            nodeCount = argument.toInt(&ok);
            if (!ok || nodeCount < 1)
                return usage(err);
        } else
            return usage(err);
    }

    if (verb == u"up"_s) {
        if (nodeCount < 0)
            return usage(err);
        SandboxOptions options;
        options.nodeCount = nodeCount;
        options.dir = dir;
        options.persistent = true;
        options.changeWatcher = mm::cluster::locateAgentBinary();
        if (!prefix.isEmpty())
            options.dovecotPrefix = prefix;
        Sandbox sandbox(options);
        if (Status started = sandbox.start(); !started) {
            err << "sandbox up: " << QString::fromStdString(started.error().describe()) << '\n';
            return kExitFailed;
        }
        out << QJsonDocument(sandbox.description()).toJson(QJsonDocument::Indented);
        return kExitOk;
    }
    if (verb == u"down"_s) {
        if (!prefix.isEmpty())
            return usage(err);
        Result<QList<ProcessTable::Entry>> left = Sandbox::tearDownDirectory(dir);
        if (!left) {
            err << "sandbox down: " << QString::fromStdString(left.error().describe()) << '\n';
            return left.error().code == ErrorCode::NotFound ? kExitUsage : kExitFailed;
        }
        if (!left->isEmpty()) {
            err << "sandbox down: still running:\n" << ProcessTable::describe(*left) << '\n';
            return kExitFailed;
        }
        return kExitOk;
    }
    return usage(err);
}

} // namespace mm::sandbox
