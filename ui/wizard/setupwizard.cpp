#include "ui/wizard/setupwizard.h"

#include "ui/wizard/connectpage.h"
#include "ui/wizard/dovecotpage.h"
#include "ui/wizard/migrationpage.h"
#include "ui/wizard/namepage.h"
#include "ui/wizard/nodespage.h"
#include "ui/wizard/pairingpage.h"
#include "ui/wizard/probepage.h"
#include "ui/wizard/setupsession.h"
#include "ui/wizard/summarypage.h"

#include <QMessageBox>

namespace mm::ui {

SetupWizard::SetupWizard(QWidget *parent, const QString &resumePath)
    : QWizard(parent)
    , m_session(new SetupSession(this))
{
    setWindowTitle(tr("New Mailmesh Cluster"));
    setWizardStyle(QWizard::ModernStyle);
    setOption(QWizard::NoBackButtonOnStartPage);
    setOption(QWizard::HaveHelpButton, false);
    setPage(NamePage, new mm::ui::NamePage(m_session, this));
    setPage(NodesPage, new mm::ui::NodesPage(m_session, this));
    setPage(ConnectPage, new mm::ui::ConnectPage(m_session, this));
    setPage(ProbePage, new mm::ui::ProbePage(m_session, this));
    setPage(PairingPage, new mm::ui::PairingPage(m_session, this));
    setPage(DovecotPage, new mm::ui::DovecotPage(m_session, this));
    setPage(MigrationPage, new mm::ui::MigrationPage(m_session, this));
    setPage(SummaryPage, new mm::ui::SummaryPage(m_session, this));
    setMinimumSize(820, 600);
    resize(960, 720);

    if (!resumePath.isEmpty()) {
        const int completed = SetupSession::lastCompletedPage(resumePath);
        if (const Status resumed = m_session->resume(resumePath); !resumed) {
            QMessageBox::warning(parent, tr("Cannot continue the setup"), QString::fromStdString(resumed.error().describe()));
        } else if (completed >= 0) {
            setStartId(qMin(completed + 1, int(SummaryPage)));
        }
    }
}

SetupWizard *SetupWizard::createForNewCluster(QWidget *parent)
{
    const QString draft = SetupSession::unfinishedDraft();
    if (!draft.isEmpty()) {
        const auto answer = QMessageBox::question(
            parent, tr("Continue the unfinished setup?"),
            tr("A cluster setup was left unfinished; its draft is saved at\n%1\n\nContinue it where it stopped?").arg(draft),
            QMessageBox::Yes | QMessageBox::No, QMessageBox::Yes);
        if (answer == QMessageBox::Yes)
            return new SetupWizard(parent, draft);
    }
    return new SetupWizard(parent);
}

QString SetupWizard::clusterPath() const
{
    return m_session->clusterPath();
}

void SetupWizard::accept()
{
    if (const Status saved = m_session->cluster().save(m_session->clusterPath()); !saved) {
        QMessageBox::warning(this, tr("Cannot save the cluster file"), QString::fromStdString(saved.error().describe()));
        return;
    }
    SetupSession::forgetProgress(m_session->clusterPath());
    QWizard::accept();
    Q_EMIT clusterCreated(m_session->clusterPath());
}

void SetupWizard::reject()
{
    auto *page = qobject_cast<SetupPage *>(currentPage());
    if (page && page->isBusy()) {
        const auto answer = QMessageBox::question(
            this, tr("Stop and leave?"),
            tr("A step is still running. Stop it and leave the wizard? What is done so far stays in the draft "
               "cluster file; \"New Cluster…\" continues from there."),
            QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
        if (answer != QMessageBox::Yes)
            return;
        page->cancelWork();
    }
    QWizard::reject();
}

} // namespace mm::ui
