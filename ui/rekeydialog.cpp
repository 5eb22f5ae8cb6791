#include "ui/rekeydialog.h"

#include "cluster/workflows/rekeynodeworkflow.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

#include <utility>

namespace mm::ui {

namespace {

QLineEdit *readOnlyField(QWidget *parent)
{
    auto *field = new QLineEdit(parent);
    field->setReadOnly(true);
    field->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    // A whole SHA-256 fingerprint ("SHA256:" and 43 characters) without scrolling.
    field->setMinimumWidth(field->fontMetrics().horizontalAdvance(QString(52, QLatin1Char('M'))) + 16);
    return field;
}

} // namespace

RekeyDialog::RekeyDialog(cluster::ClusterConfig cluster, QString nodeId, cluster::MonitorOptions options, QWidget *parent)
    : QDialog(parent)
    , m_cluster(std::move(cluster))
    , m_nodeId(std::move(nodeId))
    , m_options(std::move(options))
{
    setWindowTitle(tr("Re-key %1").arg(m_nodeId));
    auto *layout = new QVBoxLayout(this);
    auto *why = new QLabel(
        tr("A node's SSH host key changes when the node was reinstalled or its keys were regenerated, and when "
           "someone sits between you and the node. Mailmesh refuses the node until you decide.\n"
           "Read the node's own key on the node itself (its console, or another channel you trust, not this "
           "connection) and compare it with the offered key below."),
        this);
    why->setWordWrap(true);
    layout->addWidget(why);

    auto *form = new QFormLayout;
    m_pinned = readOnlyField(this);
    m_pinned->setObjectName(QStringLiteral("pinnedHostKey"));
    m_offeredEdit = readOnlyField(this);
    m_offeredEdit->setObjectName(QStringLiteral("offeredHostKey"));
    m_compareCommand = readOnlyField(this);
    m_compareCommand->setText(cluster::RekeyNodeWorkflow::compareCommand());
    if (const cluster::NodeConfig *node = std::as_const(m_cluster).node(m_nodeId))
        m_pinned->setText(node->hostKey);
    form->addRow(tr("Pinned key:"), m_pinned);
    form->addRow(tr("Offered now:"), m_offeredEdit);
    form->addRow(tr("On the node, run:"), m_compareCommand);
    layout->addLayout(form);

    m_compared = new QCheckBox(tr("I compared the offered key with the node's own, read on the node, and they match"),
                               this);
    m_compared->setObjectName(QStringLiteral("comparedCheck"));
    m_compared->setEnabled(false);
    layout->addWidget(m_compared);
    m_status = new QLabel(tr("Asking %1 which key it offers…").arg(m_nodeId), this);
    m_status->setObjectName(QStringLiteral("rekeyStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_status);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    m_pinButton = buttons->addButton(tr("&Pin the Offered Key"), QDialogButtonBox::AcceptRole);
    m_pinButton->setObjectName(QStringLiteral("pinButton"));
    m_pinButton->setEnabled(false);
    // Nothing is pinned by default: Return must not confirm a key.
    m_pinButton->setAutoDefault(false);
    buttons->button(QDialogButtonBox::Close)->setDefault(true);
    connect(m_compared, &QCheckBox::toggled, m_pinButton, &QPushButton::setEnabled);
    connect(m_pinButton, &QPushButton::clicked, this, &RekeyDialog::pin);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
}

void RekeyDialog::run(cluster::RekeyNodeWorkflow *workflow, std::function<void(const cluster::WorkflowReport &)> done)
{
    connect(workflow, &cluster::Workflow::finished, this,
            [workflow, done = std::move(done)](const cluster::WorkflowReport &report) {
                done(report);
                workflow->deleteLater();
            });
    workflow->start();
}

void RekeyDialog::showFailure(const cluster::WorkflowReport &report)
{
    const QString message = report.error ? QString::fromStdString(report.error->describe()) : tr("failed");
    m_status->setText(report.nextAction.isEmpty() ? message : message + u'\n' + report.nextAction);
}

void RekeyDialog::look()
{
    run(new cluster::RekeyNodeWorkflow(m_cluster, m_nodeId, {}, m_options, this), [this](const cluster::WorkflowReport &report) {
        if (!report.succeeded) {
            showFailure(report);
        } else if (!report.details.value(QStringLiteral("keyChanged")).toBool()) {
            m_offered = report.details.value(QStringLiteral("offeredHostKey")).toString();
            m_offeredEdit->setText(m_offered);
            m_status->setText(tr("%1 still offers its pinned key: nothing to change.").arg(m_nodeId));
        } else {
            m_offered = report.details.value(QStringLiteral("offeredHostKey")).toString();
            m_offeredEdit->setText(m_offered);
            m_compared->setEnabled(true);
            m_status->setText(tr("%1 offers another %2 key than the pinned one. Pin it only once you compared it.")
                                  .arg(m_nodeId, report.details.value(QStringLiteral("offeredKeyType")).toString()));
        }
        Q_EMIT looked(report);
    });
}

void RekeyDialog::pin()
{
    m_pinButton->setEnabled(false);
    m_compared->setEnabled(false);
    m_status->setText(tr("Pinning %1…").arg(m_offered));
    auto *workflow = new cluster::RekeyNodeWorkflow(m_cluster, m_nodeId, m_offered, m_options, this);
    run(workflow, [this, workflow](const cluster::WorkflowReport &report) {
        if (!report.succeeded) {
            showFailure(report);
            Q_EMIT failedToPin(report);
            return;
        }
        if (report.saveCluster)
            m_cluster = workflow->cluster();
        m_pinned->setText(m_offered);
        m_status->setText(tr("%1 is pinned to the offered key now, and answers with it.").arg(m_nodeId));
        Q_EMIT rekeyed(report);
    });
}

} // namespace mm::ui
