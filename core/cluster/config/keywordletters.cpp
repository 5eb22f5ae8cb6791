#include "cluster/config/keywordletters.h"

#include <QSet>

#include <algorithm>

namespace mm::cluster {

namespace {

constexpr int kLetters = 26;

} // namespace

QStringList assignKeywordLetters(ClusterConfig &cluster)
{
    const qsizetype nodeCount = cluster.nodes.size();
    if (nodeCount == 0)
        return {};
    QSet<QChar> taken;
    QList<qsizetype> needing;
    for (qsizetype i = 0; i < nodeCount; ++i) {
        const QString &letters = cluster.nodes[i].dovecot.keywordLetters;
        if (letters.isEmpty())
            needing << i;
        for (const QChar letter : letters)
            taken.insert(letter);
    }
    if (needing.isEmpty())
        return {};

    // The letters nobody has, in turn to the nodes without.
    qsizetype turn = 0;
    for (int l = 0; l < kLetters; ++l) {
        const QChar letter(QLatin1Char(char('a' + l)));
        if (taken.contains(letter))
            continue;
        cluster.nodes[needing[turn % needing.size()]].dovecot.keywordLetters += letter;
        ++turn;
    }

    // Then from the richest nodes, last letters first, while a node without has less than its
    // share and the giver keeps at least as many as the receiver ends up with.
    const qsizetype share = std::max<qsizetype>(1, kLetters / nodeCount);
    QStringList donors;
    for (const qsizetype receiver : needing) {
        QString &mine = cluster.nodes[receiver].dovecot.keywordLetters;
        while (mine.size() < share) {
            qsizetype richest = -1;
            for (qsizetype i = 0; i < nodeCount; ++i)
                if (!needing.contains(i)
                    && (richest < 0
                        || cluster.nodes[i].dovecot.keywordLetters.size()
                               > cluster.nodes[richest].dovecot.keywordLetters.size()))
                    richest = i;
            if (richest < 0 || cluster.nodes[richest].dovecot.keywordLetters.size() <= mine.size() + 1)
                break;
            QString &theirs = cluster.nodes[richest].dovecot.keywordLetters;
            mine += theirs.back();
            theirs.chop(1);
            if (!donors.contains(cluster.nodes[richest].id))
                donors << cluster.nodes[richest].id;
        }
        std::sort(mine.begin(), mine.end());
    }
    return donors;
}

} // namespace mm::cluster
