#include "ui/wizard/setuppage.h"

#include "ui/wizard/setupsession.h"

#include <QFrame>
#include <QMessageBox>
#include <QScrollArea>
#include <QVBoxLayout>
#include <QWizard>

namespace mm::ui {

QVBoxLayout *SetupPage::makeCardList()
{
    auto *content = new QWidget;
    auto *cards = new QVBoxLayout(content);
    cards->addStretch(1);
    auto *scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff); // cards wrap their text to the page's width
    scroll->setWidget(content);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(scroll);
    return cards;
}

QStringList SetupPage::nodeIds() const
{
    QStringList ids;
    for (const cluster::NodeConfig &node : m_session->cluster().nodes)
        ids << node.id;
    return ids;
}

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
