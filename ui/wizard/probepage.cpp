#include "ui/wizard/probepage.h"

#include "cluster/workflows/addnodeworkflow.h"
#include "cluster/workflows/preparenodeworkflow.h"
#include "ui/wizard/setupsession.h"
#include "ui/wizard/workflowview.h"

#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

namespace mm::ui {

namespace {

QString row(const QString &label, const QString &value)
{
    return QStringLiteral("<tr><td style=\"padding-right:12px\"><b>%1</b></td><td>%2</td></tr>").arg(label, value);
}

// The probe lists every Syncthing on the machine; the node's own is the one with its home.
QJsonArray syncthingProcessesOf(const cluster::NodeConfig &node, const QJsonObject &syncthing)
{
    const QJsonArray all = syncthing.value(QStringLiteral("processes")).toArray();
    if (node.syncthing.home.isEmpty())
        return all;
    QJsonArray own;
    for (const QJsonValue &process : all)
        if (process.toObject().value(QStringLiteral("home")).toString() == node.syncthing.home)
            own.append(process);
    return own;
}

QString onOff(const QJsonValue &value)
{
    if (value.isBool())
        return value.toBool() ? QObject::tr("on") : QObject::tr("off");
    return QObject::tr("unknown");
}

QString factsOf(const cluster::NodeConfig &node, const QJsonObject &probe)
{
    const QLocale locale;
    const QJsonObject os = probe.value(QStringLiteral("os")).toObject();
    const QJsonObject dovecot = probe.value(QStringLiteral("dovecot")).toObject();
    const QJsonObject syncthing = probe.value(QStringLiteral("syncthing")).toObject();
    const QJsonObject inventory = probe.value(QStringLiteral("inventory")).toObject();
    QString text = QStringLiteral("<table>");
    text += row(QObject::tr("System"), QStringLiteral("%1, %2, kernel %3")
                                           .arg(os.value(QStringLiteral("prettyName")).toString().toHtmlEscaped(),
                                                probe.value(QStringLiteral("architecture")).toString(),
                                                os.value(QStringLiteral("kernelRelease")).toString().toHtmlEscaped()));
    if (dovecot.value(QStringLiteral("found")).toBool())
        text += row(QObject::tr("Dovecot"),
                    QObject::tr("%1 — %2 build, maildir_cur_only %3")
                        .arg(dovecot.value(QStringLiteral("version")).toString().toHtmlEscaped(),
                             dovecot.value(QStringLiteral("curOnlyBuild")).toBool() ? QObject::tr("cur/-only (patched)")
                                                                                    : QObject::tr("stock"),
                             onOff(dovecot.value(QStringLiteral("curOnlyEnabled")))));
    else
        text += row(QObject::tr("Dovecot"), QObject::tr("not found"));
    if (syncthing.value(QStringLiteral("found")).toBool()) {
        QStringList users;
        for (const QJsonValue &process : syncthingProcessesOf(node, syncthing))
            if (const QString user = process.toObject().value(QStringLiteral("user")).toString(); !users.contains(user))
                users << user;
        text += row(QObject::tr("Syncthing"),
                    QObject::tr("%1 — %2, GUI on %3")
                        .arg(syncthing.value(QStringLiteral("version")).toString().section(u' ', 0, 1).toHtmlEscaped(),
                             users.isEmpty() ? QObject::tr("not running")
                                             : QObject::tr("runs as %1").arg(users.join(QStringLiteral(", ")).toHtmlEscaped()),
                             syncthing.value(QStringLiteral("guiAddress")).toString().toHtmlEscaped()));
    } else {
        text += row(QObject::tr("Syncthing"), QObject::tr("not installed"));
    }
    QStringList owners;
    for (const QJsonValue &value : inventory.value(QStringLiteral("owners")).toArray()) {
        const QJsonObject owner = value.toObject();
        owners << QObject::tr("%1 (%2 files)")
                      .arg(owner.value(QStringLiteral("user")).toString().toHtmlEscaped(),
                           locale.toString(owner.value(QStringLiteral("files")).toInteger()));
    }
    text += row(QObject::tr("Mail root"),
                QObject::tr("%1: %2 in %3 (%4 classic, %5 cur/-only), %6, %7")
                    .arg(node.mailRoot.toHtmlEscaped(),
                         QObject::tr("%n folder(s)", nullptr, int(inventory.value(QStringLiteral("folders")).toInteger())),
                         QObject::tr("%n Maildir(s)", nullptr, int(inventory.value(QStringLiteral("maildirs")).toInteger())),
                         locale.toString(inventory.value(QStringLiteral("classicFolders")).toInteger()),
                         locale.toString(inventory.value(QStringLiteral("curOnlyFolders")).toInteger()),
                         QObject::tr("%n message(s)", nullptr, int(inventory.value(QStringLiteral("messages")).toInteger())),
                         locale.formattedDataSize(inventory.value(QStringLiteral("bytes")).toInteger())));
    text += row(QObject::tr("Owners"), owners.isEmpty() ? QObject::tr("no files yet") : owners.join(QStringLiteral(", ")));
    text += QStringLiteral("</table>");
    return text;
}

} // namespace

struct ProbePage::Card
{
    QGroupBox *box = nullptr;
    QLabel *facts = nullptr;
    QLabel *problems = nullptr;
    QPushButton *fix = nullptr;
    QPushButton *probeAgain = nullptr;
    WorkflowView *workflow = nullptr;
    QLabel *manualActions = nullptr;
    QPointer<cluster::Workflow> running;
    bool probing = false;
};

ProbePage::ProbePage(SetupSession *session, QWidget *parent)
    : SetupPage(session, parent)
{
    setTitle(tr("What is on the nodes"));
    setSubTitle(tr("Each node's system, Dovecot, Syncthing and mail, as its probe found them, and what needs fixing."));
    m_cards = makeCardList();
}

ProbePage::~ProbePage()
{
    qDeleteAll(m_byNode);
}

QStringList ProbePage::problemsOf(const cluster::NodeConfig &node, const QJsonObject &probe, bool *fixable)
{
    QStringList problems;
    bool canFix = false;
    const QLocale locale;
    const QJsonObject dovecot = probe.value(QStringLiteral("dovecot")).toObject();
    const QJsonObject syncthing = probe.value(QStringLiteral("syncthing")).toObject();
    const QJsonObject inventory = probe.value(QStringLiteral("inventory")).toObject();
    if (!dovecot.value(QStringLiteral("found")).toBool())
        problems << tr("No Dovecot was found. Install Dovecot, or give its prefix in the node's advanced settings.");
    else if (!dovecot.value(QStringLiteral("curOnlyBuild")).toBool())
        problems << tr("Dovecot is the stock build. The patched cur/-only build must be deployed before clients use the "
                       "migrated mail (next pages).");
    if (!syncthing.value(QStringLiteral("found")).toBool()) {
        problems << tr("Syncthing is not installed. Install it (Debian: apt install syncthing), then probe again.");
    } else {
        const QJsonArray processes = syncthingProcessesOf(node, syncthing);
        if (processes.isEmpty()) {
            problems << tr("Syncthing is not running.");
            canFix = true;
        }
        for (const QJsonValue &process : processes) {
            const QString user = process.toObject().value(QStringLiteral("user")).toString();
            if (!node.mailUser.isEmpty() && user != node.mailUser) {
                problems << tr("Syncthing runs as %1, not as the mail user %2: it would write every mail file as %1.")
                                .arg(user, node.mailUser);
                canFix = true;
                break;
            }
        }
        if (syncthing.value(QStringLiteral("guiOnLoopback")).isBool() && !syncthing.value(QStringLiteral("guiOnLoopback")).toBool()) {
            problems << tr("Syncthing's GUI listens on %1, which the network can reach; it should listen on 127.0.0.1 only.")
                            .arg(syncthing.value(QStringLiteral("guiAddress")).toString());
            canFix = true;
        }
    }
    const qint64 watches = probe.value(QStringLiteral("inotify")).toObject().value(QStringLiteral("maxUserWatches")).toInteger(-1);
    const qint64 needed = inventory.value(QStringLiteral("inotifyWatchesNeeded")).toInteger();
    if (watches >= 0 && needed > watches) {
        problems << tr("The kernel lets a user watch %1 directories, the mail root needs %2: Syncthing would miss changes.")
                        .arg(locale.toString(watches), locale.toString(needed));
        canFix = true;
    }
    if (const qint64 broken = inventory.value(QStringLiteral("brokenFolders")).toInteger(); broken > 0)
        problems << tr("%n folder(s) are not complete Maildirs (cur/, new/ or tmp/ missing); they will be skipped.", nullptr,
                       int(broken));
    if (const qint64 unreadable = inventory.value(QStringLiteral("problems")).toInteger(); unreadable > 0)
        problems << tr("%n entry(ies) under the mail root could not be read (on the node: mailmesh-agent scan %1 lists them).",
                       nullptr, int(unreadable))
                        .arg(node.mailRoot);
    for (const QJsonValue &warning : probe.value(QStringLiteral("warnings")).toArray())
        problems << warning.toString();
    if (fixable)
        *fixable = canFix;
    return problems;
}

void ProbePage::initializePage()
{
    const QStringList ids = nodeIds();
    dropCardsOfRemovedNodes(m_byNode, ids);
    for (int i = 0; i < ids.size(); ++i) {
        const QString id = ids[i];
        Card *card = m_byNode.value(id);
        if (!card) {
            card = new Card;
            card->box = new QGroupBox(id);
            card->box->setObjectName(QStringLiteral("probe-") + id);
            card->facts = new QLabel(card->box);
            card->facts->setTextFormat(Qt::RichText);
            card->facts->setWordWrap(true);
            card->facts->setTextInteractionFlags(Qt::TextSelectableByMouse);
            card->problems = new QLabel(card->box);
            card->problems->setObjectName(QStringLiteral("problems-") + id);
            card->problems->setTextFormat(Qt::RichText);
            card->problems->setWordWrap(true);
            card->fix = new QPushButton(tr("&Fix It"), card->box);
            card->fix->setObjectName(QStringLiteral("fix-") + id);
            card->fix->setToolTip(tr("Start Syncthing as the mail user with the system, keep its GUI on loopback and raise "
                                     "the inotify limit, where the login user may; otherwise show the commands to run"));
            card->probeAgain = new QPushButton(tr("&Probe Again"), card->box);
            card->probeAgain->setToolTip(tr("Look at the node again, e.g. after you changed something there"));
            card->workflow = new WorkflowView(card->box);
            card->manualActions = new QLabel(card->box);
            card->manualActions->setObjectName(QStringLiteral("manualActions-") + id);
            card->manualActions->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred); // a long path never widens the card
            card->manualActions->setTextFormat(Qt::RichText);
            card->manualActions->setWordWrap(true);
            card->manualActions->setTextInteractionFlags(Qt::TextSelectableByMouse);
            card->manualActions->hide();
            connect(card->fix, &QPushButton::clicked, this, [this, id] { fixNode(id); });
            connect(card->probeAgain, &QPushButton::clicked, this, [this, id] { probeNode(id); });
            connect(card->workflow, &WorkflowView::retryRequested, this, [this, id] { probeNode(id); });
            auto *buttons = new QHBoxLayout;
            buttons->addWidget(card->fix);
            buttons->addWidget(card->probeAgain);
            buttons->addStretch(1);
            auto *layout = new QVBoxLayout(card->box);
            layout->addWidget(card->facts);
            layout->addWidget(card->problems);
            layout->addLayout(buttons);
            layout->addWidget(card->workflow);
            layout->addWidget(card->manualActions);
            m_byNode.insert(id, card);
        }
        m_cards->insertWidget(i, card->box);
        if (session()->probe(id).isEmpty() && !card->running)
            probeNode(id); // a resumed draft: the probe is not kept in the cluster file
        show(id);
    }
}

