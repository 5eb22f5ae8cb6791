#include "ui/statuspresentation.h"

#include <QCoreApplication>
#include <QHash>
#include <QPainter>
#include <QPixmap>
#include <QPointer>
#include <QSvgRenderer>

namespace mm::ui {

namespace {

const QString kApplicationIconPath = QStringLiteral(":/icons/io.github.mailmesh.Mailmesh.svg");

QString healthIconPath(cluster::Health health)
{
    switch (health) {
    case cluster::Health::Ok:
        return QStringLiteral(":/icons/status/ok.svg");
    case cluster::Health::Warning:
        return QStringLiteral(":/icons/status/warning.svg");
    case cluster::Health::Error:
        return QStringLiteral(":/icons/status/error.svg");
    case cluster::Health::Unknown:
        break;
    }
    return QStringLiteral(":/icons/status/unknown.svg");
}

// Renders SVGs ourselves rather than through the icon-engine plugin: the pixmaps are exact at
// every size a tray asks for, and a missing plugin cannot leave the tray blank.
QPixmap renderSvg(const QString &path, int size)
{
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QSvgRenderer renderer(path);
    QPainter painter(&pixmap);
    renderer.render(&painter);
    return pixmap;
}

// Every size at every scale the platform may ask for, so nothing is ever upscaled.
QIcon iconFromSvg(const QString &path)
{
    QIcon icon;
    for (int size : {16, 22, 24, 32, 48, 64, 96, 128, 256})
        icon.addPixmap(renderSvg(path, size));
    return icon;
}

// Icons are rendered once and kept until the application goes (owned by it, so no pixmap
// outlives the QGuiApplication); every view asks for them on each repaint.
class IconCache : public QObject
{
public:
    using QObject::QObject;
    QHash<QString, QIcon> icons;
};

QIcon cachedIconFromSvg(const QString &path)
{
    static QPointer<IconCache> cache;
    if (!cache)
        cache = new IconCache(QCoreApplication::instance());
    auto found = cache->icons.constFind(path);
    if (found == cache->icons.cend())
        found = cache->icons.insert(path, iconFromSvg(path));
    return *found;
}

} // namespace

QString healthText(cluster::Health health)
{
    switch (health) {
    case cluster::Health::Ok:
        return QCoreApplication::translate("Health", "OK");
    case cluster::Health::Warning:
        return QCoreApplication::translate("Health", "Warning");
    case cluster::Health::Error:
        return QCoreApplication::translate("Health", "Error");
    case cluster::Health::Unknown:
        break;
    }
    return QCoreApplication::translate("Health", "Unknown");
}

QIcon healthIcon(cluster::Health health)
{
    // Coloured symbols with a white rim: legible on light and dark palettes alike.
    return cachedIconFromSvg(healthIconPath(health));
}

QIcon applicationIcon()
{
    return QIcon::fromTheme(QStringLiteral("io.github.mailmesh.Mailmesh"), cachedIconFromSvg(kApplicationIconPath));
}

QIcon trayIcon(cluster::Health health)
{
    if (health == cluster::Health::Ok)
        return cachedIconFromSvg(kApplicationIconPath);
    QIcon icon;
    for (int size : {16, 22, 24, 32, 48, 64}) {
        QPixmap pixmap = renderSvg(kApplicationIconPath, size);
        const int badge = size * 5 / 8; // large enough to read at 16 px
        QPainter painter(&pixmap);
        QSvgRenderer(healthIconPath(health)).render(&painter, QRectF(size - badge, size - badge, badge, badge));
        painter.end();
        icon.addPixmap(pixmap);
    }
    return icon;
}

} // namespace mm::ui
