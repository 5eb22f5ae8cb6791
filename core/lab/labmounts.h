#pragma once

#include "common/result.h"

#include <QString>
#include <QStringList>

namespace mm::lab {

// The mounts a lab makes on this machine: one overlay per node (its root file system).
namespace labmounts {

// Mount points at or below path in this process's mount namespace, deepest first.
QStringList mountsUnder(const QString &path);

// Unmounts everything at or below path (lazily when a mount is busy).
Status unmountUnder(const QString &path);

} // namespace labmounts
} // namespace mm::lab
