#include "cluster/pluralforms.h"

#include <QCoreApplication>
#include <QTranslator>

namespace mm::cluster {

bool installPluralForms()
{
    // resources/translations/mailmesh_en.ts, compiled by lrelease into the library's resources.
    auto *translator = new QTranslator(QCoreApplication::instance());
    if (!translator->load(QStringLiteral(":/i18n/mailmesh_en.qm"))) {
        delete translator;
        return false;
    }
    return QCoreApplication::installTranslator(translator);
}

QString counted(qint64 count, const char *one, const char *many)
{
    return QStringLiteral("%1 %2").arg(count).arg(QLatin1String(count == 1 ? one : many));
}

} // namespace mm::cluster
