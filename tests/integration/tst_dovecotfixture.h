#pragma once

// A replicated Maildir cluster on 127.0.0.1 for the cur/-only Dovecot proof and its benchmarks:
// N nodes, each with a real Syncthing and a real Dovecot (the patched prefix or the system one)
// serving one user's Maildir, which Syncthing shares across all nodes. Everything is started from
// the real binaries; nothing is mocked. Synchronous calls (waitFor*, local event loops) are fine
// here: this is test code (CONVENTIONS.md rule 4).
//
// Pairing talks to Syncthing's REST API directly, as FIELD-NOTES.md describes for 1.19.

#include "imapclient.h"
#include "sandbox/freeport.h"

#include <QByteArray>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QProcess>
#include <QRegularExpression>
#include <QStringList>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <QUrlQuery>

#include <atomic>
#include <filesystem>
#include <memory>
#include <vector>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mm::test {

// Who owns the mail. Dovecot refuses uid 0 for mail and imap-login refuses to run as root, so a
// run as root serves mail as "nobody" and runs the login and internal processes as Debian's
// dovenull and dovecot users; Syncthing runs as the mail user so the files it writes are
// Dovecot's to rename.
struct MailUser
{
    uid_t uid = 0;
    gid_t gid = 0;
    QString loginUser;
    QString internalUser;
    bool switchUser = false;

    static MailUser forThisRun()
    {
        MailUser u;
        if (::geteuid() == 0) {
            const passwd *pw = ::getpwnam("nobody");
            u.uid = pw ? pw->pw_uid : 65534;
            u.gid = pw ? pw->pw_gid : 65534;
            u.loginUser = QStringLiteral("dovenull");
            u.internalUser = QStringLiteral("dovecot");
            u.switchUser = true;
        } else {
            u.uid = ::geteuid();
            u.gid = ::getegid();
            const passwd *pw = ::getpwuid(u.uid);
            u.loginUser = u.internalUser = QString::fromLocal8Bit(pw ? pw->pw_name : "");
        }
        return u;
    }

    void apply(QProcess &process) const
    {
        if (!switchUser)
            return;
        const uid_t id = uid;
        const gid_t group = gid;
        process.setChildProcessModifier([id, group] {
            if (::setgroups(0, nullptr) != 0 || ::setgid(group) != 0 || ::setuid(id) != 0)
                ::_exit(127);
        });
    }

    void chownTree(const QString &path) const
    {
        if (!switchUser)
            return;
        namespace fs = std::filesystem;
        const fs::path root(path.toStdString());
        ::lchown(root.c_str(), uid, gid);
        std::error_code ec;
        for (auto it = fs::recursive_directory_iterator(root, ec);
             it != fs::recursive_directory_iterator(); it.increment(ec))
            ::lchown(it->path().c_str(), uid, gid);
    }
};

inline QByteArray readFile(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

inline bool writeFile(const QString &path, const QByteArray &data)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(data) == data.size();
}

// ---------------------------------------------------------------------------------------------
class SyncthingNode
{
public:
    ~SyncthingNode() { stop(); }

