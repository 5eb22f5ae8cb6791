#pragma once

#include "ui/wizard/setuppage.h"

#include <QHash>
#include <QJsonObject>
#include <QPointer>

class QVBoxLayout;

namespace mm::cluster {
struct NodeConfig;
class Workflow;
}

namespace mm::ui {

// Page 4: what each node's probe found (OS, Dovecot, Syncthing, the mail root), every problem
// in plain words, and "Fix it" running PrepareNodeWorkflow where Mailmesh can fix it itself.
class ProbePage : public SetupPage
{
    Q_OBJECT

public:
    explicit ProbePage(SetupSession *session, QWidget *parent = nullptr);
    ~ProbePage() override;

    void initializePage() override;
    bool isComplete() const override;
    bool validatePage() override;
    bool isBusy() const override;
    void cancelWork() override;

    // What is wrong on a node, in plain words; fixable: prepare can fix at least one of them.
    static QStringList problemsOf(const cluster::NodeConfig &node, const QJsonObject &probe, bool *fixable);

    void fixNode(const QString &nodeId);
    void probeNode(const QString &nodeId);

private:
    struct Card;

    void run(const QString &nodeId, cluster::Workflow *workflow);
    void show(const QString &nodeId);

    QVBoxLayout *m_cards;
    QHash<QString, Card *> m_byNode;
};

} // namespace mm::ui
