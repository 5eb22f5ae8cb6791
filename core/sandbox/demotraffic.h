#pragma once

#include "common/result.h"
#include "sandbox/sandboxuser.h"

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <functional>

namespace mm::sandbox {

// Mail traffic on a running sandbox cluster, for the demo: what makes a classic Maildir cluster
// duplicate mail and a cur/-only one not.
//
// Each round delivers one message into one node's new/ (as an MTA does: tmp/, then a rename),
// waits until Syncthing has copied it to every node, and then, at the same moment, a client on
// the next node reads it (\Seen) while the clients on the other nodes open the inbox. A stock
// Dovecot moves the message from new/ to cur/ on every node, under a different name on the
// reader's node; once Syncthing carries the names across, each node "fixes" the second name into
// a new message (docs/maildir-dovecot-syncthing.md). The patched Dovecot with cur/-only folders
// renames nothing when a folder is opened, so only the reader's flag change travels.
//
// Duplicates are counted the way a user meets them: the same Message-ID more than once in the
// inbox of one node, over IMAP. Only the traffic's own messages count, split by the layout the
// inbox had when each was delivered.
//
// Blocking, real IMAP over the nodes' ports and real files in their Maildirs: run it on a thread
// of its own, never on a GUI thread.
class DemoTraffic
{
public:
    struct Node
    {
        QString id;
        QString maildir; // the INBOX's Maildir, which the traffic delivers into
        quint16 imapPort = 0;
        QString imapUser;
        QString imapPassword;
    };

    // Duplicates among the messages delivered into one layout of the inbox.
    struct LayoutFigures
    {
        int delivered = 0;
        int duplicates = 0; // extra copies: a message shown twice counts once
    };

    struct Figures
    {
        int rounds = 0;
        LayoutFigures classic;
        LayoutFigures curOnly;
    };

    // From the JSON a sandbox describes itself with (Sandbox::description()).
    static Result<DemoTraffic> fromDescription(const QJsonObject &description);

    // One delivery and the clients' race over it. Fails on the first thing that did not work
    // (a node that does not answer IMAP, a delivery that never reached a node).
    Status runRound();
    // Asks every node's IMAP for the inbox's Message-IDs and updates figures().
    Status countDuplicates();
    Figures figures() const { return m_figures; }
    // Asked while waiting for Syncthing: true ends the wait at once (the demo is quitting).
    void setStopRequested(std::function<bool()> stopRequested) { m_stopRequested = std::move(stopRequested); }

private:
    DemoTraffic(QList<Node> nodes, SandboxUser user);

    Status openInboxesOneByOne();
    Result<QString> deliver(const Node &node, const QByteArray &messageId);
    Status waitUntilEverywhere(const QString &fileName, int timeoutMs) const;
    Status race(int readerIndex, const QByteArray &messageId);

    QList<Node> m_nodes;
    SandboxUser m_user;
    QByteArray m_runToken; // tells this run's messages from any earlier one's
    // Message-ID -> whether the inbox was cur/-only when it was delivered.
    QHash<QByteArray, bool> m_deliveredCurOnly;
    Figures m_figures;
    std::function<bool()> m_stopRequested;
};

} // namespace mm::sandbox
