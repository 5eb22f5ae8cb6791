#pragma once

#include "cluster/workflows/clusterworkflow.h"
#include "cluster/config/homenodes.h"

#include <QMap>
#include <QSet>
#include <QStringList>

#include <vector>

namespace mm::cluster {

class ClusterSession;

// Where other nodes reach each node's IMAP: homes.imapAddresses, else the host of its Syncthing
// sync address (the address peers already use), else the host of its ssh address; the port is
// dovecot.imapPort unless the address names one.
QMap<QString, homenodes::Endpoint> homeEndpoints(const ClusterConfig &cluster);

namespace homefiles {
inline constexpr const char *kSnippetName = "95-mailmesh-homes.conf";
inline constexpr const char *kPasswdName = "mailmesh-homes.passwd";
QString passwdPath(const DovecotFacts &dovecot);  // beside dovecot.conf
QString snippetPath(const DovecotFacts &dovecot); // conf.d/95-mailmesh-homes.conf
// The extra passdb for a Dovecot line ("2.3", "2.4"), from resources/dovecot/.
Result<QByteArray> snippet(const QString &line, const QString &passwdPath);
} // namespace homefiles

// `mailmeshctl homes [--deploy]`, `failover NODE`, `failover --return NODE`:
// (mark →) connect → users → plan → write → reload.
//
// The users are what the nodes' Dovecot lists (`doveadm user '*'`); their homes come from
// homenodes::assign(); every node gets the same passwd-file and the snippet that reads it, and
// Dovecot is reloaded. Every node that is not drained must answer. A drained node is written
// too when it answers (so that clients still connecting to it are sent on), and skipped when it
// does not: it keeps its old table until it is back and `homes --deploy` runs.
class HomesWorkflow : public ClusterWorkflow
{
    Q_OBJECT

public:
    enum class Mode
    {
        Show,     // the table only (connect, users, plan)
        Deploy,   // write the table on every node
        Failover, // drain `node`, then deploy
        Return    // undrain `node`, then deploy
    };
    struct Options
    {
        Mode mode = Mode::Show;
        QString node;
        bool dryRun = false; // up to the plan
    };

    HomesWorkflow(ClusterConfig cluster, Options options, MonitorOptions monitorOptions,
                  QObject *parent = nullptr);
    ~HomesWorkflow() override;

private:
    void mark();
    void listUsers();
    void plan();
    void write();
    void reload();

    bool isRequired(int index) const;
    // A failure on a drained node is noted and the node left out; on any other it fails the step.
    bool tolerate(int index, const Error &error);
    QList<int> reachedNodes() const;
    void forReachedNodes(
        const std::function<void(int index, std::function<void(const Status &)> done)> &perNode,
        std::function<void()> allDone, const QString &nextAction);

    HomesSettings m_settingsBefore;
    Options m_options;
    std::vector<QString> m_dovecotLines; // per node: "2.3"/"2.4"
    QSet<int> m_leftOut;                 // drained nodes that did not answer or failed
    QSet<int> m_unchanged;               // nodes that had the table and snippet already
    QStringList m_notes;
    QStringList m_users;
    QList<HomeAssignment> m_homes;
    QByteArray m_passwdFile;
};

} // namespace mm::cluster
