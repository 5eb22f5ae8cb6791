#pragma once

#include "ui/wizard/setuppage.h"

class QLabel;

namespace mm::ui {

// Page 8: what was done, and where the cluster file lives. Finish opens it in the main window.
class SummaryPage : public SetupPage
{
    Q_OBJECT

public:
    explicit SummaryPage(SetupSession *session, QWidget *parent = nullptr);

    void initializePage() override;

    QString summaryText() const;

private:
    QLabel *m_summary;
    QLabel *m_path;
};

} // namespace mm::ui
