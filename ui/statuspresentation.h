#pragma once

#include "cluster/monitor/clusterstate.h"

#include <QIcon>
#include <QString>

namespace mm::ui {

// One wording and one icon per health level, used by every view.
QString healthText(cluster::Health health);
QIcon healthIcon(cluster::Health health);

// The application icon: the desktop theme's, when it has one installed, else the built-in SVG.
QIcon applicationIcon();
// The tray icon: the application icon, with the health badge in a corner unless all is well.
QIcon trayIcon(cluster::Health health);

} // namespace mm::ui
