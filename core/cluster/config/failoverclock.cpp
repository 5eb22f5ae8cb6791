#include "cluster/config/failoverclock.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

namespace mm::cluster {

namespace {
const QString kDownSince = QStringLiteral("downSince");
} // namespace

QString FailoverClock::stateFileFor(const QString &clusterFile)
{
    return QFileInfo(clusterFile).absoluteFilePath() + QStringLiteral(".down-since.json");
}

Result<FailoverClock> FailoverClock::load(const QString &path)
{
    FailoverClock clock;
    QFile file(path);
    if (!file.exists())
        return clock;
    if (!file.open(QIODevice::ReadOnly))
        return fail(
            ErrorCode::AccessDenied,
            QStringLiteral("cannot read %1: %2").arg(path, file.errorString()).toStdString(),
            path.toStdString());
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &error);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return fail(ErrorCode::InvalidData,
                    QStringLiteral("%1: not a JSON object (%2)")
                        .arg(path, error.errorString())
                        .toStdString(),
                    path.toStdString());
    const QJsonObject nodes = document.object().value(kDownSince).toObject();
    for (auto it = nodes.begin(); it != nodes.end(); ++it) {
        const QDateTime since = QDateTime::fromString(it.value().toString(), Qt::ISODate);
        if (!since.isValid())
            return fail(ErrorCode::InvalidData,
                        QStringLiteral("%1: downSince.%2 is not an ISO 8601 time")
                            .arg(path, it.key())
                            .toStdString(),
                        path.toStdString());
        clock.m_downSince.insert(it.key(), since);
    }
    return clock;
}

Status FailoverClock::save(const QString &path) const
{
    QJsonObject nodes;
    for (auto it = m_downSince.begin(); it != m_downSince.end(); ++it)
        nodes.insert(it.key(), it.value().toUTC().toString(Qt::ISODate));
    QDir().mkpath(QFileInfo(path).absolutePath());
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return fail(
            ErrorCode::AccessDenied,
            QStringLiteral("cannot write %1: %2").arg(path, file.errorString()).toStdString(),
            path.toStdString());
    file.write(QJsonDocument(QJsonObject{{QStringLiteral("schemaVersion"), 1}, {kDownSince, nodes}})
                   .toJson());
    if (!file.commit())
        return fail(
            ErrorCode::IoError,
            QStringLiteral("cannot write %1: %2").arg(path, file.errorString()).toStdString(),
            path.toStdString());
    return {};
}

void FailoverClock::observe(const QStringList &reachable, const QStringList &unreachable,
                            const QDateTime &now)
{
    for (const QString &node : reachable)
        m_downSince.remove(node);
    for (const QString &node : unreachable)
        if (!m_downSince.contains(node))
            m_downSince.insert(node, now);
}

QStringList FailoverClock::due(const QStringList &nodeOrder, const QStringList &reachable,
                               const QStringList &drained, qint64 thresholdSeconds,
                               const QDateTime &now) const
{
    int servingLeft = 0;
    for (const QString &node : reachable)
        if (!drained.contains(node))
            ++servingLeft;
    QStringList due;
    if (servingLeft == 0)
        return due;
    for (const QString &node : nodeOrder) {
        if (drained.contains(node) || reachable.contains(node) || !m_downSince.contains(node))
            continue;
        if (m_downSince.value(node).secsTo(now) >= thresholdSeconds)
            due << node;
    }
    return due;
}

} // namespace mm::cluster
