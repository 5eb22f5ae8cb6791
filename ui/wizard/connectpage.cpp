#include "ui/wizard/connectpage.h"

#include "cluster/workflows/addnodeworkflow.h"
#include "ui/wizard/setupsession.h"
#include "ui/wizard/workflowview.h"

#include <QDir>
#include <QFontDatabase>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

namespace mm::ui {

struct ConnectPage::Card
{
    QGroupBox *box = nullptr;
    QLabel *status = nullptr;
    QLabel *hostKey = nullptr;
    QPushButton *accept = nullptr;
    QPushButton *refuse = nullptr;
    WorkflowView *workflow = nullptr;
    State state = State::Waiting;
    QString offeredKey;
    QString message; // the error, refusal or connection detail
    QString nextAction;
    cluster::WorkflowReport report;
};

ConnectPage::ConnectPage(SetupSession *session, QWidget *parent)
    : SetupPage(session, parent)
{
    setTitle(tr("Connect to the nodes"));
    setSubTitle(tr("Mailmesh checks each node's SSH host key, starts its agent there and looks around. "
                   "Nothing on the nodes is changed."));
    m_cards = makeCardList();
}

ConnectPage::~ConnectPage()
{
    qDeleteAll(m_byNode);
}

void ConnectPage::initializePage()
{
    // Cards follow the nodes as they are now; what ran for an unchanged node is kept.
    const QStringList ids = nodeIds();
    dropCardsOfRemovedNodes(m_byNode, ids);
    m_order = ids;
    for (int i = 0; i < ids.size(); ++i) {
        const QString id = ids[i];
        Card *card = m_byNode.value(id);
        if (!card) {
            card = new Card;
            card->box = new QGroupBox;
            card->box->setObjectName(QStringLiteral("connect-") + id);
            card->status = new QLabel(card->box);
            card->status->setObjectName(QStringLiteral("status-") + id);
            card->status->setWordWrap(true);
            card->status->setTextFormat(Qt::RichText);
            card->status->setTextInteractionFlags(Qt::TextSelectableByMouse);
            card->hostKey = new QLabel(card->box);
            card->hostKey->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
            card->hostKey->setTextInteractionFlags(Qt::TextSelectableByMouse);
            card->accept = new QPushButton(tr("&Accept this key"), card->box);
            card->accept->setObjectName(QStringLiteral("acceptHostKey-") + id);
            card->accept->setToolTip(tr("Pin this key for %1: Mailmesh will refuse any other key from now on").arg(id));
            card->refuse = new QPushButton(tr("Re&fuse"), card->box);
            card->refuse->setObjectName(QStringLiteral("refuseHostKey-") + id);
            card->refuse->setToolTip(tr("Do not trust this key; the node stays out of the cluster"));
            card->workflow = new WorkflowView(card->box);
            connect(card->accept, &QPushButton::clicked, this, [this, id] { acceptHostKey(id); });
            connect(card->refuse, &QPushButton::clicked, this, [this, id] { refuseHostKey(id); });
            connect(card->workflow, &WorkflowView::retryRequested, this, [this, id] { retry(id); });
            auto *keyRow = new QHBoxLayout;
            keyRow->addWidget(card->hostKey, 1);
            keyRow->addWidget(card->accept);
            keyRow->addWidget(card->refuse);
            auto *layout = new QVBoxLayout(card->box);
            layout->addWidget(card->status);
            layout->addLayout(keyRow);
            layout->addWidget(card->workflow);
            m_byNode.insert(id, card);
        }
        const cluster::NodeConfig *node = session()->cluster().node(id);
        card->box->setTitle(QStringLiteral("%1 — %2").arg(id, node->ssh));
        m_cards->insertWidget(i, card->box);
        if (session()->isConnected(id)) {
            if (card->state != State::Connected) {
                card->state = State::Connected;
                card->message = node->hostKey.isEmpty() ? QString() : tr("host key %1 pinned").arg(node->hostKey);
            }
        } else if (card->state != State::UnknownHostKey && card->state != State::ChangedHostKey
                   && card->state != State::Refused) {
            card->state = State::Waiting;
            enqueue(id);
        }
        show(id);
    }
    runNext();
}

void ConnectPage::enqueue(const QString &nodeId, const QString &acceptedKey)
{
    for (const auto &queued : std::as_const(m_queue))
        if (queued.first == nodeId)
            return;
    m_queue.append({nodeId, acceptedKey});
    if (Card *card = m_byNode.value(nodeId)) {
        card->state = State::Waiting;
        show(nodeId);
    }
}

void ConnectPage::runNext()
{
    if (m_running || m_queue.isEmpty())
        return;
    const auto [nodeId, acceptedKey] = m_queue.takeFirst();
    Card *card = m_byNode.value(nodeId);
    const cluster::NodeConfig *node = session()->cluster().node(nodeId);
    if (!card || !node) {
        runNext();
        return;
    }
    auto *workflow = new cluster::AddNodeWorkflow(session()->cluster(), *node, acceptedKey, session()->monitorOptions(), this);
    m_running = workflow;
    m_runningNode = nodeId;
    card->state = State::Running;
    card->workflow->follow(workflow);
    show(nodeId);
    connect(workflow, &cluster::Workflow::finished, this, [this, nodeId, workflow](const cluster::WorkflowReport &report) {
        if (report.succeeded)
            session()->recordConnected(workflow->node(), report.details.value(QStringLiteral("probe")).toObject());
        workflow->deleteLater();
        m_running = nullptr;
        m_runningNode.clear();
        finished(nodeId, report);
        runNext();
        Q_EMIT completeChanged();
    });
    workflow->start();
    Q_EMIT completeChanged();
}

void ConnectPage::finished(const QString &nodeId, const cluster::WorkflowReport &report)
{
    Card *card = m_byNode.value(nodeId);
    if (!card)
        return;
    card->report = report;
    card->nextAction = report.nextAction;
    card->message = report.error ? QString::fromStdString(report.error->describe()) : QString();
    const cluster::NodeConfig *node = session()->cluster().node(nodeId);
    if (report.succeeded) {
        card->state = State::Connected;
        for (const cluster::WorkflowStep &step : report.steps)
            if (step.id == QLatin1String("connect"))
                card->message = step.detail;
    } else if (report.error && report.error->code == ErrorCode::Cancelled) {
        card->state = State::Cancelled;
    } else if (report.error && report.error->code == ErrorCode::ChangedHostKey) {
        card->state = State::ChangedHostKey;
    } else if (report.error && report.error->code == ErrorCode::UnknownHostKey) {
        card->offeredKey = report.details.value(QStringLiteral("offeredHostKey")).toString();
        // A node pinned to one key that now offers another has changed its key, whatever ssh
        // calls it: accepting it here would turn a refused change into a trusted one.
        const bool pinnedOther = node && !node->hostKey.isEmpty() && node->hostKey != card->offeredKey;
        card->state = pinnedOther ? State::ChangedHostKey : State::UnknownHostKey;
        if (pinnedOther)
            card->message = tr("%1 is pinned to the host key %2 but now offers %3")
                                .arg(nodeId, node->hostKey, card->offeredKey);
    } else {
        card->state = State::Failed;
    }
    show(nodeId);
}

void ConnectPage::show(const QString &nodeId)
{
    Card *card = m_byNode.value(nodeId);
    if (!card)
        return;
    const QString red = errorColourName(this);
    QString status;
    bool showKey = false;
    bool askForKey = false;
    switch (card->state) {
    case State::Waiting:
        status = tr("Waiting for its turn…");
        break;
    case State::Running:
        status = tr("<b>Connecting…</b>");
        break;
    case State::Connected:
        status = QStringLiteral("<span style=\"color:%1\">✔</span> <b>%2</b> %3")
                     .arg(okColourName(this), tr("Connected."), card->message.toHtmlEscaped());
        break;
    case State::UnknownHostKey:
        status = tr("<b>This node's host key is not known yet.</b> Compare its fingerprint with the node's own key "
                    "(on the node: <tt>ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub</tt>, or ask its hoster). "
                    "Accept it only when they match.");
        showKey = askForKey = true;
        break;
    case State::Refused:
        status = tr("<b>You refused the host key.</b> The node stays out of the cluster; Retry to look at it again.");
        showKey = true;
        break;
    case State::ChangedHostKey:
        status = QStringLiteral("<span style=\"color:%1\"><b>%2</b> %3</span><br>%4")
                     .arg(red, tr("Refused: the host key CHANGED."), card->message.toHtmlEscaped(),
                          tr("A host key changes when the node was reinstalled — or when someone is in the middle of "
                             "the connection. Check the node before you trust it again. If it was reinstalled, remove "
                             "its old key from %1 and retry.")
                              .arg(QDir::toNativeSeparators(session()->monitorOptions().ssh.knownHostsFile)));
        break;
    case State::Failed:
        status = tr("<b>Could not add this node.</b>");
        break;
    case State::Cancelled:
        status = tr("<b>Stopped.</b> Retry to connect again.");
        break;
    }
    card->status->setText(status);
    card->hostKey->setText(card->offeredKey);
    card->hostKey->setVisible(showKey && !card->offeredKey.isEmpty());
    card->accept->setVisible(askForKey);
    card->refuse->setVisible(askForKey);
    // The steps matter while it runs and when it failed; a settled node needs one line.
    const bool showSteps = card->state == State::Running || card->state == State::Failed;
    card->workflow->setVisible(showSteps || card->state == State::Refused || card->state == State::ChangedHostKey
                               || card->state == State::Cancelled);
    if (card->state == State::Refused || card->state == State::ChangedHostKey || card->state == State::Cancelled) {
        card->workflow->clear();
        card->workflow->retryButton()->show();
    } else if (card->state == State::Failed) {
        card->workflow->showReport(card->report);
    }
}

ConnectPage::State ConnectPage::state(const QString &nodeId) const
{
    const Card *card = m_byNode.value(nodeId);
    return card ? card->state : State::Waiting;
}

void ConnectPage::acceptHostKey(const QString &nodeId)
{
    Card *card = m_byNode.value(nodeId);
    if (!card || card->state != State::UnknownHostKey)
        return;
    enqueue(nodeId, card->offeredKey);
    runNext();
}

void ConnectPage::refuseHostKey(const QString &nodeId)
{
    Card *card = m_byNode.value(nodeId);
    if (!card || card->state != State::UnknownHostKey)
        return;
    card->state = State::Refused;
    show(nodeId);
    Q_EMIT completeChanged();
}

void ConnectPage::retry(const QString &nodeId)
{
    if (Card *card = m_byNode.value(nodeId)) {
        card->offeredKey.clear();
        enqueue(nodeId);
        runNext();
    }
}

bool ConnectPage::isBusy() const
{
    return m_running || !m_queue.isEmpty();
}

void ConnectPage::cancelWork()
{
    const QList<QPair<QString, QString>> queued = m_queue;
    m_queue.clear();
    for (const auto &entry : queued)
        if (Card *card = m_byNode.value(entry.first)) {
            card->state = State::Cancelled;
            show(entry.first);
        }
    if (m_running)
        m_running->cancel();
}

bool ConnectPage::isComplete() const
{
    return !isBusy() && session()->allConnected();
}

bool ConnectPage::validatePage()
{
    return saveDraftAfterThisPage();
}

} // namespace mm::ui
