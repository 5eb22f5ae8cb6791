#include "cluster/config/clusterconfig.h"

#include "maildir/statedir.h"
#include "remote/sshaddress.h"
#include "remote/sshoptionpolicy.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSaveFile>
#include <QStandardPaths>

namespace mm::cluster {

namespace {

// Reads typed fields out of one JSON object and remembers every problem with its field path,
// so that a broken file is reported in one go rather than one error per attempt.
class FieldReader
{
public:
    FieldReader(const QJsonObject &object, QString path, QStringList &problems)
        : m_object(object)
        , m_path(std::move(path))
        , m_problems(problems)
    {
    }

    QString string(const QString &key, bool required = false) const
    {
        const QJsonValue value = m_object.value(key);
        if (value.isUndefined() || value.isNull()) {
            if (required)
                problem(key, QStringLiteral("is missing"));
            return {};
        }
        if (!value.isString()) {
            problem(key, QStringLiteral("must be a string"));
            return {};
        }
        return value.toString();
    }

    bool boolean(const QString &key) const
    {
        const QJsonValue value = m_object.value(key);
        if (value.isUndefined() || value.isNull())
            return false;
        if (!value.isBool())
            problem(key, QStringLiteral("must be true or false"));
        return value.toBool();
    }

    QStringList stringList(const QString &key) const
    {
        QStringList list;
        const QJsonValue value = m_object.value(key);
        if (value.isUndefined() || value.isNull())
            return list;
        if (!value.isArray()) {
            problem(key, QStringLiteral("must be a list of strings"));
            return list;
        }
        const QJsonArray array = value.toArray();
        for (qsizetype i = 0; i < array.size(); ++i) {
            if (!array[i].isString())
                problem(QStringLiteral("%1[%2]").arg(key).arg(i), QStringLiteral("must be a string"));
            else
                list << array[i].toString();
        }
        return list;
    }

    QList<QStringList> commandList(const QString &key) const
    {
        QList<QStringList> commands;
        const QJsonValue value = m_object.value(key);
        if (value.isUndefined() || value.isNull())
            return commands;
        const QString message = QStringLiteral("must be a list of commands, each a list of arguments");
        if (!value.isArray()) {
            problem(key, message);
            return commands;
        }
        const QJsonArray array = value.toArray();
        for (qsizetype i = 0; i < array.size(); ++i) {
            const QString field = QStringLiteral("%1[%2]").arg(key).arg(i);
            if (!array[i].isArray() || array[i].toArray().isEmpty()) {
                problem(field, message);
                continue;
            }
            QStringList argv;
            for (const QJsonValue &argument : array[i].toArray()) {
                if (!argument.isString()) {
                    problem(field, QStringLiteral("every argument must be a string"));
                    break;
                }
                argv << argument.toString();
            }
            commands << argv;
        }
        return commands;
    }

    int port(const QString &key, int fallback) const
    {
        const QJsonValue value = m_object.value(key);
        if (value.isUndefined() || value.isNull())
            return fallback;
        const double number = value.toDouble(-1);
        // The range first: int(8e9) would be undefined (found by fuzz_clusterconfig).
        if (!value.isDouble() || !(number >= 1 && number <= 65535) || number != double(int(number))) {
            problem(key, QStringLiteral("must be a port number from 1 to 65535"));
            return fallback;
        }
        return int(number);
    }

    QJsonObject object(const QString &key) const
    {
        const QJsonValue value = m_object.value(key);
        if (!value.isUndefined() && !value.isNull() && !value.isObject())
            problem(key, QStringLiteral("must be an object"));
        return value.toObject();
    }

    QString fieldPath(const QString &key) const { return m_path.isEmpty() ? key : m_path + QLatin1Char('.') + key; }

