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

} // namespace mm::cluster
