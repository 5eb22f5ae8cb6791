#include "sandbox/sandbox.h"

#include "sandbox/daemonprocess.h"
#include "sandbox/dovecotversion.h"
#include "sandbox/freeport.h"
#include "sandbox/probes.h"

#include <QCryptographicHash>
#include <QDeadlineTimer>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QThread>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace mm::sandbox {

struct Sandbox::Node
{
    NodeInfo info;
    QString sshDir;
    QString hostKeyFile;           // private part
    DovecotVersion dovecotVersion; // of info.dovecotPrefix: decides the configuration's syntax
    std::unique_ptr<DaemonProcess> sshd;
    std::unique_ptr<DaemonProcess> syncthing;
    std::unique_ptr<DaemonProcess> dovecot;
    // mailmesh-agent watch-changes beside Syncthing, as `prepare` runs it on a real node.
    std::unique_ptr<DaemonProcess> changeWatcher;
};

namespace {

constexpr int kProbeTimeoutMs = 1000;

QString changeWatcherLogFile(const NodeInfo &info)
{
    return info.dir + u"/watch-changes.log"_s;
}

std::string str(const QString &text)
{
    return text.toStdString();
}

QString randomToken(int length)
{
    static constexpr char alphabet[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    QString token;
    for (int i = 0; i < length; ++i)
        token.append(QLatin1Char(alphabet[QRandomGenerator::system()->bounded(62)]));
    return token;
}

Status writeFile(const QString &path, const QByteArray &content, QFile::Permissions permissions)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
        file.write(content) != content.size())
        return fail(ErrorCode::IoError, "cannot write: " + str(file.errorString()), str(path));
    file.close();
    if (!file.setPermissions(permissions))
        return fail(ErrorCode::IoError, "cannot set permissions", str(path));
    return {};
}

Status makeDir(const QString &path, QFile::Permissions permissions)
{
    if (!QDir().mkpath(path) || !QFile::setPermissions(path, permissions))
        return fail(ErrorCode::IoError, "cannot create directory", str(path));
    return {};
}

constexpr QFile::Permissions kPublicDir = QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner |
                                          QFile::ReadGroup | QFile::ExeGroup | QFile::ReadOther |
                                          QFile::ExeOther;
constexpr QFile::Permissions kPrivateDir = QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner;
constexpr QFile::Permissions kPublicFile =
    QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther;
constexpr QFile::Permissions kPrivateFile = QFile::ReadOwner | QFile::WriteOwner;

QString findProgram(const QString &name)
{
    QString found = QStandardPaths::findExecutable(name);
    if (found.isEmpty())
        found = QStandardPaths::findExecutable(
            name, {u"/usr/sbin"_s, u"/usr/local/sbin"_s, u"/sbin"_s, u"/usr/bin"_s});
    return found;
}

// "SHA256:<unpadded base64>", as `ssh-keygen -l` prints it, from a .pub line.
Result<QString> fingerprintOf(const QString &publicKeyFile)
{
    QFile file(publicKeyFile);
    if (!file.open(QIODevice::ReadOnly))
        return fail(ErrorCode::NotFound, "cannot read public key", str(publicKeyFile));
    const QList<QByteArray> fields = file.readAll().trimmed().split(' ');
    if (fields.size() < 2)
        return fail(ErrorCode::InvalidData, "not a public key", str(publicKeyFile));
    const QByteArray blob = QByteArray::fromBase64(fields[1]);
    const QByteArray digest = QCryptographicHash::hash(blob, QCryptographicHash::Sha256);
    return u"SHA256:"_s + QString::fromLatin1(digest.toBase64(QByteArray::OmitTrailingEquals));
}

QByteArray readPublicKey(const QString &publicKeyFile)
{
    QFile file(publicKeyFile);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    const QList<QByteArray> fields = file.readAll().trimmed().split(' ');
    return fields.size() >= 2 ? fields[0] + ' ' + fields[1] : QByteArray();
}

QString groupName(gid_t gid)
{
    const group *entry = ::getgrgid(gid);
    return entry ? QString::fromLocal8Bit(entry->gr_name) : QString::number(gid);
}

QString logTail(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    const QByteArray all = file.readAll();
    return QString::fromLocal8Bit(all.right(1500)).trimmed();
}

// A short-lived tool run, possibly as the sandbox user; several may run at once.
struct ToolRun
{
    QString name;
    QString program;
    QStringList arguments;
    bool asUser = false;
    std::unique_ptr<QProcess> process;
};

QProcessEnvironment userEnvironment(const SandboxUser &user, const QString &dir)
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QString::fromLatin1(ProcessTable::kDirVariable), QDir::cleanPath(dir));
    if (user.needsSwitch()) {
        environment.insert(u"HOME"_s, user.home());
        environment.insert(u"USER"_s, user.name());
        environment.insert(u"LOGNAME"_s, user.name());
    }
    return environment;
}

void switchUserInChild(QProcess &process, const SandboxUser &user)
{
    const uid_t uid = user.uid();
    const gid_t gid = user.gid();
    const pid_t parent = ::getpid();
    process.setChildProcessModifier([=] {
        if (::setgroups(1, &gid) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)
            ::_exit(126);
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent)
            ::_exit(1);
    });
}

Status runTools(std::vector<ToolRun> &tools, const SandboxUser &user, const QString &dir)
{
    for (ToolRun &tool : tools) {
        tool.process = std::make_unique<QProcess>();
        tool.process->setProcessEnvironment(userEnvironment(user, dir));
        if (tool.asUser && user.needsSwitch())
            switchUserInChild(*tool.process, user);
        tool.process->start(tool.program, tool.arguments);
    }
    Status status;
    for (ToolRun &tool : tools) {
        QProcess &process = *tool.process;
        if (!status) {
            process.kill(); // one failure is enough; don't leave the others running
            process.waitForFinished(5000);
            continue;
        }
        if (!process.waitForFinished(30000) || process.exitStatus() != QProcess::NormalExit) {
            status = fail(ErrorCode::IoError,
                          str(tool.name) + " did not finish: " + str(process.errorString()));
            process.kill();
            process.waitForFinished(5000);
        } else if (process.exitCode() != 0) {
            status = fail(ErrorCode::IoError,
                          str(tool.name) +
                              " failed: " + process.readAllStandardError().trimmed().toStdString());
        }
    }
    return status;
}

QString replaceElement(QString xml, const QString &element, const QString &value)
{
    const QRegularExpression pattern(u"<%1>[^<]*</%1>"_s.arg(element));
    return xml.replace(pattern, u"<%1>%2</%1>"_s.arg(element, value));
}

