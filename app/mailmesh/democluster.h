#pragma once

#include "cluster/clusterconfig.h"
#include "cluster/monitoroptions.h"
#include "common/result.h"

#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QObject>
#include <QThread>

namespace mm::cluster {
class ClusterMonitor;
class PairWorkflow;
} // namespace mm::cluster

namespace mm::sandbox {
class Sandbox;
}

namespace mm::app {

// Owns the demo's sandbox on a thread of its own: the daemons get a parent-death signal tied
// to the thread that started them, and starting them blocks, which the GUI thread must never do.
class SandboxThread : public QThread
{
    Q_OBJECT

public:
    SandboxThread(QString dir, QByteArray seedScript, QObject *parent = nullptr);
    ~SandboxThread() override;

Q_SIGNALS:
    void sandboxReady(const QJsonObject &description);
    void failed(const QString &reason);

protected:
    void run() override;

private:
    QString m_dir;
    QByteArray m_seedScript;
};

// `mailmesh --demo`: three local nodes with sample mail, paired through the real workflow,
// then watched by the real monitor. Quitting tears the nodes down; a demo left behind by a
// crash is cleaned up by the next start.
class DemoCluster : public QObject
{
    Q_OBJECT

public:
    explicit DemoCluster(QObject *parent = nullptr);
    ~DemoCluster() override;

    void start();
    void stop();

    static QString demoDirectory();
    cluster::ClusterMonitor *monitor() const { return m_monitor; }

Q_SIGNALS:
    void progress(const QString &message);
    void clusterReady(const QString &clusterFile, mm::cluster::ClusterMonitor *monitor);
    void failed(const QString &reason);

private:
    void onSandboxStarted(const QJsonObject &description);
    void onPaired();

    SandboxThread *m_thread = nullptr;
    QNetworkAccessManager m_network;
    cluster::MonitorOptions m_options;
    cluster::ClusterConfig m_cluster;
    QString m_clusterFile;
    cluster::PairWorkflow *m_pair = nullptr;
    cluster::ClusterMonitor *m_monitor = nullptr;
};

} // namespace mm::app
