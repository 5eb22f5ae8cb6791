#include "commandsupport.h"
#include "ctlcommands.h"

#include "cluster/pluralforms.h"

#include <QCoreApplication>
#include <QStringList>
#include <QTextStream>

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mailmeshctl"));
    mm::cluster::installPluralForms();
    QCoreApplication::setApplicationVersion(QStringLiteral(MAILMESH_VERSION));
    QTextStream out(stdout);
    QTextStream err(stderr);

    mm::ctl::CommandTable table;
    mm::ctl::registerCtlCommands(table);
    return mm::ctl::runCommandLine(table, QCoreApplication::arguments().mid(1), out, err);
}
