#include "ui/wizard/nodedraftmodel.h"

#include "ui/wizard/workflowview.h"

#include <QBrush>
#include <QPalette>
#include <QRegularExpression>

namespace mm::ui {

NodeDraftModel::NodeDraftModel(QObject *parent)
    : QAbstractTableModel(parent)
{
    revalidate();
}

int NodeDraftModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_nodes.size());
}

int NodeDraftModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant NodeDraftModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const cluster::NodeConfig &node = m_nodes.at(index.row());
    const QHash<QString, QString> problems = m_problems.value(index.row());
    if (role == Qt::DisplayRole || role == Qt::EditRole) {
        switch (Column(index.column())) {
        case Id:
            return node.id;
        case Ssh:
            return node.ssh;
        case MailRoot:
            return node.mailRoot;
        case MailUser:
            return node.mailUser.isEmpty() && role == Qt::DisplayRole ? tr("(owner of the mail)") : node.mailUser;
        case SshOptions:
            return node.sshOptions.join(u' ');
        case SyncthingHome:
            return node.syncthing.home;
        case StateDir:
            return node.stateDir.isEmpty() && role == Qt::DisplayRole ? tr("(beside the mail root)") : node.stateDir;
        case Problems:
            return problems.isEmpty() ? tr("OK") : QStringList(problems.values()).join(QStringLiteral("; "));
        case ColumnCount:
            break;
        }
    } else if (role == Qt::ToolTipRole) {
        if (index.column() == Problems || !problems.isEmpty())
            return problems.isEmpty() ? tr("This node's settings are complete") : QStringList(problems.values()).join(u'\n');
    } else if (role == Qt::ForegroundRole) {
        if (index.column() == Problems && !problems.isEmpty())
            return QBrush(errorColour(QPalette()));
        if ((index.column() == MailUser && node.mailUser.isEmpty()) || (index.column() == StateDir && node.stateDir.isEmpty()))
            return QPalette().brush(QPalette::Disabled, QPalette::Text);
    }
    return {};
}

QVariant NodeDraftModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || (role != Qt::DisplayRole && role != Qt::ToolTipRole))
        return {};
    const bool tip = role == Qt::ToolTipRole;
    switch (Column(section)) {
    case Id:
        return tip ? tr("Short, unique name: a-z, 0-9 and '-'") : tr("Node");
    case Ssh:
        return tip ? tr("ssh://[user@]host[:port] or an alias from your ~/.ssh/config") : tr("SSH address");
    case MailRoot:
        return tip ? tr("The directory that holds every mail user's Maildir on this node") : tr("Mail root");
    case MailUser:
        return tip ? tr("The user the mail files belong to; Syncthing runs as it") : tr("Mail user");
    case SshOptions:
        return tip ? tr("Extra ssh -o options, e.g. ProxyJump=bastion") : tr("SSH options");
    case SyncthingHome:
        return tip ? tr("Syncthing's --home on the node (holds config.xml)") : tr("Syncthing home");
    case StateDir:
        return tip ? tr("Journal and quarantine; outside the mail root, on the same filesystem") : tr("State dir");
    case Problems:
        return tip ? tr("What must be corrected before the wizard can go on") : tr("Problems");
    case ColumnCount:
        break;
    }
    return {};
}

void NodeDraftModel::setNodes(const QList<cluster::NodeConfig> &nodes)
{
    beginResetModel();
    m_nodes = nodes;
    endResetModel();
    revalidate();
}

void NodeDraftModel::setNode(int row, const cluster::NodeConfig &node)
{
    if (row < 0 || row >= m_nodes.size() || m_nodes[row] == node)
        return;
    m_nodes[row] = node;
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    revalidate();
}

int NodeDraftModel::addNode()
{
    cluster::NodeConfig node;
    int number = int(m_nodes.size()) + 1;
    const auto taken = [this](const QString &id) {
        return std::any_of(m_nodes.cbegin(), m_nodes.cend(), [&id](const cluster::NodeConfig &n) { return n.id == id; });
    };
    while (taken(QStringLiteral("node%1").arg(number)))
        ++number;
    node.id = QStringLiteral("node%1").arg(number);
    if (!m_nodes.isEmpty()) {
        // Nodes of one cluster usually share their layout: start from the previous one.
        const cluster::NodeConfig &previous = m_nodes.last();
        node.mailRoot = previous.mailRoot;
        node.mailUser = previous.mailUser;
        node.sshOptions = previous.sshOptions;
    }
    const int row = int(m_nodes.size());
    beginInsertRows({}, row, row);
    m_nodes << node;
    endInsertRows();
    revalidate();
    return row;
}

void NodeDraftModel::removeNode(int row)
{
    if (row < 0 || row >= m_nodes.size())
        return;
    beginRemoveRows({}, row, row);
    m_nodes.removeAt(row);
    endRemoveRows();
    revalidate();
}

void NodeDraftModel::revalidate()
{
    cluster::ClusterConfig candidate;
    candidate.name = QStringLiteral("candidate"); // the name is checked on its own page
    candidate.nodes = m_nodes;
    QHash<int, QHash<QString, QString>> problems;
    // "nodes[1].mailRoot: ..." or, for a list, "nodes[1].sshOptions[0]: ...": the column is the field.
    static const QRegularExpression nodeProblem(
        QRegularExpression::anchoredPattern(QStringLiteral("nodes\\[(\\d+)\\]\\.(\\w+)(?:\\[\\d+\\])?: (.*)")),
        QRegularExpression::DotMatchesEverythingOption);
    for (const QString &problem : candidate.validate()) {
        const QRegularExpressionMatch match = nodeProblem.match(problem);
        if (match.hasMatch())
            problems[match.captured(1).toInt()].insert(match.captured(2), match.captured(3));
    }
    // validate() accepts what the wizard still needs before it can connect.
    for (int row = 0; row < m_nodes.size(); ++row) {
        if (m_nodes[row].ssh.trimmed().isEmpty())
            problems[row].insert(QStringLiteral("ssh"), tr("how to reach the node is missing"));
        if (m_nodes[row].mailRoot.isEmpty())
            problems[row].insert(QStringLiteral("mailRoot"), tr("the mail root is missing"));
    }
    const bool changed = problems != m_problems;
    m_problems = problems;
    if (changed && !m_nodes.isEmpty())
        Q_EMIT dataChanged(index(0, Problems), index(int(m_nodes.size()) - 1, Problems));
    const bool valid = m_nodes.size() >= 2 && m_problems.isEmpty();
    if (valid != m_valid || changed) {
        m_valid = valid;
        Q_EMIT validityChanged();
    }
}

} // namespace mm::ui
