#include "cluster/crossnodecheck.h"

#include "cluster/nodemonitor.h"
#include "maildir/manifestdiff.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <memory>

namespace mm::cluster {

CrossNodeCheck::CrossNodeCheck(QObject *parent)
    : QObject(parent)
{
}

QMap<QString, QStringList> CrossNodeCheck::foldersToCompare(const Digests &digests)
{
    // folder -> uidvalidity -> node -> digest
    QMap<QString, QMap<qint64, QMap<QString, QString>>> byFolder;
    for (auto node = digests.cbegin(); node != digests.cend(); ++node)
        for (auto folder = node->cbegin(); folder != node->cend(); ++folder)
            if (folder->uidValidity >= 0)
                byFolder[folder.key()][folder->uidValidity].insert(node.key(), folder->digest);
    QMap<QString, QStringList> result;
    for (auto folder = byFolder.cbegin(); folder != byFolder.cend(); ++folder) {
        for (const QMap<QString, QString> &nodes : *folder) {
            if (nodes.size() < 2)
                continue;
            const QStringList values = nodes.values();
            if (std::all_of(values.cbegin(), values.cend(), [&values](const QString &d) { return d == values.first(); }))
                continue;
            QStringList &listed = result[folder.key()];
            for (const QString &node : nodes.keys())
                if (!listed.contains(node))
                    listed << node;
        }
    }
    return result;
}

void CrossNodeCheck::run(const std::vector<NodeMonitor *> &nodes)
{
    if (m_running)
        return;
    std::vector<NodeMonitor *> ready;
    for (NodeMonitor *node : nodes)
        if (node->agentReady())
            ready.push_back(node);
    if (ready.size() < 2) {
        Q_EMIT finished({});
        return;
    }
    m_running = true;
    auto digests = std::make_shared<Digests>();
    auto left = std::make_shared<int>(int(ready.size()));
    for (NodeMonitor *node : ready) {
        node->fetchManifest({{QStringLiteral("digestsOnly"), true}}, this,
                            [this, node, ready, digests, left](const Result<QList<QJsonObject>> &items) {
                                if (items) {
                                    QMap<QString, FolderDigest> &folders = (*digests)[node->nodeId()];
                                    for (const QJsonObject &item : *items) {
                                        const QJsonValue validity = item.value(QStringLiteral("uidValidity"));
                                        folders.insert(item.value(QStringLiteral("folder")).toString(),
                                                       {item.value(QStringLiteral("digest")).toString(),
                                                        validity.isDouble() ? validity.toInteger() : -1});
                                    }
                                }
                                if (--*left > 0)
                                    return;
                                const QMap<QString, QStringList> folders = foldersToCompare(*digests);
                                if (folders.isEmpty()) {
                                    m_running = false;
                                    Q_EMIT finished({});
                                    return;
                                }
                                compareDetails(ready, folders);
                            });
    }
}

void CrossNodeCheck::compareDetails(const std::vector<NodeMonitor *> &nodes, const QMap<QString, QStringList> &folders)
{
    auto manifests = std::make_shared<std::vector<maildir::NodeManifest>>();
    auto involved = std::make_shared<int>(0);
    for (NodeMonitor *node : nodes) {
        QStringList wanted;
        for (auto folder = folders.cbegin(); folder != folders.cend(); ++folder)
            if (folder->contains(node->nodeId()))
                wanted << folder.key();
        if (!wanted.isEmpty())
            ++*involved;
    }
    for (NodeMonitor *node : nodes) {
        QStringList wanted;
        for (auto folder = folders.cbegin(); folder != folders.cend(); ++folder)
            if (folder->contains(node->nodeId()))
                wanted << folder.key();
        if (wanted.isEmpty())
            continue;
        node->fetchManifest({{QStringLiteral("folders"), QJsonArray::fromStringList(wanted)}}, this,
                            [this, node, manifests, involved](const Result<QList<QJsonObject>> &items) {
                                if (items) {
                                    QByteArray lines;
                                    for (const QJsonObject &item : *items)
                                        lines += QJsonDocument(item).toJson(QJsonDocument::Compact) + '\n';
                                    if (auto parsed = maildir::NodeManifest::parse(lines.toStdString(),
                                                                                   node->nodeId().toStdString()))
                                        manifests->push_back(std::move(*parsed));
                                }
                                if (--*involved > 0)
                                    return;
                                QStringList conflicts;
                                const maildir::ManifestDiff diff = maildir::ManifestDiff::compare(*manifests);
                                for (const auto &conflict : diff.uidConflicts) {
                                    QStringList where;
                                    for (const auto &[nodeId, base] : conflict.baseByNode)
                                        where << QStringLiteral("%1 on %2").arg(QString::fromStdString(base),
                                                                                QString::fromStdString(nodeId));
                                    conflicts << QStringLiteral("%1: UID %2 is %3")
                                                     .arg(conflict.folder.empty() ? QStringLiteral("(root)")
                                                                                  : QString::fromStdString(conflict.folder))
                                                     .arg(conflict.uid)
                                                     .arg(where.join(QStringLiteral(", ")));
                                }
                                m_running = false;
                                Q_EMIT finished(conflicts);
                            });
    }
}

} // namespace mm::cluster
