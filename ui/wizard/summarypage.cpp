#include "ui/wizard/summarypage.h"

#include "ui/wizard/setupsession.h"
#include "ui/wizard/workflowview.h"

#include <QDir>
#include <QLabel>
#include <QVBoxLayout>

namespace mm::ui {

SummaryPage::SummaryPage(SetupSession *session, QWidget *parent)
    : SetupPage(session, parent)
    , m_summary(new QLabel(this))
    , m_path(new QLabel(this))
{
    setTitle(tr("Your cluster is set up"));
    setSubTitle(tr("Finish opens it in the main window, which follows every node from now on."));
    setFinalPage(true);
    m_summary->setWordWrap(true);
    m_summary->setTextFormat(Qt::RichText);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_path->setObjectName(QStringLiteral("clusterPath"));
    m_path->setWordWrap(true);
    m_path->setTextFormat(Qt::RichText);
    m_path->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_summary);
    layout->addSpacing(8);
    layout->addWidget(m_path);
    layout->addStretch(1);
}

void SummaryPage::initializePage()
{
    const cluster::ClusterConfig &config = session()->cluster();
    const QString ok = QStringLiteral("<span style=\"color:%1\">✔</span> ").arg(okColourName(this));
    const QString todo = QStringLiteral("<span style=\"color:%1\">●</span> ").arg(errorColourName(this));
    QStringList done;
    done << ok + tr("Cluster <b>%1</b> with the <b>%2</b> UID policy")
                     .arg(config.name.toHtmlEscaped(), cluster::uidPolicyName(config.uidPolicy));
    QStringList nodes;
    for (const cluster::NodeConfig &node : config.nodes)
        nodes << tr("<li><b>%1</b> — %2, Dovecot %3</li>")
                     .arg(node.id.toHtmlEscaped(), node.ssh.toHtmlEscaped(),
                          node.dovecot.version.isEmpty() ? tr("not found") : node.dovecot.version.section(u' ', 0, 0));
    done << ok + tr("%n node(s), host keys pinned:", nullptr, int(config.nodes.size()))
                + QStringLiteral("<ul style=\"margin-top:0; margin-bottom:0\">%1</ul>").arg(nodes.join(QString()));
    if (session()->isPaired())
        done << ok + tr("Syncthing paired on every node; the mail root is shared and in sync");
    else
        done << todo + tr("Syncthing is not paired yet: <tt>mailmeshctl pair</tt>");
    QStringList stock;
    for (const cluster::NodeConfig &node : config.nodes)
        if (!node.dovecot.curOnlyBuild)
            stock << node.id;
    if (stock.isEmpty())
        done << ok + tr("Every node runs the patched cur/-only Dovecot");
    else
        done << todo + tr("Deploy the patched Dovecot on %1: <tt>mailmeshctl deploy-dovecot</tt>")
                           .arg(stock.join(QStringLiteral(", ")).toHtmlEscaped());
    if (session()->migration() == SetupSession::Migration::Done)
        done << ok + session()->migrationVerdict().toHtmlEscaped();
    else
        done << todo + tr("The Maildirs are not converted yet: <tt>mailmeshctl migrate</tt> when you are ready");
    for (QString &item : done)
        item = QStringLiteral("<div style=\"margin-bottom:6px\">%1</div>").arg(item);
    m_summary->setText(done.join(QString()));
    m_path->setText(tr("The cluster file is saved at<br><b>%1</b><br>It holds no passwords: SSH authenticates, and "
                       "Syncthing's API keys are read from the nodes when needed.")
                        .arg(QDir::toNativeSeparators(session()->clusterPath()).toHtmlEscaped()));
}

QString SummaryPage::summaryText() const
{
    return m_summary->text() + m_path->text();
}

} // namespace mm::ui
