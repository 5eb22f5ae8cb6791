#pragma once

#include "ui/wizard/setuppage.h"

class QCheckBox;
class QLabel;
class QLineEdit;
class QRadioButton;

namespace mm::ui {

// Page 1: the cluster's name, its UID policy, and where the cluster file is saved.
class NamePage : public SetupPage
{
    Q_OBJECT

public:
    explicit NamePage(SetupSession *session, QWidget *parent = nullptr);

    void initializePage() override;
    bool isComplete() const override;
    bool validatePage() override;

private:
    void chooseFile();
    void updateFileWarning();
    // The file exists and is not this wizard's own draft: saving would replace a cluster.
    bool wouldReplaceAnotherCluster() const;

    QLineEdit *m_name;
    QRadioButton *m_perNode;
    QRadioButton *m_replicated;
    QLineEdit *m_path;
    QLabel *m_fileWarning;
    QCheckBox *m_replace;
};

} // namespace mm::ui
