#pragma once

// What end-to-end tests look at on a sandbox node's disk: its mail as IMAP clients see it, and
// the Dovecot master a workflow's restart command started.

#include "sandbox/nodeinfo.h"

#include <QCryptographicHash>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QMap>
#include <QString>
#include <QStringList>
#include <QThread>

#include <csignal>

namespace mm::test {

// Relative path -> "type size sha256" for every file and symlink under root, Dovecot's and
// Syncthing's own files (and tmp/) left out: what a node's mail looks like to IMAP clients.
inline QMap<QString, QString> treeOf(const QString &root)
{
    QMap<QString, QString> tree;
    QDirIterator it(root, QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden | QDir::System,
                    QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        const QFileInfo info = it.fileInfo();
        const QString relative = path.mid(root.size() + 1);
        if (info.fileName().startsWith(QLatin1String("dovecot")) || info.fileName().startsWith(QLatin1String(".st"))
            || relative.contains(QLatin1String("/tmp/")))
            continue;
        if (info.isSymLink()) {
            tree.insert(relative, QStringLiteral("link ") + info.symLinkTarget().section(u'/', -1));
        } else if (info.isFile()) {
            QFile file(path);
            QString hash;
            if (file.open(QIODevice::ReadOnly))
                hash = QString::fromLatin1(QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256).toHex());
            tree.insert(relative, QStringLiteral("file %1 %2").arg(info.size()).arg(hash));
        } else if (info.isDir()) {
            tree.insert(relative, QStringLiteral("dir"));
        }
    }
    return tree;
}

// Every Maildir folder under root (a directory holding cur/), as absolute paths.
inline QStringList maildirFolders(const QString &root)
{
    QStringList folders;
    QDirIterator it(root, {QStringLiteral("cur")}, QDir::Dirs | QDir::Hidden | QDir::NoDotAndDotDot,
                    QDirIterator::Subdirectories);
    while (it.hasNext())
        folders << QFileInfo(it.next()).path();
    return folders;
}

// Running, not a zombie waiting for its parent.
inline bool isAlive(qint64 pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return false;
    const QByteArray text = stat.readAll();
    const qsizetype close = text.lastIndexOf(')');
    return close > 0 && text.mid(close + 2, 1) != "Z";
}

// A Dovecot that a workflow's restart or resume command started has left the sandbox's process
// groups: stop it the way an admin would (SIGTERM to the master), waiting up to 10 s.
inline void stopDovecotMaster(const QString &baseDir)
{
    QFile pidFile(baseDir + QStringLiteral("/master.pid"));
    const qint64 pid = pidFile.open(QIODevice::ReadOnly) ? pidFile.readAll().trimmed().toLongLong() : 0;
    if (pid <= 0 || !isAlive(pid))
        return;
    ::kill(pid_t(pid), SIGTERM);
    QElapsedTimer clock;
    clock.start();
    while (isAlive(pid) && clock.elapsed() < 10000)
        QThread::msleep(50);
}

// Shell lines that stop the Dovecot master whose pid file is in baseDir and wait (up to 10 s)
// until it is gone; a master that exited but was not reaped yet (a zombie) counts as gone.
inline QByteArray stopDovecotMasterShell(const QString &baseDir)
{
    return QStringLiteral("pidfile='%1/master.pid'\n"
                          "if [ -s \"$pidfile\" ]; then\n"
                          "  pid=$(cat \"$pidfile\")\n"
                          "  if kill \"$pid\" 2>/dev/null; then\n"
                          "    for i in $(seq 100); do\n"
                          "      state=$(awk '{print $3}' \"/proc/$pid/stat\" 2>/dev/null) || break\n"
                          "      [ -z \"$state\" ] || [ \"$state\" = Z ] && break\n"
                          "      sleep 0.1\n"
                          "    done\n"
                          "  fi\n"
                          "fi\n")
        .arg(baseDir)
        .toUtf8();
}

// What an admin of a sandbox node (no systemd) writes as its Dovecot restart command: stop the
// running master, start the prefix deploy-dovecot names. Started over ssh, it carries the
// sandbox's marker. A file dovecot/fail-next-restart in the node's dir (writable by the ssh user) makes the
// next restart fail, once. Returns the script's path (run it with sh), empty when it could not be
// written.
inline QString writeDovecotRestartScript(const mm::sandbox::NodeInfo &node)
{
    const QString path = node.dir + QStringLiteral("/restart-dovecot.sh");
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return {};
    file.write(QStringLiteral("if [ -e '%1/dovecot/fail-next-restart' ]; then\n"
                              "  rm -f '%1/dovecot/fail-next-restart'\n"
                              "  echo 'restart-dovecot: failing as the test asked' >&2\n"
                              "  exit 1\n"
                              "fi\n")
                   .arg(node.dir)
                   .toUtf8()
               + stopDovecotMasterShell(node.dovecotBaseDir)
               + QStringLiteral("exec \"$MAILMESH_DOVECOT_PREFIX/sbin/dovecot\" -c \"$MAILMESH_DOVECOT_CONFIG\" "
                                "</dev/null >/dev/null 2>>'%1/dovecot/restart.stderr'\n")
                     .arg(node.dir)
                     .toUtf8());
    file.close();
    QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadOther | QFile::ReadGroup);
    return path;
}

} // namespace mm::test
