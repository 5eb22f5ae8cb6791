#pragma once

#include <QHash>
#include <QStringList>
#include <QWizardPage>

class QVBoxLayout;

namespace mm::ui {

class SetupSession;

// A page of the setup wizard: it collects input or runs workflows on the shared session.
// Pages that run workflows say when they are busy and stop them when asked, so Back and Cancel
// never leave a step running unseen.
class SetupPage : public QWizardPage
{
    Q_OBJECT

public:
    explicit SetupPage(SetupSession *session, QWidget *parent = nullptr)
        : QWizardPage(parent)
        , m_session(session)
    {
    }

    virtual bool isBusy() const { return false; }
    virtual void cancelWork() {}

    // Going back keeps what was typed and learnt (QWizardPage's default resets the fields);
    // it only stops what runs.
    void cleanupPage() override { cancelWork(); }

protected:
    SetupSession *session() const { return m_session; }
    // Saves the draft with this page as the last completed one; shows why when it cannot.
    bool saveDraftAfterThisPage();
    // Fills the page with a vertical scroll area of per-node cards that wrap their text to the
    // page's width; returns the cards' layout (a stretch at its end keeps them at the top).
    QVBoxLayout *makeCardList();
    // The cluster's node ids, in order.
    QStringList nodeIds() const;

    // Deletes the per-node cards (each with its `box` widget) of nodes no longer in `ids`.
    template <class Card>
    static void dropCardsOfRemovedNodes(QHash<QString, Card *> &byNode, const QStringList &ids)
    {
        for (auto it = byNode.begin(); it != byNode.end();) {
            if (ids.contains(it.key())) {
                ++it;
                continue;
            }
            delete it.value()->box;
            delete it.value();
            it = byNode.erase(it);
        }
    }

private:
    SetupSession *m_session;
};

} // namespace mm::ui
