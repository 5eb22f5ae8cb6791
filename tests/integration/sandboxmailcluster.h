#pragma once

// One mail user's Maildir shared by Syncthing across the nodes of a core/sandbox cluster: the
// setting of the cur/-only Dovecot proof. The sandbox starts the real sshd, Syncthing and Dovecot
// (of the given prefix, in that Dovecot line's configuration syntax); this adds the Syncthing
// folder over the nodes' Maildirs, with the ignores Mailmesh deploys, through Syncthing's REST
// API as docs/maildir-dovecot-syncthing.md ("The REST API") describes it for 1.19. Blocking calls
// and local event loops are fine here: this is test code (docs/conventions.md, "Asynchronous
// code, blocking tests").

#include "imapclient.h"
#include "syncthingrest.h"
#include "sandbox/sandbox.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QThread>

#include <atomic>
#include <memory>

#include <unistd.h>

namespace mm::test {

class SandboxMailCluster
{
public:
    struct Options
    {
        int nodes = 3;
        QString dovecotPrefix;
        bool curOnly = true; // maildir_cur_only = yes and new -> cur; else a classic Maildir
        // Replicate dovecot-uidlist (UIDs shared by all nodes) or ignore it (UIDs per node).
        bool replicateUidlist = true;
    };

    static constexpr const char *kFolderId = "mail-test";

    QString start(const Options &options)
    {
        m_options = options;
        sandbox::SandboxOptions sandboxOptions;
        sandboxOptions.nodeCount = options.nodes;
        sandboxOptions.dovecotPrefix = options.dovecotPrefix;
#ifdef MAILMESH_AGENT_BINARY
        sandboxOptions.changeWatcher = QStringLiteral(MAILMESH_AGENT_BINARY);
#endif
        sandboxOptions.curOnly = options.curOnly;
        // MAILMESH_TEST_KEEP=1 keeps the nodes' directories (logs, Maildirs) for a post-mortem.
        sandboxOptions.keepDir = !qEnvironmentVariableIsEmpty("MAILMESH_TEST_KEEP");
        m_sandbox = std::make_unique<sandbox::Sandbox>(sandboxOptions);
        if (Status started = m_sandbox->start(); !started)
            return QString::fromStdString(started.error().describe());
        m_rest = std::make_unique<SyncthingRest>(*m_sandbox);
        // The folder marker, made by the mail user like everything in the Maildir.
        for (int n = 0; n < size(); ++n) {
            const auto made =
                m_sandbox->runOnNode(n, QStringLiteral("mkdir -p '%1/.stfolder'").arg(maildir(n)));
            if (!made || made->exitCode != 0)
                return QStringLiteral("cannot create .stfolder on node %1").arg(n + 1);
        }
        return shareMaildir();
    }

    void stop()
    {
        if (m_sandbox)
            m_sandbox->tearDown();
    }

    sandbox::Sandbox &sandbox() { return *m_sandbox; }
    int size() const { return int(m_sandbox->nodes().size()); }
    QString maildir(int n) const { return m_sandbox->node(n).maildir; }
    QString dovecotLog(int n) const
    {
        QFile log(m_sandbox->node(n).dovecotLogFile);
        return log.open(QIODevice::ReadOnly) ? QString::fromLocal8Bit(log.readAll()) : QString();
    }

    bool login(ImapClient &imap, int n) const
    {
        const sandbox::NodeInfo node = m_sandbox->node(n);
        return imap.login(node.imapPort, node.imapUser.toUtf8(), node.imapPassword.toUtf8());
    }

    void setPaused(bool paused)
    {
        for (int n = 0; n < size(); ++n)
            rest(n, "PATCH", QStringLiteral("/rest/config/folders/") + QLatin1String(kFolderId),
                 QJsonObject{{QStringLiteral("paused"), paused}});
    }

    // Until every node has scanned, pulled everything and agrees with the others twice in a row.
    bool waitQuiet(int timeoutMs = 60000) { return m_rest->waitQuiet(QLatin1String(kFolderId), timeoutMs); }

    // What an MTA on the node does (Postfix, dovecot-lda): write into tmp/, rename into new/, as
    // the mail user. On a cur/-only Maildir new/ is the link to cur/, so the file lands in cur/
    // without ":2,".
    bool deliver(int n, const QByteArray &message)
    {
        static std::atomic<int> counter{0};
        const QString name = QStringLiteral("%1.M%2P%3Q%4.node%5")
                                 .arg(QDateTime::currentSecsSinceEpoch())
                                 .arg(QDateTime::currentMSecsSinceEpoch() % 1000000)
                                 .arg(::getpid())
                                 .arg(++counter)
                                 .arg(n + 1);
        const auto delivered = m_sandbox->runOnNode(
            n, QStringLiteral("cd '%1' && cat > tmp/%2 && mv tmp/%2 new/%2").arg(maildir(n), name),
            30000, message);
        return delivered && delivered->exitCode == 0;
    }

private:
    QStringList ignorePatterns() const
    {
        QStringList patterns{QStringLiteral("dovecot.index*"),
                             QStringLiteral("dovecot.list.index*"),
                             QStringLiteral("dovecot.mailbox.log"), QStringLiteral("*.lock"),
                             QStringLiteral("tmp/*")};
        if (!m_options.replicateUidlist)
            patterns << QStringLiteral("dovecot-uidlist");
        return patterns;
    }