void ProbePage::run(const QString &nodeId, cluster::Workflow *workflow)
{
    Card *card = m_byNode.value(nodeId);
    card->running = workflow;
    card->workflow->follow(workflow);
    card->workflow->show();
    show(nodeId);
    Q_EMIT completeChanged();
    workflow->start();
}

void ProbePage::probeNode(const QString &nodeId)
{
    Card *card = m_byNode.value(nodeId);
    const cluster::NodeConfig *node = session()->cluster().node(nodeId);
    if (!card || !node || card->running)
        return;
    auto *workflow = new cluster::AddNodeWorkflow(session()->cluster(), *node, QString(), session()->monitorOptions(), this);
    card->probing = true;
    connect(workflow, &cluster::Workflow::finished, this, [this, nodeId, workflow](const cluster::WorkflowReport &report) {
        if (report.succeeded)
            session()->recordConnected(workflow->node(), report.details.value(QStringLiteral("probe")).toObject());
        workflow->deleteLater();
        if (Card *card = m_byNode.value(nodeId)) {
            card->probing = false;
            card->running = nullptr;
            card->workflow->setVisible(!report.succeeded);
        }
        show(nodeId);
        Q_EMIT completeChanged();
    });
    run(nodeId, workflow);
}

void ProbePage::fixNode(const QString &nodeId)
{
    Card *card = m_byNode.value(nodeId);
    if (!card || card->running)
        return;
    auto *workflow = new cluster::PrepareNodeWorkflow(session()->cluster(), nodeId, false, session()->monitorOptions(), this);
    card->manualActions->hide();
    connect(workflow, &cluster::Workflow::finished, this, [this, nodeId, workflow](const cluster::WorkflowReport &report) {
        workflow->deleteLater();
        Card *card = m_byNode.value(nodeId);
        if (!card)
            return;
        QStringList actions;
        for (const QJsonValue &value : report.details.value(QStringLiteral("manualActions")).toArray()) {
            const QJsonObject action = value.toObject();
            QStringList commands;
            for (const QJsonValue &command : action.value(QStringLiteral("commands")).toArray())
                commands << command.toString().toHtmlEscaped();
            // pre-wrap: long commands wrap inside the card instead of widening it.
            actions << QStringLiteral("<li>%1<p style=\"white-space:pre-wrap; font-family:monospace\">%2</p></li>")
                           .arg(action.value(QStringLiteral("what")).toString().toHtmlEscaped(), commands.join(u'\n'));
        }
        card->manualActions->setText(tr("<b>Mailmesh cannot do this itself; please run on %1:</b><ul>%2</ul>")
                                         .arg(nodeId, actions.join(QString())));
        card->manualActions->setVisible(!actions.isEmpty());
        card->running = nullptr;
        // Look again, so the facts and problems show what the fix changed.
        if (report.succeeded || report.skippedItems)
            probeNode(nodeId);
        else
            show(nodeId);
        Q_EMIT completeChanged();
    });
    run(nodeId, workflow);
}