    void problem(const QString &key, const QString &what) const { m_problems << fieldPath(key) + QStringLiteral(": ") + what; }

private:
    QJsonObject m_object;
    QString m_path;
    QStringList &m_problems;
};

QJsonArray toJsonArray(const QStringList &list)
{
    return QJsonArray::fromStringList(list);
}

QJsonArray toJsonArray(const QList<QStringList> &commands)
{
    QJsonArray array;
    for (const QStringList &argv : commands)
        array.append(QJsonArray::fromStringList(argv));
    return array;
}

// Keys without a value are left out, so files stay short and diffs readable.
void insertIfSet(QJsonObject &object, const QString &key, const QString &value)
{
    if (!value.isEmpty())
        object.insert(key, value);
}

void insertIfSet(QJsonObject &object, const QString &key, const QJsonArray &value)
{
    if (!value.isEmpty())
        object.insert(key, value);
}

QJsonObject nodeToJson(const NodeConfig &node)
{
    QJsonObject object{{QStringLiteral("id"), node.id}, {QStringLiteral("ssh"), node.ssh},
                       {QStringLiteral("mailRoot"), node.mailRoot}};
    insertIfSet(object, QStringLiteral("sshOptions"), toJsonArray(node.sshOptions));
    insertIfSet(object, QStringLiteral("hostKey"), node.hostKey);
    insertIfSet(object, QStringLiteral("mailUser"), node.mailUser);
    insertIfSet(object, QStringLiteral("stateDir"), node.stateDir);
    insertIfSet(object, QStringLiteral("holdCommands"), toJsonArray(node.holdCommands));
    insertIfSet(object, QStringLiteral("resumeCommands"), toJsonArray(node.resumeCommands));

    QJsonObject syncthing;
    insertIfSet(syncthing, QStringLiteral("home"), node.syncthing.home);
    insertIfSet(syncthing, QStringLiteral("guiAddress"), node.syncthing.guiAddress);
    insertIfSet(syncthing, QStringLiteral("syncAddress"), node.syncthing.syncAddress);
    insertIfSet(syncthing, QStringLiteral("deviceId"), node.syncthing.deviceId);
    object.insert(QStringLiteral("syncthing"), syncthing);

    QJsonObject dovecot{{QStringLiteral("curOnlyBuild"), node.dovecot.curOnlyBuild},
                        {QStringLiteral("curOnlyEnabled"), node.dovecot.curOnlyEnabled}};
    insertIfSet(dovecot, QStringLiteral("version"), node.dovecot.version);
    insertIfSet(dovecot, QStringLiteral("prefix"), node.dovecot.prefix);
    insertIfSet(dovecot, QStringLiteral("configFile"), node.dovecot.configFile);
    insertIfSet(dovecot, QStringLiteral("restartCommand"), toJsonArray(node.dovecot.restartCommand));
    insertIfSet(dovecot, QStringLiteral("reloadCommand"), toJsonArray(node.dovecot.reloadCommand));
    if (node.dovecot.imapPort != DovecotFacts::kDefaultImapPort)
        dovecot.insert(QStringLiteral("imapPort"), node.dovecot.imapPort);
    insertIfSet(dovecot, QStringLiteral("keywordLetters"), node.dovecot.keywordLetters);
    object.insert(QStringLiteral("dovecot"), dovecot);
    return object;
}

NodeConfig nodeFromJson(const QJsonObject &object, const QString &path, QStringList &problems)
{
    const FieldReader read(object, path, problems);
    NodeConfig node;
    node.id = read.string(QStringLiteral("id"), true);
    node.ssh = read.string(QStringLiteral("ssh"), true);
    node.sshOptions = read.stringList(QStringLiteral("sshOptions"));
    node.hostKey = read.string(QStringLiteral("hostKey"));
    node.mailRoot = read.string(QStringLiteral("mailRoot"), true);
    node.mailUser = read.string(QStringLiteral("mailUser"));
    node.stateDir = read.string(QStringLiteral("stateDir"));
    node.holdCommands = read.commandList(QStringLiteral("holdCommands"));
    node.resumeCommands = read.commandList(QStringLiteral("resumeCommands"));

    const FieldReader syncthing(read.object(QStringLiteral("syncthing")),
                                read.fieldPath(QStringLiteral("syncthing")), problems);
    node.syncthing.home = syncthing.string(QStringLiteral("home"));
    node.syncthing.guiAddress = syncthing.string(QStringLiteral("guiAddress"));
    node.syncthing.syncAddress = syncthing.string(QStringLiteral("syncAddress"));
    node.syncthing.deviceId = syncthing.string(QStringLiteral("deviceId"));

    const FieldReader dovecot(read.object(QStringLiteral("dovecot")),
                              read.fieldPath(QStringLiteral("dovecot")), problems);
    node.dovecot.version = dovecot.string(QStringLiteral("version"));
    node.dovecot.curOnlyBuild = dovecot.boolean(QStringLiteral("curOnlyBuild"));
    node.dovecot.curOnlyEnabled = dovecot.boolean(QStringLiteral("curOnlyEnabled"));
    node.dovecot.prefix = dovecot.string(QStringLiteral("prefix"));
    node.dovecot.configFile = dovecot.string(QStringLiteral("configFile"));
    node.dovecot.restartCommand = dovecot.commandList(QStringLiteral("restartCommand"));
    node.dovecot.reloadCommand = dovecot.commandList(QStringLiteral("reloadCommand"));
    node.dovecot.imapPort = dovecot.port(QStringLiteral("imapPort"), DovecotFacts::kDefaultImapPort);
    node.dovecot.keywordLetters = dovecot.string(QStringLiteral("keywordLetters"));
    return node;
}

// Version 1 left dovecot.conf implicit; version 2 names it, since Mailmesh now writes its
// settings into conf.d/ beside it.
QJsonObject migrateFromVersion1(QJsonObject object)
{
    QJsonArray nodes = object.value(QStringLiteral("nodes")).toArray();
    for (QJsonValueRef value : nodes) {
        QJsonObject node = value.toObject();
        QJsonObject dovecot = node.value(QStringLiteral("dovecot")).toObject();
        if (!dovecot.contains(QStringLiteral("configFile")))
            dovecot.insert(QStringLiteral("configFile"),
                           DovecotFacts::defaultConfigFile(dovecot.value(QStringLiteral("prefix")).toString()));
        node.insert(QStringLiteral("dovecot"), dovecot);
        value = node;
    }
    object.insert(QStringLiteral("nodes"), nodes);
    object.insert(QStringLiteral("schemaVersion"), 2);
    return object;
}

} // namespace

QString DovecotFacts::defaultConfigFile(const QString &prefix)
{
    return prefix.isEmpty() ? QStringLiteral("/etc/dovecot/dovecot.conf") : prefix + QStringLiteral("/etc/dovecot/dovecot.conf");
}

const NodeConfig *ClusterConfig::node(const QString &id) const
{
    for (const NodeConfig &candidate : nodes)
        if (candidate.id == id)
            return &candidate;
    return nullptr;
}

NodeConfig *ClusterConfig::node(const QString &id)
{
    // A non-const walk: `nodes` is implicitly shared, and only a non-const access detaches it, so
    // a change through the pointer never reaches other copies of this config.
    for (NodeConfig &candidate : nodes)
        if (candidate.id == id)
            return &candidate;
    return nullptr;
}

QStringList ClusterConfig::validate() const
{
    // anchoredPattern: "$" alone would also accept a final newline.
    static const QRegularExpression idPattern(QRegularExpression::anchoredPattern(QStringLiteral("[a-z0-9][a-z0-9-]{0,31}")));
    static const QRegularExpression fingerprintPattern(
        QRegularExpression::anchoredPattern(QStringLiteral("SHA256:[A-Za-z0-9+/]{43}")));
    QStringList problems;
    if (name.trimmed().isEmpty())
        problems << QStringLiteral("name: must not be empty");
    if (folderId.isEmpty())
        problems << QStringLiteral("folderId: must not be empty");
    QStringList seenIds;
    QHash<QChar, QString> letterOwners;
    for (qsizetype i = 0; i < nodes.size(); ++i) {
        const NodeConfig &node = nodes[i];
        const QString at = QStringLiteral("nodes[%1].").arg(i);
        if (!idPattern.match(node.id).hasMatch())
            problems << at + QStringLiteral("id: \"%1\" must be 1-32 characters of a-z, 0-9 and '-'").arg(node.id);
        else if (seenIds.contains(node.id))
            problems << at + QStringLiteral("id: \"%1\" is used by another node").arg(node.id);
        seenIds << node.id;
        if (const auto address = remote::SshAddress::parse(node.ssh); !address)
            problems << at + QStringLiteral("ssh: ") + QString::fromStdString(address.error().message);
        // A cluster file is shared: an option that could run a command or loosen the host-key
        // policy is refused here, on load, before any ssh runs.
        for (qsizetype j = 0; j < node.sshOptions.size(); ++j)
            if (const auto checked = remote::SshOptionPolicy::check(node.sshOptions[j]); !checked)
                problems << at + QStringLiteral("sshOptions[%1]: ").arg(j) + QString::fromStdString(checked.error().message);
        if (!node.hostKey.isEmpty() && !fingerprintPattern.match(node.hostKey).hasMatch())
            problems << at + QStringLiteral("hostKey: \"%1\" is not a SHA256 fingerprint").arg(node.hostKey);
        if (!node.mailRoot.startsWith(QLatin1Char('/')) || node.mailRoot == QLatin1String("/"))
            problems << at + QStringLiteral("mailRoot: \"%1\" must be an absolute path below /").arg(node.mailRoot);
        if (!node.stateDir.isEmpty() && !node.stateDir.startsWith(QLatin1Char('/')))
            problems << at + QStringLiteral("stateDir: \"%1\" must be an absolute path").arg(node.stateDir);
        const QString inRootStateDir = node.mailRoot + u'/' + QLatin1String(maildir::StateDir::kInRootName);
        if (!node.stateDir.isEmpty()
            && (node.stateDir == node.mailRoot || node.stateDir.startsWith(node.mailRoot + QLatin1Char('/')))
            && node.stateDir != inRootStateDir && !node.stateDir.startsWith(inRootStateDir + u'/'))
            problems << at + QStringLiteral("stateDir: must lie outside the mail root (or be %1), or Syncthing would "
                                            "replicate the quarantine")
                                 .arg(inRootStateDir);
        if (node.dovecot.imapPort < 1 || node.dovecot.imapPort > 65535)
            problems << at + QStringLiteral("dovecot.imapPort: %1 is not a port number").arg(node.dovecot.imapPort);
        if (node.holdCommands.isEmpty() != node.resumeCommands.isEmpty())
            problems << at + QStringLiteral("resumeCommands: hold and resume commands come in pairs");
        for (const QChar letter : node.dovecot.keywordLetters) {
            if (letter < QLatin1Char('a') || letter > QLatin1Char('z')) {
                problems << at + QStringLiteral("dovecot.keywordLetters: \"%1\" must be letters a-z")
                                     .arg(node.dovecot.keywordLetters);
                break;
            }
            // Two nodes giving one letter to different new keywords is what the letters prevent.
            if (letterOwners.contains(letter)) {
                problems << at + QStringLiteral("dovecot.keywordLetters: letter %1 is also %2's")
                                     .arg(letter)
                                     .arg(letterOwners.value(letter));
                break;
            }
            letterOwners.insert(letter, node.id);
        }
    }
    problems << homes.validate();
    return problems;
}

QJsonObject ClusterConfig::toJson() const
{
    QJsonArray nodeArray;
    for (const NodeConfig &node : nodes)
        nodeArray.append(nodeToJson(node));
    QJsonObject object{{QStringLiteral("schemaVersion"), kSchemaVersion},
                       {QStringLiteral("name"), name},
                       {QStringLiteral("uidPolicy"), uidPolicyName(uidPolicy)},
                       {QStringLiteral("folderId"), folderId},
                       {QStringLiteral("nodes"), nodeArray}};
    if (!homes.isEmpty())
        object.insert(QStringLiteral("homes"), homes.toJson());
    return object;
}

Result<ClusterConfig> ClusterConfig::fromJson(const QJsonObject &object)
{
    const QJsonValue version = object.value(QStringLiteral("schemaVersion"));
    if (!version.isDouble())
        return fail(ErrorCode::InvalidData, "schemaVersion: missing; this is not a Mailmesh cluster file");
    if (version.toInt() > kSchemaVersion)
        return fail(ErrorCode::Unsupported,
                    QStringLiteral("schemaVersion: %1 was written by a newer Mailmesh (this one reads up to %2); "
                                   "upgrade Mailmesh")
                        .arg(version.toInt())
                        .arg(kSchemaVersion)
                        .toStdString());
    // Older shapes are converted here, one version step at a time, before the fields are read.
    if (version.toInt() < 1)
        return fail(ErrorCode::InvalidData, "schemaVersion: must be 1 or higher");
    QJsonObject current = object;
    if (version.toInt() == 1)
        current = migrateFromVersion1(current);
    return readCurrentShape(current);
}

Result<ClusterConfig> ClusterConfig::readCurrentShape(const QJsonObject &object)
{
    QStringList problems;
    const FieldReader read(object, QString(), problems);
    ClusterConfig config;
    config.name = read.string(QStringLiteral("name"), true);
    const QString policy = read.string(QStringLiteral("uidPolicy"));
    if (!policy.isEmpty()) {
        if (const auto parsed = uidPolicyFromName(policy))
            config.uidPolicy = *parsed;
        else
            problems << QStringLiteral("uidPolicy: \"%1\" must be \"replicated\" or \"per-node\"").arg(policy);
    }
    if (const QString folder = read.string(QStringLiteral("folderId")); !folder.isEmpty())
        config.folderId = folder;
    const QJsonValue nodes = object.value(QStringLiteral("nodes"));
    if (!nodes.isUndefined() && !nodes.isArray())
        problems << QStringLiteral("nodes: must be a list");
    const QJsonArray nodeArray = nodes.toArray();
    for (qsizetype i = 0; i < nodeArray.size(); ++i) {
        const QString path = QStringLiteral("nodes[%1]").arg(i);
        if (!nodeArray[i].isObject())
            problems << path + QStringLiteral(": must be an object");
        else
            config.nodes << nodeFromJson(nodeArray[i].toObject(), path, problems);
    }
    config.homes = HomesSettings::fromJson(read.object(QStringLiteral("homes")), problems);
    if (problems.isEmpty())
        problems = config.validate();
    if (!problems.isEmpty())
        return fail(ErrorCode::InvalidData, problems.join(QStringLiteral("; ")).toStdString());
    return config;
}

Result<ClusterConfig> ClusterConfig::load(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        const ErrorCode code = file.error() == QFileDevice::OpenError && !file.exists() ? ErrorCode::NotFound
                                                                                         : ErrorCode::AccessDenied;
        return fail(code, QStringLiteral("cannot read the cluster file: %1").arg(file.errorString()).toStdString(),
                    path.toStdString());
    }
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (parseError.error != QJsonParseError::NoError || !document.isObject())
        return fail(ErrorCode::InvalidData,
                    QStringLiteral("%1: not a JSON object (%2 at offset %3)")
                        .arg(path, parseError.errorString())
                        .arg(parseError.offset)
                        .toStdString(),
                    path.toStdString());
    auto config = fromJson(document.object());
    if (!config)
        return fail(config.error().code, path.toStdString() + ": " + config.error().message, path.toStdString());
    return config;
}

Status ClusterConfig::save(const QString &path) const
{
    if (const QStringList problems = validate(); !problems.isEmpty())
        return fail(ErrorCode::BadRequest, problems.join(QStringLiteral("; ")).toStdString(), path.toStdString());
    QDir().mkpath(QFileInfo(path).absolutePath());
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return fail(ErrorCode::AccessDenied,
                    QStringLiteral("cannot write the cluster file: %1").arg(file.errorString()).toStdString(),
                    path.toStdString());
    file.write(QJsonDocument(toJson()).toJson(QJsonDocument::Indented));
    if (!file.commit())
        return fail(ErrorCode::IoError,
                    QStringLiteral("cannot write the cluster file: %1").arg(file.errorString()).toStdString(),
                    path.toStdString());
    return {};
}

QString ClusterConfig::defaultPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation)
           + QStringLiteral("/mailmesh/cluster.json");
}

} // namespace mm::cluster
