// SyncthingClient through SSH tunnels to the real Syncthing of three sandbox nodes: the API key
// read from each node's config.xml over ssh, a full mesh paired and the mail root shared, a file
// written on node1 reaching nodes 2 and 3, completion at 100, pause and resume in the events;
// the tunnel is a Unix socket no other local user can connect to.

#include "remote/localsockethttp.h"
#include "remote/sshsession.h"
#include "remote/syncthingclient.h"
#include "remote/syncthingeventstream.h"
#include "remote/syncthingtunnel.h"
#include "sandbox/sandbox.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QSet>
#include <QNetworkAccessManager>
#include <QSignalSpy>
#include <QTest>

#include <cerrno>
#include <cstring>
#include <memory>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace mm;
using namespace mm::remote;

namespace {

const QString kFolder = QStringLiteral("mailroot");

template <class T>
Result<T> await(const std::function<void(QObject *, SyncthingClient::Callback<T>)> &start)
{
    bool called = false;
    Result<T> result = fail(ErrorCode::Timeout, "no answer");
    QObject context;
    start(&context, [&](Result<T> r) {
        called = true;
        result = std::move(r);
    });
    if (!QTest::qWaitFor([&] { return called; }, 30000))
        return fail(ErrorCode::Timeout, "no answer in 30 s");
    return result;
}

// Inodes of every listening TCP socket on the machine (/proc/net/tcp and tcp6, state 0A).
QSet<QByteArray> tcpListenerInodes()
{
    QSet<QByteArray> inodes;
    for (const char *table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
        QFile file(QString::fromLatin1(table));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        for (const QByteArray &line : file.readAll().split('\n')) {
            const QList<QByteArray> fields = line.simplified().split(' ');
            if (fields.size() > 9 && fields[3] == "0A")
                inodes.insert(fields[9]);
        }
    }
    return inodes;
}

} // namespace

class TestRemoteSyncthing : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<sandbox::Sandbox> m_sandbox;
    QNetworkAccessManager m_network;
    std::vector<std::unique_ptr<SshSession>> m_sessions;
    std::vector<std::unique_ptr<SyncthingClient>> m_clients;
    std::vector<std::unique_ptr<SyncthingTunnel>> m_tunnels;

    Result<SshCommand::Output> run(int index, const QStringList &argv)
    {
        SshCommand *command = m_sessions[index]->run(argv);
        QSignalSpy finished(command, &SshCommand::finished);
        if (!finished.wait(30000))
            return fail(ErrorCode::Timeout, "command did not finish");
        Result<SshCommand::Output> result = command->result();
        delete command;
        return result;
    }

    SyncthingClient &client(int index) { return *m_clients[index]; }

