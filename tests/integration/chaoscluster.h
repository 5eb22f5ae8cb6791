#pragma once

// What the chaos run (mailboxchaos.h) needs from a cluster: sandbox nodes set up through
// mailmeshctl (CtlCluster) and Debian lab nodes (tst_labjourney) both provide it.

#include <QByteArray>

namespace mm::test {

class ImapClient;

class ChaosCluster
{
public:
    virtual ~ChaosCluster() = default;
    virtual int size() const = 0;
    // Logs `imap` in as the mail user the clients share, on node n.
    virtual bool login(ImapClient &imap, int n) const = 0;
    // Delivers `message` to the INBOX of that user on node n, as the node's MTA does.
    virtual bool deliver(int n, const QByteArray &message) = 0;
    // Until Syncthing has carried everything everywhere, or the time is up.
    virtual bool waitQuiet(int timeoutMs) = 0;
};

} // namespace mm::test
