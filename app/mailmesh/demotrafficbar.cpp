#include "demotrafficbar.h"

#include "democluster.h"
#include "ui/migrationdialog.h"

#include <QAction>
#include <QApplication>
#include <QEvent>
#include <QLabel>

namespace mm::app {

DemoTrafficBar::DemoTrafficBar(DemoCluster *demo, QWidget *parent)
    : QToolBar(tr("Demo"), parent)
    , m_demo(demo)
    , m_switch(addAction(tr("Live traffic")))
    , m_figures(new QLabel(this))
{
    setObjectName(QStringLiteral("demoTrafficBar"));
    m_switch->setObjectName(QStringLiteral("liveTrafficAction"));
    m_switch->setCheckable(true);
    m_switch->setEnabled(false);
    m_switch->setToolTip(tr("Simulated mail on every node: a delivery into one node's new/, then, at the same "
                            "moment, a client on another node reads it while the clients on the others open "
                            "the inbox"));
    m_figures->setObjectName(QStringLiteral("trafficFigures"));
    m_figures->setContentsMargins(8, 0, 8, 0);
    m_figures->setToolTip(tr("Duplicates as a mail client sees them: one of the traffic's messages shown twice "
                             "in the inbox of a node. Counted over IMAP on every node, split by the inbox's "
                             "layout when the message arrived."));
    addWidget(m_figures);

    connect(m_switch, &QAction::toggled, this, [this](bool on) {
        m_demo->setTrafficOn(on);
        showFigures();
    });
    connect(demo, &DemoCluster::trafficAvailable, this, [this](bool available) {
        m_switch->setEnabled(available);
        if (available && m_switch->isChecked())
            m_demo->setTrafficOn(true);
        showFigures();
    });
    connect(demo, &DemoCluster::trafficFiguresChanged, this, [this](const sandbox::DemoTraffic::Figures &figures) {
        m_last = figures;
        m_problem.clear();
        showFigures();
    });
    connect(demo, &DemoCluster::trafficProblem, this, [this](const QString &message) {
        m_problem = message;
        showFigures();
    });
    qApp->installEventFilter(this);
    showFigures();
}

bool DemoTrafficBar::eventFilter(QObject *watched, QEvent *event)
{
    if (event->type() == QEvent::Show && qobject_cast<ui::MigrationDialog *>(watched))
        hold(static_cast<QWidget *>(watched));
    else if (event->type() == QEvent::Hide && watched == m_holdingDialog) {
        m_holdingDialog.clear();
        m_demo->setTrafficHeld(false);
        showFigures();
    }
    return QToolBar::eventFilter(watched, event);
}

void DemoTrafficBar::hold(QWidget *migrationDialog)
{
    m_holdingDialog = migrationDialog;
    m_demo->setTrafficHeld(true);
    // Closed without a Hide event (deleted while shown): let the traffic go on.
    connect(migrationDialog, &QObject::destroyed, this, [this] {
        m_demo->setTrafficHeld(false);
        showFigures();
    });
    showFigures();
}

void DemoTrafficBar::showFigures()
{
    if (!m_switch->isEnabled()) {
        m_figures->setText(tr("Live traffic starts once the demo cluster is paired"));
        return;
    }
    const auto layout = [this](const sandbox::DemoTraffic::LayoutFigures &figures) {
        return tr("%n new message(s)", nullptr, figures.delivered) + QStringLiteral(", ")
               + tr("%n duplicate(s)", nullptr, figures.duplicates);
    };
    QString text = tr("Classic Maildir: %1 · cur/-only: %2").arg(layout(m_last.classic), layout(m_last.curOnly));
    if (m_demo->isTrafficHeld() && m_switch->isChecked())
        text += tr(" · held while the migration dialog is open");
    if (!m_problem.isEmpty())
        text += tr(" · last round: %1").arg(m_problem);
    m_figures->setText(text);
}

} // namespace mm::app
