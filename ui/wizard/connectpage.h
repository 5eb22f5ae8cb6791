#pragma once

#include "cluster/workflows/workflow.h"
#include "ui/wizard/setuppage.h"

#include <QHash>
#include <QPointer>
#include <QStringList>

class QVBoxLayout;

namespace mm::cluster {
class AddNodeWorkflow;
}

namespace mm::ui {

// Page 3: every node's host key settled and the node reached, one AddNodeWorkflow per node
// (one at a time, so known_hosts is never written twice at once). An unknown key is shown for
// the admin to accept or refuse; a changed key is refused and explained.
class ConnectPage : public SetupPage
{
    Q_OBJECT

public:
    enum class State
    {
        Waiting,
        Running,
        Connected,
        UnknownHostKey, // the admin must decide
        Refused,        // the admin refused the key
        ChangedHostKey, // refused by Mailmesh
        Failed,
        Cancelled
    };

    explicit ConnectPage(SetupSession *session, QWidget *parent = nullptr);
    ~ConnectPage() override;

    void initializePage() override;
    bool isComplete() const override;
    bool validatePage() override;
    bool isBusy() const override;
    void cancelWork() override;

    State state(const QString &nodeId) const;

    // The admin's answer to an unknown host key.
    void acceptHostKey(const QString &nodeId);
    void refuseHostKey(const QString &nodeId);
    void retry(const QString &nodeId);

private:
    struct Card;

    void enqueue(const QString &nodeId, const QString &acceptedKey = {});
    void runNext();
    void finished(const QString &nodeId, const cluster::WorkflowReport &report);
    void show(const QString &nodeId);

    QVBoxLayout *m_cards;
    QHash<QString, Card *> m_byNode;
    QStringList m_order;
    QList<QPair<QString, QString>> m_queue; // node id, accepted key
    QPointer<cluster::AddNodeWorkflow> m_running;
    QString m_runningNode;
};

} // namespace mm::ui
