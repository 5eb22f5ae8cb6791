#pragma once

#include "common/result.h"

#include <QString>
#include <QStringList>

namespace mm::lab {

// The lab's private network: a bridge in a namespace of its own, one namespace per node and one
// for the admin side, each joined to the bridge by a veth pair. Addresses are in 10.42.21.0/24
// (the same in every lab: the namespaces keep labs apart); no namespace has a default route, so
// nothing leaves the lab. Namespaces are named mmlab-<tag>-<role> under /run/netns, which is how
// teardown and the leftover check find them.
class LabNetwork
{
public:
    static constexpr const char *kNamespacePrefix = "mmlab-";
    static constexpr const char *kSubnet = "10.42.21.0/24";
    static constexpr const char *kAdminAddress = "10.42.21.1";

    explicit LabNetwork(QString tag);

    QString tag() const { return m_tag; }
    QString bridgeNamespace() const;
    QString adminNamespace() const;
    QString nodeNamespace(int number) const;           // number: 1 for node1
    static QString namespacePath(const QString &name); // /run/netns/NAME
    static QString nodeAddress(int number);            // 10.42.21.(10 + number)

    // The bridge and the admin side's namespace with its address.
    Status createBridge();
    // A node's namespace on the bridge, with its address on eth0.
    Status createNode(int number);
    Status removeNode(int number);
    // Every namespace of this lab (also those a crashed run left behind).
    Status removeAll();

    // Namespaces named after tag under /run/netns; every lab's when tag is empty.
    static QStringList namespacesOf(const QString &tag);
    // The tag in a namespace name made by a lab; empty for any other name.
    static QString tagOf(const QString &namespaceName);

    // Moves the calling thread into the namespace: the sockets it opens and the processes it
    // starts from then on are on the lab's network. Needs root.
    static Status enter(const QString &namespaceName);

private:
    Status addVeth(const QString &bridgePort, const QString &peerNamespace, const QString &address);

    QString m_tag;
};

} // namespace mm::lab
