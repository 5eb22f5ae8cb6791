#include "lab/labcgroups.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QThread>

#include <algorithm>
#include <csignal>

using namespace Qt::StringLiterals;

namespace mm::lab::labcgroups {

namespace {

// Directories of the groups and every group below them, deepest first.
QStringList subtreeDeepestFirst(const QStringList &groups)
{
    QStringList all;
    for (const QString &group : groups) {
        if (!QFileInfo(group).isDir())
            continue;
        all << group;
        QDirIterator it(group, QDir::Dirs | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
        while (it.hasNext())
            all << it.next();
    }
    std::sort(all.begin(), all.end(),
              [](const QString &a, const QString &b) { return a.count(u'/') > b.count(u'/'); });
    return all;
}

} // namespace

QStringList hierarchies()
{
    if (QFileInfo::exists(u"/sys/fs/cgroup/cgroup.controllers"_s))
        return {u"/sys/fs/cgroup"_s};
    QStringList found;
    for (const QString &path : {u"/sys/fs/cgroup/systemd"_s, u"/sys/fs/cgroup/unified"_s})
        if (QFileInfo::exists(path + u"/cgroup.procs"_s))
            found << path;
    return found;
}

QStringList nodeGroups(const QString &tag, const QString &nodeId)
{
    QStringList groups;
    for (const QString &hierarchy : hierarchies())
        groups << u"%1/%2/%3/%4"_s.arg(hierarchy, QLatin1String(kRoot), tag, nodeId);
    return groups;
}

QStringList labGroups(const QString &tag)
{
    QStringList groups;
    for (const QString &hierarchy : hierarchies())
        groups << hierarchy + u'/' + QLatin1String(kRoot) +
                      (tag.isEmpty() ? QString() : u'/' + tag);
    return groups;
}

Status create(const QStringList &groups)
{
    for (const QString &group : groups)
        if (!QDir().mkpath(group))
            return fail(ErrorCode::IoError, "cannot create the cgroup", group.toStdString());
    return {};
}

QList<qint64> processesIn(const QStringList &groups)
{
    QList<qint64> pids;
    for (const QString &group : subtreeDeepestFirst(groups)) {
        QFile procs(group + u"/cgroup.procs"_s);
        if (!procs.open(QIODevice::ReadOnly))
            continue;
        for (const QByteArray &line : procs.readAll().split('\n'))
            if (const qint64 pid = line.trimmed().toLongLong(); pid > 0 && !pids.contains(pid))
                pids << pid;
    }
    return pids;
}

Status killAndRemove(const QStringList &groups, int timeoutMs)
{
    QElapsedTimer clock;
    clock.start();
    for (;;) {
        const QList<qint64> pids = processesIn(groups);
        if (pids.isEmpty())
            break;
        if (clock.elapsed() > timeoutMs) {
            QStringList listed;
            for (qint64 pid : pids)
                listed << QString::number(pid);
            return fail(ErrorCode::Busy, "processes " + listed.join(u' ').toStdString() +
                                             " survive in " + groups.join(u", "_s).toStdString());
        }
        bool killedByGroup = false;
        for (const QString &group : groups) {
            QFile kill(group + u"/cgroup.kill"_s);
            if (kill.open(QIODevice::WriteOnly) && kill.write("1") == 1)
                killedByGroup = true;
        }
        if (!killedByGroup)
            for (qint64 pid : pids)
                ::kill(pid_t(pid), SIGKILL);
        QThread::msleep(50);
    }
    QStringList problems;
    for (const QString &group : subtreeDeepestFirst(groups)) {
        // A group empties a moment after its last process is reaped.
        bool removed = false;
        for (int attempt = 0; attempt < 100 && !removed; ++attempt) {
            removed = QDir().rmdir(group) || !QFileInfo::exists(group);
            if (!removed)
                QThread::msleep(20);
        }
        if (!removed)
            problems << group;
    }
    if (!problems.isEmpty())
        return fail(ErrorCode::IoError,
                    "cannot remove the cgroups " + problems.join(u", "_s).toStdString());
    return {};
}

QStringList tags()
{
    QStringList found;
    for (const QString &root : labGroups({}))
        for (const QString &tag : QDir(root).entryList(QDir::Dirs | QDir::NoDotAndDotDot))
            if (!found.contains(tag))
                found << tag;
    return found;
}

} // namespace mm::lab::labcgroups