    QJsonValue rest(int n, const QByteArray &verb, const QString &pathAndQuery,
                    const QJsonObject &body = {}, int *status = nullptr)
    {
        return m_rest->call(n, verb, pathAndQuery, body, status);
    }

    // Peers are added paused and resumed once every node knows every other: a node dialling a
    // peer that does not know it yet is rejected, and Syncthing 1.19 then waits out its Hello
    // timeout and reconnect interval (20-60 s) before it tries again.
    QString shareMaildir()
    {
        QJsonArray folderDevices;
        for (int n = 0; n < size(); ++n)
            folderDevices.append(
                QJsonObject{{QStringLiteral("deviceID"), m_sandbox->node(n).syncthingDeviceId}});
        QJsonArray ignores;
        for (const QString &pattern : ignorePatterns())
            ignores.append(pattern);
        if (const QString error = configurePeers(PeerStep::AddPaused); !error.isEmpty())
            return error;
        if (const QString error = addFolder(folderDevices, ignores); !error.isEmpty())
            return error;
        if (const QString error = configurePeers(PeerStep::Resume); !error.isEmpty())
            return error;
        return waitConnected();
    }

    enum class PeerStep
    {
        AddPaused,
        Resume
    };

    QString configurePeers(PeerStep step)
    {
        for (int n = 0; n < size(); ++n) {
            for (int other = 0; other < size(); ++other) {
                if (other == n)
                    continue;
                const sandbox::NodeInfo peer = m_sandbox->node(other);
                int status = 0;
                if (step == PeerStep::AddPaused)
                    rest(n, "POST", QStringLiteral("/rest/config/devices"),
                         QJsonObject{
                             {QStringLiteral("deviceID"), peer.syncthingDeviceId},
                             {QStringLiteral("name"), peer.id},
                             {QStringLiteral("addresses"), QJsonArray{peer.syncthingSyncAddress()}},
                             {QStringLiteral("paused"), true}},
                         &status);
                else
                    rest(n, "PATCH",
                         QStringLiteral("/rest/config/devices/") + peer.syncthingDeviceId,
                         QJsonObject{{QStringLiteral("paused"), false}}, &status);
                if (status != 200)
                    return QStringLiteral("configuring %1 on node%2's Syncthing failed: HTTP %3")
                        .arg(peer.id)
                        .arg(n + 1)
                        .arg(status);
            }
        }
        return {};
    }

    QString addFolder(const QJsonArray &folderDevices, const QJsonArray &ignores)
    {
        const QString ignoresPath =
            QStringLiteral("/rest/db/ignores?folder=") + QLatin1String(kFolderId);
        for (int n = 0; n < size(); ++n) {
            // Ignores before the folder, so the first scan already skips indexes and locks.
            rest(n, "POST", ignoresPath, QJsonObject{{QStringLiteral("ignore"), ignores}});
            int status = 0;
            rest(n, "POST", QStringLiteral("/rest/config/folders"),
                 QJsonObject{{QStringLiteral("id"), QLatin1String(kFolderId)},
                             {QStringLiteral("label"), QLatin1String(kFolderId)},
                             {QStringLiteral("path"), maildir(n)},
                             {QStringLiteral("type"), QStringLiteral("sendreceive")},
                             {QStringLiteral("devices"), folderDevices},
                             {QStringLiteral("fsWatcherEnabled"), true},
                             {QStringLiteral("fsWatcherDelayS"), 1},
                             {QStringLiteral("rescanIntervalS"), 60},
                             {QStringLiteral("maxConflicts"), 0},
                             {QStringLiteral("ignorePerms"), false}},
                 &status);
            if (status != 200)
                return QStringLiteral("adding the folder failed: HTTP %1").arg(status);
            rest(n, "POST", ignoresPath, QJsonObject{{QStringLiteral("ignore"), ignores}}, &status);
            if (status != 200)
                return QStringLiteral("setting ignores failed: HTTP %1").arg(status);
        }
        return {};
    }

    QString waitConnected()
    {
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < 60000) {
            bool all = true;
            for (int n = 0; n < size(); ++n) {
                const QJsonObject connections =
                    rest(n, "GET", QStringLiteral("/rest/system/connections"))
                        .toObject()
                        .value(QStringLiteral("connections"))
                        .toObject();
                for (int other = 0; other < size(); ++other)
                    if (other != n && !connections.value(m_sandbox->node(other).syncthingDeviceId)
                                           .toObject()
                                           .value(QStringLiteral("connected"))
                                           .toBool())
                        all = false;
            }
            if (all)
                return {};
            QThread::msleep(200);
        }
        return QStringLiteral("the nodes' Syncthings did not connect");
    }

    Options m_options;
    std::unique_ptr<sandbox::Sandbox> m_sandbox;
    std::unique_ptr<SyncthingRest> m_rest;
};

} // namespace mm::test
