#pragma once

#include "cluster/clusterstate.h"

#include <QIcon>
#include <QString>

namespace mm::ui {

// One wording and one icon per health level, used by every view.
QString healthText(cluster::Health health);
QIcon healthIcon(cluster::Health health);

} // namespace mm::ui
