#include "ui/wizard/dovecotpage.h"

#include "ui/wizard/setupsession.h"
#include "ui/wizard/workflowview.h"

#include "cluster/workflows/deploydovecotworkflow.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace mm::ui {

DovecotPage::DovecotPage(SetupSession *session, QWidget *parent)
    : SetupPage(session, parent)
    , m_facts(new QLabel(this))
    , m_order(new QLabel(this))
    , m_deployNote(new QLabel(this))
    , m_allowStock(new QCheckBox(this))
    , m_deployView(new WorkflowView(this))
    , m_source(new QComboBox(this))
    , m_locationLabel(new QLabel(this))
    , m_prefix(new QLineEdit(this))
    , m_browse(new QPushButton(tr("Bro&wse…"), this))
    , m_deployButton(new QPushButton(tr("&Deploy to Stock Nodes"), this))
{
    setTitle(tr("Dovecot on the nodes"));
    setSubTitle(tr("The migration needs the patched cur/-only Dovecot on every node, switched on at the right moment."));
    m_facts->setTextFormat(Qt::RichText);
    m_facts->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_facts->setWordWrap(true);
    m_order->setWordWrap(true);
    m_order->setTextFormat(Qt::RichText);
    m_order->setText(
        tr("<b>The cut-over order matters.</b><ol style=\"margin-top:2px\">"
           "<li>Deploy the patched build on every node with the cur/-only setting <b>off</b>: it then behaves like "
           "stock Dovecot over the classic Maildirs.</li>"
           "<li>The migration (next page) holds delivery and IMAP, converts the Maildirs and switches the setting "
           "<b>on</b> per node before it resumes.</li></ol>"
           "The patched build with the setting on over a classic Maildir would hide the mail still in new/; stock "
           "Dovecot over a converted Maildir brings the duplicate races back."));
    m_deployNote->setWordWrap(true);
    m_deployNote->setTextFormat(Qt::RichText);
    m_deployNote->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_allowStock->setToolTip(tr("The migration refuses nodes with stock Dovecot unless you say it will be replaced "
                                "before clients use them"));
    registerField(QStringLiteral("allowStockDovecot"), m_allowStock);

    m_source->setObjectName(QStringLiteral("dovecotSource"));
    m_source->addItem(tr("Directory build on the nodes"), Prefix);
    m_source->addItem(tr("Debian packages on this computer"), Packages);
    m_source->setToolTip(tr("Where the patched build comes from: a prefix already installed on every node "
                            "(installers/dovecot/build-prefix.sh), or the .deb files installers/dovecot/build-debs.sh "
                            "made, which are uploaded, installed with apt and held"));
    connect(m_source, &QComboBox::currentIndexChanged, this, [this] { updateSourceWidgets(); });
    m_prefix->setObjectName(QStringLiteral("dovecotPrefix"));
    m_locationLabel->setBuddy(m_prefix);
    m_browse->setObjectName(QStringLiteral("browsePackages"));
    connect(m_browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Directory with the patched Dovecot packages"),
                                                              m_prefix->text());
        if (!dir.isEmpty())
            m_prefix->setText(dir);
    });
    updateSourceWidgets();
    m_deployButton->setObjectName(QStringLiteral("deployButton"));
    connect(m_deployButton, &QPushButton::clicked, this, [this] { deployDovecot(); });
    connect(m_deployView, &WorkflowView::retryRequested, this, [this] { deployDovecot(); });
    auto *deployRow = new QHBoxLayout;
    deployRow->addWidget(m_source);
    deployRow->addWidget(m_locationLabel);
    deployRow->addWidget(m_prefix, 1);
    deployRow->addWidget(m_browse);
    deployRow->addWidget(m_deployButton);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_facts);
    layout->addSpacing(6);
    layout->addWidget(m_order);
    layout->addSpacing(6);
    layout->addWidget(m_deployNote);
    layout->addLayout(deployRow);
    layout->addWidget(m_deployView);
    layout->addWidget(m_allowStock);
    layout->addStretch(1);
}

void DovecotPage::updateSourceWidgets()
{
    const bool packages = m_source->currentData().toInt() == Packages;
    m_locationLabel->setText(packages ? tr("&Packages in:") : tr("&Patched build at:"));
    m_prefix->setPlaceholderText(packages ? tr("the directory holding dovecot-core_…+mailmesh6_amd64.deb and the rest")
                                          : tr("/opt/dovecot-mailmesh (the patched build, installed on every node)"));
    m_prefix->setToolTip(packages ? tr("A directory on this computer with the .deb files build-debs.sh made; the ones "
                                       "that fit each node's Debian release are uploaded")
                                  : tr("A directory on the nodes holding the patched build (installers/dovecot/build-prefix.sh)"));
    m_browse->setVisible(packages && m_source->isVisible());
}

