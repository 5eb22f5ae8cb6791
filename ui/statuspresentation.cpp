#include "ui/statuspresentation.h"

#include <QApplication>
#include <QCoreApplication>
#include <QStyle>

namespace mm::ui {

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
    // Standard style icons follow the platform theme, so they stay legible in dark mode.
    QStyle *style = QApplication::style();
    if (!style)
        return {};
    switch (health) {
    case cluster::Health::Ok:
        return style->standardIcon(QStyle::SP_DialogApplyButton);
    case cluster::Health::Warning:
        return style->standardIcon(QStyle::SP_MessageBoxWarning);
    case cluster::Health::Error:
        return style->standardIcon(QStyle::SP_MessageBoxCritical);
    case cluster::Health::Unknown:
        break;
    }
    return style->standardIcon(QStyle::SP_MessageBoxQuestion);
}

} // namespace mm::ui
