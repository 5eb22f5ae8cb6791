#pragma once

#include "cluster/workflows/deploydovecotworkflow.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <optional>

namespace mm::remote {
class SshSession;
} // namespace mm::remote

namespace mm::cluster {

// How deploy-dovecot gets the target build onto a node: --prefix (a build already installed
// in a directory on every node, deploydovecotprefix.h) or --packages (.deb files from this
// machine, deploydovecotpackages.h). DeployDovecotWorkflow runs the steps and asks its strategy
// for the parts that differ; a strategy only works inside the workflow's steps, on the
// workflow's nodes ("position" counts the selected nodes, as in the workflow).
class DovecotInstallStrategy
{
public:
    using Done = std::function<void(const Status &)>;

    explicit DovecotInstallStrategy(DeployDovecotWorkflow &workflow) : m_workflow(workflow) {}
    virtual ~DovecotInstallStrategy() = default;
    DovecotInstallStrategy(const DovecotInstallStrategy &) = delete;
    DovecotInstallStrategy &operator=(const DovecotInstallStrategy &) = delete;

    // The options make no sense for this strategy (checked before anything is connected).
    virtual std::optional<Error> checkOptions() const { return std::nullopt; }
    // Where the target build lives on the nodes: its sbin/dovecot, bin/doveconf, bin/doveadm.
    virtual QString targetPrefix() const = 0;
    // The prefix a restart starts and the cluster file records for the target; empty: the
    // packaged Dovecot (restart commands then get /usr).
    virtual QString restartPrefix() const = 0;
    // details.target of the report.
    virtual QJsonObject describeTarget() const = 0;
    // Every command on the node runs as root (sudo -n for another login user).
    virtual bool alwaysAsRoot() const = 0;

    // detect, after the probe read the node's system and running Dovecot: the target build's
    // version (state(position).target), a refused downgrade, what else the report needs.
    virtual void detectTarget(int position, Done done) = 0;
    // render: the node runs the target build already (with the same snippet it is left alone).
    virtual bool runsTheTarget(int position) const = 0;

    // install, one node at a time, before render: only strategies with an install step.
    virtual bool hasInstallStep() const { return false; }
    virtual bool needsInstall(int /*position*/) const { return false; }
    virtual void install(int /*position*/, Done done) { done({}); }
    // Rollback of what install() changed on the node, before the node is restarted on its
    // previous build; `done` gets the outcome and a note for the report (empty: nothing undone).
    virtual bool installChanged(int /*position*/) const { return false; }
    virtual void rollBackInstall(int /*position*/, std::function<void(const Status &, const QString &note)> done)
    {
        done({}, {});
    }

    // updates: whether the nodes' distributions offer a newer Dovecot than the target build.
    struct Updates
    {
        bool skipped = false; // nothing to compare
        QString detail;
    };
    virtual Updates checkUpdates() const = 0;

protected:
    // The workflow's parts a strategy works with.
    const DeployDovecotWorkflow::Options &options() const { return m_workflow.m_options; }
    int nodeCount() const { return int(m_workflow.m_nodes.size()); }
    DeployNodeState &state(int position) const { return m_workflow.state(position); }
    QJsonObject &details(int position) const { return m_workflow.nodeDetails(position); }
    const NodeConfig &node(int position) const { return m_workflow.node(position); }
    bool sessionOpen() const { return m_workflow.m_session != nullptr; }
    remote::SshSession *ssh(int position) const;
    QObject *context() const { return &m_workflow; }
    void runOn(int position, const QStringList &argv, const remote::SshCommand::Options &options,
               std::function<void(const Result<remote::SshCommand::Output> &)> done) const
    {
        m_workflow.runOn(position, argv, options, std::move(done));
    }
    void runAllOn(int position, const QList<QStringList> &commands, const remote::SshCommand::Options &options,
                  Done done) const
    {
        m_workflow.runAllOn(position, commands, options, std::move(done));
    }
    void reportProgress(int position, qint64 done, qint64 total, const QString &message) const;
    void addWarning(const QString &warning) const { m_workflow.addWarning(warning); }
    static remote::SshCommand::Options asRoot(QByteArray input = {})
    {
        return DeployDovecotWorkflow::asRoot(std::move(input));
    }
    static QString tr(const char *text) { return DeployDovecotWorkflow::tr(text); }

private:
    DeployDovecotWorkflow &m_workflow;
};

} // namespace mm::cluster
