#include "ui/wizard/pairingpage.h"

#include "cluster/pairworkflow.h"
#include "ui/wizard/setupsession.h"
#include "ui/wizard/workflowview.h"

#include <QFontDatabase>
#include <QLabel>
#include <QVBoxLayout>

namespace mm::ui {

PairingPage::PairingPage(SetupSession *session, QWidget *parent)
    : SetupPage(session, parent)
    , m_intro(new QLabel(this))
    , m_log(new QLabel(this))
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
    m_log->setWordWrap(true);
    m_log->setTextFormat(Qt::RichText);
    m_devices->setWordWrap(true);
    m_devices->setTextFormat(Qt::RichText);
    m_devices->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_view->setRetryText(tr("&Retry Pairing"));
    connect(m_view, &WorkflowView::retryRequested, this, &PairingPage::startPairing);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_intro);
    layout->addSpacing(8);
    layout->addWidget(m_log);
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

void PairingPage::addLogLine(const QString &line)
{
    if (!m_lines.isEmpty() && m_lines.last() == line)
        return;
    // Waiting repeats itself with other lagging nodes: keep the latest of those.
    if (!m_lines.isEmpty() && line.startsWith(tr("Waiting for sync")) && m_lines.last().startsWith(tr("Waiting for sync")))
        m_lines.removeLast();
    m_lines << line;
    QStringList shown;
    for (const QString &entry : m_lines.mid(qMax<qsizetype>(0, m_lines.size() - 8)))
        shown << QStringLiteral("✔&nbsp;") + entry.toHtmlEscaped();
    if (!shown.isEmpty() && m_pair)
        shown.last().replace(0, 1, QStringLiteral("▶"));
    m_log->setText(shown.join(QStringLiteral("<br>")));
}

void PairingPage::startPairing()
{
    if (m_pair)
        return;
    m_lines.clear();
    m_devices->hide();
    auto *pair = new cluster::PairWorkflow(session()->cluster(), session()->monitorOptions(), this);
    m_pair = pair;
    m_view->setProgress(tr("Starting…"), 0, 0);
    connect(pair, &cluster::PairWorkflow::progress, this, [this](const QString &step, int done, int total) {
        addLogLine(step);
        m_view->setProgress(step, done, total);
    });
    connect(pair, &cluster::PairWorkflow::succeeded, this, [this, pair] {
        session()->recordPaired(pair->cluster());
        m_pair = nullptr;
        pair->deleteLater();
        addLogLine(tr("Every node is connected and in sync"));
        m_view->setSucceeded(tr("Paired: every node is connected and in sync. The device ids are saved in the cluster "
                                "file when you go on."));
        initializePage();
        Q_EMIT completeChanged();
    });
    connect(pair, &cluster::PairWorkflow::failed, this, [this, pair](const Error &error) {
        m_pair = nullptr;
        pair->deleteLater();
        m_view->setFailed(QString::fromStdString(error.describe()),
                          error.code == ErrorCode::Cancelled
                              ? tr("Pairing was stopped. Retry continues where it stopped: every step can run twice.")
                              : tr("Check that Syncthing runs on every node (previous page, Fix It), then retry; "
                                   "pairing continues where it stopped."));
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
