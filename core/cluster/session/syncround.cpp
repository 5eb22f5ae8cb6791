#include "cluster/session/syncround.h"

#include "remote/syncthingclient.h"

#include <QJsonArray>
#include <QJsonObject>

#include <memory>

namespace mm::cluster {

void checkClusterInSync(const QList<NodeConfig> &nodes, const std::vector<remote::SyncthingClient *> &clients,
                        const QString &folderId, QObject *context, std::function<void(const QStringList &lagging)> done)
{
    struct Round
    {
        int outstanding = 0;
        QStringList lagging;
        std::function<void(const QStringList &)> done;
    };
    auto round = std::make_shared<Round>();
    round->done = std::move(done);
    const auto answered = [round] {
        if (--round->outstanding == 0)
            round->done(round->lagging);
    };
    // Every request is counted before any is sent, so an early answer cannot end the round.
    const auto nodeCount = static_cast<int>(nodes.size());
    round->outstanding = nodeCount * (2 + (nodeCount - 1));
    for (int i = 0; i < nodeCount; ++i) {
        const NodeConfig &node = nodes[i];
        remote::SyncthingClient *syncthing = clients[std::size_t(i)];
        syncthing->folderStatus(folderId, context, [round, answered, syncthing, folderId, context,
                                                    id = node.id](const Result<QJsonObject> &status) {
            const QString state = status ? status->value(QStringLiteral("state")).toString()
                                         : QStringLiteral("unknown (%1)").arg(QString::fromStdString(status.error().describe()));
            const qint64 needed = status ? status->value(QStringLiteral("needTotalItems")).toInteger() : 0;
            const QString folderError = status ? status->value(QStringLiteral("error")).toString() : QString();
            const QString watchError = status ? status->value(QStringLiteral("watchError")).toString() : QString();
            if (!folderError.isEmpty())
                round->lagging << QStringLiteral("%1 %2: %3").arg(id, state, folderError);
            else if (!watchError.isEmpty() && state != QLatin1String("idle"))
                round->lagging << QStringLiteral("%1 %2 (no file system watcher: %3)").arg(id, state, watchError);
            else if (state != QLatin1String("idle"))
                round->lagging << QStringLiteral("%1 %2").arg(id, state);
            else if (needed != 0)
                round->lagging << QStringLiteral("%1 needs %2 items").arg(id).arg(needed);
            // Items Syncthing keeps failing to pull never settle on their own (a permission, a
            // name the file system refuses): name the first so the admin sees why, not only that.
            if (status && status->value(QStringLiteral("pullErrors")).toInteger() > 0) {
                ++round->outstanding; // this answer has not been counted down yet
                syncthing->folderErrors(folderId, context, [round, answered, id](const Result<QJsonObject> &errors) {
                    const QJsonArray list = errors ? errors->value(QStringLiteral("errors")).toArray() : QJsonArray();
                    if (!list.isEmpty()) {
                        const QJsonObject first = list.first().toObject();
                        round->lagging << QStringLiteral("%1 cannot sync %2 (%3)")
                                              .arg(id, first.value(QStringLiteral("path")).toString(),
                                                   first.value(QStringLiteral("error")).toString())
                                       + (list.size() > 1 ? QStringLiteral(" and %1 more").arg(list.size() - 1) : QString());
                    }
                    answered();
                });
            }
            answered();
        });
        for (const NodeConfig &peer : nodes) {
            if (peer.id == node.id)
                continue;
            syncthing->completion(folderId, peer.syncthing.deviceId, context,
                                  [round, answered, id = node.id, peerId = peer.id](
                                      const Result<std::optional<QJsonObject>> &completion) {
                                      const double percent = completion && *completion
                                                                 ? (*completion)->value(QStringLiteral("completion")).toDouble()
                                                                 : 0;
                                      if (percent < 100)
                                          round->lagging << QStringLiteral("%1→%2 %3%").arg(id, peerId).arg(percent, 0, 'f', 0);
                                      answered();
                                  });
        }
        syncthing->connections(context, [round, answered, nodes, id = node.id](const Result<QJsonObject> &connections) {
            for (const NodeConfig &peer : nodes) {
                if (peer.id == id)
                    continue;
                const bool connected = connections
                                       && connections->value(peer.syncthing.deviceId)
                                              .toObject()
                                              .value(QStringLiteral("connected"))
                                              .toBool();
                if (!connected)
                    round->lagging << QStringLiteral("%1 not connected to %2").arg(id, peer.id);
            }
            answered();
        });
    }
}

} // namespace mm::cluster
