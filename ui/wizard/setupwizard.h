#pragma once

#include <QWizard>

namespace mm::ui {

class SetupSession;

// From nothing to a paired, migrated cluster: name and UID policy, nodes, host keys, probes,
// Syncthing pairing, Dovecot, the migration, a summary. Pages collect input and run the
// core/cluster workflows; the draft cluster file is saved after every completed page, so the
// wizard can be left and resumed where it stopped.
class SetupWizard : public QWizard
{
    Q_OBJECT

public:
    enum PageId { NamePage, NodesPage, ConnectPage, ProbePage, PairingPage, DovecotPage, MigrationPage, SummaryPage };

    // resumePath: a draft saved by an earlier run; the wizard opens after its last completed page.
    explicit SetupWizard(QWidget *parent = nullptr, const QString &resumePath = {});

    // A wizard for "New cluster…": offers to continue an unfinished setup first.
    static SetupWizard *createForNewCluster(QWidget *parent);

    SetupSession *session() const { return m_session; }
    QString clusterPath() const;

    void accept() override;
    void reject() override;

Q_SIGNALS:
    // Finished: the cluster file at path is complete and can be opened.
    void clusterCreated(const QString &path);

private:
    SetupSession *m_session;
};

} // namespace mm::ui
