#pragma once

#include "cluster/workflows/clusterworkflow.h"
#include "cluster/session/meshview.h"

#include <QJsonObject>
#include <QStringList>

#include <vector>

namespace mm::cluster {

// `join ID`: brings a node that `add-node` put into the cluster file into a live cluster —
// paired, possibly migrated to cur/-only — without letting its Dovecot serve a half-copied
// Maildir (docs/maildir-dovecot-syncthing.md, "Pitfall 3": renames arriving during a scan make
// messages look expunged and come back under new UIDs):
//
//   connect → inspect → plan  [a dry run stops here: nothing held, paired or written]
//   → hold → letters → pair → sync → verify → dovecot → resume
//
// The node's hold commands keep its Dovecot and MTA stopped until its copy is complete: every
// node in sync and the node's messages equal to an existing node's, folder by folder. On a
// cur/-only cluster the node gets keyword letters of its own, taken from nodes that have more
// than their share (their Dovecot stops using them before the copy, so the copy holds every
// keyword they gave out: docs/mailbox-state.md), and its Dovecot gets the cur/-only snippet
// before it is resumed.
// Replacing a node (add-node with the id of a dead one, same host key) is a join too: the old
// device id still in the cluster file is removed from every peer.
//
// Every step is idempotent: a run killed at any point continues when started again, and the
// node stays held until a run gets through `resume`.
class JoinNodeWorkflow : public ClusterWorkflow
{
    Q_OBJECT

public:
    struct Options
    {
        bool dryRun = false;
        // The admin stopped the node's Dovecot and MTA and starts them after the join: no hold
        // or resume commands are needed.
        bool withoutHold = false;
        int syncTimeoutMs = 3'600'000; // a first copy of a large mail store takes a while
        int pollMs = 1000;
        int verifyAttempts = 5; // a live cluster keeps changing between two manifests
    };

    JoinNodeWorkflow(ClusterConfig cluster, QString nodeId, Options options, MonitorOptions monitorOptions,
                     QObject *parent = nullptr);
    ~JoinNodeWorkflow() override;

private:
    void validate();
    void inspect();
    void plan();
    void hold();
    void giveKeywordLetters();
    void pair();
    void configurePeers();
    void resumeJoiningDevices(QStringList changed);
    void waitForCopy();
    void verify();
    void compareWithReference();
    void switchDovecot();
    void resume();

    bool isPeer(int index) const { return index != m_joinIndex; }
    int referenceIndex() const { return m_joinIndex == 0 ? 1 : 0; }
    const NodeConfig &joining() const { return m_cluster.nodes[m_joinIndex]; }
    QString nextActionForStep() const;

    QString m_nodeId;
    Options m_options;
    int m_joinIndex = -1;
    std::vector<MeshView> m_views;
    QJsonObject m_probe;
    QString m_joiningDeviceId;
    QString m_previousDeviceId; // a replaced node's device, still known to the peers
    bool m_clusterCurOnly = false;
    bool m_continuing = false; // the node already shares the folder with a peer: a run continues
    int m_verifyAttempt = 0;
};

} // namespace mm::cluster
