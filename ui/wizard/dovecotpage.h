#pragma once

#include "ui/wizard/setuppage.h"

class QCheckBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace mm::ui {

class WorkflowView;

// Page 6: each node's Dovecot as probed, and the cut-over order. Nodes still on stock Dovecot
// get the patched build from a prefix installed on them (DeployDovecotWorkflow, setting off), or
// the admin goes on and deploys later with `mailmeshctl deploy-dovecot`.
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
    // Deploys the patched build from the prefix field onto the given nodes (empty: the stock ones).
    void deployDovecot(const QStringList &nodeIds = {});

private:
    QLabel *m_facts;
    QLabel *m_order;
    QLabel *m_deployNote;
    QCheckBox *m_allowStock;
    WorkflowView *m_deployView;
    QLineEdit *m_prefix;
    QPushButton *m_deployButton;
};

} // namespace mm::ui
