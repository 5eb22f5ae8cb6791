#include "sandbox/processtable.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>

#include <functional>
#include <unistd.h>

namespace mm::sandbox {

namespace {

QByteArray readProcFile(qint64 pid, const char *name)
{
    QFile file(QStringLiteral("/proc/%1/%2").arg(pid).arg(QLatin1String(name)));
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return file.readAll();
}

qint64 processGroup(qint64 pid)
{
    // Field 5 of /proc/PID/stat; the command name (field 2) may hold spaces, so skip past ')'.
    const QByteArray stat = readProcFile(pid, "stat");
    const qsizetype close = stat.lastIndexOf(')');
    if (close < 0)
        return 0;
    const QList<QByteArray> fields = stat.mid(close + 2).split(' ');
    return fields.size() > 2 ? fields[2].toLongLong() : 0;
}

QList<ProcessTable::Entry>
scan(const std::function<bool(qint64, qint64, const QByteArray &, const QByteArray &)> &matches)
{
    QList<ProcessTable::Entry> found;
    const qint64 self = ::getpid();
    const QStringList pids = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs);
    for (const QString &name : pids) {
        bool numeric = false;
        const qint64 pid = name.toLongLong(&numeric);
        if (!numeric || pid == self)
            continue;
        const QByteArray commandLine = readProcFile(pid, "cmdline");
        if (commandLine.isEmpty())
            continue; // kernel thread, or gone
        const QByteArray environment = readProcFile(pid, "environ");
        const qint64 pgid = processGroup(pid);
        QByteArray joined = commandLine;
        joined.replace('\0', ' ');
        if (matches(pid, pgid, joined.trimmed(), environment))
            found.append({pid, pgid, joined.trimmed()});
    }
    return found;
}

bool hasVariable(const QByteArray &environment, const QByteArray &assignment)
{
    // Entries are NUL-terminated; match a whole entry.
    return environment.startsWith(assignment + '\0') ||
           environment.contains('\0' + assignment + '\0');
}

} // namespace

QList<ProcessTable::Entry> ProcessTable::sandboxProcesses(const QString &dir,
                                                          const QSet<qint64> &pgids)
{
    const QByteArray path = QDir::cleanPath(dir).toLocal8Bit();
    const QByteArray marker = QByteArray(kDirVariable) + '=' + path;
    return scan(
        [&](qint64, qint64 pgid, const QByteArray &commandLine, const QByteArray &environment) {
            return pgids.contains(pgid) || hasVariable(environment, marker) ||
                   commandLine.contains(path + '/');
        });
}

QList<ProcessTable::Entry> ProcessTable::killableProcesses(const QString &dir,
                                                           const QSet<qint64> &pgids)
{
    const QByteArray marker = QByteArray(kDirVariable) + '=' + QDir::cleanPath(dir).toLocal8Bit();
    return scan([&](qint64, qint64 pgid, const QByteArray &, const QByteArray &environment) {
        return pgids.contains(pgid) || hasVariable(environment, marker);
    });
}

QList<ProcessTable::Entry> ProcessTable::runProcesses(const QString &tag)
{
    const QByteArray marker = QByteArray(kRunVariable) + '=' + tag.toLocal8Bit();
    const QByteArray wanted = tag.toLocal8Bit();
    QHash<QString, bool> taggedDirs; // ancestor dir -> holds our tag
    const auto underTaggedDir = [&](const QByteArray &commandLine) {
        for (QByteArray argument : commandLine.split(' ')) {
            const qsizetype equals = argument.indexOf("=/"); // --home=/...
            if (equals >= 0)
                argument = argument.mid(equals + 1);
            if (!argument.startsWith('/'))
                continue;
            QString dir = QFile::decodeName(argument);
            for (int depth = 0; depth < 8 && dir.size() > 1; ++depth) {
                dir = QFileInfo(dir).path();
                auto known = taggedDirs.constFind(dir);
                if (known == taggedDirs.constEnd()) {
                    QFile file(dir + u'/' + QLatin1String(kRunFile));
                    const bool ours =
                        file.open(QIODevice::ReadOnly) && file.readAll().trimmed() == wanted;
                    known = taggedDirs.insert(dir, ours);
                }
                if (*known)
                    return true;
            }
        }
        return false;
    };
    return scan([&](qint64, qint64, const QByteArray &commandLine, const QByteArray &environment) {
        return hasVariable(environment, marker) || underTaggedDir(commandLine);
    });
}

QList<ProcessTable::Entry> ProcessTable::anySandboxProcesses()
{
    const QByteArray marker = QByteArray(kDirVariable) + '=';
    return scan([&](qint64, qint64, const QByteArray &, const QByteArray &environment) {
        return environment.startsWith(marker) || environment.contains('\0' + marker);
    });
}

QString ProcessTable::describe(const QList<Entry> &entries)
{
    QStringList lines;
    for (const Entry &entry : entries)
        lines.append(QStringLiteral("pid %1 pgid %2: %3")
                         .arg(entry.pid)
                         .arg(entry.pgid)
                         .arg(QString::fromLocal8Bit(entry.commandLine)));
    return lines.join(QLatin1Char('\n'));
}

} // namespace mm::sandbox
