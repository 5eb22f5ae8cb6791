#include "ui/wizard/namepage.h"

#include "ui/wizard/setupsession.h"
#include "ui/wizard/workflowview.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QVBoxLayout>

namespace mm::ui {

NamePage::NamePage(SetupSession *session, QWidget *parent)
    : SetupPage(session, parent)
    , m_name(new QLineEdit(this))
    , m_perNode(new QRadioButton(tr("&Per node (recommended)"), this))
    , m_replicated(new QRadioButton(tr("&Replicated"), this))
    , m_path(new QLineEdit(this))
    , m_fileWarning(new QLabel(this))
    , m_replace(new QCheckBox(tr("Replace that file with the new cluster"), this))
{
    setTitle(tr("Name your cluster"));
    setSubTitle(tr("A cluster is a set of mail nodes that hold the same Maildirs, kept in sync by Syncthing."));

    m_name->setPlaceholderText(tr("e.g. example.org mail"));
    m_name->setToolTip(tr("Shown in the window title and in reports"));
    registerField(QStringLiteral("clusterName*"), m_name);

    auto *policies = new QButtonGroup(this);
    policies->addButton(m_perNode);
    policies->addButton(m_replicated);
    m_perNode->setChecked(true);
    m_perNode->setToolTip(tr("Syncthing does not replicate dovecot-uidlist; every node numbers messages itself"));
    m_replicated->setToolTip(tr("dovecot-uidlist replicates; one UID space for the whole cluster"));
    registerField(QStringLiteral("uidPolicyReplicated"), m_replicated);
    auto *perNodeText = new QLabel(tr("Each mail client stays on one node (DNS or your proxy pins it). A client can "
                                      "never be shown a wrong message."),
                                   this);
    auto *replicatedText = new QLabel(tr("Clients may move between nodes. But when two nodes take in mail at the same "
                                         "moment, two different messages can get the same UID: measured 500 times in "
                                         "1,000 concurrent deliveries. Clients then show the wrong message, silently."),
                                      this);
    for (QLabel *text : {perNodeText, replicatedText}) {
        text->setWordWrap(true);
        text->setIndent(24);
        text->setForegroundRole(QPalette::PlaceholderText);
    }

    m_path->setToolTip(tr("The cluster file: nodes, host keys, Syncthing device ids. It holds no passwords."));
    registerField(QStringLiteral("clusterPath*"), m_path);
    auto *browse = new QPushButton(tr("&Choose…"), this);
    browse->setToolTip(tr("Choose where the cluster file is saved"));
    connect(browse, &QPushButton::clicked, this, &NamePage::chooseFile);
    auto *pathRow = new QHBoxLayout;
    pathRow->addWidget(m_path, 1);
    pathRow->addWidget(browse);
    m_fileWarning->setWordWrap(true);
    m_fileWarning->hide();
    m_replace->hide();
    connect(m_path, &QLineEdit::textChanged, this, &NamePage::updateFileWarning);
    connect(m_replace, &QCheckBox::toggled, this, &NamePage::completeChanged);

    auto *nameForm = new QFormLayout;
    nameForm->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    nameForm->addRow(tr("Cluster &name:"), m_name);

    // Wrapped explanations get their height right in a plain box layout; nested in a form row
    // they were clipped to one line.
    auto *policyBox = new QGroupBox(tr("UID policy: how IMAP message numbers behave across nodes"), this);
    auto *policyLayout = new QVBoxLayout(policyBox);
    policyLayout->addWidget(m_perNode);
    policyLayout->addWidget(perNodeText);
    policyLayout->addSpacing(6);
    policyLayout->addWidget(m_replicated);
    policyLayout->addWidget(replicatedText);

    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    form->addRow(tr("Cluster &file:"), pathRow);
    form->addRow(QString(), m_fileWarning);
    form->addRow(QString(), m_replace);
    if (auto *label = qobject_cast<QLabel *>(form->labelForField(pathRow)))
        label->setBuddy(m_path);
    auto *fileNote = new QLabel(tr("The draft is saved there after every page, so you can leave the wizard and "
                                   "continue later with New Cluster…"),
                                this);
    fileNote->setWordWrap(true);
    fileNote->setForegroundRole(QPalette::PlaceholderText);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(nameForm);
    layout->addSpacing(8);
    layout->addWidget(policyBox);
    layout->addSpacing(8);
    layout->addLayout(form);
    layout->addWidget(fileNote);
    layout->addStretch(1);
}

void NamePage::initializePage()
{
    const cluster::ClusterConfig &config = session()->cluster();
    if (!config.name.isEmpty())
        m_name->setText(config.name);
    m_replicated->setChecked(config.uidPolicy == cluster::UidPolicy::Replicated);
    m_perNode->setChecked(config.uidPolicy == cluster::UidPolicy::PerNode);
    m_path->setText(session()->clusterPath());
    updateFileWarning();
}

bool NamePage::wouldReplaceAnotherCluster() const
{
    const QString path = m_path->text().trimmed();
    return !path.isEmpty() && QFileInfo::exists(path) && SetupSession::lastCompletedPage(path) < 0;
}

void NamePage::updateFileWarning()
{
    const bool replaces = wouldReplaceAnotherCluster();
    m_fileWarning->setText(QStringLiteral("<span style=\"color:%1\">%2</span>")
                               .arg(errorColourName(this),
                                    tr("A cluster file already exists there. Choose another file, or replace it.")));
    m_fileWarning->setVisible(replaces);
    m_replace->setVisible(replaces);
    if (!replaces)
        m_replace->setChecked(false);
    Q_EMIT completeChanged();
}

bool NamePage::isComplete() const
{
    return SetupPage::isComplete() && (!wouldReplaceAnotherCluster() || m_replace->isChecked());
}

void NamePage::chooseFile()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Save the Cluster File As"), m_path->text(),
                                                      tr("Cluster files (*.json)"), nullptr,
                                                      QFileDialog::DontConfirmOverwrite);
    if (!path.isEmpty())
        m_path->setText(path);
}

bool NamePage::validatePage()
{
    cluster::ClusterConfig &config = session()->cluster();
    config.name = m_name->text().trimmed();
    config.uidPolicy = m_replicated->isChecked() ? cluster::UidPolicy::Replicated : cluster::UidPolicy::PerNode;
    session()->setClusterPath(QFileInfo(m_path->text().trimmed()).absoluteFilePath());
    return saveDraftAfterThisPage();
}

} // namespace mm::ui
