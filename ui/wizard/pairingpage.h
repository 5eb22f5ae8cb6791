#pragma once

#include "ui/wizard/setuppage.h"

#include <QPointer>

class QLabel;

namespace mm::cluster {
class PairWorkflow;
}

namespace mm::ui {

class WorkflowView;

// Page 5: PairWorkflow makes every node's Syncthing know every other node and share the mail
// root, then waits until every node is connected and in sync; the device ids go into the cluster.
class PairingPage : public SetupPage
{
    Q_OBJECT

public:
    explicit PairingPage(SetupSession *session, QWidget *parent = nullptr);

    void initializePage() override;
    bool isComplete() const override;
    bool validatePage() override;
    bool isBusy() const override;
    void cancelWork() override;

    void startPairing();

private:
    QLabel *m_intro;
    QLabel *m_devices;
    WorkflowView *m_view;
    QPointer<cluster::PairWorkflow> m_pair;
};

} // namespace mm::ui
