#include "ui/wizard/pairingpage.h"

#include "cluster/workflows/pairworkflow.h"
#include "ui/wizard/setupsession.h"
#include "ui/wizard/workflowview.h"

#include <QFontDatabase>
#include <QLabel>
#include <QVBoxLayout>

namespace mm::ui {

PairingPage::PairingPage(SetupSession *session, QWidget *parent)
    : SetupPage(session, parent)
    , m_intro(new QLabel(this))
    , m_devices(new QLabel(this))
    , m_view(new WorkflowView(this))
{
    setTitle(tr("Pair Syncthing on every node"));
    setSubTitle(tr("Every node learns every other node's device id and shares its mail root with them."));
    m_intro->setWordWrap(true);
    m_intro->setText(tr("Mailmesh talks to each Syncthing through an SSH tunnel, adds the other nodes with their "
                        "addresses (no discovery or relays needed), shares the mail root as one folder with "
                        "Mailmesh's ignores, and waits until every node is connected and in sync. Mail already on "
                        "one node is copied to the others now."));
    m_devices->setWordWrap(true);
    m_devices->setTextFormat(Qt::RichText);
    m_devices->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_view->setRetryText(tr("&Retry Pairing"));
    connect(m_view, &WorkflowView::retryRequested, this, &PairingPage::startPairing);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_intro);
    layout->addSpacing(8);
    layout->addWidget(m_view);
    layout->addWidget(m_devices);
    layout->addStretch(1);
}

void PairingPage::initializePage()
{
    if (session()->isPaired()) {
        m_view->setSucceeded(tr("Every node is connected and in sync."));
    } else if (!m_pair) {
        startPairing();
    }
    QStringList devices;
    for (const cluster::NodeConfig &node : session()->cluster().nodes)
        if (!node.syncthing.deviceId.isEmpty())
            devices << QStringLiteral("<tr><td style=\"padding-right:12px\">%1</td><td><tt>%2</tt></td></tr>")
                           .arg(node.id.toHtmlEscaped(), node.syncthing.deviceId);
    m_devices->setText(devices.isEmpty() ? QString() : tr("<b>Device ids</b><table>%1</table>").arg(devices.join(QString())));
    m_devices->setVisible(session()->isPaired() && !devices.isEmpty());
}

void PairingPage::startPairing()
{
    if (m_pair)
        return;
    m_devices->hide();
    auto *pair = new cluster::PairWorkflow(session()->cluster(), session()->monitorOptions(), this);
    m_pair = pair;
    m_view->follow(pair);
    connect(pair, &cluster::Workflow::finished, this, [this, pair](const cluster::WorkflowReport &report) {
        m_pair = nullptr;
        pair->deleteLater();
        if (report.succeeded) {
            session()->recordPaired(pair->cluster());
            m_view->setSucceeded(tr("Paired: every node is connected and in sync. The device ids are saved in the "
                                    "cluster file when you go on."));
            initializePage();
        }
        Q_EMIT completeChanged();
    });
    pair->start();
    Q_EMIT completeChanged();
}

bool PairingPage::isBusy() const
{
    return m_pair;
}

void PairingPage::cancelWork()
{
    if (m_pair)
        m_pair->cancel();
}

bool PairingPage::isComplete() const
{
    return !isBusy() && session()->isPaired();
}

bool PairingPage::validatePage()
{
    return saveDraftAfterThisPage();
}

} // namespace mm::ui
