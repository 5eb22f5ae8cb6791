#include "lab/labnetwork.h"

#include "lab/labprocess.h"

#include <QDir>
#include <QFile>

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace mm::lab {

namespace {

constexpr const char *kBridge = "br0";

Status ip(const QStringList &arguments)
{
    Result<ProgramOutput> ran = runProgram({u"ip"_s, arguments, {}, 30'000});
    if (!ran)
        return fail(ran.error());
    return {};
}

} // namespace

LabNetwork::LabNetwork(QString tag)
    : m_tag(std::move(tag))
{
}

QString LabNetwork::bridgeNamespace() const
{
    return QLatin1String(kNamespacePrefix) + m_tag + u"-br"_s;
}

QString LabNetwork::adminNamespace() const
{
    return QLatin1String(kNamespacePrefix) + m_tag + u"-admin"_s;
}

QString LabNetwork::nodeNamespace(int number) const
{
    return QLatin1String(kNamespacePrefix) + m_tag + u"-node"_s + QString::number(number);
}

QString LabNetwork::namespacePath(const QString &name)
{
    return u"/run/netns/"_s + name;
}

QString LabNetwork::nodeAddress(int number)
{
    return u"10.42.21.%1"_s.arg(10 + number);
}

Status LabNetwork::createBridge()
{
    for (const QString &name : {bridgeNamespace(), adminNamespace()})
        if (Status made = ip({u"netns"_s, u"add"_s, name}); !made)
            return made;
    const QString bridge = bridgeNamespace();
    const QString br = QLatin1String(kBridge);
    for (const QStringList &arguments :
         {QStringList{u"-n"_s, bridge, u"link"_s, u"set"_s, u"lo"_s, u"up"_s},
          QStringList{u"-n"_s, bridge, u"link"_s, u"add"_s, br, u"type"_s, u"bridge"_s},
          QStringList{u"-n"_s, bridge, u"link"_s, u"set"_s, br, u"up"_s}})
        if (Status done = ip(arguments); !done)
            return done;
    return addVeth(u"admin"_s, adminNamespace(), QLatin1String(kAdminAddress));
}

Status LabNetwork::createNode(int number)
{
    if (Status made = ip({u"netns"_s, u"add"_s, nodeNamespace(number)}); !made)
        return made;
    return addVeth(u"node"_s + QString::number(number), nodeNamespace(number), nodeAddress(number));
}

Status LabNetwork::addVeth(const QString &bridgePort, const QString &peerNamespace,
                           const QString &address)
{
    // Interface names are private to each namespace, so they need not be unique across labs.
    const QString bridge = bridgeNamespace();
    const QStringList steps[] = {
        {u"-n"_s, bridge, u"link"_s, u"add"_s, bridgePort, u"type"_s, u"veth"_s, u"peer"_s,
         u"name"_s, u"eth0"_s, u"netns"_s, peerNamespace},
        {u"-n"_s, bridge, u"link"_s, u"set"_s, bridgePort, u"master"_s, QLatin1String(kBridge),
         u"up"_s},
        {u"-n"_s, peerNamespace, u"addr"_s, u"add"_s, address + u"/24"_s, u"dev"_s, u"eth0"_s},
        {u"-n"_s, peerNamespace, u"link"_s, u"set"_s, u"eth0"_s, u"up"_s},
        {u"-n"_s, peerNamespace, u"link"_s, u"set"_s, u"lo"_s, u"up"_s},
    };
    for (const QStringList &arguments : steps)
        if (Status done = ip(arguments); !done)
            return done;
    return {};
}

Status LabNetwork::removeNode(int number)
{
    const QString name = nodeNamespace(number);
    if (!QFile::exists(namespacePath(name)))
        return {};
    return ip({u"netns"_s, u"delete"_s, name});
}

Status LabNetwork::removeAll()
{
    QStringList problems;
    for (const QString &name : namespacesOf(m_tag))
        if (Status removed = ip({u"netns"_s, u"delete"_s, name}); !removed)
            problems << QString::fromStdString(removed.error().message);
    if (!problems.isEmpty())
        return fail(ErrorCode::IoError, problems.join(u"; "_s).toStdString());
    return {};
}

QStringList LabNetwork::namespacesOf(const QString &tag)
{
    const QString prefix =
        QLatin1String(kNamespacePrefix) + (tag.isEmpty() ? QString() : tag + u'-');
    return QDir(u"/run/netns"_s)
        .entryList({prefix + u'*'}, QDir::Files | QDir::System | QDir::Hidden, QDir::Name);
}

QString LabNetwork::tagOf(const QString &namespaceName)
{
    if (!namespaceName.startsWith(QLatin1String(kNamespacePrefix)))
        return {};
    return namespaceName.mid(qsizetype(qstrlen(kNamespacePrefix))).section(u'-', 0, 0);
}

Status LabNetwork::enter(const QString &namespaceName)
{
    const QByteArray path = QFile::encodeName(namespacePath(namespaceName));
    const int fd = ::open(path.constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(ErrorCode::NotFound, "no such network namespace", path.toStdString());
    const int entered = ::setns(fd, CLONE_NEWNET);
    ::close(fd);
    if (entered != 0)
        return fail(ErrorCode::AccessDenied, "cannot enter the network namespace (needs root)",
                    path.toStdString());
    return {};
}

} // namespace mm::lab
