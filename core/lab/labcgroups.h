#pragma once

#include "common/result.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace mm::lab {

// The cgroups a lab node runs in: mailmesh-lab/<tag>/<node> in every hierarchy systemd uses
// (cgroup2 alone, or name=systemd plus the unified one on a hybrid host). A node's nspawn is put
// there before it starts, so that its payload/ and supervisor/ groups land under it, not at the
// host's root where two nodes would collide, and so that teardown finds every process of the
// node even when nspawn itself is gone.
namespace labcgroups {

constexpr const char *kRoot = "mailmesh-lab";

// The hierarchies' mount points on this machine.
QStringList hierarchies();

// The node's group in every hierarchy (not created).
QStringList nodeGroups(const QString &tag, const QString &nodeId);
// The lab's group (mailmesh-lab/<tag>) in every hierarchy; every lab's root when tag is empty.
QStringList labGroups(const QString &tag);

Status create(const QStringList &groups);

// Every process in the groups and below them.
QList<qint64> processesIn(const QStringList &groups);

// Kills every process in the groups (cgroup.kill where the kernel has it, SIGKILL otherwise),
// waits for them to go, and removes the groups bottom-up. Missing groups are fine.
Status killAndRemove(const QStringList &groups, int timeoutMs = 10'000);

// The tags of every lab that has groups on this machine.
QStringList tags();

} // namespace labcgroups
} // namespace mm::lab
