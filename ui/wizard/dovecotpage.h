#pragma once

#include "ui/wizard/setuppage.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace mm::ui {

class WorkflowView;

// Page 6: each node's Dovecot as probed, and the cut-over order. Nodes still on stock Dovecot
// get the patched build (DeployDovecotWorkflow, setting off) from a prefix installed on them or
// from Debian packages on this computer (uploaded, installed with apt and held), or the admin
// goes on and deploys later with `mailmeshctl deploy-dovecot`.
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
    // Deploys the patched build from the prefix or package directory onto the given nodes (empty:
    // the stock ones).
    void deployDovecot(const QStringList &nodeIds = {});

private:
    QLabel *m_facts;
    QLabel *m_order;
    QLabel *m_deployNote;
    QCheckBox *m_allowStock;
    WorkflowView *m_deployView;
    enum Source
    {
        Prefix,   // a directory build installed on every node
        Packages, // .deb files on this computer
    };
    void updateSourceWidgets();

    QComboBox *m_source;
    QLabel *m_locationLabel;
    QLineEdit *m_prefix;
    QPushButton *m_browse;
    QPushButton *m_deployButton;
};

} // namespace mm::ui