    bool start(const QString &home, const MailUser &user, QString *error)
    {
        m_guiPort = mm::sandbox::findFreeLoopbackPort();
        m_listenPort = mm::sandbox::findFreeLoopbackPort();
        QDir().mkpath(home);
        user.chownTree(home);
        QProcess gen;
        user.apply(gen);
        gen.start(QStringLiteral("syncthing"),
                  {QStringLiteral("generate"), QStringLiteral("--home=") + home,
                   QStringLiteral("--no-default-folder"), QStringLiteral("--skip-port-probing")});
        if (!gen.waitForFinished(30000) || gen.exitCode() != 0) {
            *error = QStringLiteral("syncthing generate failed: ") +
                     QString::fromLocal8Bit(gen.readAllStandardError());
            return false;
        }
        const QString configPath = home + QStringLiteral("/config.xml");
        QString xml = QString::fromUtf8(readFile(configPath));
        m_deviceId = QRegularExpression(QStringLiteral("<device id=\"([A-Z0-9-]+)\""))
                         .match(xml)
                         .captured(1);
        m_apiKey =
            QRegularExpression(QStringLiteral("<apikey>([^<]*)</apikey>")).match(xml).captured(1);
        auto setElement = [&xml](const QString &name, const QString &value) {
            xml.replace(QRegularExpression(QStringLiteral("<%1>[^<]*</%1>").arg(name)),
                        QStringLiteral("<%1>%2</%1>").arg(name, value));
        };
        setElement(QStringLiteral("address"), QStringLiteral("127.0.0.1:%1").arg(m_guiPort));
        setElement(QStringLiteral("listenAddress"),
                   QStringLiteral("tcp://127.0.0.1:%1").arg(m_listenPort));
        setElement(QStringLiteral("globalAnnounceEnabled"), QStringLiteral("false"));
        setElement(QStringLiteral("localAnnounceEnabled"), QStringLiteral("false"));
        setElement(QStringLiteral("relaysEnabled"), QStringLiteral("false"));
        setElement(QStringLiteral("natEnabled"), QStringLiteral("false"));
        setElement(QStringLiteral("startBrowser"), QStringLiteral("false"));
        setElement(QStringLiteral("urAccepted"), QStringLiteral("-1"));
        setElement(QStringLiteral("autoUpgradeIntervalH"), QStringLiteral("0"));
        setElement(QStringLiteral("crashReportingEnabled"), QStringLiteral("false"));
        setElement(QStringLiteral("setLowPriority"), QStringLiteral("false"));
        if (m_deviceId.isEmpty() || m_apiKey.isEmpty() || !writeFile(configPath, xml.toUtf8())) {
            *error = QStringLiteral("cannot prepare ") + configPath;
            return false;
        }

        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("HOME"), home);
        env.insert(QStringLiteral("STNOUPGRADE"), QStringLiteral("1"));
        env.insert(QStringLiteral("STNODEFAULTFOLDER"), QStringLiteral("1"));
        m_process.setProcessEnvironment(env);
        m_process.setStandardOutputFile(home + QStringLiteral("/syncthing.log"));
        m_process.setStandardErrorFile(home + QStringLiteral("/syncthing.log"), QIODevice::Append);
        user.apply(m_process);
        m_process.start(QStringLiteral("syncthing"),
                        {QStringLiteral("serve"), QStringLiteral("--home=") + home,
                         QStringLiteral("--no-browser"), QStringLiteral("--no-restart"),
                         QStringLiteral("--no-upgrade")});
        if (!m_process.waitForStarted(10000)) {
            *error = QStringLiteral("syncthing did not start");
            return false;
        }
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 30000) {
            int status = 0;
            rest("GET", QStringLiteral("/rest/system/ping"), {}, &status);
            if (status == 200)
                return true;
            QThread::msleep(100);
        }
        *error = QStringLiteral("syncthing REST did not answer on port %1").arg(m_guiPort);
        return false;
    }

    void stop()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.terminate();
            if (!m_process.waitForFinished(10000))
                m_process.kill();
            m_process.waitForFinished(5000);
        }
    }

    QJsonValue rest(const QByteArray &verb, const QString &pathAndQuery,
                    const QJsonValue &body = {}, int *status = nullptr)
    {
        QNetworkRequest request(
            QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_guiPort).arg(pathAndQuery)));
        request.setRawHeader("X-API-Key", m_apiKey.toUtf8());
        request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        request.setTransferTimeout(15000);
        QByteArray payload;
        if (body.isObject())
            payload = QJsonDocument(body.toObject()).toJson(QJsonDocument::Compact);
        else if (body.isArray())
            payload = QJsonDocument(body.toArray()).toJson(QJsonDocument::Compact);
        QNetworkReply *reply = m_nam.sendCustomRequest(request, verb, payload);
        QEventLoop loop;
        QObject::connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
        loop.exec();
        if (status)
            *status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        const QJsonDocument doc = QJsonDocument::fromJson(reply->readAll());
        reply->deleteLater();
        return doc.isObject() ? QJsonValue(doc.object()) : QJsonValue(doc.array());
    }

    QString deviceId() const { return m_deviceId; }
    quint16 listenPort() const { return m_listenPort; }

private:
    QProcess m_process;
    QNetworkAccessManager m_nam;
    QString m_deviceId;
    QString m_apiKey;
    quint16 m_guiPort = 0;
    quint16 m_listenPort = 0;
};

// ---------------------------------------------------------------------------------------------
class DovecotNode
{
public:
    ~DovecotNode() { stop(); }

