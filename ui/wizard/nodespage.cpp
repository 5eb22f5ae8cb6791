#include "ui/wizard/nodespage.h"

#include "ui/tableviewsetup.h"
#include "ui/wizard/nodedraftmodel.h"
#include "ui/wizard/setupsession.h"
#include "ui/wizard/workflowview.h"

#include <QCheckBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QProcess>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

namespace mm::ui {

namespace {

struct FieldSpec
{
    const char *name; // the NodeConfig member, as validate() names it
    const char *label;
    const char *placeholder;
    const char *tip;
    bool advanced;
};

const FieldSpec kFields[] = {
    {"id", QT_TRANSLATE_NOOP("NodesPage", "Node &id:"), "mx1", QT_TRANSLATE_NOOP("NodesPage", "Short, unique name: a-z, 0-9 and '-'"), false},
    {"ssh", QT_TRANSLATE_NOOP("NodesPage", "&SSH address:"), "ssh://root@mx1.example.org:22  or an ssh_config alias",
     QT_TRANSLATE_NOOP("NodesPage", "How your own ssh reaches the node; your ~/.ssh/config, agent and ProxyJump apply"), false},
    {"mailRoot", QT_TRANSLATE_NOOP("NodesPage", "&Mail root:"), "/var/vmail",
     QT_TRANSLATE_NOOP("NodesPage", "The directory holding every mail user's Maildir; it is what Syncthing replicates"), false},
    {"mailUser", QT_TRANSLATE_NOOP("NodesPage", "Mail &user:"), "vmail (empty: whoever owns the mail files)",
     QT_TRANSLATE_NOOP("NodesPage", "The user the mail files belong to; Syncthing runs as it"), false},
    {"sshOptions", QT_TRANSLATE_NOOP("NodesPage", "SSH &options:"), "ProxyJump=bastion IdentityFile=~/.ssh/mail",
     QT_TRANSLATE_NOOP("NodesPage", "Extra ssh -o options, separated by spaces"), false},
    {"syncthingHome", QT_TRANSLATE_NOOP("NodesPage", "Syncthing &home:"), "/var/vmail/.config/syncthing",
     QT_TRANSLATE_NOOP("NodesPage", "Syncthing's --home on the node: its config.xml holds the API key Mailmesh reads"), false},
    {"stateDir", QT_TRANSLATE_NOOP("NodesPage", "S&tate dir:"), "empty: beside the mail root",
     QT_TRANSLATE_NOOP("NodesPage", "Journal and quarantine; outside the mail root, on the same filesystem"), false},
    {"guiAddress", QT_TRANSLATE_NOOP("NodesPage", "Syncthing &GUI address:"), "127.0.0.1:8384 (empty: from its config)",
     QT_TRANSLATE_NOOP("NodesPage", "Where Syncthing's REST API listens on the node; reached through an ssh tunnel"), true},
    {"syncAddress", QT_TRANSLATE_NOOP("NodesPage", "Sync &address:"), "tcp://mx1.example.org:22000 (empty: derived)",
     QT_TRANSLATE_NOOP("NodesPage", "The address the other nodes' Syncthing dials"), true},
    {"dovecotPrefix", QT_TRANSLATE_NOOP("NodesPage", "Dovecot &prefix:"), "empty: Dovecot from packages",
     QT_TRANSLATE_NOOP("NodesPage", "Install prefix of a Dovecot built into a directory"), true},
    {"dovecotConfig", QT_TRANSLATE_NOOP("NodesPage", "Dovecot &config:"), "/etc/dovecot/dovecot.conf",
     QT_TRANSLATE_NOOP("NodesPage", "dovecot.conf; Mailmesh writes its snippet into conf.d/ beside it"), true},
    {"dovecotRestart", QT_TRANSLATE_NOOP("NodesPage", "Dovecot restart comman&d:"), "empty: systemctl restart dovecot",
     QT_TRANSLATE_NOOP("NodesPage", "How deploy-dovecot restarts Dovecot on a node without systemd; it finds the prefix "
                                    "to start in $MAILMESH_DOVECOT_PREFIX; separate commands with ';'"), true},
    {"imapPort", QT_TRANSLATE_NOOP("NodesPage", "IMAP port:"), "143",
     QT_TRANSLATE_NOOP("NodesPage", "Where deploy-dovecot checks that Dovecot answers, on the node's loopback"), true},
    {"holdCommands", QT_TRANSLATE_NOOP("NodesPage", "&Hold commands:"), "postfix stop; systemctl stop dovecot",
     QT_TRANSLATE_NOOP("NodesPage", "Run on the node to stop delivery and IMAP during the migration; separate commands with ';'"), true},
    {"resumeCommands", QT_TRANSLATE_NOOP("NodesPage", "R&esume commands:"), "systemctl start dovecot; postfix start",
     QT_TRANSLATE_NOOP("NodesPage", "Undo the hold commands; separate commands with ';'"), true},
};

QString commandsText(const QList<QStringList> &commands)
{
    QStringList lines;
    for (const QStringList &argv : commands) {
        QStringList quoted;
        for (const QString &arg : argv)
            quoted << (arg.contains(u' ') || arg.isEmpty() ? u'"' + arg + u'"' : arg);
        lines << quoted.join(u' ');
    }
    return lines.join(QStringLiteral("; "));
}

QList<QStringList> commandsFrom(const QString &text)
{
    QList<QStringList> commands;
    for (const QString &line : text.split(u';', Qt::SkipEmptyParts))
        if (const QStringList argv = QProcess::splitCommand(line.trimmed()); !argv.isEmpty())
            commands << argv;
    return commands;
}

QString fieldOf(const cluster::NodeConfig &node, const QString &name)
{
    if (name == QLatin1String("id"))
        return node.id;
    if (name == QLatin1String("ssh"))
        return node.ssh;
    if (name == QLatin1String("mailRoot"))
        return node.mailRoot;
    if (name == QLatin1String("mailUser"))
        return node.mailUser;
    if (name == QLatin1String("sshOptions"))
        return node.sshOptions.join(u' ');
    if (name == QLatin1String("syncthingHome"))
        return node.syncthing.home;
    if (name == QLatin1String("stateDir"))
        return node.stateDir;
    if (name == QLatin1String("guiAddress"))
        return node.syncthing.guiAddress;
    if (name == QLatin1String("syncAddress"))
        return node.syncthing.syncAddress;
    if (name == QLatin1String("dovecotPrefix"))
        return node.dovecot.prefix;
    if (name == QLatin1String("dovecotConfig"))
        return node.dovecot.configFile;
    if (name == QLatin1String("dovecotRestart"))
        return commandsText(node.dovecot.restartCommand);
    if (name == QLatin1String("imapPort"))
        return node.dovecot.imapPort == cluster::DovecotFacts::kDefaultImapPort ? QString() : QString::number(node.dovecot.imapPort);
    if (name == QLatin1String("holdCommands"))
        return commandsText(node.holdCommands);
    if (name == QLatin1String("resumeCommands"))
        return commandsText(node.resumeCommands);
    return {};
}

void setNodeField(cluster::NodeConfig &node, const QString &name, const QString &value)
{
    const QString text = value.trimmed();
    if (name == QLatin1String("id"))
        node.id = text;
    else if (name == QLatin1String("ssh"))
        node.ssh = text;
    else if (name == QLatin1String("mailRoot"))
        node.mailRoot = text;
    else if (name == QLatin1String("mailUser"))
        node.mailUser = text;
    else if (name == QLatin1String("sshOptions"))
        node.sshOptions = text.split(u' ', Qt::SkipEmptyParts);
    else if (name == QLatin1String("syncthingHome"))
        node.syncthing.home = text;
    else if (name == QLatin1String("stateDir"))
        node.stateDir = text;
    else if (name == QLatin1String("guiAddress"))
        node.syncthing.guiAddress = text;
    else if (name == QLatin1String("syncAddress"))
        node.syncthing.syncAddress = text;
    else if (name == QLatin1String("dovecotPrefix"))
        node.dovecot.prefix = text;
    else if (name == QLatin1String("dovecotConfig"))
        node.dovecot.configFile = text;
    else if (name == QLatin1String("dovecotRestart"))
        node.dovecot.restartCommand = commandsFrom(text);
    else if (name == QLatin1String("imapPort"))
        // Empty means the default; anything else that is not a number is left for validate() to name.
        node.dovecot.imapPort = text.isEmpty() ? cluster::DovecotFacts::kDefaultImapPort : text.toInt();
    else if (name == QLatin1String("holdCommands"))
        node.holdCommands = commandsFrom(text);
    else if (name == QLatin1String("resumeCommands"))
        node.resumeCommands = commandsFrom(text);
}

} // namespace

NodesPage::NodesPage(SetupSession *session, QWidget *parent)
    : SetupPage(session, parent)
    , m_model(new NodeDraftModel(this))
    , m_view(new QTableView(this))
    , m_remove(new QPushButton(tr("&Remove"), this))
    , m_editor(new QGroupBox(this))
    , m_showAdvanced(new QCheckBox(tr("Show ad&vanced settings"), this))
    , m_advanced(new QWidget(this))
    , m_summary(new QLabel(this))
{
    setTitle(tr("Add the mail nodes"));
    setSubTitle(tr("Every node keeps a full copy of the mail. Mailmesh reaches each one with your own ssh."));

    m_view->setModel(m_model);
    setUpTableView(m_view);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setWordWrap(false);
    m_view->setMinimumHeight(110);
    m_view->setToolTip(tr("Select a node to edit it below"));
    for (int column : {NodeDraftModel::SshOptions, NodeDraftModel::SyncthingHome, NodeDraftModel::StateDir})
        m_view->setColumnHidden(column, true); // they are in the editor; the table stays readable
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) { showRow(current.isValid() ? current.row() : -1); });

    auto *add = new QPushButton(tr("&Add Node"), this);
    add->setToolTip(tr("Add a node; it starts with the previous node's mail root and user"));
    m_remove->setToolTip(tr("Remove the selected node from the cluster"));
    connect(add, &QPushButton::clicked, this, &NodesPage::addNode);
    connect(m_remove, &QPushButton::clicked, this, &NodesPage::removeSelectedNode);

    auto *basic = new QFormLayout;
    auto *advanced = new QFormLayout(m_advanced);
    for (QFormLayout *form : {basic, advanced})
        form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    for (const FieldSpec &spec : kFields) {
        const QString name = QString::fromLatin1(spec.name);
        auto *edit = new QLineEdit(this);
        edit->setObjectName(name);
        edit->setPlaceholderText(QString::fromUtf8(spec.placeholder));
        edit->setToolTip(tr(spec.tip));
        connect(edit, &QLineEdit::textEdited, this, &NodesPage::storeEditedField);
        auto *problem = new QLabel(this);
        problem->setWordWrap(true);
        problem->hide();
        auto *cell = new QVBoxLayout;
        cell->setSpacing(1);
        cell->addWidget(edit);
        cell->addWidget(problem);
        (spec.advanced ? advanced : basic)->addRow(tr(spec.label), cell);
        if (auto *label = qobject_cast<QLabel *>((spec.advanced ? advanced : basic)->labelForField(cell)))
            label->setBuddy(edit);
        m_fields.insert(name, edit);
        m_problemLabels.insert(name, problem);
    }
    advanced->setContentsMargins(0, 0, 0, 0);
    m_showAdvanced->setToolTip(tr("Settings Mailmesh normally finds out by itself: Syncthing addresses, Dovecot's "
                                  "location, the commands that hold delivery during the migration"));
    m_advanced->hide();
    connect(m_showAdvanced, &QCheckBox::toggled, this, [this](bool on) {
        m_advanced->setVisible(on);
        showProblems();
    });

    auto *editorLayout = new QVBoxLayout(m_editor);
    editorLayout->addLayout(basic);
    editorLayout->addWidget(m_showAdvanced);
    editorLayout->addWidget(m_advanced);

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(add);
    buttons->addWidget(m_remove);
    buttons->addStretch(1);
    buttons->addWidget(m_summary);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_view, 1);
    layout->addLayout(buttons);
    layout->addWidget(m_editor, 0);

    // Columns fit what they show; the problems column takes the rest.
    connect(m_model, &QAbstractItemModel::modelReset, m_view, &QTableView::resizeColumnsToContents);
    connect(m_model, &QAbstractItemModel::rowsInserted, m_view, &QTableView::resizeColumnsToContents);
    connect(m_model, &QAbstractItemModel::dataChanged, m_view, &QTableView::resizeColumnsToContents);
    connect(m_model, &NodeDraftModel::validityChanged, this, [this] {
        showProblems();
        Q_EMIT completeChanged();
    });
    setTabOrder(m_view, add);
    setTabOrder(add, m_remove);
    setTabOrder(m_remove, m_fields.value(QStringLiteral("id")));
}

