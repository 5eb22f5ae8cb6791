#pragma once

#include "ui/wizard/setuppage.h"

class QCheckBox;
class QLabel;

namespace mm::ui {

// Page 6: each node's Dovecot as probed, and the cut-over order. Deploying the patched build
// from here waits for DeployDovecotWorkflow (core/cluster); until then the admin goes on and
// deploys with `mailmeshctl deploy-dovecot`.
class DovecotPage : public SetupPage
{
    Q_OBJECT

public:
    explicit DovecotPage(SetupSession *session, QWidget *parent = nullptr);

    void initializePage() override;
    bool validatePage() override;

    // Nodes whose Dovecot is not the cur/-only build yet.
    QStringList stockNodes() const;

public Q_SLOTS:
    // Where DeployDovecotWorkflow is to be started for one node, once core/cluster has it. Until
    // then it says how to deploy from the command line; it deploys nothing.
    void deployDovecot(const QString &nodeId);

private:
    QLabel *m_facts;
    QLabel *m_order;
    QLabel *m_deployNote;
    QCheckBox *m_allowStock;
};

} // namespace mm::ui
