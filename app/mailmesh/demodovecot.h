#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QProcess>
#include <QTimer>

namespace mm::app {

// Finds the cur/-only Dovecot the demo's nodes run, building it once when it is not there yet:
//   1. MAILMESH_DOVECOT_PREFIX, when set (installers/bootstrap.sh sets it; set empty: stock);
//   2. the prefix installers/dovecot/build-prefix.sh cached earlier (`--if-built 2.3`);
//   3. otherwise that script builds it, about 20 minutes on two cores, with its progress shown.
// Without the script, or when the build fails, the demo runs the stock Dovecot and says why.
class DemoDovecot : public QObject
{
    Q_OBJECT

public:
    explicit DemoDovecot(QObject *parent = nullptr);
    ~DemoDovecot() override; // stops a build under way, compilers and all

    void find();
    // build-prefix.sh from the source tree this app was built from, or from the installed package.
    static QString locateBuildScript();

Q_SIGNALS:
    void progress(const QString &message);
    void found(const QString &prefix);
    void unavailable(const QString &reason);

private:
    void askForCachedBuild(const QString &script);
    void build(const QString &script);
    void showBuildProgress();
    void finishBuild(int exitCode, QProcess::ExitStatus status);

    QProcess m_process;
    QTimer m_ticker;
    QElapsedTimer m_buildTime;
    QString m_lastBuildLine;
};

} // namespace mm::app