void NodesPage::initializePage()
{
    if (m_model->rowCount() == 0)
        m_model->setNodes(session()->nodeInputs());
    if (m_model->rowCount() == 0)
        m_model->addNode();
    m_view->resizeColumnsToContents();
    if (currentRow() < 0)
        m_view->selectRow(0);
    showRow(currentRow());
}

int NodesPage::currentRow() const
{
    const QModelIndex current = m_view->selectionModel()->currentIndex();
    return current.isValid() ? current.row() : -1;
}

void NodesPage::addNode()
{
    const int row = m_model->addNode();
    m_view->selectRow(row);
    m_fields.value(QStringLiteral("ssh"))->setFocus();
}

void NodesPage::removeSelectedNode()
{
    const int row = currentRow();
    if (row < 0)
        return;
    m_model->removeNode(row);
    if (m_model->rowCount() > 0)
        m_view->selectRow(qMin(row, m_model->rowCount() - 1));
    else
        showRow(-1);
}

void NodesPage::showRow(int row)
{
    m_loading = true;
    const bool valid = row >= 0 && row < m_model->rowCount();
    m_editor->setEnabled(valid);
    m_remove->setEnabled(valid);
    m_editor->setTitle(valid ? tr("Node %1").arg(m_model->node(row).id) : tr("No node selected"));
    for (auto it = m_fields.cbegin(); it != m_fields.cend(); ++it)
        it.value()->setText(valid ? fieldOf(m_model->node(row), it.key()) : QString());
    m_loading = false;
    showProblems();
}

