#include "cluster/session/meshview.h"

#include "remote/syncthingclient.h"

#include <QJsonObject>
#include <QUrl>

#include <memory>
#include <utility>

namespace mm::cluster {

QStringList MeshView::folderDeviceIds() const
{
    QStringList ids;
    for (const QJsonValue &device : folderDevices)
        ids << device.toObject().value(QStringLiteral("deviceID")).toString();
    return ids;
}

bool MeshView::sharesWith(const QString &deviceId) const
{
    return folderExists && deviceId != myId && folderDeviceIds().contains(deviceId);
}

void readMeshView(remote::SyncthingClient *syncthing, const QString &folderId, QObject *context,
                  std::function<void(const Result<MeshView> &)> done)
{
    auto view = std::make_shared<MeshView>();
    syncthing->systemStatus(context, [syncthing, folderId, context, view, done](const Result<QJsonObject> &status) {
        if (!status) {
            done(fail(status.error()));
            return;
        }
        view->myId = status->value(QStringLiteral("myID")).toString();
        syncthing->devices(context, [syncthing, folderId, context, view, done](const Result<QJsonArray> &devices) {
            if (!devices) {
                done(fail(devices.error()));
                return;
            }
            for (const QJsonValue &device : *devices)
                view->devices << device.toObject().value(QStringLiteral("deviceID")).toString();
            syncthing->folders(context, [folderId, view, done](const Result<QJsonArray> &folders) {
                if (!folders) {
                    done(fail(folders.error()));
                    return;
                }
                for (const QJsonValue &value : *folders) {
                    const QJsonObject folder = value.toObject();
                    if (folder.value(QStringLiteral("id")).toString() != folderId)
                        continue;
                    view->folderExists = true;
                    view->folderPaused = folder.value(QStringLiteral("paused")).toBool();
                    view->folderDevices = folder.value(QStringLiteral("devices")).toArray();
                }
                done(*view);
            });
        });
    });
}

QJsonArray folderDevicesWith(const QJsonArray &devices, const QStringList &add, const QStringList &remove)
{
    QJsonArray result;
    QStringList present;
    for (const QJsonValue &value : devices) {
        const QString id = value.toObject().value(QStringLiteral("deviceID")).toString();
        if (remove.contains(id) || present.contains(id))
            continue;
        present << id;
        result.append(value);
    }
    for (const QString &id : add)
        if (!present.contains(id) && !remove.contains(id)) {
            present << id;
            result.append(QJsonObject{{QStringLiteral("deviceID"), id}});
        }
    return result;
}

void setFolderDevices(remote::SyncthingClient *syncthing, const QString &folderId, const QJsonArray &devices,
                      QObject *context, std::function<void(const Status &)> done)
{
    syncthing->patchFolder(folderId, QJsonObject{{QStringLiteral("devices"), devices}}, context,
                           [done](const Result<void> &patched) { done(patched); });
}

namespace {

// DELETE of one config object; one that is gone already counts as deleted, so a rerun passes.
void deleteConfigObject(remote::SyncthingClient *syncthing, const QString &collection, const QString &id,
                        QObject *context, std::function<void(const Status &)> done)
{
    syncthing->request("DELETE",
                       QStringLiteral("/rest/config/%1/%2").arg(collection, QString::fromLatin1(QUrl::toPercentEncoding(id))),
                       {}, {}, remote::SyncthingClient::kDefaultTimeoutMs, context,
                       [done](const Result<QJsonDocument> &deleted) {
                           if (!deleted && deleted.error().code != ErrorCode::NotFound) {
                               done(fail(deleted.error()));
                               return;
                           }
                           done({});
                       });
}

} // namespace

void forgetDevice(remote::SyncthingClient *syncthing, const QString &deviceId, QObject *context,
                  std::function<void(const Status &)> done)
{
    deleteConfigObject(syncthing, QStringLiteral("devices"), deviceId, context, std::move(done));
}

void forgetFolder(remote::SyncthingClient *syncthing, const QString &folderId, QObject *context,
                  std::function<void(const Status &)> done)
{
    deleteConfigObject(syncthing, QStringLiteral("folders"), folderId, context, std::move(done));
}

} // namespace mm::cluster