// Kills whatever escaped the groups but still carries the marker: ssh sessions, orphans. An ssh
// connection accepted just before its sshd died runs its command a moment later, outside any
// group we know: so the sweep only ends after a quiet pause.
QList<ProcessTable::Entry> sweep(const QString &dir, const QSet<qint64> &groups)
{
    QDeadlineTimer deadline(10000);
    int quietRounds = 0;
    while (!deadline.hasExpired()) {
        const QList<ProcessTable::Entry> left = ProcessTable::killableProcesses(dir, groups);
        if (left.isEmpty()) {
            if (++quietRounds == 3)
                return left;
            QThread::msleep(150);
            continue;
        }
        quietRounds = 0;
        for (const ProcessTable::Entry &entry : left)
            ::kill(static_cast<pid_t>(entry.pid), SIGKILL);
        QThread::msleep(20);
    }
    return ProcessTable::killableProcesses(dir, groups);
}

struct DovecotConfigValues
{
    QString nodeId;
    QString instanceToken;
    QString baseDir;
    QString stateDir;
    QString logFile;
    QString userName; // runs every Dovecot process and owns the mail
    QString groupName;
    uid_t uid = 0;
    QString usersFile;
    quint16 imapPort = 0;
    bool curOnly = false;
    bool fsLayout = false; // LAYOUT=fs instead of Maildir++
    QString release;       // "2.4.1", for 2.4's version settings
};

QString dovecotConfigHeader(const DovecotConfigValues &values)
{
    return u"# dovecot of sandbox node %1 (generated). Files in conf.d/ are included last and\n"
           "# override anything here.\n"_s.arg(values.nodeId);
}

// Settings both lines spell the same way.
QString dovecotCommonSettings(const DovecotConfigValues &values)
{
    return u"instance_name = mailmesh-%1-%2\n"
           "base_dir = %3\n"
           "state_dir = %4\n"
           "log_path = %5\n"
           "info_log_path = %5\n"
           "protocols = imap\n"
           "listen = 127.0.0.1\n"
           "ssl = no\n"
           "auth_mechanisms = plain login\n"
           "default_login_user = %6\n"
           "default_internal_user = %6\n"
           "default_internal_group = %7\n"
           "first_valid_uid = %8\n"
           "%9"_s
               .arg(values.nodeId, values.instanceToken, values.baseDir, values.stateDir,
                    values.logFile, values.userName, values.groupName)
               .arg(values.uid)
               .arg(values.curOnly ? u"maildir_cur_only = yes\n"_s : QString());
}

// The services, then the admin's conf.d: the same on both lines except how a setting is
// referenced ($name in 2.3, $SET:name in 2.4) and that 2.3 names the listener's address.
QString dovecotServices(const DovecotConfigValues &values, const QString &listenerAddress,
                        const QString &internalUserReference)
{
    return u"service imap-login {\n"
           "  chroot =\n"
           "  inet_listener imap {\n"
           "%1"
           "    port = %2\n"
           "  }\n"
           "  inet_listener imaps {\n"
           "    port = 0\n"
           "  }\n"
           "}\n"
           "service anvil {\n"
           "  chroot =\n"
           "}\n"
           "service auth-worker {\n"
           "  user = %3\n"
           "}\n"
           "!include_try conf.d/*.conf\n"_s
               .arg(listenerAddress.isEmpty() ? QString() : u"    address = %1\n"_s.arg(listenerAddress))
               .arg(values.imapPort)
               .arg(internalUserReference);
}

QString dovecot23Config(const DovecotConfigValues &values)
{
    return dovecotConfigHeader(values) + dovecotCommonSettings(values) +
           u"disable_plaintext_auth = no\n"
           "mail_location = maildir:~/Maildir%4\n"
           // The marker variables let teardown find every Dovecot child process.
           "import_environment = TZ CORE_OUTOFMEM CORE_ERROR LISTEN_PID LISTEN_FDS %1 %2\n"
           "passdb {\n"
           "  driver = passwd-file\n"
           "  args = scheme=PLAIN username_format=%u %3\n"
           "}\n"
           "userdb {\n"
           "  driver = passwd-file\n"
           "  args = username_format=%u %3\n"
           "}\n"_s
               .arg(QString::fromLatin1(ProcessTable::kDirVariable),
                    QString::fromLatin1(ProcessTable::kRunVariable), values.usersFile,
                    values.fsLayout ? u":LAYOUT=fs"_s : QString()) +
           dovecotServices(values, u"127.0.0.1"_s, u"$default_internal_user"_s);
}

// 2.4 wants its version settings first, names the mail location mail_driver/mail_path, takes
// import_environment as a map that adds to its defaults and references settings as $SET:name.
QString dovecot24Config(const DovecotConfigValues &values)
{
    return u"dovecot_config_version = %1\n"
           "dovecot_storage_version = %1\n"_s.arg(values.release) +
           dovecotConfigHeader(values) + dovecotCommonSettings(values) +
           u"auth_allow_cleartext = yes\n"
           "mail_driver = maildir\n"
           "mail_path = ~/Maildir\n"
           "%4"
           "import_environment {\n"
           "  %1 = %{env:%1}\n"
           "  %2 = %{env:%2}\n"
           "}\n"
           "passdb passwd-file {\n"
           "  passwd_file_path = %3\n"
           "}\n"
           "userdb passwd-file {\n"
           "  passwd_file_path = %3\n"
           "}\n"_s
               .arg(QString::fromLatin1(ProcessTable::kDirVariable),
                    QString::fromLatin1(ProcessTable::kRunVariable), values.usersFile,
                    values.fsLayout ? u"mailbox_list_layout = fs\n"_s : QString()) +
           // The user by name: 2.4 (2.4.1) resolves $SET:default_internal_user inside this service
           // block to the built-in default (dovecot), and the rootless auth-worker then fails to
           // setgid, which breaks `doveadm user '*'` (user listing runs in the auth-worker).
           dovecotServices(values, QString(), values.userName);
}

} // namespace

