#include "cluster/session/agentlocator.h"
#include "cluster/monitor/clustermonitor.h"
#include "cluster/pluralforms.h"
#include "democluster.h"
#include "demotrafficbar.h"
#include "ui/mainwindow.h"
#include "ui/statuspresentation.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QMessageBox>
#include <QNetworkAccessManager>
#include <QStatusBar>
#include <QTextStream>
#include <QTimer>
#include <QWindow>

#include <memory>

namespace {

// --self-check, for the package test: the installed app starts, gets its main window on screen
// with the current platform plugin and finds the agent it would deploy. Opens no cluster.
int selfCheck(QWidget &window)
{
    QElapsedTimer waited;
    waited.start();
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &window, [&] {
        const bool shown = window.windowHandle() && window.windowHandle()->isExposed();
        if (!shown && waited.elapsed() < 10000)
            return;
        poll.stop();
        const QString agent = mm::cluster::locateAgentBinary();
        QTextStream out(stdout);
        out << "window: " << (shown ? "shown" : "NOT shown") << " on "
            << QGuiApplication::platformName() << " (" << window.width() << 'x' << window.height()
            << ")\nagent: " << (agent.isEmpty() ? QStringLiteral("NOT found") : agent) << '\n';
        QApplication::exit(shown && !agent.isEmpty() ? 0 : 1);
    });
    poll.start(20);
    return QApplication::exec();
}

// --screenshot FILE: the main window as a person sees it once every node answered and the
// cross-node check ran (or after two minutes, as far as it got), saved to FILE; then quit. For the
// pictures of a real cluster in the README, taken the same way every time.
void saveWhenComplete(QWidget &window, mm::cluster::ClusterMonitor &monitor, const QString &file)
{
    auto *deadline = new QTimer(&window);
    deadline->setSingleShot(true);
    const auto save = [&window, file, deadline] {
        deadline->stop();
        // One more second for the views to take the last snapshot in and paint it.
        QTimer::singleShot(1000, &window, [&window, file] {
            const bool saved = window.grab().save(file);
            QTextStream(saved ? stdout : stderr) << (saved ? "saved " : "cannot save ") << file << '\n';
            QApplication::exit(saved ? 0 : 1);
        });
    };
    QObject::connect(deadline, &QTimer::timeout, &window, save);
    deadline->start(120'000);
    QObject::connect(&monitor, &mm::cluster::ClusterMonitor::snapshotChanged, &window,
                     [save, deadline](const mm::cluster::ClusterSnapshot &snapshot) {
                         if (deadline->isActive() && snapshot && snapshot->crossNodeChecked)
                             save();
                     });
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("mailmesh"));
    QApplication::setOrganizationName(QStringLiteral("Mailmesh"));
    QApplication::setApplicationVersion(QStringLiteral(MAILMESH_VERSION));
    mm::cluster::installPluralForms();
    // Wayland and the desktop file match windows to io.github.mailmesh.Mailmesh.desktop by this.
    QGuiApplication::setDesktopFileName(QStringLiteral("io.github.mailmesh.Mailmesh"));
    QApplication::setWindowIcon(mm::ui::applicationIcon());

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Run a multi-master Maildir cluster of Dovecot nodes kept in sync by Syncthing."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption demoOption(QStringLiteral("demo"),
                                        QStringLiteral("Open the app on a local three-node demo cluster."));
    parser.addOption(demoOption);
    const QCommandLineOption selfCheckOption(
        QStringLiteral("self-check"),
        QStringLiteral("Show the main window, print it and the mailmesh-agent this installation "
                       "deploys, and quit: exit 0 when both are there."));
    parser.addOption(selfCheckOption);
    const QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"),
        QStringLiteral("Open the cluster file, save a picture of the window to FILE once every node "
                       "has answered (two minutes at most), and quit."),
        QStringLiteral("FILE"));
    parser.addOption(screenshotOption);
    parser.addPositionalArgument(QStringLiteral("cluster-file"), QStringLiteral("A cluster file to open."),
                                 QStringLiteral("[cluster-file]"));
    parser.process(app);

    mm::ui::MainWindow window;
    window.show();
    if (parser.isSet(selfCheckOption))
        return selfCheck(window);

    if (parser.isSet(demoOption)) {
        auto *demo = new mm::app::DemoCluster(&app);
        window.addToolBar(Qt::TopToolBarArea, new mm::app::DemoTrafficBar(demo, &window));
        QObject::connect(demo, &mm::app::DemoCluster::progress, &window,
                         [&window](const QString &message) { window.statusBar()->showMessage(message); });
        QObject::connect(demo, &mm::app::DemoCluster::failed, &window, [&window](const QString &reason) {
            window.statusBar()->showMessage(reason);
            QMessageBox::critical(&window, QObject::tr("The demo could not start"), reason);
        });
        QObject::connect(demo, &mm::app::DemoCluster::clusterReady, &window,
                         [&window](const QString &file, mm::cluster::ClusterMonitor *monitor) {
                             if (window.openCluster(file, /*remember=*/false))
                                 window.followMonitor(monitor);
                         });
        // The daemons must be gone before the process is.
        QObject::connect(&app, &QCoreApplication::aboutToQuit, demo, &mm::app::DemoCluster::stop);
        demo->start();
        return QApplication::exec();
    }

    // A real cluster: watch it with the admin's own ssh setup.
    QNetworkAccessManager network;
    std::unique_ptr<mm::cluster::ClusterMonitor> monitor;
    QObject::connect(&window, &mm::ui::MainWindow::clusterOpened, &window, [&](const QString &path) {
        auto config = mm::cluster::ClusterConfig::load(path);
        if (!config)
            return;
        mm::cluster::MonitorOptions options;
        options.agentBinary = mm::cluster::locateAgentBinary();
        options.network = &network;
        monitor = std::make_unique<mm::cluster::ClusterMonitor>(*config, options);
        window.followMonitor(monitor.get());
        if (parser.isSet(screenshotOption))
            saveWhenComplete(window, *monitor, parser.value(screenshotOption));
        monitor->start();
    });
    if (!parser.positionalArguments().isEmpty())
        window.openCluster(parser.positionalArguments().constFirst());
    else
        window.reopenLastCluster();
    const int status = QApplication::exec();
    monitor.reset();
    return status;
}