QStringList DovecotPage::stockNodes() const
{
    QStringList stock;
    for (const cluster::NodeConfig &node : session()->cluster().nodes)
        if (!node.dovecot.curOnlyBuild)
            stock << node.id;
    return stock;
}

void DovecotPage::initializePage()
{
    QString rows;
    for (const cluster::NodeConfig &node : session()->cluster().nodes) {
        const QJsonObject probed = session()->probe(node.id).value(QStringLiteral("dovecot")).toObject();
        QString build;
        if (node.dovecot.version.isEmpty())
            build = QStringLiteral("<span style=\"color:%1\">%2</span>").arg(errorColourName(this), tr("not found"));
        else if (node.dovecot.curOnlyBuild)
            build = QStringLiteral("<span style=\"color:%1\">✔</span> %2").arg(okColourName(this), tr("patched (cur/-only)"));
        else
            build = QStringLiteral("<span style=\"color:%1\">%2</span>").arg(errorColourName(this), tr("stock: deploy the patched build"));
        // The prefix says where a directory build lives; otherwise the binary the probe found.
        QString where = node.dovecot.prefix.toHtmlEscaped();
        if (where.isEmpty())
            where = probed.value(QStringLiteral("path")).toString().toHtmlEscaped();
        if (where.isEmpty())
            where = tr("packages");
        rows += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td><td>%3</td><td>%4</td><td>%5</td></tr>")
                    .arg(node.id.toHtmlEscaped(), node.dovecot.version.toHtmlEscaped(), build,
                         node.dovecot.curOnlyEnabled ? tr("on") : tr("off"), where);
    }
    m_facts->setText(QStringLiteral("<table cellspacing=\"0\" cellpadding=\"4\" width=\"100%\">"
                                    "<tr><th align=\"left\">%1</th><th align=\"left\">%2</th><th align=\"left\">%3</th>"
                                    "<th align=\"left\">%4</th><th align=\"left\">%5</th></tr>%6</table>")
                         .arg(tr("Node"), tr("Version"), tr("Build"), tr("cur/-only setting"), tr("Installed at"), rows));

    const QStringList stock = stockNodes();
    if (stock.isEmpty()) {
        m_deployNote->setText(tr("Every node runs the patched build already. Go on to plan the migration."));
    } else {
        m_deployNote->setText(tr("Deploy the patched build now, from a directory build on the nodes or from Debian packages "
                                 "(the cur/-only setting stays off), or go on and deploy it later, before clients use "
                                 "the migrated mail:<pre>  mailmeshctl --cluster %1 deploy-dovecot --prefix DIR\n"
                                 "  mailmeshctl --cluster %1 deploy-dovecot --packages DIR</pre>")
                                  .arg(session()->clusterPath().toHtmlEscaped()));
    }
    for (QWidget *deployWidget :
         std::initializer_list<QWidget *>{m_source, m_locationLabel, m_prefix, m_deployButton})
        deployWidget->setVisible(!stock.isEmpty());
    updateSourceWidgets();
    m_allowStock->setText(tr("I will deploy the patched Dovecot on %1 before clients use the migrated mail")
                              .arg(stock.join(QStringLiteral(", "))));
    m_allowStock->setVisible(!stock.isEmpty());
}

void DovecotPage::deployDovecot(const QStringList &nodeIds)
{
    const bool packages = m_source->currentData().toInt() == Packages;
    if (m_prefix->text().trimmed().isEmpty()) {
        m_deployView->setFailed(packages ? tr("Give the directory on this computer that holds the patched packages.")
                                         : tr("Give the directory where the patched build is installed on the nodes."),
                                QString());
        return;
    }
    cluster::DeployDovecotWorkflow::Options options;
    (packages ? options.packagesDir : options.prefix) = m_prefix->text().trimmed();
    options.nodeIds = nodeIds.isEmpty() ? stockNodes() : nodeIds;
    auto *workflow = new cluster::DeployDovecotWorkflow(session()->cluster(), options, session()->monitorOptions(), this);
    m_deployButton->setEnabled(false);
    m_deployView->follow(workflow);
    connect(workflow, &cluster::Workflow::finished, this, [this, workflow](const cluster::WorkflowReport &report) {
        m_deployButton->setEnabled(true);
        if (report.succeeded) {
            session()->cluster() = workflow->cluster();
            saveDraftAfterThisPage();
            initializePage();
        }
        workflow->deleteLater();
    });
    workflow->start();
}

bool DovecotPage::validatePage()
{
    return saveDraftAfterThisPage();
}

} // namespace mm::ui
