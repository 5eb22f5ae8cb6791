#include "ui/wizard/setuppage.h"

#include "ui/wizard/setupsession.h"

#include <QMessageBox>
#include <QWizard>

namespace mm::ui {

bool SetupPage::saveDraftAfterThisPage()
{
    const Status saved = m_session->saveDraft(wizard() ? wizard()->currentId() : -1);
    if (!saved) {
        QMessageBox::warning(this, tr("Cannot save the cluster file"),
                             tr("%1\n\nChoose another place for the cluster file on the first page.")
                                 .arg(QString::fromStdString(saved.error().describe())));
        return false;
    }
    return true;
}

} // namespace mm::ui
