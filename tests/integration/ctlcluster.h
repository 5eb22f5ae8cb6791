#pragma once

// A cluster of sandbox nodes set up the way an admin does it, through the real mailmeshctl:
// init → add-node (host keys pinned) → pair → [migrate]. For the tests that then put real IMAP
// clients and deliveries on every node at once. Blocking calls are fine here: test code.

#include "chaoscluster.h"
#include "ctlrunner.h"
#include "imapclient.h"
#include "syncthingrest.h"
#include "sandbox/sandbox.h"

#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include <atomic>
#include <memory>

#include <unistd.h>

namespace mm::test {

class CtlCluster : public ChaosCluster
{
public:
    struct Options
    {
        int nodes = 3;
        QString dovecotPrefix;
        bool migrate = true; // cur/-only through `mailmeshctl migrate`; else left classic
        bool fsLayout = false; // Dovecot's LAYOUT=fs instead of Maildir++ (SandboxOptions)
    };

    // Empty on success, else what failed.
    QString setUp(const Options &options)
    {
        if (!m_home.isValid())
            return QStringLiteral("no temporary home");
        m_clusterFile = m_home.path() + QStringLiteral("/cluster.json");
        sandbox::SandboxOptions sandboxOptions;
        sandboxOptions.nodeCount = options.nodes;
        sandboxOptions.dovecotPrefix = options.dovecotPrefix;
        sandboxOptions.fsLayout = options.fsLayout;
#ifdef MAILMESH_AGENT_BINARY
        sandboxOptions.changeWatcher = QStringLiteral(MAILMESH_AGENT_BINARY);
#endif
        // MAILMESH_TEST_KEEP=1 keeps the nodes' directories (logs, Maildirs) for a post-mortem.
        sandboxOptions.keepDir = !qEnvironmentVariableIsEmpty("MAILMESH_TEST_KEEP");
        m_sandbox = std::make_unique<sandbox::Sandbox>(sandboxOptions);
        if (Status started = m_sandbox->start(); !started)
            return QString::fromStdString(started.error().describe());
        m_rest = std::make_unique<SyncthingRest>(*m_sandbox);

        if (const QString failed = run({QStringLiteral("init"), QStringLiteral("mailbox-state")}); !failed.isEmpty())
            return failed;
        for (int n = 0; n < options.nodes; ++n) {
            const sandbox::NodeInfo node = m_sandbox->node(n);
            if (const QString failed = run(sandboxAddNodeArguments(node) << QStringLiteral("--accept-host-key")
                                                                           << node.sshHostKeyFingerprint);
                !failed.isEmpty())
                return failed;
        }
        if (const QString failed = run({QStringLiteral("pair")}); !failed.isEmpty())
            return failed;
        if (options.migrate)
            if (const QString failed = run({QStringLiteral("migrate")}); !failed.isEmpty())
                return failed;
        return {};
    }

    void tearDown()
    {
        if (m_sandbox)
            m_sandbox->tearDown();
    }

    // The last run's report and output, for a failure message.
    QString run(const QStringList &arguments)
    {
        m_last = runMailmeshctl(m_home.path(), m_clusterFile, arguments);
        if (m_last.exitCode != 0)
            return QStringLiteral("mailmeshctl %1: %2\ndetails: %3")
                .arg(arguments.join(u' '), QString::fromUtf8(failureOf(m_last)),
                     QString::fromUtf8(QJsonDocument(m_last.report.value(QStringLiteral("details")).toObject())
                                           .toJson(QJsonDocument::Compact)));
        return {};
    }
    const CtlRun &lastRun() const { return m_last; }
    // For a test that runs mailmeshctl itself (without --json, say): the same HOME and file.
    QString homePath() const { return m_home.path(); }
    QString clusterFilePath() const { return m_clusterFile; }

    sandbox::Sandbox &sandbox() { return *m_sandbox; }
    SyncthingRest &rest() { return *m_rest; }
    int size() const override { return int(m_sandbox->nodes().size()); }
    QString maildir(int n) const { return m_sandbox->node(n).maildir; }
    QJsonObject clusterFile() const
    {
        QFile file(m_clusterFile);
        return file.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(file.readAll()).object() : QJsonObject();
    }

    bool login(ImapClient &imap, int n) const override
    {
        const sandbox::NodeInfo node = m_sandbox->node(n);
        return imap.login(node.imapPort, node.imapUser.toUtf8(), node.imapPassword.toUtf8());
    }

    // Until Syncthing has carried everything everywhere (the folder `pair` shares).
    bool waitQuiet(int timeoutMs = 60000) override { return m_rest->waitQuiet(QStringLiteral("mailmesh-mail"), timeoutMs); }

    // What an MTA on the node does (Postfix, dovecot-lda): write into tmp/, rename into new/, as
    // the mail user. On a cur/-only Maildir new/ is the link to cur/, so the file lands in cur/
    // without ":2,". `folder` is "" for INBOX or a Maildir++ folder's directory (".Work").
    bool deliver(int n, const QByteArray &message) override { return deliver(n, message, QString()); }
    bool deliver(int n, const QByteArray &message, const QString &folder)
    {
        static std::atomic<int> counter{0};
        const QString name = QStringLiteral("%1.M%2P%3Q%4.node%5")
                                 .arg(QDateTime::currentSecsSinceEpoch())
                                 .arg(QDateTime::currentMSecsSinceEpoch() % 1000000)
                                 .arg(::getpid())
                                 .arg(++counter)
                                 .arg(n + 1);
        const QString dir = folder.isEmpty() ? maildir(n) : maildir(n) + u'/' + folder;
        const auto delivered = m_sandbox->runOnNode(
            n, QStringLiteral("cd '%1' && cat > tmp/%2 && mv tmp/%2 new/%2").arg(dir, name), 30000, message);
        return delivered && delivered->exitCode == 0;
    }

private:
    QTemporaryDir m_home;
    QString m_clusterFile;
    std::unique_ptr<sandbox::Sandbox> m_sandbox;
    std::unique_ptr<SyncthingRest> m_rest;
    CtlRun m_last;
};

} // namespace mm::test
