#pragma once

#include "common/result.h"

#include <QJsonObject>
#include <QList>
#include <QMap>
#include <QObject>
#include <QStringList>

#include <vector>

namespace mm::cluster {

class NodeMonitor;

// The cross-node part of monitoring: UID conflicts (one UID naming different messages on two
// nodes under one uidvalidity: silent corruption for IMAP clients) and keyword clashes (one
// keyword letter meaning different keywords on two nodes: docs/mailbox-state.md). Each round asks
// every node for its folder digests, which carry each folder's keyword table, and fetches full
// folder manifests only where nodes that share a uidvalidity disagree, so a cluster in agreement
// costs one small answer per folder and node.
class CrossNodeCheck : public QObject
{
    Q_OBJECT

public:
    struct FolderDigest
    {
        QString digest;
        qint64 uidValidity = -1; // -1: no usable dovecot-uidlist
        QMap<QString, QString> keywords; // letter -> keyword
    };
    // node id -> folder -> digest
    using Digests = QMap<QString, QMap<QString, FolderDigest>>;

    explicit CrossNodeCheck(QObject *parent = nullptr);

    // Starts a round over the nodes whose agent is ready; ignored while one runs.
    void run(const std::vector<NodeMonitor *> &nodes);
    bool isRunning() const { return m_running; }

    // folder -> the nodes to compare there: at least two nodes with one uidvalidity and
    // different digests. Pure, for tests.
    static QMap<QString, QStringList> foldersToCompare(const Digests &digests);
    // "folder: keyword letter a is $Junk on node1, $Work on node2", one per letter that two nodes
    // give different names. A letter one node does not know yet is no clash (its file has not
    // arrived). Pure, for tests.
    static QStringList keywordClashes(const Digests &digests);

Q_SIGNALS:
    // uidConflicts: "folder: UID 7 is A on node1, B on node2", one per conflict;
    // keywordClashes as keywordClashes() words them.
    void finished(const QStringList &uidConflicts, const QStringList &keywordClashes);

private:
    void compareDetails(const std::vector<NodeMonitor *> &nodes, const QMap<QString, QStringList> &folders,
                        const QStringList &keywordClashes);

    bool m_running = false;
};

} // namespace mm::cluster