    // binary: <prefix>/sbin/dovecot or /usr/sbin/dovecot. extraConfig is appended verbatim.
    bool start(const QString &binary, const QString &dir, const QString &mailRoot,
               const MailUser &user, const QString &extraConfig, QString *error)
    {
        m_binary = binary;
        m_dir = dir;
        m_port = mm::sandbox::findFreeLoopbackPort();
        for (const char *sub : {"run", "state", "home"})
            QDir().mkpath(dir + QLatin1Char('/') + QLatin1String(sub));
        user.chownTree(dir + QStringLiteral("/home"));
        const QString conf =
            QStringLiteral(
                "base_dir = %1/run\n"
                "state_dir = %1/state\n"
                "log_path = %1/dovecot.log\n"
                "protocols = imap\n"
                "listen = 127.0.0.1\n"
                "ssl = no\n"
                "disable_plaintext_auth = no\n"
                "auth_mechanisms = plain\n"
                "default_login_user = %2\n"
                "default_internal_user = %3\n"
                "first_valid_uid = 1\n"
                "mail_max_userip_connections = 200\n"
                "mail_location = maildir:%4/%u\n"
                "passdb {\n  driver = static\n  args = password=secret\n}\n"
                "userdb {\n  driver = static\n  args = uid=%5 gid=%6 home=%1/home/%u\n}\n"
                "service imap-login {\n"
                "  inet_listener imap {\n    address = 127.0.0.1\n    port = %7\n  }\n"
                "  inet_listener imaps {\n    port = 0\n  }\n"
                "}\n")
                .arg(dir, user.loginUser, user.internalUser, mailRoot)
                .arg(user.uid)
                .arg(user.gid)
                .arg(m_port) +
            extraConfig;
        m_config = dir + QStringLiteral("/dovecot.conf");
        if (!writeFile(m_config, conf.toUtf8())) {
            *error = QStringLiteral("cannot write ") + m_config;
            return false;
        }
        m_process.setStandardOutputFile(dir + QStringLiteral("/dovecot.stdout"));
        m_process.setStandardErrorFile(dir + QStringLiteral("/dovecot.stdout"), QIODevice::Append);
        m_process.start(binary, {QStringLiteral("-F"), QStringLiteral("-c"), m_config});
        if (!m_process.waitForStarted(10000)) {
            *error = binary + QStringLiteral(" did not start");
            return false;
        }
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 30000) {
            QTcpSocket probe;
            probe.connectToHost(QStringLiteral("127.0.0.1"), m_port);
            if (probe.waitForConnected(500) && probe.waitForReadyRead(2000) &&
                probe.readLine().startsWith("* OK"))
                return true;
            if (m_process.state() == QProcess::NotRunning)
                break;
            QThread::msleep(100);
        }
        *error = QStringLiteral("dovecot did not serve IMAP; log: ") +
                 QString::fromLocal8Bit(readFile(dir + QStringLiteral("/dovecot.stdout"))) +
                 QString::fromLocal8Bit(readFile(dir + QStringLiteral("/dovecot.log")));
        return false;
    }

    void stop()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.terminate();
            if (!m_process.waitForFinished(15000))
                m_process.kill();
            m_process.waitForFinished(5000);
        }
    }

    quint16 port() const { return m_port; }
    QString log() const
    {
        return QString::fromLocal8Bit(readFile(m_dir + QStringLiteral("/dovecot.log")));
    }
    QString configPath() const { return m_config; }

private:
    QProcess m_process;
    QString m_binary;
    QString m_dir;
    QString m_config;
    quint16 m_port = 0;
};

// ---------------------------------------------------------------------------------------------
class MailCluster
{
public:
    struct Options
    {
        int nodes = 3;
        QString dovecotBinary; // <prefix>/sbin/dovecot or /usr/sbin/dovecot
        bool curOnly = true;   // maildir_cur_only = yes and new -> cur; else classic Maildir
        bool replicateUidlist = true;
        QByteArray user = "alice";
    };

    static constexpr const char *kFolderId = "mail-alice";

    ~MailCluster() { stop(); }

