#include "cluster/monitor/crossnodecheck.h"

#include "cluster/monitor/nodemonitor.h"
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

QStringList CrossNodeCheck::keywordClashes(const Digests &digests)
{
    // folder -> letter -> node -> keyword
    QMap<QString, QMap<QString, QMap<QString, QString>>> byFolder;
    for (auto node = digests.cbegin(); node != digests.cend(); ++node)
        for (auto folder = node->cbegin(); folder != node->cend(); ++folder)
            for (auto letter = folder->keywords.cbegin(); letter != folder->keywords.cend(); ++letter)
                byFolder[folder.key()][letter.key()][node.key()] = letter.value();
    QStringList clashes;
    for (auto folder = byFolder.cbegin(); folder != byFolder.cend(); ++folder)
        for (auto letter = folder->cbegin(); letter != folder->cend(); ++letter) {
            const QStringList names = letter->values();
            const bool agree = std::all_of(names.cbegin(), names.cend(), [&names](const QString &name) {
                return name.compare(names.first(), Qt::CaseInsensitive) == 0; // as Dovecot compares
            });
            if (agree)
                continue;
            QStringList where;
            for (auto node = letter->cbegin(); node != letter->cend(); ++node)
                where << QStringLiteral("%1 on %2").arg(node.value(), node.key());
            clashes << QStringLiteral("%1: keyword letter %2 is %3")
                           .arg(folder.key().isEmpty() ? QStringLiteral("(root)") : folder.key(), letter.key(),
                                where.join(QStringLiteral(", ")));
        }
    return clashes;
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
        Q_EMIT finished({}, {});
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
                                        FolderDigest digest{item.value(QStringLiteral("digest")).toString(),
                                                            validity.isDouble() ? validity.toInteger() : -1,
                                                            {}};
                                        const QJsonObject keywords = item.value(QStringLiteral("keywords")).toObject();
                                        for (auto k = keywords.begin(); k != keywords.end(); ++k)
                                            digest.keywords.insert(k.key(), k.value().toString());
                                        folders.insert(item.value(QStringLiteral("folder")).toString(), digest);
                                    }
                                }
                                if (--*left > 0)
                                    return;
                                const QMap<QString, QStringList> folders = foldersToCompare(*digests);
                                const QStringList clashes = keywordClashes(*digests);
                                if (folders.isEmpty()) {
                                    m_running = false;
                                    Q_EMIT finished({}, clashes);
                                    return;
                                }
                                compareDetails(ready, folders, clashes);
                            });
    }
}

void CrossNodeCheck::compareDetails(const std::vector<NodeMonitor *> &nodes, const QMap<QString, QStringList> &folders,
                                    const QStringList &keywordClashes)
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
                            [this, node, manifests, involved, keywordClashes](const Result<QList<QJsonObject>> &items) {
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
                                Q_EMIT finished(conflicts, keywordClashes);
                            });
    }
}

} // namespace mm::cluster
