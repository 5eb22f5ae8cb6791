#pragma once

#include <QDir>
#include <QString>

// Where GUI tests save what a person should look at: <build>/screenshots/NAME.
inline QString screenshotPath(const QString &name)
{
    const QString dir = QStringLiteral(MAILMESH_BUILD_DIR "/screenshots");
    QDir().mkpath(dir);
    return dir + QLatin1Char('/') + name;
}
