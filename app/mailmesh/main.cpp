#include "ui/mainwindow.h"

#include <QApplication>
#include <QCommandLineParser>

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("mailmesh"));
    QApplication::setOrganizationName(QStringLiteral("Mailmesh"));
    QApplication::setApplicationVersion(QStringLiteral(MAILMESH_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Run a multi-master Maildir cluster of Dovecot nodes kept in sync by Syncthing."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption demoOption(QStringLiteral("demo"),
                                        QStringLiteral("Open the app on a local three-node demo cluster."));
    parser.addOption(demoOption);
    parser.process(app);

    mm::ui::MainWindow window;
    window.show();
    return QApplication::exec();
}