    bool start(const Options &options, QString *error)
    {
        m_options = options;
        m_user = MailUser::forThisRun();
        // MAILMESH_TEST_KEEP=1 keeps the nodes' directories (logs, Maildirs) for a post-mortem.
        m_tmp.setAutoRemove(qEnvironmentVariableIsEmpty("MAILMESH_TEST_KEEP"));
        if (!m_tmp.isValid()) {
            *error = QStringLiteral("no temporary directory");
            return false;
        }
        // Dovecot running as the mail user must reach the tree.
        ::chmod(m_tmp.path().toLocal8Bit().constData(), 0755);
        for (int i = 0; i < options.nodes; ++i) {
            auto node = std::make_unique<Node>();
            node->dir = m_tmp.path() + QStringLiteral("/node%1").arg(i + 1);
            node->maildir =
                node->dir + QStringLiteral("/mail/") + QString::fromLatin1(options.user);
            QDir().mkpath(node->maildir + QStringLiteral("/cur"));
            QDir().mkpath(node->maildir + QStringLiteral("/tmp"));
            QDir().mkpath(node->maildir + QStringLiteral("/.stfolder"));
            if (options.curOnly)
                QFile::link(QStringLiteral("cur"), node->maildir + QStringLiteral("/new"));
            else
                QDir().mkpath(node->maildir + QStringLiteral("/new"));
            m_user.chownTree(node->dir + QStringLiteral("/mail"));
            if (!node->syncthing.start(node->dir + QStringLiteral("/syncthing"), m_user, error))
                return false;
            m_nodes.push_back(std::move(node));
        }
        if (!pair(error))
            return false;
        const QString extra =
            options.curOnly ? QStringLiteral("maildir_cur_only = yes\n") : QString();
        for (auto &node : m_nodes) {
            if (!node->dovecot.start(options.dovecotBinary, node->dir + QStringLiteral("/dovecot"),
                                     node->dir + QStringLiteral("/mail"), m_user, extra, error))
                return false;
        }
        return true;
    }

    void stop()
    {
        for (auto &node : m_nodes) {
            node->dovecot.stop();
            node->syncthing.stop();
        }
    }

    int size() const { return int(m_nodes.size()); }
    QString maildir(int i) const { return m_nodes[i]->maildir; }
    quint16 imapPort(int i) const { return m_nodes[i]->dovecot.port(); }
    SyncthingNode &syncthing(int i) { return m_nodes[i]->syncthing; }
    DovecotNode &dovecot(int i) { return m_nodes[i]->dovecot; }
    const MailUser &user() const { return m_user; }
    QString root() const { return m_tmp.path(); }

    QStringList ignorePatterns() const
    {
        QStringList p{QStringLiteral("dovecot.index*"), QStringLiteral("dovecot.list.index*"),
                      QStringLiteral("dovecot.mailbox.log"), QStringLiteral("*.lock"),
                      QStringLiteral("tmp/*")};
        if (!m_options.replicateUidlist)
            p << QStringLiteral("dovecot-uidlist");
        return p;
    }

    void setPaused(bool paused)
    {
        for (auto &node : m_nodes)
            node->syncthing.rest("PATCH",
                                 QStringLiteral("/rest/config/folders/") + QLatin1String(kFolderId),
                                 QJsonObject{{QStringLiteral("paused"), paused}});
    }

    // Until every node has scanned, pulled everything and agrees with the others twice in a row.
    bool waitQuiet(int timeoutMs = 60000)
    {
        QElapsedTimer t;
        t.start();
        QByteArray previous;
        int stableRounds = 0;
        const QString folder = QLatin1String(kFolderId);
        while (t.elapsed() < timeoutMs) {
            for (auto &node : m_nodes)
                node->syncthing.rest("POST", QStringLiteral("/rest/db/scan?folder=") + folder);
            bool quiet = true;
            QByteArray snapshot;
            for (auto &node : m_nodes) {
                const QJsonObject s =
                    node->syncthing.rest("GET", QStringLiteral("/rest/db/status?folder=") + folder)
                        .toObject();
                if (s.value(QStringLiteral("state")).toString() != QStringLiteral("idle") ||
                    s.value(QStringLiteral("needTotalItems")).toInt() != 0)
                    quiet = false;
                for (const char *key : {"globalFiles", "globalDeleted", "globalBytes", "localFiles",
                                        "localBytes", "globalSymlinks"})
                    snapshot += QByteArray::number(s.value(QLatin1String(key)).toDouble()) + ',';
                for (auto &other : m_nodes) {
                    if (other == node)
                        continue;
                    const QJsonObject c =
                        node->syncthing
                            .rest("GET", QStringLiteral("/rest/db/completion?folder=%1&device=%2")
                                             .arg(folder, other->syncthing.deviceId()))
                            .toObject();
                    if (c.value(QStringLiteral("needItems")).toInt() != 0 ||
                        c.value(QStringLiteral("completion")).toDouble() < 100.0)
                        quiet = false;
                }
                snapshot += '|';
            }
            if (quiet && snapshot == previous) {
                if (++stableRounds >= 2)
                    return true;
            } else {
                stableRounds = 0;
            }
            previous = snapshot;
            QThread::msleep(300);
        }
        return false;
    }

