#include "sandboxcommand.h"

#include <QCoreApplication>
#include <QStringList>
#include <QTextStream>

namespace {

int usage(QTextStream &err)
{
    err << "usage: mailmeshctl [--version] COMMAND ...\n";
    return 2;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mailmeshctl"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MAILMESH_VERSION));
    QTextStream out(stdout);
    QTextStream err(stderr);

    const QStringList arguments = QCoreApplication::arguments().mid(1);
    if (arguments.value(0) == QLatin1String("--version")) {
        out << "mailmeshctl " << QCoreApplication::applicationVersion() << '\n';
        return 0;
    }
    if (arguments.value(0) == QLatin1String("sandbox"))
        return mm::sandbox::runSandboxCommand(arguments.mid(1), out, err);
    return usage(err);
}