void ProbePage::show(const QString &nodeId)
{
    Card *card = m_byNode.value(nodeId);
    const cluster::NodeConfig *node = session()->cluster().node(nodeId);
    if (!card || !node)
        return;
    const QJsonObject probe = session()->probe(nodeId);
    bool fixable = false;
    const QStringList problems = probe.isEmpty() ? QStringList() : problemsOf(*node, probe, &fixable);
    card->facts->setText(probe.isEmpty() ? (card->running ? tr("Probing…") : tr("Not probed yet.")) : factsOf(*node, probe));
    if (probe.isEmpty()) {
        card->problems->hide();
    } else if (problems.isEmpty()) {
        card->problems->setText(QStringLiteral("<span style=\"color:%1\">✔</span> %2")
                                    .arg(okColourName(this), tr("Ready: nothing to fix on this node.")));
        card->problems->show();
    } else {
        QStringList items;
        for (const QString &problem : problems)
            items << QStringLiteral("<li>%1</li>").arg(problem.toHtmlEscaped());
        card->problems->setText(QStringLiteral("<span style=\"color:%1\"><b>%2</b></span><ul style=\"margin:0\">%3</ul>")
                                    .arg(errorColourName(this), tr("To look at:"), items.join(QString())));
        card->problems->show();
    }
    card->fix->setVisible(fixable);
    card->fix->setEnabled(!card->running);
    card->probeAgain->setEnabled(!card->running);
}

bool ProbePage::isBusy() const
{
    for (const Card *card : m_byNode)
        if (card->running)
            return true;
    return false;
}

void ProbePage::cancelWork()
{
    for (Card *card : std::as_const(m_byNode))
        if (card->running)
            card->running->cancel();
}

bool ProbePage::isComplete() const
{
    if (isBusy())
        return false;
    for (const cluster::NodeConfig &node : session()->cluster().nodes)
        if (session()->probe(node.id).isEmpty())
            return false;
    return true;
}

bool ProbePage::validatePage()
{
    return saveDraftAfterThisPage();
}

} // namespace mm::ui
