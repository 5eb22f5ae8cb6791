#include "lab/lab.h"

#include "lab/labcgroups.h"
#include "lab/labhost.h"
#include "lab/labmounts.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRandomGenerator>
#include <QThread>

#include <csignal>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace mm::lab {

struct Lab::Node
{
    LabNodeInfo info;
    int number = 0;
    QString machine; // systemd-nspawn --machine
    QString upperDir;
    QString workDir;
    QStringList cgroups;
    qint64 pid = 0;                    // systemd-nspawn
    std::unique_ptr<QProcess> process; // when the lab is not persistent
    QElapsedTimer bootClock;
    bool booted = false;
};

namespace {

constexpr QFile::Permissions kPrivateDir = QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner;
constexpr QFile::Permissions kPublicDir =
    kPrivateDir | QFile::ReadGroup | QFile::ExeGroup | QFile::ReadOther | QFile::ExeOther;
constexpr QFile::Permissions kPrivateFile = QFile::ReadOwner | QFile::WriteOwner;
constexpr QFile::Permissions kPublicFile = kPrivateFile | QFile::ReadGroup | QFile::ReadOther;
constexpr int kStopTimeoutMs = 30'000;

std::string str(const QString &text)
{
    return text.toStdString();
}

QString randomToken(int length, const char *alphabet)
{
    const int size = int(qstrlen(alphabet));
    QString token;
    for (int i = 0; i < length; ++i)
        token.append(QLatin1Char(alphabet[QRandomGenerator::system()->bounded(size)]));
    return token;
}

// Into a node's root from this machine: a symlink there (Debian links Dovecot's certificate to
// the snakeoil one by an absolute path) would lead to this machine's file, so it is replaced.
Status dropSymlink(const QString &path)
{
    if (QFileInfo(path).isSymLink() && !QFile::remove(path))
        return fail(ErrorCode::IoError, "cannot remove the symlink", str(path));
    return {};
}

Status writeFile(const QString &path, const QByteArray &content, QFile::Permissions permissions)
{
    if (Status dropped = dropSymlink(path); !dropped)
        return dropped;
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

Status run(const QString &program, const QStringList &arguments, const QByteArray &input = {})
{
    Result<ProgramOutput> ran = runProgram({program, arguments, input, 120'000});
    if (!ran)
        return fail(ran.error());
    return {};
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// "SHA256:<unpadded base64>", as `ssh-keygen -l` prints it, from a .pub line.
QString fingerprintOf(const QByteArray &publicKeyLine)
{
    const QList<QByteArray> fields = publicKeyLine.trimmed().split(' ');
    if (fields.size() < 2)
        return {};
    const QByteArray digest =
        QCryptographicHash::hash(QByteArray::fromBase64(fields[1]), QCryptographicHash::Sha256);
    return u"SHA256:"_s + QString::fromLatin1(digest.toBase64(QByteArray::OmitTrailingEquals));
}

bool isAlive(qint64 pid)
{
    const QByteArray stat = readFile(u"/proc/%1/stat"_s.arg(pid));
    const qsizetype close = stat.lastIndexOf(')');
    return close > 0 && stat.mid(close + 2, 1) != "Z";
}

// systemd-nspawn of this lab, and not a process that reused the pid since.
bool isLabNspawn(qint64 pid, const QString &rootDir)
{
    const QByteArray commandLine = readFile(u"/proc/%1/cmdline"_s.arg(pid));
    return commandLine.contains("systemd-nspawn") &&
           commandLine.contains(QFile::encodeName(rootDir));
}

bool waitUntilGone(qint64 pid, int timeoutMs)
{
    QElapsedTimer clock;
    clock.start();
    while (isAlive(pid)) {
        if (clock.elapsed() > timeoutMs)
            return false;
        QThread::msleep(50);
    }
    return true;
}

QString registrationFile(const QString &tag)
{
    return Lab::registryDir() + u'/' + tag + u".json"_s;
}

struct RecordedNode
{
    QString id;
    qint64 pid = 0;
    QString rootDir;
    QString dir;
};

// What teardown does with what a lab recorded, whether this process made it or an earlier one:
// stop the nodes (SIGTERM: systemd halts the container), kill what survives in their cgroups,
// unmount, remove the namespaces, the cgroups and the registration.
Status tearDownRecorded(const QString &tag, const QList<RecordedNode> &nodes, bool removeNodeDirs)
{
    QStringList problems;
    for (const RecordedNode &node : nodes)
        if (node.pid > 1 && isAlive(node.pid) && isLabNspawn(node.pid, node.rootDir))
            ::kill(pid_t(node.pid), SIGTERM);
    for (const RecordedNode &node : nodes) {
        if (node.pid > 1 && isLabNspawn(node.pid, node.rootDir) &&
            !waitUntilGone(node.pid, kStopTimeoutMs))
            ::kill(pid_t(node.pid), SIGKILL);
        if (Status killed = labcgroups::killAndRemove(labcgroups::nodeGroups(tag, node.id));
            !killed)
            problems << QString::fromStdString(killed.error().message);
        if (Status unmounted = labmounts::unmountUnder(node.rootDir); !unmounted)
            problems << QString::fromStdString(unmounted.error().message);
        else if (removeNodeDirs && !node.dir.isEmpty() && !QDir(node.dir).removeRecursively())
            problems << u"cannot remove %1"_s.arg(node.dir);
    }
    if (Status removed = LabNetwork(tag).removeAll(); !removed)
        problems << QString::fromStdString(removed.error().message);
    if (Status removed = labcgroups::killAndRemove(labcgroups::labGroups(tag)); !removed)
        problems << QString::fromStdString(removed.error().message);
    // The shared root of every lab's groups goes with the last lab.
    for (const QString &root : labcgroups::labGroups({}))
        QDir().rmdir(root);
    if (!problems.isEmpty())
        return fail(ErrorCode::IoError, problems.join(u"; "_s).toStdString());
    QFile::remove(registrationFile(tag));
    return {};
}

} // namespace

Lab::Lab(LabOptions options)
    : m_options(std::move(options))
{
    if (m_options.cacheDir.isEmpty())
        m_options.cacheDir = labhost::defaultCacheDir();
}

Lab::~Lab()
{
    if (!m_options.persistent)
        tearDown();
}

QString Lab::registryDir()
{
    return u"/run/mailmesh-lab"_s;
}

QString Lab::defaultDirectory()
{
    return u"/var/tmp/mailmesh-lab"_s;
}

QString Lab::identityFile() const
{
    return m_dir + u"/admin/id_ed25519"_s;
}

QString Lab::sshConfigFile() const
{
    return m_dir + u"/admin/ssh_config"_s;
}

QString Lab::knownHostsFile() const
{
    return m_dir + u"/admin/known_hosts"_s;
}

QString Lab::caFile() const
{
    return m_dir + u"/admin/ca.pem"_s;
}

QString Lab::adminNamespace() const
{
    return m_network ? m_network->adminNamespace() : QString();
}

QList<LabNodeInfo> Lab::nodes() const
{
    QList<LabNodeInfo> infos;
    for (const auto &node : m_nodes)
        infos << node->info;
    return infos;
}

LabNodeInfo Lab::node(int index) const
{
    return index >= 0 && index < int(m_nodes.size()) ? m_nodes[size_t(index)]->info : LabNodeInfo{};
}

Status Lab::checkIndex(int index) const
{
    if (index < 0 || index >= int(m_nodes.size()))
        return fail(ErrorCode::NotFound, "no lab node with index " + std::to_string(index));
    return {};
}

Status Lab::start()
{
    if (m_running)
        return fail(ErrorCode::Conflict, "the lab is running already");
    QElapsedTimer clock;
    clock.start();
    Status started = startOnce();
    if (!started) {
        tearDown();
        return started;
    }
    m_startupMs = clock.elapsed();
    m_running = true;
    return writeStateFile();
}

Status Lab::startOnce()
{
    if (const QString why = labhost::whyLabCannotRun(); !why.isEmpty())
        return fail(ErrorCode::Unsupported, str(why));
    if (m_options.nodeCount < 1 || m_options.nodeCount > 200)
        return fail(ErrorCode::BadRequest, "a lab has 1 to 200 nodes");
    if (labhost::suiteOf(m_options.debianRelease).isEmpty())
        return fail(ErrorCode::BadRequest, "lab nodes run Debian 12 or 13, not " + str(m_options.debianRelease));
    if (Status tools = labhost::ensureTools(); !tools)
        return tools;
    Result<QString> image =
        labhost::ensureImage(m_options.debianRelease, m_options.cacheDir, &m_imageBuildMs);
    if (!image)
        return fail(image.error());
    m_image = *image;
    if (Status prepared = prepareDirectory(); !prepared)
        return prepared;
    if (Status admin = makeAdminFiles(); !admin)
        return admin;
    if (Status network = m_network->createBridge(); !network)
        return network;
    QList<int> indexes;
    for (int number = 1; number <= m_options.nodeCount; ++number) {
        if (Status made = makeNode(number); !made)
            return made;
        indexes << number - 1;
    }
    if (Status booted = waitUntilBooted(indexes); !booted)
        return booted;
    return writeClientFiles();
}

Status Lab::prepareDirectory()
{
    if (m_options.dir.isEmpty()) {
        QByteArray pattern = "/var/tmp/mailmesh-lab-XXXXXX";
        if (!::mkdtemp(pattern.data()))
            return fail(ErrorCode::IoError, "cannot create a lab directory under /var/tmp");
        m_dir = QString::fromLocal8Bit(pattern);
        m_dirIsTemporary = true;
    } else {
        m_dir = QDir::cleanPath(QFileInfo(m_options.dir).absoluteFilePath());
        const QJsonObject previous =
            QJsonDocument::fromJson(readFile(m_dir + u"/lab.json"_s)).object();
        const QString previousTag =
            previous.value(u"state"_s).toObject().value(u"tag"_s).toString();
        if (!previousTag.isEmpty() && QFileInfo::exists(registrationFile(previousTag)))
            return fail(ErrorCode::Conflict,
                        "a lab is up in this directory; run `mailmeshctl lab down --dir " +
                            str(m_dir) + "` first",
                        str(m_dir));
        const QStringList entries =
            QDir(m_dir).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden);
        if (previousTag.isEmpty() && !entries.isEmpty())
            return fail(ErrorCode::Conflict, "the directory is neither empty nor a lab's",
                        str(m_dir));
        for (const QString &entry : entries) // what a lab that is down left: made again below
            if (!(QFileInfo(m_dir + u'/' + entry).isDir()
                      ? QDir(m_dir + u'/' + entry).removeRecursively()
                      : QFile::remove(m_dir + u'/' + entry)))
                return fail(ErrorCode::IoError, "cannot clear the previous lab's files",
                            str(m_dir + u'/' + entry));
        if (Status made = makeDir(m_dir, kPublicDir); !made)
            return made;
    }
    // Overlay options are a comma-separated list: a path with a comma or colon cannot be a layer.
    if (m_dir.contains(u',') || m_dir.contains(u':') || m_image.contains(u',') ||
        m_image.contains(u':'))
        return fail(ErrorCode::BadRequest,
                    "the lab directory and the cache may not contain ',' or ':'", str(m_dir));
    QFile::setPermissions(m_dir, kPublicDir);
    m_network = std::make_unique<LabNetwork>(randomToken(6, "0123456789abcdef"));
    return writeRegistration();
}

Status Lab::writeRegistration() const
{
    if (Status made = makeDir(registryDir(), kPublicDir); !made)
        return made;
    const QJsonObject registration{
        {u"dir"_s, m_dir},
        {u"tag"_s, tag()},
        {u"run"_s, qEnvironmentVariable("MAILMESH_SANDBOX_RUN")},
        {u"pid"_s, qint64(::getpid())},
        {u"created"_s, QDateTime::currentDateTimeUtc().toString(Qt::ISODate)},
    };
    return writeFile(registrationFile(tag()), QJsonDocument(registration).toJson(), kPublicFile);
}

Status Lab::makeAdminFiles()
{
    for (const QString &sub : {u"/admin"_s, u"/ca"_s, u"/nodes"_s})
        if (Status made = makeDir(m_dir + sub, sub == u"/nodes"_s ? kPublicDir : kPrivateDir);
            !made)
            return made;
    if (Status key =
            run(u"ssh-keygen"_s, {u"-q"_s, u"-t"_s, u"ed25519"_s, u"-N"_s, QString(), u"-C"_s,
                                  u"mailmesh-lab-admin"_s, u"-f"_s, identityFile()});
        !key)
        return key;
    if (Status ca =
            run(u"openssl"_s, {u"req"_s, u"-x509"_s, u"-newkey"_s, u"ec"_s, u"-pkeyopt"_s,
                               u"ec_paramgen_curve:prime256v1"_s, u"-nodes"_s, u"-keyout"_s,
                               m_dir + u"/ca/ca.key"_s, u"-out"_s, caFile(), u"-days"_s, u"30"_s,
                               u"-subj"_s, u"/CN=Mailmesh lab %1 CA"_s.arg(tag())});
        !ca)
        return ca;
    m_accounts.clear();
    m_usersFile.clear();
    for (const QString &user : {u"alice"_s, u"bob"_s}) {
        const Account account{
            user + u'@' + mailDomain(),
            randomToken(20, "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")};
        Result<ProgramOutput> hash = runProgram({u"openssl"_s,
                                                 {u"passwd"_s, u"-6"_s, u"-stdin"_s},
                                                 account.password.toUtf8() + '\n',
                                                 30'000});
        if (!hash)
            return fail(hash.error());
        m_usersFile +=
            account.login.toUtf8() + ":{SHA512-CRYPT}" + hash->standardOutput.trimmed() + "\n";
        m_accounts << account;
    }
    return {};
}

Status Lab::makeNode(int number)
{
    auto node = std::make_unique<Node>();
    node->number = number;
    LabNodeInfo &info = node->info;
    info.id = u"node"_s + QString::number(number);
    info.hostName = info.id + u'.' + mailDomain();
    info.address = LabNetwork::nodeAddress(number);
    info.dir = m_dir + u"/nodes/"_s + info.id;
    info.rootDir = info.dir + u"/root"_s;
    info.rootLoginAllowed = m_options.login == LoginVariant::Root ||
                            (m_options.login == LoginVariant::Mixed && number % 2 == 1);
    info.sshUser = info.rootLoginAllowed ? u"root"_s : u"admin"_s;
    node->machine = LabNetwork(tag()).nodeNamespace(number);
    node->upperDir = info.dir + u"/upper"_s;
    node->workDir = info.dir + u"/work"_s;
    node->cgroups = labcgroups::nodeGroups(tag(), info.id);
    Node &made = *node;
    m_nodes.push_back(std::move(node));

    for (const QString &path : {made.upperDir, made.workDir, info.rootDir})
        if (Status dir = makeDir(path, kPublicDir); !dir)
            return dir;
    const QByteArray options = "lowerdir=" + QFile::encodeName(m_image) +
                               ",upperdir=" + QFile::encodeName(made.upperDir) +
                               ",workdir=" + QFile::encodeName(made.workDir);
    if (::mount("overlay", QFile::encodeName(info.rootDir).constData(), "overlay", 0,
                options.constData()) != 0)
        return fail(ErrorCode::IoError,
                    "cannot mount the node's overlay: " + std::string(strerror(errno)),
                    str(info.rootDir));
    if (Status files = writeNodeFiles(made); !files)
        return files;
    if (Status network = m_network->createNode(number); !network)
        return network;
    if (Status groups = labcgroups::create(made.cgroups); !groups)
        return groups;
    return launchNode(made);
}

Status Lab::writeNodeFiles(Node &node)
{
    LabNodeInfo &info = node.info;
    const QString root = info.rootDir;
    QByteArray hosts = "127.0.0.1\tlocalhost\n" + QByteArray(LabNetwork::kAdminAddress) +
                       "\tadmin." + mailDomain().toUtf8() + " admin\n";
    for (int number = 1; number <= std::max(m_options.nodeCount, node.number); ++number)
        hosts += LabNetwork::nodeAddress(number).toUtf8() + "\tnode" + QByteArray::number(number) +
                 '.' + mailDomain().toUtf8() + " node" + QByteArray::number(number) + '\n';
    const QByteArray machineId = randomToken(32, "0123456789abcdef").toLatin1() + '\n';
    const QByteArray authorizedKey = readFile(identityFile() + u".pub"_s);
    const QByteArray login =
        info.rootLoginAllowed ? "PermitRootLogin prohibit-password\n" : "PermitRootLogin no\n";

    struct File
    {
        QString path;
        QByteArray content;
        QFile::Permissions permissions;
    };
    const File files[] = {
        {u"/etc/hostname"_s, info.hostName.toUtf8() + '\n', kPublicFile},
        {u"/etc/hosts"_s, hosts, kPublicFile},
        {u"/etc/machine-id"_s, machineId, kPublicFile},
        {u"/etc/ssh/sshd_config.d/50-lab-login.conf"_s,
         "# Mailmesh lab: how the admin logs in.\n" + login, kPublicFile},
        {u"/home/admin/.ssh/authorized_keys"_s, authorizedKey, kPrivateFile},
        {u"/etc/dovecot/users"_s, m_usersFile, kPrivateFile | QFile::ReadGroup},
    };
    for (const QString &dir : {u"/home/admin/.ssh"_s, u"/root/.ssh"_s})
        if (Status made = makeDir(root + dir, kPrivateDir); !made)
            return made;
    for (const File &file : files)
        if (Status written = writeFile(root + file.path, file.content, file.permissions); !written)
            return written;
    if (info.rootLoginAllowed)
        if (Status written =
                writeFile(root + u"/root/.ssh/authorized_keys"_s, authorizedKey, kPrivateFile);
            !written)
            return written;

    // Host keys of its own (every type sshd offers), and a certificate from the lab's CA.
    if (Status keys = run(u"ssh-keygen"_s, {u"-A"_s, u"-f"_s, root}); !keys)
        return keys;
    info.sshHostPublicKeys.clear();
    for (const QString &type : {u"ed25519"_s, u"ecdsa"_s, u"rsa"_s}) {
        const QByteArray line =
            readFile(root + u"/etc/ssh/ssh_host_%1_key.pub"_s.arg(type)).trimmed();
        const QList<QByteArray> fields = line.split(' ');
        if (fields.size() >= 2)
            info.sshHostPublicKeys << QString::fromLatin1(fields[0] + ' ' + fields[1]);
        if (type == u"ed25519"_s)
            info.sshHostKeyFingerprint = fingerprintOf(line);
    }
    if (info.sshHostKeyFingerprint.isEmpty())
        return fail(ErrorCode::IoError, "no ed25519 host key was made", str(root + u"/etc/ssh"_s));
    if (Status made = makeDir(root + u"/etc/dovecot/private"_s, kPrivateDir); !made)
        return made;
    for (const QString &file :
         {u"/etc/dovecot/private/dovecot.key"_s, u"/etc/dovecot/private/dovecot.pem"_s})
        if (Status dropped = dropSymlink(root + file); !dropped)
            return dropped;
    if (Status certificate =
            run(u"openssl"_s, {u"req"_s,
                               u"-x509"_s,
                               u"-newkey"_s,
                               u"ec"_s,
                               u"-pkeyopt"_s,
                               u"ec_paramgen_curve:prime256v1"_s,
                               u"-nodes"_s,
                               u"-keyout"_s,
                               root + u"/etc/dovecot/private/dovecot.key"_s,
                               u"-out"_s,
                               root + u"/etc/dovecot/private/dovecot.pem"_s,
                               u"-days"_s,
                               u"30"_s,
                               u"-subj"_s,
                               u"/CN="_s + info.hostName,
                               u"-addext"_s,
                               u"subjectAltName=DNS:%1,IP:%2"_s.arg(info.hostName, info.address),
                               u"-CA"_s,
                               caFile(),
                               u"-CAkey"_s,
                               m_dir + u"/ca/ca.key"_s});
        !certificate)
        return certificate;
    // Owners as the node knows them (its uids need not be this machine's).
    return run(
        u"chroot"_s,
        {root, u"/bin/sh"_s, u"-c"_s,
         u"chown -R admin:admin /home/admin/.ssh && chown root:dovecot /etc/dovecot/users && "
         "chmod 0600 /etc/dovecot/private/dovecot.key"_s});
}

Status Lab::launchNode(Node &node)
{
    const LabNodeInfo &info = node.info;
    QStringList nspawn{u"-b"_s, u"-D"_s, info.rootDir,
                       // No machined on a host whose PID 1 is not systemd; the cgroup is ours.
                       u"--register=no"_s, u"--keep-unit"_s, u"--machine="_s + node.machine,
                       u"--hostname="_s + info.hostName,
                       u"--network-namespace-path="_s +
                           LabNetwork::namespacePath(m_network->nodeNamespace(node.number)),
                       u"--console=read-only"_s, u"--resolv-conf=off"_s, u"--link-journal=no"_s,
                       u"--timezone=off"_s};
    for (const QString &bind : std::as_const(m_options.readOnlyBinds))
        nspawn << u"--bind-ro="_s + bind;
    // The shell puts itself (and so nspawn, which it becomes) into the node's cgroups first.
    QStringList arguments{
        u"-c"_s,
        u"while [ \"$1\" != -- ]; do echo $$ > \"$1/cgroup.procs\" || exit 97; shift; done; shift; "
        "exec \"$@\""_s,
        u"lab-node"_s};
    arguments << node.cgroups << u"--"_s << findProgram(u"systemd-nspawn"_s) << nspawn;
    const QString console = info.dir + u"/console.log"_s;
    node.bootClock.start();
    if (m_options.persistent) {
        QProcess process;
        process.setProgram(u"/bin/sh"_s);
        process.setArguments(arguments);
        process.setStandardOutputFile(console);
        process.setStandardErrorFile(console, QIODevice::Append);
        if (!process.startDetached(&node.pid))
            return fail(ErrorCode::IoError,
                        "cannot start systemd-nspawn: " + str(process.errorString()), str(info.id));
        return {};
    }
    node.process = std::make_unique<QProcess>();
    node.process->setProgram(u"/bin/sh"_s);
    node.process->setArguments(arguments);
    node.process->setStandardOutputFile(console);
    node.process->setProcessChannelMode(QProcess::MergedChannels);
    node.process->setStandardInputFile(QProcess::nullDevice());
    // The node powers off when the process that made it goes away (nspawn halts the container
    // on SIGTERM); the leftover check finds anything else.
    node.process->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
    node.process->start();
    if (!node.process->waitForStarted(10'000))
        return fail(ErrorCode::IoError,
                    "cannot start systemd-nspawn: " + str(node.process->errorString()),
                    str(info.id));
    node.pid = node.process->processId();
    return {};
}

qint64 Lab::leaderPid(const Node &node) const
{
    // The container's PID 1 is nspawn's child whose innermost pid is 1.
    const QList<QByteArray> children =
        readFile(u"/proc/%1/task/%1/children"_s.arg(node.pid)).split(' ');
    for (const QByteArray &child : children) {
        const qint64 pid = child.trimmed().toLongLong();
        if (pid <= 0)
            continue;
        for (const QByteArray &line : readFile(u"/proc/%1/status"_s.arg(pid)).split('\n'))
            if (line.startsWith("NSpid:") && line.split('\t').last().trimmed() == "1")
                return pid;
    }
    return 0;
}

Result<ProgramOutput> Lab::runInNode(int index, const QStringList &argv, const QByteArray &input,
                                     int timeoutMs) const
{
    if (Status valid = checkIndex(index); !valid)
        return fail(valid.error());
    const qint64 leader = leaderPid(*m_nodes[size_t(index)]);
    if (leader <= 0)
        return fail(ErrorCode::Unreachable, "the node is not running",
                    str(m_nodes[size_t(index)]->info.id));
    return runProgramAllowingFailure(
        {u"nsenter"_s,
         QStringList{u"-t"_s, QString::number(leader), u"-m"_s, u"-u"_s, u"-i"_s, u"-n"_s, u"-p"_s,
                     u"-r"_s, u"-w"_s, u"--"_s, u"/usr/bin/env"_s, u"-i"_s,
                     u"PATH=/usr/sbin:/usr/bin:/sbin:/bin"_s, u"LC_ALL=C.UTF-8"_s} +
             argv,
         input, timeoutMs});
}

Status Lab::waitUntilBooted(const QList<int> &indexes)
{
    QElapsedTimer clock;
    clock.start();
    for (;;) {
        bool all = true;
        for (int index : indexes) {
            Node &node = *m_nodes[size_t(index)];
            if (node.booted)
                continue;
            all = false;
            if (!isAlive(node.pid)) {
                const QByteArray console = readFile(node.info.dir + u"/console.log"_s);
                return fail(ErrorCode::IoError,
                            "systemd-nspawn exited while the node booted: " +
                                console.right(800).toStdString(),
                            str(node.info.id));
            }
            Result<ProgramOutput> state =
                runInNode(index, {u"systemctl"_s, u"is-system-running"_s}, {}, 10'000);
            const QByteArray answer = state ? state->standardOutput.trimmed() : QByteArray();
            if (answer == "running") {
                node.booted = true;
                node.info.bootMs = node.bootClock.elapsed();
            } else if (answer == "degraded") {
                Result<ProgramOutput> failed = runInNode(
                    index, {u"systemctl"_s, u"--failed"_s, u"--no-legend"_s, u"--plain"_s}, {},
                    10'000);
                return fail(ErrorCode::IoError,
                            "the node booted degraded; failed units: " +
                                (failed ? failed->standardOutput.trimmed().toStdString()
                                        : std::string("unknown")),
                            str(node.info.id));
            }
        }
        if (all)
            return {};
        if (clock.elapsed() > m_options.bootTimeoutMs)
            return fail(ErrorCode::Timeout, "the nodes did not finish booting within " +
                                                std::to_string(m_options.bootTimeoutMs / 1000) +
                                                " s");
        QThread::msleep(200);
    }
}

Status Lab::writeClientFiles() const
{
    QByteArray config = "# The Mailmesh lab in " + QFile::encodeName(m_dir) +
                        ". Its nodes answer in its admin namespace only:\n#   nsenter --net=" +
                        QFile::encodeName(LabNetwork::namespacePath(adminNamespace())) +
                        " ssh -F " + QFile::encodeName(sshConfigFile()) + " node1\n";
    QByteArray knownHosts;
    for (const auto &node : m_nodes) {
        const LabNodeInfo &info = node->info;
        config += "\nHost " + info.id.toUtf8() + ' ' + info.hostName.toUtf8() + "\n  HostName " +
                  info.address.toUtf8() + "\n  User " + info.sshUser.toUtf8() +
                  "\n  IdentityFile " + QFile::encodeName(identityFile()) +
                  "\n  IdentitiesOnly yes\n  UserKnownHostsFile " +
                  QFile::encodeName(knownHostsFile()) + "\n  StrictHostKeyChecking yes\n";
        for (const QString &key : info.sshHostPublicKeys)
            knownHosts += info.address.toUtf8() + ',' + info.hostName.toUtf8() + ',' +
                          info.id.toUtf8() + ' ' + key.toUtf8() + '\n';
    }
    if (Status written = writeFile(sshConfigFile(), config, kPrivateFile); !written)
        return written;
    return writeFile(knownHostsFile(), knownHosts, kPrivateFile);
}

QJsonObject Lab::description() const
{
    QJsonArray nodes;
    for (const auto &node : m_nodes)
        nodes.append(node->info.toJson(identityFile()));
    QJsonArray accounts;
    for (const Account &account : m_accounts)
        accounts.append(
            QJsonObject{{u"login"_s, account.login}, {u"password"_s, account.password}});
    const QString adminPath = LabNetwork::namespacePath(adminNamespace());
    return QJsonObject{
        {u"schemaVersion"_s, 1},
        {u"dir"_s, m_dir},
        {u"persistent"_s, m_options.persistent},
        {u"debianRelease"_s, m_options.debianRelease},
        {u"image"_s, m_image},
        {u"network"_s,
         QJsonObject{
             {u"subnet"_s, QLatin1String(LabNetwork::kSubnet)},
             {u"adminAddress"_s, QLatin1String(LabNetwork::kAdminAddress)},
             {u"adminNamespace"_s, adminPath},
             // Run the admin side (mailmeshctl, ssh, an IMAP client) on the lab's network.
             {u"adminCommand"_s, QJsonArray{u"nsenter"_s, u"--net="_s + adminPath, u"--"_s}},
         }},
        {u"sshConfigFile"_s, sshConfigFile()},
        {u"identityFile"_s, identityFile()},
        {u"knownHostsFile"_s, knownHostsFile()},
        {u"caFile"_s, caFile()},
        {u"mailDomain"_s, mailDomain()},
        {u"accounts"_s, accounts},
        {u"startupMs"_s, m_startupMs},
        {u"imageBuildMs"_s, m_imageBuildMs},
        {u"nodes"_s, nodes},
    };
}

Status Lab::writeStateFile() const
{
    QJsonObject state = description();
    QJsonArray recorded;
    for (const auto &node : m_nodes)
        recorded.append(
            QJsonObject{{u"id"_s, node->info.id},
                        {u"pid"_s, node->pid},
                        {u"rootDir"_s, node->info.rootDir},
                        {u"dir"_s, node->info.dir},
                        {u"hostKeys"_s, QJsonArray::fromStringList(node->info.sshHostPublicKeys)}});
    // What attach() needs besides the description to add nodes like the first ones.
    state.insert(u"state"_s, QJsonObject{{u"tag"_s, tag()},
                                         {u"nodes"_s, recorded},
                                         {u"login"_s, int(m_options.login)},
                                         {u"readOnlyBinds"_s,
                                          QJsonArray::fromStringList(m_options.readOnlyBinds)},
                                         {u"usersFile"_s, QString::fromUtf8(m_usersFile)}});
    return writeFile(m_dir + u"/lab.json"_s, QJsonDocument(state).toJson(), kPrivateFile);
}

Result<int> Lab::addNode()
{
    if (!m_running)
        return fail(ErrorCode::Conflict, "the lab is not running");
    const int number = int(m_nodes.size()) + 1;
    if (Status made = makeNode(number); !made)
        return fail(made.error());
    if (Status booted = waitUntilBooted({number - 1}); !booted)
        return fail(booted.error());
    if (Status written = writeClientFiles(); !written)
        return fail(written.error());
    if (Status written = writeStateFile(); !written)
        return fail(written.error());
    return number - 1;
}

Status Lab::stopNode(int index)
{
    if (Status valid = checkIndex(index); !valid)
        return valid;
    return stopNodeProcesses(*m_nodes[size_t(index)]);
}

Status Lab::stopNodeProcesses(Node &node)
{
    if (node.process) {
        if (node.process->state() != QProcess::NotRunning) {
            node.process->terminate();
            if (!node.process->waitForFinished(kStopTimeoutMs)) {
                node.process->kill();
                node.process->waitForFinished(5'000);
            }
        }
    } else if (node.pid > 1 && isLabNspawn(node.pid, node.info.rootDir)) {
        ::kill(pid_t(node.pid), SIGTERM);
        if (!waitUntilGone(node.pid, kStopTimeoutMs))
            ::kill(pid_t(node.pid), SIGKILL);
    }
    node.booted = false;
    return labcgroups::killAndRemove(node.cgroups);
}

void Lab::tearDown()
{
    if (!m_network) {
        m_nodes.clear();
        return;
    }
    // SIGTERM to every node first: they halt in parallel.
    for (const auto &node : m_nodes)
        if (node->process && node->process->state() != QProcess::NotRunning)
            node->process->terminate();
    QList<RecordedNode> recorded;
    for (const auto &node : m_nodes) {
        if (Status stopped = stopNodeProcesses(*node); !stopped)
            qWarning("lab: %s", stopped.error().describe().c_str());
        recorded << RecordedNode{node->info.id, 0, node->info.rootDir, node->info.dir};
    }
    if (Status removed = tearDownRecorded(tag(), recorded, !m_options.keepDir); !removed) {
        qWarning("lab: teardown left something behind: %s", removed.error().describe().c_str());
    } else if (!m_options.keepDir) {
        // A given directory keeps nothing of the lab either (a failed `lab up` may run again
        // there); a temporary one goes altogether.
        for (const QString &sub : {u"/admin"_s, u"/ca"_s, u"/nodes"_s})
            QDir(m_dir + sub).removeRecursively();
        QFile::remove(m_dir + u"/lab.json"_s);
        if (m_dirIsTemporary)
            QDir(m_dir).removeRecursively();
    }
    m_nodes.clear();
    m_network.reset();
    m_running = false;
}

Status Lab::tearDownDirectory(const QString &directory)
{
    const QString dir = QDir::cleanPath(QFileInfo(directory).absoluteFilePath());
    const QJsonObject lab = QJsonDocument::fromJson(readFile(dir + u"/lab.json"_s)).object();
    const QJsonObject state = lab.value(u"state"_s).toObject();
    const QString tag = state.value(u"tag"_s).toString();
    if (tag.isEmpty())
        return fail(ErrorCode::NotFound, "no lab here (no lab.json)", str(dir));
    QList<RecordedNode> nodes;
    for (const QJsonValue &value : state.value(u"nodes"_s).toArray()) {
        const QJsonObject node = value.toObject();
        nodes << RecordedNode{node.value(u"id"_s).toString(), node.value(u"pid"_s).toInteger(),
                              node.value(u"rootDir"_s).toString(), node.value(u"dir"_s).toString()};
    }
    if (Status removed = tearDownRecorded(tag, nodes, true); !removed)
        return removed;
    // The admin side's keys and the CA go with the lab; the directory too once empty.
    for (const QString &sub : {u"/admin"_s, u"/ca"_s, u"/nodes"_s})
        QDir(dir + sub).removeRecursively();
    QFile::remove(dir + u"/lab.json"_s);
    QDir().rmdir(dir);
    return {};
}

Result<std::unique_ptr<Lab>> Lab::attach(const QString &directory)
{
    const QString dir = QDir::cleanPath(QFileInfo(directory).absoluteFilePath());
    const QJsonObject lab = QJsonDocument::fromJson(readFile(dir + u"/lab.json"_s)).object();
    const QJsonObject state = lab.value(u"state"_s).toObject();
    const QString tag = state.value(u"tag"_s).toString();
    if (tag.isEmpty() || !QFileInfo::exists(registrationFile(tag)))
        return fail(ErrorCode::NotFound, "no lab is up here (no lab.json, or it is down)",
                    str(dir));
    LabOptions options;
    options.dir = dir;
    options.persistent = true;
    options.debianRelease = lab.value(u"debianRelease"_s).toString();
    options.login = LoginVariant(state.value(u"login"_s).toInt());
    for (const QJsonValue &bind : state.value(u"readOnlyBinds"_s).toArray())
        options.readOnlyBinds << bind.toString();
    auto attached = std::make_unique<Lab>(options);
    attached->m_dir = dir;
    attached->m_image = lab.value(u"image"_s).toString();
    attached->m_network = std::make_unique<LabNetwork>(tag);
    attached->m_usersFile = state.value(u"usersFile"_s).toString().toUtf8();
    attached->m_startupMs = lab.value(u"startupMs"_s).toInteger();
    for (const QJsonValue &value : lab.value(u"accounts"_s).toArray())
        attached->m_accounts << Account{value[u"login"_s].toString(),
                                        value[u"password"_s].toString()};
    const QJsonArray described = lab.value(u"nodes"_s).toArray();
    const QJsonArray recorded = state.value(u"nodes"_s).toArray();
    for (qsizetype i = 0; i < described.size() && i < recorded.size(); ++i) {
        const QJsonObject json = described[i].toObject();
        const QJsonObject ssh = json.value(u"ssh"_s).toObject();
        auto node = std::make_unique<Node>();
        node->info.id = json.value(u"id"_s).toString();
        node->info.hostName = json.value(u"hostName"_s).toString();
        node->info.address = json.value(u"address"_s).toString();
        node->info.dir = json.value(u"dir"_s).toString();
        node->info.rootDir = json.value(u"rootDir"_s).toString();
        node->info.bootMs = json.value(u"bootMs"_s).toInteger();
        node->info.sshUser = ssh.value(u"user"_s).toString();
        node->info.rootLoginAllowed = ssh.value(u"rootLoginAllowed"_s).toBool();
        node->info.sshHostKeyFingerprint = ssh.value(u"hostKeyFingerprint"_s).toString();
        for (const QJsonValue &key : recorded[i].toObject().value(u"hostKeys"_s).toArray())
            node->info.sshHostPublicKeys << key.toString();
        node->number = int(i) + 1;
        node->machine = LabNetwork(tag).nodeNamespace(node->number);
        node->upperDir = node->info.dir + u"/upper"_s;
        node->workDir = node->info.dir + u"/work"_s;
        node->cgroups = labcgroups::nodeGroups(tag, node->info.id);
        node->pid = recorded[i].toObject().value(u"pid"_s).toInteger();
        node->booted = isAlive(node->pid);
        attached->m_nodes.push_back(std::move(node));
    }
    attached->m_options.nodeCount = int(attached->m_nodes.size());
    attached->m_running = true;
    return attached;
}

Status Lab::enterAdminNetwork() const
{
    if (!m_network)
        return fail(ErrorCode::Conflict, "the lab is not running");
    return LabNetwork::enter(adminNamespace());
}

} // namespace mm::lab
