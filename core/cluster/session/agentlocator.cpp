#include "cluster/session/agentlocator.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace mm::cluster {

QString locateAgentBinary()
{
    const QString fromEnvironment = qEnvironmentVariable("MAILMESH_AGENT");
    if (!fromEnvironment.isEmpty())
        return QFileInfo(fromEnvironment).isExecutable() ? fromEnvironment : QString();
    const QDir programDir(QCoreApplication::applicationDirPath());
    const QString name = QStringLiteral("mailmesh-agent");
    for (const QString &candidate : {programDir.filePath(name),
                                     programDir.filePath(QStringLiteral("../mailmesh-agent/") + name),
                                     programDir.filePath(QStringLiteral("../lib/mailmesh/") + name)}) {
        const QFileInfo info(candidate);
        if (info.isFile() && info.isExecutable())
            return info.canonicalFilePath();
    }
    return {};
}

} // namespace mm::cluster