    // What an MTA does (Postfix, dovecot-lda): write into tmp/, rename into new/. On a cur/-only
    // Maildir new/ is the link to cur/, so the file lands in cur/ without ":2,".
    bool deliver(int node, const QByteArray &message)
    {
        static std::atomic<int> counter{0};
        const QString name = QStringLiteral("%1.M%2P%3Q%4.node%5")
                                 .arg(QDateTime::currentSecsSinceEpoch())
                                 .arg(QDateTime::currentMSecsSinceEpoch() % 1000000)
                                 .arg(::getpid())
                                 .arg(++counter)
                                 .arg(node + 1);
        const QString tmp = maildir(node) + QStringLiteral("/tmp/") + name;
        if (!writeFile(tmp, message))
            return false;
        if (m_user.switchUser &&
            ::chown(tmp.toLocal8Bit().constData(), m_user.uid, m_user.gid) != 0)
            return false;
        return ::rename(
                   tmp.toLocal8Bit().constData(),
                   (maildir(node) + QStringLiteral("/new/") + name).toLocal8Bit().constData()) == 0;
    }

private:
    struct Node
    {
        QString dir;
        QString maildir;
        SyncthingNode syncthing;
        DovecotNode dovecot;
    };

    bool pair(QString *error)
    {
        QJsonArray folderDevices;
        for (auto &node : m_nodes)
            folderDevices.append(
                QJsonObject{{QStringLiteral("deviceID"), node->syncthing.deviceId()}});
        QJsonArray ignores;
        for (const QString &p : ignorePatterns())
            ignores.append(p);
        for (auto &node : m_nodes) {
            for (auto &other : m_nodes) {
                if (other == node)
                    continue;
                int status = 0;
                node->syncthing.rest(
                    "POST", QStringLiteral("/rest/config/devices"),
                    QJsonObject{{QStringLiteral("deviceID"), other->syncthing.deviceId()},
                                {QStringLiteral("name"), other->dir.section(QLatin1Char('/'), -1)},
                                {QStringLiteral("addresses"),
                                 QJsonArray{QStringLiteral("tcp://127.0.0.1:%1")
                                                .arg(other->syncthing.listenPort())}}},
                    &status);
                if (status != 200) {
                    *error = QStringLiteral("adding a device failed: HTTP %1").arg(status);
                    return false;
                }
            }
            // Ignores first, so the first scan already skips indexes and locks.
            int status = 0;
            node->syncthing.rest(
                "POST", QStringLiteral("/rest/db/ignores?folder=") + QLatin1String(kFolderId),
                QJsonObject{{QStringLiteral("ignore"), ignores}}, &status);
            node->syncthing.rest(
                "POST", QStringLiteral("/rest/config/folders"),
                QJsonObject{{QStringLiteral("id"), QLatin1String(kFolderId)},
                            {QStringLiteral("label"), QLatin1String(kFolderId)},
                            {QStringLiteral("path"), node->maildir},
                            {QStringLiteral("type"), QStringLiteral("sendreceive")},
                            {QStringLiteral("devices"), folderDevices},
                            {QStringLiteral("fsWatcherEnabled"), true},
                            {QStringLiteral("fsWatcherDelayS"), 1},
                            {QStringLiteral("rescanIntervalS"), 60},
                            {QStringLiteral("maxConflicts"), 0},
                            {QStringLiteral("ignorePerms"), false}},
                &status);
            if (status != 200) {
                *error = QStringLiteral("adding the folder failed: HTTP %1").arg(status);
                return false;
            }
            node->syncthing.rest(
                "POST", QStringLiteral("/rest/db/ignores?folder=") + QLatin1String(kFolderId),
                QJsonObject{{QStringLiteral("ignore"), ignores}}, &status);
            if (status != 200) {
                *error = QStringLiteral("setting ignores failed: HTTP %1").arg(status);
                return false;
            }
        }
        return waitConnected(error);
    }

    bool waitConnected(QString *error)
    {
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < 30000) {
            bool all = true;
            for (auto &node : m_nodes) {
                const QJsonObject c =
                    node->syncthing.rest("GET", QStringLiteral("/rest/system/connections"))
                        .toObject()
                        .value(QStringLiteral("connections"))
                        .toObject();
                for (auto &other : m_nodes) {
                    if (other != node && !c.value(other->syncthing.deviceId())
                                              .toObject()
                                              .value(QStringLiteral("connected"))
                                              .toBool())
                        all = false;
                }
            }
            if (all)
                return true;
            QThread::msleep(200);
        }
        *error = QStringLiteral("syncthing nodes did not connect");
        return false;
    }

    Options m_options;
    MailUser m_user;
    QTemporaryDir m_tmp{QDir::tempPath() + QStringLiteral("/mailmesh-dovecot-XXXXXX")};
    std::vector<std::unique_ptr<Node>> m_nodes;
};

} // namespace mm::test
