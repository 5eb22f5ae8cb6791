#include "commandsupport.h"

#include "workflowprinter.h"

#include "cluster/agentlocator.h"
#include "protocol/exitcodes.h"

#include <QCoreApplication>
#include <QNetworkAccessManager>
#include <QTimer>

#include <atomic>
#include <csignal>

namespace mm::ctl {

namespace {

std::atomic<bool> g_interrupted{false};

void onInterrupt(int)
{
    g_interrupted = true;
}

} // namespace

CommandLine::CommandLine(const QStringList &arguments, QStringList flags, QStringList valued, QStringList repeatable)
    : m_flags(std::move(flags))
    , m_valued(std::move(valued))
    , m_repeatable(std::move(repeatable))
{
    for (qsizetype i = 0; i < arguments.size(); ++i) {
        const QString argument = arguments[i];
        if (!argument.startsWith(QLatin1String("--")) || argument == QLatin1String("--")) {
            m_positionals << argument;
            continue;
        }
        QString name = argument.mid(2);
        QString value;
        const qsizetype equals = name.indexOf(u'=');
        const bool inlineValue = equals >= 0;
        if (inlineValue) {
            value = name.mid(equals + 1);
            name = name.left(equals);
        }
        if (m_flags.contains(name) && !inlineValue) {
            m_set.insert(name, {});
        } else if (m_valued.contains(name) || m_repeatable.contains(name)) {
            if (!inlineValue) {
                if (i + 1 >= arguments.size()) {
                    m_error = QStringLiteral("--%1 needs a value").arg(name);
                    return;
                }
                value = arguments[++i];
            }
            if (m_repeatable.contains(name))
                m_lists[name] << value;
            else
                m_set.insert(name, value);
        } else {
            m_error = QStringLiteral("unknown option --%1").arg(name);
            return;
        }
    }
}


int usageError(QTextStream &err, const QString &message, const QString &usage)
{
    err << "mailmeshctl: " << message << "\nusage: " << usage << '\n';
    return protocol::kExitUsage;
}

QString clusterPath(const GlobalOptions &options)
{
    return options.clusterFile.isEmpty() ? cluster::ClusterConfig::defaultPath() : options.clusterFile;
}

std::optional<cluster::ClusterConfig> loadCluster(const GlobalOptions &options, QTextStream &err, int &exitCode)
{
    Result<cluster::ClusterConfig> loaded = cluster::ClusterConfig::load(clusterPath(options));
    if (!loaded) {
        err << "mailmeshctl: " << QString::fromStdString(loaded.error().describe()) << '\n';
        if (loaded.error().code == ErrorCode::NotFound)
            err << "Create it with `mailmeshctl init NAME` (or point --cluster at an existing file).\n";
        exitCode = protocol::exitCodeFor(loaded.error().code);
        return std::nullopt;
    }
    return *loaded;
}

int saveCluster(const cluster::ClusterConfig &config, const GlobalOptions &options, QTextStream &err)
{
    if (Status saved = config.save(clusterPath(options)); !saved) {
        err << "mailmeshctl: cannot save the cluster file: " << QString::fromStdString(saved.error().describe()) << '\n';
        return protocol::exitCodeFor(saved.error().code);
    }
    return protocol::kExitOk;
}

cluster::MonitorOptions monitorOptions(QObject *owner)
{
    cluster::MonitorOptions options;
    options.agentBinary = cluster::locateAgentBinary();
    options.network = new QNetworkAccessManager(owner);
    return options;
}

// Runs a workflow to its end in this thread's event loop; Ctrl-C cancels it.
int runWorkflow(cluster::Workflow *workflow, const GlobalOptions &options, QTextStream &out, QTextStream &err)
{
    WorkflowPrinter printer(workflow, options.json, out, err);
    int exitCode = protocol::kExitFailed;
    QObject::connect(workflow, &cluster::Workflow::finished, workflow,
                     [&](const cluster::WorkflowReport &report) {
                         exitCode = printer.printReport(report);
                         QCoreApplication::exit(0);
                     });
    g_interrupted = false;
    auto previous = std::signal(SIGINT, onInterrupt);
    QTimer interruptPoll;
    QObject::connect(&interruptPoll, &QTimer::timeout, workflow, [workflow] {
        if (g_interrupted.exchange(false))
            workflow->cancel();
    });
    interruptPoll.start(100);
    workflow->start();
    QCoreApplication::exec();
    std::signal(SIGINT, previous);
    // The workflow closed its ssh sessions with deleteLater(): let them end their processes.
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    return exitCode;
}


} // namespace mm::ctl
