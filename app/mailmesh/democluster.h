#pragma once

#include "cluster/config/clusterconfig.h"
#include "cluster/monitor/monitoroptions.h"
#include "common/result.h"
#include "sandbox/demotraffic.h"

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

class DemoDovecot;
class DemoTrafficThread;

// Owns the demo's sandbox on a thread of its own: the daemons get a parent-death signal tied
// to the thread that started them, and starting them blocks, which the GUI thread must never do.
class SandboxThread : public QThread
{
    Q_OBJECT

public:
    // dovecotPrefix: a cur/-only build, which then runs with its setting off (as deploy-dovecot
    // leaves a node); empty: the stock Dovecot in /usr.
    SandboxThread(QString dir, QByteArray seedScript, QString dovecotPrefix, QObject *parent = nullptr);
    ~SandboxThread() override;

Q_SIGNALS:
    void sandboxReady(const QJsonObject &description);
    void failed(const QString &reason);

protected:
    void run() override;

private:
    QString m_dir;
    QByteArray m_seedScript;
    QString m_dovecotPrefix;
};

// `mailmesh --demo`: three local nodes with sample mail and the cur/-only Dovecot (its setting
// off, so the migration is there to try), paired through the real workflow, then watched by
// the real monitor. Live traffic can be switched on. Quitting tears the nodes down; a demo left
// behind by a crash is cleaned up by the next start.
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
    QString clusterFile() const { return m_clusterFile; }
    // The nodes' Dovecot prefix: the cur/-only build, or /usr when it was unavailable.
    QString dovecotPrefix() const { return m_dovecotPrefix; }
    bool runsCurOnlyBuild() const { return m_runsCurOnlyBuild; }

    // Simulated deliveries and IMAP clients on every node (sandbox::DemoTraffic).
    void setTrafficOn(bool on);
    bool isTrafficOn() const;
    // No new traffic while held (a migration runs); the round under way finishes.
    void setTrafficHeld(bool held);
    bool isTrafficHeld() const;
    bool isTrafficBusy() const;
    sandbox::DemoTraffic::Figures trafficFigures() const { return m_trafficFigures; }

Q_SIGNALS:
    void progress(const QString &message);
    void clusterReady(const QString &clusterFile, mm::cluster::ClusterMonitor *monitor);
    void failed(const QString &reason);
    // Whether live traffic can be switched on now (the cluster is paired and watched).
    void trafficAvailable(bool available);
    void trafficFiguresChanged(const mm::sandbox::DemoTraffic::Figures &figures);
    void trafficProblem(const QString &message);

private:
    void startSandbox(const QString &dovecotPrefix);
    void onSandboxStarted(const QJsonObject &description);
    void onPaired();

    DemoDovecot *m_dovecot = nullptr;
    QByteArray m_seedScript;
    QString m_dovecotPrefix;
    bool m_runsCurOnlyBuild = false;
    QString m_stockReason; // why the cur/-only build is not used
    SandboxThread *m_thread = nullptr;
    QJsonObject m_description;
    DemoTrafficThread *m_traffic = nullptr;
    sandbox::DemoTraffic::Figures m_trafficFigures;
    QNetworkAccessManager m_network;
    cluster::MonitorOptions m_options;
    cluster::ClusterConfig m_cluster;
    QString m_clusterFile;
    cluster::PairWorkflow *m_pair = nullptr;
    cluster::ClusterMonitor *m_monitor = nullptr;
};

} // namespace mm::app
