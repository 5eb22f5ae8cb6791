#include "clustercommands.h"
#include "cluster/pluralforms.h"
#include "labcommand.h"
#include "sandboxcommand.h"

#include <QCoreApplication>
#include <QStringList>
#include <QTextStream>

namespace {

constexpr int kExitUsage = 2;

int usage(QTextStream &err)
{
    err << "usage: mailmeshctl [--version] [--cluster FILE] [--json] COMMAND ...\n"
           "\n"
           "  init NAME [--uid-policy per-node|replicated]   start a cluster file\n"
           "  add-node ID --ssh ADDRESS --mail-root PATH ...   probe a node and add it\n"
           "  prepare ID [--dry-run]                          Syncthing as the mail user, GUI on loopback, inotify,\n"
           "                                                  mailmesh-agent watch-changes as a service\n"
           "  pair                                            pair every node's Syncthing, share the mail root\n"
           "  join ID [--dry-run] [--without-hold]            add a node to a live cluster: held until its copy is\n"
           "                                                  complete, cur/-only setting, then released\n"
           "  remove-node ID [--dry-run]                      unshare and forget a node everywhere (also a dead\n"
           "                                                  one); its mail stays on its disk\n"
           "  migrate [--dry-run]                             convert every Maildir to cur/-only, on every node\n"
           "  revert [--dry-run]                              turn them classic again\n"
           "  dupes                                           duplicate groups on every node, and the nodes' diff\n"
           "  dedupe [--group ID]... [--dry-run]              settle groups (on one node; Syncthing carries it)\n"
           "  quarantine list | restore --node ID (--id ID|--all) | purge --older-than DAYS\n"
           "  status [--json] [--watch] [--check]             the cluster's health; --check for cron (Nagios codes)\n"
           "  deploy-dovecot --prefix DIR|--packages DIR [ID...] [--dry-run] [--allow-downgrade] [--check-user USER]\n"
           "                                                  put the cur/-only Dovecot on the nodes, setting off\n"
           "  sandbox up N [--dir DIR] | down [--dir DIR]     throw-away local nodes\n"
           "  lab up N [--debian 12] [--dir DIR] [--login root|sudo|mixed] [--dovecot-prefix P] | add | down [--dir DIR]\n"
           "                                                  real Debian nodes (systemd-nspawn) to rehearse on; root\n"
           "\n"
           "\n"
           "Replace a dead node: remove-node ID, add-node ID --ssh NEWHOST ... (empty mail root), join ID.\n"
           "Exit codes: 0 ok, 1 items skipped, 2 bad usage or input, 3 failed (journals kept), 4 a node unreachable.\n";
    return kExitUsage;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mailmeshctl"));
    mm::cluster::installPluralForms();
    QCoreApplication::setApplicationVersion(QStringLiteral(MAILMESH_VERSION));
    QTextStream out(stdout);
    QTextStream err(stderr);

    QStringList arguments = QCoreApplication::arguments().mid(1);
    mm::ctl::GlobalOptions options;
    while (!arguments.isEmpty() && arguments.first().startsWith(QLatin1String("--"))) {
        const QString option = arguments.takeFirst();
        if (option == QLatin1String("--version")) {
            out << "mailmeshctl " << QCoreApplication::applicationVersion() << '\n';
            return 0;
        }
        if (option == QLatin1String("--help"))
            return usage(err);
        if (option == QLatin1String("--json"))
            options.json = true;
        else if (option == QLatin1String("--cluster") && !arguments.isEmpty())
            options.clusterFile = arguments.takeFirst();
        else if (option.startsWith(QLatin1String("--cluster=")))
            options.clusterFile = option.mid(10);
        else
            return usage(err);
    }
    if (arguments.isEmpty())
        return usage(err);
    const QString command = arguments.takeFirst();
    if (command == QLatin1String("sandbox"))
        return mm::sandbox::runSandboxCommand(arguments, out, err);
    if (command == QLatin1String("lab"))
        return mm::lab::runLabCommand(arguments, out, err);
    // --json is accepted after the command as well: scripts put it either side.
    if (arguments.removeAll(QStringLiteral("--json")) > 0)
        options.json = true;
    const int exitCode = mm::ctl::runClusterCommand(command, arguments, options, out, err);
    return exitCode < 0 ? usage(err) : exitCode;
}