void NodesPage::storeEditedField()
{
    const int row = currentRow();
    auto *edit = qobject_cast<QLineEdit *>(sender());
    if (m_loading || row < 0 || !edit)
        return;
    cluster::NodeConfig node = m_model->node(row);
    setNodeField(node, edit->objectName(), edit->text());
    m_model->setNode(row, node);
    m_editor->setTitle(tr("Node %1").arg(node.id));
}

void NodesPage::showProblems()
{
    const int row = currentRow();
    const QHash<QString, QString> problems = row >= 0 ? m_model->problems(row) : QHash<QString, QString>();
    for (auto it = m_problemLabels.cbegin(); it != m_problemLabels.cend(); ++it) {
        // validate() names syncthing fields without their prefix; the rest match one to one.
        const QString problem = problems.value(it.key());
        it.value()->setText(QStringLiteral("<span style=\"color:%1\">%2</span>").arg(errorColourName(this), problem.toHtmlEscaped()));
        it.value()->setVisible(!problem.isEmpty());
    }
    int invalidRows = 0;
    for (int r = 0; r < m_model->rowCount(); ++r)
        invalidRows += m_model->problems(r).isEmpty() ? 0 : 1;
    if (m_model->rowCount() < 2)
        m_summary->setText(tr("A cluster needs at least two nodes."));
    else if (invalidRows > 0)
        m_summary->setText(tr("%n node(s) need corrections.", nullptr, invalidRows));
    else
        m_summary->setText(tr("%n nodes, ready to connect.", nullptr, int(m_model->rowCount())));
}

bool NodesPage::isComplete() const
{
    return m_model->isValid();
}

bool NodesPage::validatePage()
{
    session()->setNodeInputs(m_model->nodes());
    return saveDraftAfterThisPage();
}

} // namespace mm::ui