private Q_SLOTS:
    void initTestCase()
    {
        m_sandbox = std::make_unique<sandbox::Sandbox>();
        const Status started = m_sandbox->start();
        QVERIFY2(started.has_value(), started ? "" : started.error().message.c_str());
    }

    void tunnelsReadTheApiKeyOverSsh()
    {
        for (int i = 0; i < 3; ++i) {
            const sandbox::NodeInfo node = m_sandbox->node(i);
            SshOptions o;
            o.configFile = m_sandbox->sshConfigFile();
            o.knownHostsFile = m_sandbox->dir() + QStringLiteral("/mailmesh_known_hosts");
            o.readKnownHostsFiles = {m_sandbox->knownHostsFile()};
            m_sessions.push_back(
                std::make_unique<SshSession>(SshAddress::parse(node.id).value(), o));
            QSignalSpy connected(m_sessions.back().get(), &SshSession::connected);
            m_sessions.back()->connectToHost();
            QVERIFY(connected.wait(30000));
            m_clients.push_back(std::make_unique<SyncthingClient>(&m_network));
            m_tunnels.push_back(
                std::make_unique<SyncthingTunnel>(m_sessions.back().get(), m_clients.back().get(),
                                                  node.syncthingHome, node.mailUser));
            QSignalSpy opened(m_tunnels.back().get(), &SyncthingTunnel::opened);
            QSignalSpy failed(m_tunnels.back().get(), &SyncthingTunnel::failed);
            m_tunnels.back()->open();
            QVERIFY2(opened.wait(30000),
                     failed.isEmpty() ? "no answer"
                                      : failed.first().first().value<mm::Error>().message.c_str());
            QCOMPARE(client(i).endpoint().apiKey, node.syncthingApiKey.toUtf8());
            // The tunnel is a Unix socket in the session's private directory, not a port.
            QVERIFY(client(i).endpoint().localSocket.startsWith(m_sessions.back()->controlDirectory() + u'/'));

            const auto pong = await<void>([&](QObject *c, auto done) { client(i).ping(c, done); });
            QVERIFY2(pong.has_value(), pong ? "" : pong.error().message.c_str());
            const auto status =
                await<QJsonObject>([&](QObject *c, auto done) { client(i).systemStatus(c, done); });
            QVERIFY(status.has_value());
            QCOMPARE(client(i).myId(), node.syncthingDeviceId);
        }
    }

    void wrongKeyIsRefusedByTheRealSyncthing()
    {
        SyncthingClient wrong(&m_network);
        SyncthingClient::Endpoint endpoint = client(0).endpoint();
        endpoint.apiKey = "not-the-key";
        wrong.setEndpoint(endpoint);
        const auto refused = await<void>([&](QObject *c, auto done) { wrong.ping(c, done); });
        QCOMPARE(refused.error().code, ErrorCode::AccessDenied);
    }

    // Issue #20: while the dashboard runs, no other local user can reach Syncthing's API (which
    // needs no password there): the tunnel is a 0600 socket in a 0700 directory, and the ssh
    // master listens on no TCP port at all.
    void theApiIsClosedToOtherLocalUsers()
    {
        const QString socket = client(0).endpoint().localSocket;
        struct stat st;
        QCOMPARE(::lstat(QFile::encodeName(socket).constData(), &st), 0);
        QVERIFY(S_ISSOCK(st.st_mode));
        QCOMPARE(int(st.st_mode & 0777), 0600);
        QCOMPARE(int(st.st_uid), int(::getuid()));
        QCOMPARE(::lstat(QFile::encodeName(m_sessions[0]->controlDirectory()).constData(), &st), 0);
        QCOMPARE(int(st.st_mode & 0777), 0700);

        // The master's sockets: none of them is a TCP listener.
        const QSet<QByteArray> listening = tcpListenerInodes();
        QDir fds(QStringLiteral("/proc/%1/fd").arg(m_sessions[0]->masterProcessId()));
        for (const QFileInfo &fd : fds.entryInfoList(QDir::System | QDir::Files | QDir::NoDotAndDotDot)) {
            const QByteArray target = QFile::encodeName(fd.symLinkTarget().section(u'/', -1));
            QVERIFY2(!target.startsWith("socket:[") || !listening.contains(target.mid(8).chopped(1)),
                     target.constData());
        }

        // Another local user cannot even connect.
        if (::getuid() == 0) {
            const pid_t child = ::fork();
            if (child == 0) {
                if (::setgid(65534) != 0 || ::setuid(65534) != 0)
                    ::_exit(2);
                const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
                sockaddr_un address{};
                address.sun_family = AF_UNIX;
                std::strncpy(address.sun_path, QFile::encodeName(socket).constData(), sizeof address.sun_path - 1);
                const int connected = ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address);
                ::_exit(connected == 0 ? 0 : errno == EACCES ? 13 : 1);
            }
            int status = 0;
            QCOMPARE(::waitpid(child, &status, 0), child);
            QVERIFY(WIFEXITED(status));
            QCOMPARE(WEXITSTATUS(status), 13); // EACCES
        }

        // And through the socket, a request without the API key is refused by Syncthing.
        LocalSocketHttp::Request request;
        request.socketPath = socket;
        request.verb = "GET";
        request.target = "/rest/system/status";
        LocalSocketHttp http(request);
        bool called = false;
        Result<LocalSocketHttp::Response> answer = fail(ErrorCode::Timeout, "no answer");
        http.start([&](const Result<LocalSocketHttp::Response> &r) {
            called = true;
            answer = r;
        });
        QTRY_VERIFY_WITH_TIMEOUT(called, 10000);
        QVERIFY2(answer.has_value(), answer ? "" : answer.error().message.c_str());
        QCOMPARE(answer->status, 403);
    }

    void fullMeshSharesTheMailRoot()
    {
        // Node 1 watches its folder events from before the changes.
        SyncthingEventStream events(
            &client(0), {QStringLiteral("FolderPaused"), QStringLiteral("FolderResumed")});
        QSignalSpy ready(&events, &SyncthingEventStream::ready);
        QSignalSpy received(&events, &SyncthingEventStream::eventReceived);
        events.start();
        QVERIFY(ready.wait(10000));

        for (int i = 0; i < 3; ++i) {
            QJsonArray devices;
            for (int j = 0; j < 3; ++j) {
                devices.append(QJsonObject{
                    {QStringLiteral("deviceID"), m_sandbox->node(j).syncthingDeviceId}});
                if (j == i)
                    continue;
                const sandbox::NodeInfo peer = m_sandbox->node(j);
                const auto added = await<void>([&](QObject *c, auto done) {
                    client(i).addDevice(peer.syncthingDeviceId, peer.id,
                                        {peer.syncthingSyncAddress()}, c, done);
                });
                QVERIFY2(added.has_value(), added ? "" : added.error().message.c_str());
            }
            const QJsonObject folder{{QStringLiteral("id"), kFolder},
                                     {QStringLiteral("label"), QStringLiteral("mail root")},
                                     {QStringLiteral("path"), m_sandbox->node(i).mailRoot},
                                     {QStringLiteral("devices"), devices},
                                     {QStringLiteral("fsWatcherDelayS"), 1},
                                     {QStringLiteral("maxConflicts"), 0}};
            const auto shared =
                await<void>([&](QObject *c, auto done) { client(i).shareFolder(folder, c, done); });
            QVERIFY2(shared.has_value(), shared ? "" : shared.error().message.c_str());
            const QStringList ignores{QStringLiteral("(?d)dovecot.index*"),
                                      QStringLiteral("(?d)dovecot.list.index*"),
                                      QStringLiteral("(?d)dovecot.mailbox.log"),
                                      QStringLiteral("(?d)*.lock"), QStringLiteral("tmp")};
            const auto ignored = await<void>(
                [&](QObject *c, auto done) { client(i).setIgnores(kFolder, ignores, c, done); });
            QVERIFY2(ignored.has_value(), ignored ? "" : ignored.error().message.c_str());
            const auto readBack = await<QStringList>(
                [&](QObject *c, auto done) { client(i).ignores(kFolder, c, done); });
            QCOMPARE(readBack.value(), ignores);
        }

        // Every node sees its two peers connected (its own id left out).
        for (int i = 0; i < 3; ++i) {
            QVERIFY(QTest::qWaitFor(
                [&] {
                    const auto peers = await<QJsonObject>(
                        [&](QObject *c, auto done) { client(i).connections(c, done); });
                    if (!peers || peers->size() != 2)
                        return false;
                    for (const QJsonValue &peer : *peers)
                        if (!peer.toObject().value(QLatin1String("connected")).toBool())
                            return false;
                    return true;
                },
                60000));
        }

        // A file written on node 1 appears on nodes 2 and 3.
        const QString name = QStringLiteral("mailmesh-propagation-probe.txt");
        QVERIFY(run(0, {QStringLiteral("sh"), QStringLiteral("-c"),
                        QStringLiteral("printf 'from node1' > \"$1\""), QStringLiteral("sh"),
                        m_sandbox->node(0).mailRoot + QLatin1Char('/') + name})
                    .has_value());
        QVERIFY(await<void>([&](QObject *c, auto done) {
                    client(0).scan(kFolder, {}, c, done);
                }).has_value());
        for (int j = 1; j < 3; ++j) {
            QVERIFY2(QTest::qWaitFor(
                         [&] {
                             const auto content =
                                 run(j, {QStringLiteral("cat"),
                                         m_sandbox->node(j).mailRoot + QLatin1Char('/') + name});
                             return content && content->exitCode == 0 &&
                                    content->standardOutput == "from node1";
                         },
                         60000),
                     qPrintable(m_sandbox->node(j).id));
        }

        // Node 1 sees both peers at 100 %.
        for (int j = 1; j < 3; ++j) {
            QVERIFY(QTest::qWaitFor(
                [&] {
                    const auto completion =
                        await<std::optional<QJsonObject>>([&](QObject *c, auto done) {
                            client(0).completion(kFolder, m_sandbox->node(j).syncthingDeviceId, c,
                                                 done);
                        });
                    return completion && *completion &&
                           (**completion).value(QLatin1String("completion")).toDouble() == 100.0;
                },
                60000));
        }
        const auto status = await<QJsonObject>(
            [&](QObject *c, auto done) { client(1).folderStatus(kFolder, c, done); });
        QVERIFY(status.has_value());
        QCOMPARE(status->value(QLatin1String("pullErrors")).toInt(), 0);
        const auto errors = await<QJsonObject>(
            [&](QObject *c, auto done) { client(1).folderErrors(kFolder, c, done); });
        QVERIFY(errors.has_value());

        // Pause and resume show in node 1's events; completion while paused is "no figure".
        QVERIFY(await<void>([&](QObject *c, auto done) {
                    client(0).setFolderPaused(kFolder, true, c, done);
                }).has_value());
        QVERIFY(QTest::qWaitFor([&] { return received.size() >= 1; }, 30000));
        QCOMPARE(received.at(0).first().toJsonObject().value(QLatin1String("type")).toString(),
                 QStringLiteral("FolderPaused"));
        QCOMPARE(received.at(0)
                     .first()
                     .toJsonObject()
                     .value(QLatin1String("data"))
                     .toObject()
                     .value(QLatin1String("id"))
                     .toString(),
                 kFolder);
        const auto paused = await<std::optional<QJsonObject>>([&](QObject *c, auto done) {
            client(0).completion(kFolder, m_sandbox->node(1).syncthingDeviceId, c, done);
        });
        QVERIFY2(paused.has_value(), paused ? "" : paused.error().message.c_str());
        QVERIFY(!paused->has_value());
        QVERIFY(await<void>([&](QObject *c, auto done) {
                    client(0).setFolderPaused(kFolder, false, c, done);
                }).has_value());
        QVERIFY(QTest::qWaitFor([&] { return received.size() >= 2; }, 30000));
        QCOMPARE(received.at(1).first().toJsonObject().value(QLatin1String("type")).toString(),
                 QStringLiteral("FolderResumed"));
        events.stop();
    }

    void cleanupTestCase()
    {
        m_tunnels.clear();
        m_clients.clear();
        m_sessions.clear();
        m_sandbox.reset();
    }
};

QTEST_GUILESS_MAIN(TestRemoteSyncthing)
#include "tst_remotesyncthing.moc"
