#include "labcommand.h"

#include "lab/lab.h"
#include "lab/labhost.h"

#include <QFileInfo>
#include <QJsonDocument>

using namespace Qt::StringLiterals;

namespace mm::lab {

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kExitFailed = 3;

int usage(QTextStream &err)
{
    err << "usage: mailmeshctl lab up N [--debian 12] [--dir DIR] [--login root|sudo|mixed] "
           "[--dovecot-prefix P]\n"
           "       mailmeshctl lab add [--dir DIR]      one more node, e.g. a fresh one to join\n"
           "       mailmeshctl lab down [--dir DIR]\n";
    return kExitUsage;
}

} // namespace

int runLabCommand(const QStringList &arguments, QTextStream &out, QTextStream &err)
{
    const QString verb = arguments.value(0);
    LabOptions options;
    options.dir = Lab::defaultDirectory();
    options.persistent = true;
    int nodeCount = -1;
    bool upOnly = false;
    for (qsizetype i = 1; i < arguments.size(); ++i) {
        const QString &argument = arguments[i];
        const bool hasValue = i + 1 < arguments.size();
        if (argument == u"--dir"_s && hasValue) {
            options.dir = arguments[++i];
        } else if (argument == u"--debian"_s && hasValue) {
            options.debianRelease = arguments[++i];
            upOnly = true;
        } else if (argument == u"--dovecot-prefix"_s && hasValue) {
            options.readOnlyBinds << arguments[++i];
            upOnly = true;
        } else if (argument == u"--login"_s && hasValue) {
            const QString login = arguments[++i];
            if (login == u"root"_s)
                options.login = LoginVariant::Root;
            else if (login == u"sudo"_s)
                options.login = LoginVariant::Sudo;
            else if (login == u"mixed"_s)
                options.login = LoginVariant::Mixed;
            else
                return usage(err);
            upOnly = true;
        } else if (verb == u"up"_s && nodeCount < 0) {
            bool ok = false;
            nodeCount = argument.toInt(&ok);
            if (!ok || nodeCount < 1)
                return usage(err);
        } else {
            return usage(err);
        }
    }

    if (verb == u"up"_s) {
        if (nodeCount < 0)
            return usage(err);
        options.nodeCount = nodeCount;
        const QString image = labhost::imagePath(options.debianRelease, labhost::defaultCacheDir());
        if (!labhost::suiteOf(options.debianRelease).isEmpty() &&
            !QFileInfo::exists(image + u"/.mailmesh-complete"_s))
            err << "lab up: building the Debian " << options.debianRelease
                << " root file system once into " << image
                << " (about 4 minutes; later labs start in seconds)\n";
        err.flush();
        Lab lab(options);
        if (Status started = lab.start(); !started) {
            err << "lab up: " << QString::fromStdString(started.error().describe()) << '\n';
            return started.error().code == ErrorCode::BadRequest ? kExitUsage : kExitFailed;
        }
        out << QJsonDocument(lab.description()).toJson(QJsonDocument::Indented);
        err << "lab up: " << lab.nodeCount() << " nodes in " << lab.startupMs() / 1000.0
            << " s; reach them from the admin namespace: nsenter --net=/run/netns/"
            << lab.adminNamespace() << " ssh -F " << lab.sshConfigFile() << " node1\n";
        return kExitOk;
    }
    if (verb == u"add"_s) {
        // One more node on the lab's network, e.g. a fresh server to `join`.
        if (upOnly)
            return usage(err);
        Result<std::unique_ptr<Lab>> lab = Lab::attach(options.dir);
        if (!lab) {
            err << "lab add: " << QString::fromStdString(lab.error().describe()) << '\n';
            return lab.error().code == ErrorCode::NotFound ? kExitUsage : kExitFailed;
        }
        Result<int> added = (*lab)->addNode();
        if (!added) {
            err << "lab add: " << QString::fromStdString(added.error().describe()) << '\n';
            return kExitFailed;
        }
        out << QJsonDocument((*lab)->description()).toJson(QJsonDocument::Indented);
        err << "lab add: " << (*lab)->node(*added).id << " booted in "
            << (*lab)->node(*added).bootMs / 1000.0 << " s\n";
        return kExitOk;
    }
    if (verb == u"down"_s) {
        if (upOnly)
            return usage(err);
        if (Status down = Lab::tearDownDirectory(options.dir); !down) {
            err << "lab down: " << QString::fromStdString(down.error().describe()) << '\n';
            return down.error().code == ErrorCode::NotFound ? kExitUsage : kExitFailed;
        }
        return kExitOk;
    }
    return usage(err);
}

} // namespace mm::lab