Sandbox::Sandbox(SandboxOptions options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
{
}

Sandbox::~Sandbox()
{
    if (!m_options.persistent)
        tearDown();
}

QString Sandbox::sshConfigFile() const
{
    return m_dir + u"/client/ssh_config"_s;
}

QString Sandbox::knownHostsFile() const
{
    return m_dir + u"/client/known_hosts"_s;
}

QString Sandbox::identityFile() const
{
    return m_dir + u"/client/id_ed25519"_s;
}

QList<NodeInfo> Sandbox::nodes() const
{
    QList<NodeInfo> infos;
    for (const auto &node : m_nodes)
        infos.append(node->info);
    return infos;
}

NodeInfo Sandbox::node(int index) const
{
    return checkIndex(index) ? m_nodes[size_t(index)]->info : NodeInfo{};
}

Status Sandbox::checkIndex(int index) const
{
    if (index < 0 || size_t(index) >= m_nodes.size())
        return fail(ErrorCode::NotFound, "no sandbox node with index " + std::to_string(index));
    return {};
}

quint16 Sandbox::takePort()
{
    for (int attempt = 0; attempt < 100; ++attempt) {
        const quint16 port = findFreeLoopbackPort();
        if (port != 0 && !m_takenPorts.contains(port)) {
            m_takenPorts.insert(port);
            return port;
        }
    }
    return 0;
}

Status Sandbox::start()
{
    if (m_running)
        return fail(ErrorCode::Conflict, "the sandbox is already running", str(m_dir));
    if (m_options.nodeCount < 1 || m_options.nodeCount > 50)
        return fail(ErrorCode::BadRequest, "node count must be between 1 and 50");
    QElapsedTimer clock;
    clock.start();

    Result<SandboxUser> user = SandboxUser::ensure();
    if (!user)
        return fail(user.error());
    m_user = *user;

    // A free port is only free until someone binds it: on a shared machine another process may
    // take one between our choice and the daemon's bind. Then start again with new ports.
    for (int attempt = 1;; ++attempt) {
        Status started = startOnce();
        if (started)
            break;
        const bool portTaken = QString::fromStdString(started.error().message)
                                   .contains(u"address already in use"_s, Qt::CaseInsensitive);
        if (!portTaken || attempt == 3 || m_dir.isEmpty())
            return started;
        qInfo("sandbox: a port was taken meanwhile, starting again: %s",
              started.error().describe().c_str());
        discardAttempt();
    }
    m_startupMs = clock.elapsed();
    qInfo("sandbox: nodes up: %d, in %lld ms in %s", int(m_nodes.size()),
          static_cast<long long>(m_startupMs), qPrintable(m_dir));
    return {};
}

Status Sandbox::startOnce()
{
    Status started = prepareDirectory();
    if (!started) {
        m_dir.clear(); // not ours: tearDown() must not sweep a directory we did not take
        m_temporaryDir.reset();
        return started;
    }
    started = prepareNodes();
    if (started)
        started = writeClientFiles();
    if (started)
        started = startDaemons();
    if (started) {
        QList<int> all;
        for (int i = 0; i < int(m_nodes.size()); ++i)
            all.append(i);
        started = waitUntilReady(all, true, true, true);
    }
    if (started)
        started = checkAllRunning();
    if (started)
        started = writeStateFile();
    if (!started) {
        m_running = true; // so that tearDown() cleans up a half start too
        const bool keep = m_options.keepDir;
        m_options.keepDir = true; // keep the logs that explain the failure
        tearDown();
        m_options.keepDir = keep;
        return started;
    }
    m_running = true;
    return {};
}

// A daemon that lost its port to another program dies, but that program may have answered our
// probe: everyone must still be alive once all are "ready".
Status Sandbox::checkAllRunning() const
{
    for (const auto &node : m_nodes) {
        const std::pair<DaemonProcess *, QString> daemons[] = {
            {node->sshd.get(), node->info.sshdLogFile},
            {node->syncthing.get(), node->info.syncthingLogFile},
            {node->dovecot.get(), node->info.dovecotLogFile},
            {node->changeWatcher.get(), changeWatcherLogFile(node->info)}};
        for (const auto &[daemon, log] : daemons) {
            const bool optional = log == changeWatcherLogFile(node->info) && m_options.changeWatcher.isEmpty();
            if (!optional && (!daemon || !daemon->isRunning()))
                return fail(ErrorCode::Unreachable,
                            (daemon ? daemon->spec().name : node->info.id).toStdString() +
                                " exited: " + str(logTail(log)),
                            str(log));
        }
    }
    return {};
}

// After a failed attempt: forget its nodes and files (only what the sandbox itself created).
void Sandbox::discardAttempt()
{
    m_nodes.clear();
    if (m_dirIsTemporary) {
        QDir(m_dir).removeRecursively();
    } else {
        QDir dir(m_dir);
        const QStringList entries = dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        for (const QString &entry : entries)
            if (entry == u"client"_s || QRegularExpression(u"^node\\d+$"_s).match(entry).hasMatch())
                QDir(dir.filePath(entry)).removeRecursively();
        dir.remove(u"sandbox.json"_s);
        dir.remove(QLatin1String(ProcessTable::kRunFile));
    }
    m_dir.clear();
}

Status Sandbox::prepareDirectory()
{
    if (m_options.dir.isEmpty()) {
        m_temporaryDir =
            std::make_unique<QTemporaryDir>(QDir::tempPath() + u"/mailmesh-sandbox-XXXXXX"_s);
        if (!m_temporaryDir->isValid())
            return fail(ErrorCode::IoError, "cannot create a temporary directory");
        m_temporaryDir->setAutoRemove(false); // tearDown() decides, after the daemons are gone
        m_dir = m_temporaryDir->path();
        m_dirIsTemporary = true;
    } else {
        m_dir = QDir::cleanPath(QFileInfo(m_options.dir).absoluteFilePath());
        m_dirIsTemporary = false;
        QDir existing(m_dir);
        if (existing.exists() &&
            !existing.isEmpty(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden)) {
            // Only a sandbox that is down may be reused; only its own subdirectories go.
            if (!existing.exists(u"sandbox.json"_s))
                return fail(ErrorCode::Conflict, "directory is not empty and holds no sandbox",
                            str(m_dir));
            if (!ProcessTable::sandboxProcesses(m_dir).isEmpty())
                return fail(ErrorCode::Busy, "a sandbox is still running there", str(m_dir));
            const QStringList entries = existing.entryList(QDir::Dirs | QDir::NoDotAndDotDot);
            for (const QString &entry : entries)
                if (entry == u"client"_s ||
                    QRegularExpression(u"^node\\d+$"_s).match(entry).hasMatch())
                    QDir(existing.filePath(entry)).removeRecursively();
            existing.remove(u"sandbox.json"_s);
            existing.remove(QLatin1String(ProcessTable::kRunFile));
        }
    }
    // Others must traverse it: dovecot's login processes, sshd reading authorized_keys as the
    // user, and the sandbox user's daemons.
    if (Status made = makeDir(m_dir, kPublicDir); !made)
        return made;
    if (m_user.needsSwitch()) {
        // Say so now rather than through a daemon's obscure "permission denied" later.
        for (QDir up(m_dir); up.cdUp();) {
            const QFileInfo ancestor(up.absolutePath());
            if (!(ancestor.permissions() & QFile::ExeOther) && ancestor.ownerId() != m_user.uid())
                return fail(ErrorCode::AccessDenied,
                            str(m_user.name()) +
                                " cannot reach the sandbox: " + str(ancestor.absoluteFilePath()) +
                                " is not searchable by others (chmod o+x it, or choose another "
                                "directory)",
                            str(m_dir));
            if (up.isRoot())
                break;
        }
    }
    // Lets the end-of-run check attribute daemons whose environment is unreadable to this run.
    if (const QByteArray run = qgetenv(ProcessTable::kRunVariable); !run.isEmpty())
        if (Status written = writeFile(m_dir + u'/' + QLatin1String(ProcessTable::kRunFile),
                                       run + '\n', kPublicFile);
            !written)
            return written;
    return makeDir(m_dir + u"/client"_s, kPrivateDir);
}

Status Sandbox::prepareNodes()
{
    const QString sshKeygen = findProgram(u"ssh-keygen"_s);
    const QString syncthing = findProgram(u"syncthing"_s);
    if (sshKeygen.isEmpty() || syncthing.isEmpty())
        return fail(ErrorCode::NotFound, "ssh-keygen and syncthing must be installed");

    const Result<DovecotVersion> dovecotVersion = DovecotVersion::ofPrefix(m_options.dovecotPrefix);
    if (!dovecotVersion)
        return fail(dovecotVersion.error());

    std::vector<ToolRun> tools;
    tools.push_back({u"ssh-keygen (client key)"_s,
                     sshKeygen,
                     {u"-q"_s, u"-t"_s, u"ed25519"_s, u"-N"_s, QString(), u"-C"_s,
                      u"mailmesh-sandbox-client"_s, u"-f"_s, identityFile()},
                     false,
                     nullptr});
    for (int i = 0; i < m_options.nodeCount; ++i) {
        auto node = std::make_unique<Node>();
        NodeInfo &info = node->info;
        info.id = u"node%1"_s.arg(i + 1);
        info.dir = m_dir + u'/' + info.id;
        node->sshDir = info.dir + u"/ssh"_s;
        node->hostKeyFile = node->sshDir + u"/ssh_host_ed25519_key"_s;
        info.sshHostKeyFile = node->hostKeyFile + u".pub"_s;
        info.sshPort = takePort();
        info.sshUser = m_user.name();
        info.sshConfigFile = sshConfigFile();
        info.sshIdentityFile = identityFile();
        info.sshKnownHostsFile = knownHostsFile();
        info.sshdConfigFile = node->sshDir + u"/sshd_config"_s;
        info.sshdLogFile = node->sshDir + u"/sshd.log"_s;
        info.mailRoot = info.dir + u"/mail"_s;
        info.stateDir = info.dir + u"/mailmesh-state"_s;
        info.mailUser = m_user.name();
        info.maildir =
            info.mailRoot + u'/' + m_options.mailDomain + u'/' + m_options.mailUser + u"/Maildir"_s;
        info.syncthingHome = info.dir + u"/syncthing"_s;
        info.syncthingGuiPort = takePort();
        info.syncthingSyncPort = takePort();
        info.syncthingApiKey = randomToken(32);
        info.syncthingLogFile = info.dir + u"/syncthing.log"_s;
        info.imapPort = takePort();
        info.imapUser = m_options.mailUser + u'@' + m_options.mailDomain;
        info.imapPassword = randomToken(20);
        info.dovecotPrefix = m_options.dovecotPrefix;
        node->dovecotVersion = *dovecotVersion;
        info.dovecotConfigFile = info.dir + u"/dovecot/dovecot.conf"_s;
        info.dovecotConfD = info.dir + u"/dovecot/conf.d"_s;
        info.dovecotLogFile = info.dir + u"/dovecot/dovecot.log"_s;
        info.dovecotBaseDir = info.dir + u"/dovecot/run"_s;
        if (info.sshPort == 0 || info.syncthingGuiPort == 0 || info.syncthingSyncPort == 0 ||
            info.imapPort == 0)
            return fail(ErrorCode::IoError, "no free port on 127.0.0.1");

        for (const QString &path : {info.dir, node->sshDir})
            if (Status made = makeDir(path, kPublicDir); !made)
                return made;
        // Dovecot runs as the sandbox user, who administers the node over ssh: it may write
        // conf.d snippets and reload Dovecot as an admin would on a real node.
        for (const QString &path : {info.dir + u"/dovecot"_s, info.dovecotConfD}) {
            if (Status made = makeDir(path, kPublicDir); !made)
                return made;
            if (Status owned = m_user.own(path); !owned)
                return owned;
        }
        for (const QString &path : {info.syncthingHome, info.mailRoot, info.stateDir}) {
            if (Status made = makeDir(path, kPrivateDir); !made)
                return made;
            if (Status owned = m_user.own(path); !owned)
                return owned;
        }
        // The Maildir exists from the start (classic cur/new/tmp), owned by the mail user.
        QString path = info.mailRoot;
        for (const QString &part : {m_options.mailDomain, m_options.mailUser, u"Maildir"_s}) {
            path += u'/' + part;
            if (Status made = makeDir(path, kPrivateDir); !made)
                return made;
            if (Status owned = m_user.own(path); !owned)
                return owned;
        }
        for (const QString &sub : {u"cur"_s, u"new"_s, u"tmp"_s}) {
            const QString subdir = path + u'/' + sub;
            if (m_options.curOnly && sub == u"new"_s) {
                // What the patched Dovecot creates itself; MTAs delivering to new/ land in cur/.
                if (!QFile::link(u"cur"_s, subdir))
                    return fail(ErrorCode::IoError, "cannot create the link new -> cur",
                                str(subdir));
            } else if (Status made = makeDir(subdir, kPrivateDir); !made) {
                return made;
            }
            if (Status owned = m_user.own(subdir); !owned)
                return owned;
        }

        tools.push_back({info.id + u" ssh-keygen (host key)"_s,
                         sshKeygen,
                         {u"-q"_s, u"-t"_s, u"ed25519"_s, u"-N"_s, QString(), u"-C"_s,
                          info.id + u"-host"_s, u"-f"_s, node->hostKeyFile},
                         false,
                         nullptr});
        tools.push_back({info.id + u" syncthing generate"_s,
                         syncthing,
                         {u"generate"_s, u"--home="_s + info.syncthingHome,
                          u"--no-default-folder"_s, u"--skip-port-probing"_s},
                         true,
                         nullptr});
        m_nodes.push_back(std::move(node));
    }

    // Key generation and syncthing's certificates are the slow part: all at once.
    if (Status ran = runTools(tools, m_user, m_dir); !ran)
        return ran;

    QFile clientPublicKey(identityFile() + u".pub"_s);
    if (!clientPublicKey.open(QIODevice::ReadOnly))
        return fail(ErrorCode::IoError, "cannot read the client key",
                    str(clientPublicKey.fileName()));
    const QByteArray authorizedKey = clientPublicKey.readAll();

    for (size_t i = 0; i < m_nodes.size(); ++i) {
        Node &node = *m_nodes[i];
        NodeInfo &info = node.info;
        // The device ID is what `syncthing generate` prints on stdout.
        QProcess &generate = *tools[2 + 2 * i].process;
        const QByteArray generated =
            generate.readAllStandardOutput() + generate.readAllStandardError();
        const QRegularExpressionMatch id = QRegularExpression(u"Device ID:\\s*([A-Z0-9-]+)"_s)
                                               .match(QString::fromLatin1(generated));
        if (!id.hasMatch())
            return fail(ErrorCode::InvalidData, "syncthing generate printed no device ID",
                        str(info.syncthingHome));
        info.syncthingDeviceId = id.captured(1);

        Result<QString> fingerprint = fingerprintOf(info.sshHostKeyFile);
        if (!fingerprint)
            return fail(fingerprint.error());
        info.sshHostKeyFingerprint = *fingerprint;

        // sshd reads authorized_keys as the user: world-readable, it holds only a public key.
        if (Status written =
                writeFile(node.sshDir + u"/authorized_keys"_s, authorizedKey, kPublicFile);
            !written)
            return written;
        const QString sshdConfig =
            u"# sshd of sandbox node %1 (generated)\n"
            "ListenAddress 127.0.0.1:%2\n"
            "HostKey %3\n"
            "PidFile %4/sshd.pid\n"
            "AuthorizedKeysFile %4/authorized_keys\n"
            // No PAM (no system auth stack for a test daemon); StrictModes off because the
            // sandbox lives under /tmp, whose sticky world-writable mode StrictModes rejects.
            "UsePAM no\n"
            "StrictModes no\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PermitRootLogin no\n"
            "AllowUsers %5\n"
            "AllowTcpForwarding yes\n"
            "X11Forwarding no\n"
            "PrintMotd no\n"
            "PrintLastLog no\n"
            "UseDNS no\n"
            "MaxStartups 100\n"
            "MaxSessions 100\n"
            "Subsystem sftp internal-sftp\n"
            // Sessions carry the marker too, so teardown finds what a test left running.
            "SetEnv %6\n"_s.arg(info.id)
                .arg(info.sshPort)
                .arg(node.hostKeyFile, node.sshDir, m_user.name(), markerAssignments());
        if (Status written = writeFile(info.sshdConfigFile, sshdConfig.toUtf8(), kPublicFile);
            !written)
            return written;

        // syncthing: loopback only, nothing phones home, nothing upgrades.
        QFile configFile(info.syncthingHome + u"/config.xml"_s);
        if (!configFile.open(QIODevice::ReadOnly))
            return fail(ErrorCode::IoError, "cannot read syncthing config",
                        str(configFile.fileName()));
        QString xml = QString::fromUtf8(configFile.readAll());
        configFile.close();
        xml.replace(QRegularExpression(u"(<gui[^>]*>\\s*<address>)[^<]*(</address>)"_s),
                    u"\\1%1\\2"_s.arg(info.syncthingGuiAddress()));
        xml.replace(QRegularExpression(u"(<device id=\"[A-Z0-9-]+\" name=\")[^\"]*\""_s),
                    u"\\1%1\""_s.arg(info.id));
        xml = replaceElement(xml, u"apikey"_s, info.syncthingApiKey);
        xml = replaceElement(xml, u"listenAddress"_s, info.syncthingSyncAddress());
        xml = replaceElement(xml, u"globalAnnounceEnabled"_s, u"false"_s);
        xml = replaceElement(xml, u"localAnnounceEnabled"_s, u"false"_s);
        xml = replaceElement(xml, u"relaysEnabled"_s, u"false"_s);
        xml = replaceElement(xml, u"natEnabled"_s, u"false"_s);
        xml = replaceElement(xml, u"startBrowser"_s, u"false"_s);
        xml = replaceElement(xml, u"urAccepted"_s, u"-1"_s);
        xml = replaceElement(xml, u"autoUpgradeIntervalH"_s, u"0"_s);
        xml = replaceElement(xml, u"crashReportingEnabled"_s, u"false"_s);
        if (!xml.contains(info.syncthingApiKey) || !xml.contains(info.syncthingSyncAddress()) ||
            !xml.contains(info.syncthingGuiAddress()))
            return fail(ErrorCode::InvalidData, "unexpected syncthing config layout",
                        str(configFile.fileName()));
        if (Status written = writeFile(configFile.fileName(), xml.toUtf8(), kPrivateFile); !written)
            return written;

        if (Status written = writeDovecotConfig(node); !written)
            return written;
    }
    return {};
}

// "MAILMESH_SANDBOX_DIR=dir [MAILMESH_SANDBOX_RUN=tag]" for sshd's SetEnv.
QString Sandbox::markerAssignments() const
{
    QString assignments = QString::fromLatin1(ProcessTable::kDirVariable) + u'=' + m_dir;
    const QString run = qEnvironmentVariable(ProcessTable::kRunVariable);
    if (!run.isEmpty() && !run.contains(u' ') && !run.contains(u'"'))
        assignments += u' ' + QString::fromLatin1(ProcessTable::kRunVariable) + u'=' + run;
    return assignments;
}

Status Sandbox::writeDovecotConfig(Node &node)
{
    const NodeInfo &info = node.info;
    // Dovecot runs entirely as the sandbox user (a rootless Dovecot): its login and internal
    // processes too, so that user can reload it over ssh the way an admin does on a real node.
    const QString home = info.mailRoot + u'/' + m_options.mailDomain + u'/' + m_options.mailUser;
    const QString usersFile = info.dir + u"/dovecot/users"_s;
    const QString users = u"%1:{PLAIN}%2:%3:%4::%5::\n"_s.arg(info.imapUser, info.imapPassword)
                              .arg(m_user.uid())
                              .arg(m_user.gid())
                              .arg(home);
    if (Status written = writeFile(usersFile, users.toUtf8(), kPrivateFile); !written)
        return written;
    if (Status owned = m_user.own(usersFile); !owned)
        return owned;
    const DovecotConfigValues values{
        .nodeId = info.id,
        .instanceToken = randomToken(6),
        .baseDir = info.dovecotBaseDir,
        .stateDir = info.dir + u"/dovecot/state"_s,
        .logFile = info.dovecotLogFile,
        .userName = m_user.name(),
        .groupName = groupName(m_user.gid()),
        .uid = m_user.uid(),
        .usersFile = usersFile,
        .imapPort = info.imapPort,
        .curOnly = m_options.curOnly,
        .fsLayout = m_options.fsLayout,
        .release = node.dovecotVersion.release(),
    };
    const QString config = node.dovecotVersion.hasVersionedConfig() ? dovecot24Config(values)
                                                                    : dovecot23Config(values);
    if (Status made = makeDir(values.stateDir, kPublicDir); !made)
        return made;
    if (Status owned = m_user.own(values.stateDir); !owned)
        return owned;
    if (m_options.curOnlySettingOff && !m_options.curOnly) {
        // The name and text deploy-dovecot and migrate use (core/cluster/dovecot/dovecotcontrol.h);
        // owned by the node's admin, who rewrites it when migrating.
        const QString snippet = info.dovecotConfD + u"/99-mailmesh-cur-only.conf"_s;
        if (Status written = writeFile(snippet, "maildir_cur_only = no\n", kPublicFile); !written)
            return written;
        if (Status owned = m_user.own(snippet); !owned)
            return owned;
    }
    return writeFile(info.dovecotConfigFile, config.toUtf8(), kPublicFile);
}

Status Sandbox::writeClientFiles()
{
    QString sshConfig =
        u"# ssh client config of the sandbox in %1 (generated): ssh -F <this file> nodeK\n"_s.arg(
            m_dir);
    for (const auto &node : m_nodes) {
        const NodeInfo &info = node->info;
        sshConfig += u"\nHost %1\n"
                     "    HostName 127.0.0.1\n"
                     "    Port %2\n"
                     "    User %3\n"
                     "    IdentityFile %4\n"
                     "    IdentitiesOnly yes\n"
                     "    UserKnownHostsFile %5\n"
                     "    GlobalKnownHostsFile /dev/null\n"
                     "    StrictHostKeyChecking yes\n"
                     "    CheckHostIP no\n"
                     "    BatchMode yes\n"
                     "    PasswordAuthentication no\n"
                     "    KbdInteractiveAuthentication no\n"
                     "    ControlMaster no\n"
                     "    ControlPath none\n"
                     "    ConnectTimeout 10\n"
                     "    LogLevel ERROR\n"_s.arg(info.id)
                         .arg(info.sshPort)
                         .arg(info.sshUser, identityFile(), knownHostsFile());
    }
    if (Status written = writeFile(sshConfigFile(), sshConfig.toUtf8(), kPrivateFile); !written)
        return written;
    return trustCurrentHostKeys();
}

Status Sandbox::trustCurrentHostKeys()
{
    QByteArray knownHosts;
    for (const auto &node : m_nodes) {
        const QByteArray key = readPublicKey(node->info.sshHostKeyFile);
        if (key.isEmpty())
            return fail(ErrorCode::NotFound, "cannot read host key",
                        str(node->info.sshHostKeyFile));
        knownHosts += "[127.0.0.1]:" + QByteArray::number(node->info.sshPort) + ' ' + key + '\n';
    }
    return writeFile(knownHostsFile(), knownHosts, kPrivateFile);
}

Status Sandbox::startSshd(Node &node)
{
    DaemonProcess::Spec spec;
    spec.name = node.info.id + u"/sshd"_s;
    spec.program = findProgram(u"sshd"_s); // sshd re-executes itself: it needs an absolute path
    if (spec.program.isEmpty())
        return fail(ErrorCode::NotFound, "sshd is not installed");
    spec.arguments = {u"-D"_s, u"-e"_s, u"-f"_s, node.info.sshdConfigFile};
    // sshd started by root needs its privilege separation directory, compiled in as /run/sshd,
    // which only the openssh-server service creates; a machine that installed the package
    // without starting the service (as bootstrap.sh does) has none.
    if (::geteuid() == 0 && !QFileInfo::exists(u"/run/sshd"_s) && ::mkdir("/run/sshd", 0755) != 0 && errno != EEXIST)
        return fail(ErrorCode::IoError,
                    std::string("cannot create sshd's privilege separation directory /run/sshd: ")
                        + std::strerror(errno));
    spec.environment = userEnvironment(SandboxUser(), m_dir);
    spec.logFile = node.info.sshdLogFile;
    spec.persistent = m_options.persistent;
    node.sshd = std::make_unique<DaemonProcess>(spec);
    return node.sshd->start();
}

Status Sandbox::startSyncthingDaemon(Node &node)
{
    DaemonProcess::Spec spec;
    spec.name = node.info.id + u"/syncthing"_s;
    spec.program = findProgram(u"syncthing"_s);
    spec.arguments = {u"serve"_s, u"--home="_s + node.info.syncthingHome, u"--no-browser"_s,
                      u"--no-restart"_s, u"--no-upgrade"_s};
    spec.environment = userEnvironment(m_user, m_dir);
    // Without this, syncthing forks a monitor and runs the real daemon as its child in another
    // process group: that child survives a SIGKILLed monitor, so neither the parent-death
    // signal nor the group kill would reach the process holding the ports. --no-restart already
    // makes the monitor useless here.
    spec.environment.insert(u"STMONITORED"_s, u"yes"_s);
    spec.logFile = node.info.syncthingLogFile;
    spec.workingDirectory = node.info.syncthingHome;
    spec.switchUser = m_user.needsSwitch();
    spec.uid = m_user.uid();
    spec.gid = m_user.gid();
    spec.persistent = m_options.persistent;
    node.syncthing = std::make_unique<DaemonProcess>(spec);
    return node.syncthing->start();
}

Status Sandbox::startChangeWatcherDaemon(Node &node)
{
    if (m_options.changeWatcher.isEmpty())
        return {};
    DaemonProcess::Spec spec;
    spec.name = node.info.id + u"/watch-changes"_s;
    // A copy inside the sandbox, like the agent a real node has: the build tree may sit in a home
    // the sandbox's mail user cannot enter.
    spec.program = m_dir + u"/bin/mailmesh-agent"_s;
    if (!QFileInfo::exists(spec.program)) {
        QDir().mkpath(m_dir + u"/bin"_s);
        if (!QFile::copy(m_options.changeWatcher, spec.program))
            return fail(ErrorCode::IoError, "cannot copy the agent into the sandbox", str(m_options.changeWatcher));
        QFile::setPermissions(spec.program, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner | QFile::ReadGroup
                                                | QFile::ExeGroup | QFile::ReadOther | QFile::ExeOther);
    }
    // Verbose: one line per scan request, for the post-mortem a sandbox exists for.
    spec.arguments = {u"watch-changes"_s, u"--syncthing-home="_s + node.info.syncthingHome, u"--verbose"_s};
    spec.environment = userEnvironment(m_user, m_dir);
    spec.logFile = changeWatcherLogFile(node.info);
    spec.workingDirectory = node.info.syncthingHome;
    spec.switchUser = m_user.needsSwitch();
    spec.uid = m_user.uid();
    spec.gid = m_user.gid();
    spec.persistent = m_options.persistent;
    node.changeWatcher = std::make_unique<DaemonProcess>(spec);
    return node.changeWatcher->start();
}

Status Sandbox::startDovecotDaemon(Node &node)
{
    DaemonProcess::Spec spec;
    spec.name = node.info.id + u"/dovecot"_s;
    spec.program = node.info.dovecotBinary();
    if (!QFileInfo(spec.program).isExecutable())
        return fail(ErrorCode::NotFound, "no dovecot binary under the prefix", str(spec.program));
    spec.arguments = {u"-F"_s, u"-c"_s, node.info.dovecotConfigFile};
    spec.environment = userEnvironment(m_user, m_dir);
    spec.logFile = node.info.dir + u"/dovecot/dovecot.stderr"_s;
    spec.switchUser = m_user.needsSwitch();
    spec.uid = m_user.uid();
    spec.gid = m_user.gid();
    spec.persistent = m_options.persistent;
    node.dovecot = std::make_unique<DaemonProcess>(spec);
    return node.dovecot->start();
}

Status Sandbox::startDaemons()
{
    for (const auto &node : m_nodes) {
        if (Status s = startSshd(*node); !s)
            return s;
        if (Status s = startSyncthingDaemon(*node); !s)
            return s;
        if (Status s = startChangeWatcherDaemon(*node); !s)
            return s;
        if (Status s = startDovecotDaemon(*node); !s)
            return s;
    }
    return {};
}

Status Sandbox::waitUntilReady(const QList<int> &indexes, bool ssh, bool syncthing, bool dovecot)
{
    struct Pending
    {
        int index;
        int daemon; // 0 sshd, 1 syncthing, 2 dovecot
    };
    QList<Pending> pending;
    for (int index : indexes) {
        if (ssh)
            pending.append({index, 0});
        if (syncthing)
            pending.append({index, 1});
        if (dovecot)
            pending.append({index, 2});
    }
    QDeadlineTimer deadline(m_options.startTimeoutMs);
    while (!pending.isEmpty()) {
        for (qsizetype i = pending.size() - 1; i >= 0; --i) {
            Node &node = *m_nodes[size_t(pending[i].index)];
            const NodeInfo &info = node.info;
            DaemonProcess *daemon = nullptr;
            QString log;
            bool ready = false;
            switch (pending[i].daemon) {
            case 0:
                daemon = node.sshd.get();
                log = info.sshdLogFile;
                ready = bool(sshBanner(info.sshPort, kProbeTimeoutMs));
                break;
            case 1: {
                daemon = node.syncthing.get();
                log = info.syncthingLogFile;
                Result<HttpReply> reply =
                    httpGet(info.syncthingGuiPort, "/rest/system/ping",
                            {{"X-API-Key", info.syncthingApiKey.toLatin1()}}, kProbeTimeoutMs);
                ready = reply && reply->status == 200 && reply->body.contains("pong");
                break;
            }
            default:
                daemon = node.dovecot.get();
                log = info.dovecotLogFile;
                ready = bool(imapGreeting(info.imapPort, kProbeTimeoutMs));
                break;
            }
            if (ready) {
                pending.removeAt(i);
                continue;
            }
            if (!daemon || !daemon->isRunning()) {
                QString tail = logTail(log);
                if (pending[i].daemon == 2)
                    tail += u'\n' + logTail(info.dir + u"/dovecot/dovecot.stderr"_s);
                return fail(ErrorCode::Unreachable,
                            (daemon ? daemon->spec().name : info.id).toStdString() +
                                " exited before it was ready: " + str(tail),
                            str(log));
            }
        }
        if (pending.isEmpty())
            break;
        if (deadline.hasExpired()) {
            const Pending &first = pending.first();
            return fail(ErrorCode::Timeout, m_nodes[size_t(first.index)]->info.id.toStdString() +
                                                " daemon " + std::to_string(first.daemon) +
                                                " not ready after " +
                                                std::to_string(m_options.startTimeoutMs) + " ms");
        }
        QThread::msleep(30);
    }
    return {};
}

Status Sandbox::writeStateFile() const
{
    QJsonObject state = description();
    QJsonArray processes;
    for (const auto &node : m_nodes) {
        const std::pair<const char *, DaemonProcess *> daemons[] = {
            {"sshd", node->sshd.get()},
            {"syncthing", node->syncthing.get()},
            {"dovecot", node->dovecot.get()},
            {"watch-changes", node->changeWatcher.get()}};
        for (const auto &[name, daemon] : daemons) {
            if (!daemon || daemon->pid() <= 0)
                continue;
            processes.append(QJsonObject{{u"node"_s, node->info.id},
                                         {u"daemon"_s, QString::fromLatin1(name)},
                                         {u"pid"_s, daemon->pid()},
                                         {u"pgid"_s, daemon->pgid()}});
        }
    }
    state.insert(u"processes"_s, processes);
    return writeFile(m_dir + u"/sandbox.json"_s, QJsonDocument(state).toJson(), kPrivateFile);
}

QJsonObject Sandbox::description() const
{
    QJsonArray nodes;
    for (const auto &node : m_nodes)
        nodes.append(node->info.toJson());
    return QJsonObject{
        {u"schemaVersion"_s, 1},
        {u"dir"_s, m_dir},
        {u"persistent"_s, m_options.persistent},
        {u"sshConfigFile"_s, sshConfigFile()},
        {u"identityFile"_s, identityFile()},
        {u"knownHostsFile"_s, knownHostsFile()},
        {u"mailUser"_s, m_user.name()},
        {u"startupMs"_s, m_startupMs},
        {u"nodes"_s, nodes},
    };
}

void Sandbox::tearDown()
{
    if (!m_running && m_nodes.empty())
        return;
    QElapsedTimer clock;
    clock.start();
    QSet<qint64> groups;
    // SIGTERM everything first so the daemons shut down in parallel, then wait for each.
    for (const auto &node : m_nodes)
        for (DaemonProcess *daemon :
             {node->sshd.get(), node->syncthing.get(), node->dovecot.get(), node->changeWatcher.get()})
            if (daemon && daemon->pid() > 0) {
                groups.insert(daemon->pgid());
                ::kill(-static_cast<pid_t>(daemon->pgid()), SIGTERM);
            }
    for (const auto &node : m_nodes) {
        for (auto *daemon : {&node->sshd, &node->syncthing, &node->dovecot, &node->changeWatcher})
            if (*daemon) {
                (*daemon)->stop();
                daemon->reset();
            }
    }
    bool survivors = false;
    if (!m_dir.isEmpty()) {
        const QList<ProcessTable::Entry> left = sweep(m_dir, groups);
        survivors = !left.isEmpty();
        if (survivors) // keep the dir: its logs and the run tag help find and explain them
            qWarning("sandbox: still running after teardown:\n%s",
                     qPrintable(ProcessTable::describe(left)));
    }
    m_running = false;
    qInfo("sandbox: nodes down: %d, in %lld ms", int(m_nodes.size()),
          static_cast<long long>(clock.elapsed()));
    m_nodes.clear();
    if (m_temporaryDir && !m_options.keepDir && !survivors)
        QDir(m_dir).removeRecursively();
    m_temporaryDir.reset();
}

QList<ProcessTable::Entry> Sandbox::leftovers() const
{
    return m_dir.isEmpty() ? QList<ProcessTable::Entry>{} : ProcessTable::sandboxProcesses(m_dir);
}

Result<QList<ProcessTable::Entry>> Sandbox::tearDownDirectory(const QString &directory)
{
    const QString dir = QDir::cleanPath(QFileInfo(directory).absoluteFilePath());
    QFile stateFile(dir + u"/sandbox.json"_s);
    if (!stateFile.open(QIODevice::ReadOnly))
        return fail(ErrorCode::NotFound, "no sandbox here (no sandbox.json)", str(dir));
    const QJsonObject state = QJsonDocument::fromJson(stateFile.readAll()).object();
    // A recorded group is only killed while one of its processes is provably ours (marked, or
    // started with a path in dir): a pgid may have been reused since. sshd and dovecot rewrite
    // their process title over their environment, so the command line is the proof for them.
    QSet<qint64> confirmed;
    for (const ProcessTable::Entry &entry : ProcessTable::sandboxProcesses(dir))
        confirmed.insert(entry.pgid);
    QSet<qint64> groups;
    const QJsonArray processes = state.value(u"processes"_s).toArray();
    for (const QJsonValue &value : processes) {
        const qint64 pgid = value.toObject().value(u"pgid"_s).toInteger();
        if (pgid > 1 && confirmed.contains(pgid)) {
            groups.insert(pgid);
            ::kill(-static_cast<pid_t>(pgid), SIGTERM);
        }
    }
    for (qint64 pgid : groups)
        DaemonProcess::killGroup(pgid, 3000);
    return sweep(dir, groups);
}

Status Sandbox::restartSshdWithNewHostKey(int index)
{
    if (Status valid = checkIndex(index); !valid)
        return valid;
    Node &node = *m_nodes[size_t(index)];
    if (node.sshd)
        node.sshd->stop();
    QFile::remove(node.hostKeyFile);
    QFile::remove(node.info.sshHostKeyFile);
    std::vector<ToolRun> tools;
    tools.push_back({node.info.id + u" ssh-keygen (new host key)"_s,
                     findProgram(u"ssh-keygen"_s),
                     {u"-q"_s, u"-t"_s, u"ed25519"_s, u"-N"_s, QString(), u"-C"_s,
                      node.info.id + u"-host"_s, u"-f"_s, node.hostKeyFile},
                     false,
                     nullptr});
    if (Status ran = runTools(tools, m_user, m_dir); !ran)
        return ran;
    Result<QString> fingerprint = fingerprintOf(node.info.sshHostKeyFile);
    if (!fingerprint)
        return fail(fingerprint.error());
    node.info.sshHostKeyFingerprint = *fingerprint;
    if (Status started = startSshd(node); !started)
        return started;
    if (Status ready = waitUntilReady({index}, true, false, false); !ready)
        return ready;
    return writeStateFile();
}

Status Sandbox::stopSyncthing(int index)
{
    if (Status valid = checkIndex(index); !valid)
        return valid;
    Node &node = *m_nodes[size_t(index)];
    if (node.syncthing)
        node.syncthing->stop();
    node.syncthing.reset();
    return writeStateFile();
}

Status Sandbox::startSyncthing(int index)
{
    if (Status valid = checkIndex(index); !valid)
        return valid;
    Node &node = *m_nodes[size_t(index)];
    if (node.syncthing && node.syncthing->isRunning())
        return {};
    if (Status started = startSyncthingDaemon(node); !started)
        return started;
    if (Status ready = waitUntilReady({index}, false, true, false); !ready)
        return ready;
    return writeStateFile();
}

Status Sandbox::stopDovecot(int index)
{
    if (Status valid = checkIndex(index); !valid)
        return valid;
    Node &node = *m_nodes[size_t(index)];
    if (node.dovecot)
        node.dovecot->stop();
    node.dovecot.reset();
    return writeStateFile();
}

Status Sandbox::restartDovecot(int index, const QString &prefix)
{
    if (Status stopped = stopDovecot(index); !stopped)
        return stopped;
    Node &node = *m_nodes[size_t(index)];
    if (!prefix.isEmpty() && prefix != node.info.dovecotPrefix) {
        Result<DovecotVersion> version = DovecotVersion::ofPrefix(prefix);
        if (!version)
            return fail(version.error());
        const bool otherRelease = version->release() != node.dovecotVersion.release();
        node.info.dovecotPrefix = prefix;
        node.dovecotVersion = *version;
        // Another line needs another syntax (2.4 refuses 2.3's); within a release the file the
        // test may have looked at stays as it is.
        if (otherRelease)
            if (Status written = writeDovecotConfig(node); !written)
                return written;
    }
    if (Status started = startDovecotDaemon(node); !started)
        return started;
    if (Status ready = waitUntilReady({index}, false, false, true); !ready)
        return ready;
    return writeStateFile();
}

QStringList Sandbox::sshArguments(int index) const
{
    return {u"-F"_s, sshConfigFile(), node(index).id};
}

Result<Sandbox::CommandResult> Sandbox::runOnNode(int index, const QString &command, int timeoutMs,
                                                  const QByteArray &input) const
{
    if (Status valid = checkIndex(index); !valid)
        return fail(valid.error());
    QProcess process;
    QStringList arguments = sshArguments(index);
    arguments << u"--"_s << command;
    process.start(findProgram(u"ssh"_s), arguments);
    if (!process.waitForStarted(10000))
        return fail(ErrorCode::NotFound, "cannot start ssh: " + str(process.errorString()));
    if (!input.isEmpty())
        process.write(input);
    process.closeWriteChannel();
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished(3000);
        return fail(ErrorCode::Timeout,
                    "ssh " + str(node(index).id) + " timed out: " + str(command));
    }
    CommandResult result;
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.standardOutput = process.readAllStandardOutput();
    result.standardError = process.readAllStandardError();
    return result;
}

Result<QByteArray> Sandbox::imapLoginSelect(int index, const QString &mailbox) const
{
    if (Status valid = checkIndex(index); !valid)
        return fail(valid.error());
    const NodeInfo &info = m_nodes[size_t(index)]->info;
    return mm::sandbox::imapLoginSelect(info.imapPort, info.imapUser, info.imapPassword, mailbox);
}

} // namespace mm::sandbox
