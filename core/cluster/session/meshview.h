#pragma once

#include "common/result.h"

#include <QJsonArray>
#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>

namespace mm::remote {
class SyncthingClient;
} // namespace mm::remote

namespace mm::cluster {

// What one node's Syncthing says about the mesh: its own device id, the devices it knows, and
// whether and with whom it shares the mail folder. join and remove-node read it first, so that
// they change only what differs (and a dry run can say exactly what it would change).
struct MeshView
{
    QString myId;
    QStringList devices;       // configured devices, the node's own included
    bool folderExists = false; // the mail folder is configured on this node
    bool folderPaused = false;
    QJsonArray folderDevices;  // the folder's device entries as Syncthing holds them

    QStringList folderDeviceIds() const;
    // Shared with `deviceId` (the node's own id counts as not shared).
    bool sharesWith(const QString &deviceId) const;
};

void readMeshView(remote::SyncthingClient *syncthing, const QString &folderId, QObject *context,
                  std::function<void(const Result<MeshView> &)> done);

// The folder's device entries with `add` appended and `remove` left out; the entries that stay
// are kept as Syncthing holds them (introducer, encryption settings).
QJsonArray folderDevicesWith(const QJsonArray &devices, const QStringList &add, const QStringList &remove);

// PATCHes only the folder's device list, so a paused folder stays paused and the admin's own
// folder options stay as they are.
void setFolderDevices(remote::SyncthingClient *syncthing, const QString &folderId, const QJsonArray &devices,
                      QObject *context, std::function<void(const Status &)> done);

// Removes the device from the node's Syncthing; a device that is already gone counts as removed.
void forgetDevice(remote::SyncthingClient *syncthing, const QString &deviceId, QObject *context,
                  std::function<void(const Status &)> done);

// Drops the folder from the node's Syncthing configuration, with its index; the files stay.
void forgetFolder(remote::SyncthingClient *syncthing, const QString &folderId, QObject *context,
                  std::function<void(const Status &)> done);

} // namespace mm::cluster
