#include "lab/labmounts.h"

#include <QDir>
#include <QFile>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/mount.h>

using namespace Qt::StringLiterals;

namespace mm::lab::labmounts {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
QString unescape(const QByteArray &field)
{
    QByteArray out;
    for (qsizetype i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size()) {
            out += char(field.mid(i + 1, 3).toInt(nullptr, 8));
            i += 3;
        } else {
            out += field[i];
        }
    }
    return QFile::decodeName(out);
}

} // namespace

QStringList mountsUnder(const QString &path)
{
    const QString base = QDir::cleanPath(path);
    QFile mountinfo(u"/proc/self/mountinfo"_s);
    QStringList found;
    if (base.isEmpty() || !mountinfo.open(QIODevice::ReadOnly))
        return found;
    for (const QByteArray &line : mountinfo.readAll().split('\n')) {
        const QList<QByteArray> fields = line.split(' ');
        if (fields.size() < 5)
            continue;
        const QString target = unescape(fields[4]);
        if ((target == base || target.startsWith(base + u'/')) && !found.contains(target))
            found << target;
    }
    std::sort(found.begin(), found.end(),
              [](const QString &a, const QString &b) { return a.size() > b.size(); });
    return found;
}

Status unmountUnder(const QString &path)
{
    QStringList problems;
    for (const QString &target : mountsUnder(path)) {
        const QByteArray encoded = QFile::encodeName(target);
        if (::umount2(encoded.constData(), 0) != 0 &&
            ::umount2(encoded.constData(), MNT_DETACH) != 0)
            problems << target + u": "_s + QString::fromLocal8Bit(std::strerror(errno));
    }
    if (!mountsUnder(path).isEmpty() && problems.isEmpty())
        problems << u"still mounted under %1"_s.arg(path);
    if (!problems.isEmpty())
        return fail(ErrorCode::Busy, "cannot unmount " + problems.join(u"; "_s).toStdString());
    return {};
}

} // namespace mm::lab::labmounts
