#pragma once

#include "common/result.h"

#include <QString>
#include <QStringList>

namespace mm::remote {

// Where a node is: "ssh://[user@]host[:port]" (IPv6 in brackets) or an alias from the admin's
// ~/.ssh/config, which ssh itself resolves.
struct SshAddress
{
    QString user; // empty: ssh decides (config or local user)
    QString host; // host name, IP address (IPv6 without brackets) or ssh_config alias
    int port = 0; // 0: ssh decides

    static Result<SshAddress> parse(const QString &text);
    QString toString() const;
    // The arguments that make ssh connect here: [-p PORT] [-l USER] HOST.
    QStringList sshArguments() const;

    friend bool operator==(const SshAddress &, const SshAddress &) = default;
};

} // namespace mm::remote
