#include "remote/sshoptions.h"

#include <QDir>
#include <QStandardPaths>

namespace mm::remote {

SshOptions SshOptions::defaults()
{
    SshOptions options;
    options.knownHostsFile =
        QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) +
        QStringLiteral("/mailmesh/known_hosts");
    options.readKnownHostsFiles << QDir::homePath() + QStringLiteral("/.ssh/known_hosts")
                                << QDir::homePath() + QStringLiteral("/.ssh/known_hosts2");
    return options;
}

} // namespace mm::remote
