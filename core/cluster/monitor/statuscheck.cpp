#include "cluster/monitor/statuscheck.h"

#include "cluster/pluralforms.h"

#include <QJsonArray>

#include <algorithm>

namespace mm::cluster {

namespace {

QString healthName(Health health)
{
    switch (health) {
    case Health::Ok:
        return QStringLiteral("ok");
    case Health::Warning:
        return QStringLiteral("warning");
    case Health::Error:
        return QStringLiteral("error");
    case Health::Unknown:
        break;
    }
    return QStringLiteral("unknown");
}

QString reachabilityName(Reachability reachability)
{
    switch (reachability) {
    case Reachability::Reachable:
        return QStringLiteral("reachable");
    case Reachability::Unreachable:
        return QStringLiteral("unreachable");
    case Reachability::Unknown:
        break;
    }
    return QStringLiteral("unknown");
}

QString hostKeyName(HostKeyState state)
{
    switch (state) {
    case HostKeyState::Pinned:
        return QStringLiteral("pinned");
    case HostKeyState::NotAccepted:
        return QStringLiteral("not-accepted");
    case HostKeyState::Changed:
        return QStringLiteral("changed");
    case HostKeyState::Unknown:
        break;
    }
    return QStringLiteral("unknown");
}

// Where a value crosses its limits: 2 critical, 1 warning, 0 fine.
int level(qint64 value, qint64 warn, qint64 crit)
{
    if (crit >= 0 && value >= crit)
        return 2;
    if (warn >= 0 && value >= warn)
        return 1;
    return 0;
}

int secondsLevel(double value, double warn, double crit)
{
    if (crit >= 0 && value >= crit)
        return 2;
    if (warn >= 0 && value >= warn)
        return 1;
    return 0;
}

QString seconds(double value)
{
    return QString::number(value, 'f', value < 10 ? 2 : 1) + QStringLiteral(" s");
}

// The canary's latest run: the slowest pair against the limits; a probe that never arrived is
// critical; a pair the run could not measure (a node down, a refused write) is left to the
// other checks. Pairs with a node that is not reachable are judged by --crit-unreachable.
struct CanaryVerdict
{
    int code = 0;
    QString reason;
    std::optional<double> slowest;
};

CanaryVerdict judgeCanary(const ClusterState &state, const StatusThresholds &thresholds)
{
    CanaryVerdict verdict;
    QStringList timedOut;
    QString slowestPair;
    for (const CanaryPairLatency &pair : state.canary) {
        if (pair.measuredAt != state.canaryLastRunAt)
            continue; // a pair of an earlier run (a node since removed)
        if (pair.latestSeconds) {
            if (!verdict.slowest || *pair.latestSeconds > *verdict.slowest) {
                verdict.slowest = pair.latestSeconds;
                slowestPair = pair.origin + QStringLiteral("->") + pair.observer;
            }
        } else if (pair.latestFailure == QLatin1String("timeout")) {
            timedOut << pair.origin + QStringLiteral("->") + pair.observer;
        }
    }
    if (!timedOut.isEmpty()) {
        verdict.code = 2;
        verdict.reason = QStringLiteral("canary probe did not arrive: %1").arg(timedOut.join(QStringLiteral(", ")));
        return verdict;
    }
    if (verdict.slowest) {
        verdict.code = secondsLevel(*verdict.slowest, thresholds.warnCanarySeconds, thresholds.critCanarySeconds);
        verdict.reason = QStringLiteral("canary %1 took %2").arg(slowestPair, seconds(*verdict.slowest));
    }
    return verdict;
}

QJsonValue optionalNumber(const std::optional<double> &value)
{
    return value ? QJsonValue(*value) : QJsonValue();
}

QJsonValue optionalNumber(const std::optional<qint64> &value)
{
    return value ? QJsonValue(*value) : QJsonValue();
}

} // namespace

bool isSettled(const ClusterState &state)
{
    if (!state.crossNodeChecked)
        return false;
    for (const NodeState &node : state.nodes) {
        if (node.reachability == Reachability::Unreachable || node.hostKey == HostKeyState::Changed)
            continue;
        if (node.reachability != Reachability::Reachable || !node.inventoryTaken)
            return false;
        const auto folder = std::find_if(state.folders.cbegin(), state.folders.cend(),
                                         [&node](const FolderState &f) { return f.nodeId == node.id; });
        const bool syncthingAnswered = !node.syncthingVersion.isEmpty() && folder != state.folders.cend()
                                       && !folder->state.isEmpty();
        if (!syncthingAnswered && node.problems.isEmpty())
            return false;
    }
    return true;
}

StatusVerdict checkStatus(const ClusterState &state, const StatusThresholds &thresholds, bool settled)
{
    int unreachable = 0;
    int changedKeys = 0;
    QStringList troubled;
    for (const NodeState &node : state.nodes) {
        if (node.reachability == Reachability::Unreachable)
            ++unreachable;
        if (node.hostKey == HostKeyState::Changed)
            ++changedKeys;
        if (node.health() != Health::Ok)
            troubled << QStringLiteral("%1 %2").arg(node.id, node.problems.isEmpty() ? healthName(node.health())
                                                                                    : node.problems.first());
    }
    qint64 lag = 0;
    int peersInSync = 0;
    for (const PeerSync &peer : state.peers) {
        lag = std::max(lag, peer.needItems);
        if (peer.connected && peer.completion >= 100)
            ++peersInSync;
    }
    int conflicts = 0;
    for (const FolderState &folder : state.folders)
        conflicts += folder.conflictCopies;

    int code = 0;
    QStringList reasons;
    const auto raise = [&code, &reasons](int to, const QString &reason) {
        if (to == 0)
            return;
        code = std::max(code, to);
        reasons << reason;
    };
    raise(level(unreachable, thresholds.warnUnreachable, thresholds.critUnreachable),
          counted(unreachable, "node", "nodes") + QStringLiteral(" unreachable"));
    raise(changedKeys > 0 ? 2 : 0, counted(changedKeys, "changed host key", "changed host keys"));
    raise(state.uidConflicts > 0 ? 2 : 0,
          counted(state.uidConflicts, "UID conflict", "UID conflicts")
              + (state.uidConflictDetails.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(state.uidConflictDetails.first())));
    // A letter meaning two keywords shows clients the wrong keyword (a wrong $Junk hides mail).
    raise(state.keywordClashes > 0 ? 2 : 0,
          QObject::tr("%n keyword clash(es)", nullptr, state.keywordClashes)
              + (state.keywordClashDetails.isEmpty() ? QString()
                                                     : QStringLiteral(" (%1)").arg(state.keywordClashDetails.first())));
    raise(level(lag, thresholds.warnLagItems, thresholds.critLagItems), counted(lag, "item", "items") + QStringLiteral(" behind"));
    raise(level(conflicts, thresholds.warnConflicts, thresholds.critConflicts),
          QStringLiteral("%1 conflict copies").arg(conflicts));
    raise(level(state.duplicateGroups, thresholds.warnDuplicates, thresholds.critDuplicates),
          counted(state.duplicateGroups, "duplicate group", "duplicate groups"));
    const CanaryVerdict canary = judgeCanary(state, thresholds);
    raise(canary.code, canary.reason);
    // A node in trouble that no threshold above covers (agent down, Syncthing unreachable...).
    if (code == 0 && !troubled.isEmpty())
        raise(1, troubled.join(QStringLiteral(", ")));
    if (!settled) {
        code = 3;
        reasons.prepend(QStringLiteral("not every node answered in time"));
    }

    static const char *const kNames[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
    const QString summary = QStringLiteral("%1/%2 nodes reachable, %3/%4 peer links in sync, %5, %6")
                                .arg(state.nodes.size() - unreachable)
                                .arg(state.nodes.size())
                                .arg(peersInSync)
                                .arg(state.peers.size())
                                .arg(counted(state.duplicateGroups, "duplicate group", "duplicate groups"),
                                     counted(state.uidConflicts, "UID conflict", "UID conflicts"));
    QString perfdata =
        QStringLiteral("nodes=%1 unreachable=%2 lag=%3 conflicts=%4 duplicates=%5 uidconflicts=%6 keywordclashes=%7")
            .arg(state.nodes.size())
            .arg(unreachable)
            .arg(lag)
            .arg(conflicts)
            .arg(state.duplicateGroups)
            .arg(state.uidConflicts)
            .arg(state.keywordClashes);
    if (canary.slowest)
        perfdata += QStringLiteral(" canary=%1s;%2;%3")
                        .arg(*canary.slowest, 0, 'f', 3)
                        .arg(thresholds.warnCanarySeconds >= 0 ? QString::number(thresholds.warnCanarySeconds) : QString(),
                             thresholds.critCanarySeconds >= 0 ? QString::number(thresholds.critCanarySeconds) : QString());
    return {code, QStringLiteral("MAILMESH %1 - %2%3 | %4")
                      .arg(QLatin1String(kNames[code]),
                           reasons.isEmpty() ? QString() : reasons.join(QStringLiteral("; ")) + QStringLiteral("; "),
                           summary, perfdata)};
}

QJsonObject stateToJson(const ClusterState &state)
{
    QJsonArray nodes;
    for (const NodeState &node : state.nodes)
        nodes.append(QJsonObject{{QStringLiteral("id"), node.id},
                                 {QStringLiteral("health"), healthName(node.health())},
                                 {QStringLiteral("reachability"), reachabilityName(node.reachability)},
                                 {QStringLiteral("hostKey"), hostKeyName(node.hostKey)},
                                 {QStringLiteral("agentVersion"), node.agentVersion},
                                 {QStringLiteral("dovecotVersion"), node.dovecotVersion},
                                 {QStringLiteral("dovecotCurOnlyBuild"), node.dovecotCurOnlyBuild},
                                 {QStringLiteral("dovecotCurOnlyEnabled"), node.dovecotCurOnlyEnabled},
                                 {QStringLiteral("syncthingVersion"), node.syncthingVersion},
                                 {QStringLiteral("changeWatcherRunning"),
                                  node.changeWatcherRunning ? QJsonValue(*node.changeWatcherRunning) : QJsonValue()},
                                 {QStringLiteral("lastSeen"), node.lastSeen.toString(Qt::ISODate)},
                                 {QStringLiteral("quarantinedFiles"), optionalNumber(node.quarantinedFiles)},
                                 {QStringLiteral("quarantinedBytes"), optionalNumber(node.quarantinedBytes)},
                                 {QStringLiteral("problems"), QJsonArray::fromStringList(node.problems)}});
    QJsonArray peers;
    for (const PeerSync &peer : state.peers)
        peers.append(QJsonObject{{QStringLiteral("node"), peer.nodeId},
                                 {QStringLiteral("peer"), peer.peerId},
                                 {QStringLiteral("connected"), peer.connected},
                                 {QStringLiteral("completion"), peer.completion},
                                 {QStringLiteral("needItems"), peer.needItems},
                                 {QStringLiteral("needBytes"), peer.needBytes}});
    QJsonArray folders;
    for (const FolderState &folder : state.folders)
        folders.append(QJsonObject{{QStringLiteral("node"), folder.nodeId},
                                   {QStringLiteral("state"), folder.state},
                                   {QStringLiteral("needItems"), folder.needItems},
                                   {QStringLiteral("pullErrors"), folder.pullErrors},
                                   {QStringLiteral("watchError"), folder.watchError},
                                   {QStringLiteral("conflictCopies"), folder.conflictCopies}});
    QJsonArray mailboxes;
    const QStringList ids = state.nodeIds();
    for (const MailboxCounts &mailbox : state.mailboxes) {
        QJsonObject counts;
        for (auto it = mailbox.messagesByNode.cbegin(); it != mailbox.messagesByNode.cend(); ++it)
            counts.insert(it.key(), it.value());
        mailboxes.append(QJsonObject{{QStringLiteral("mailbox"), mailbox.mailbox},
                                     {QStringLiteral("messages"), counts},
                                     {QStringLiteral("agrees"), mailbox.agrees(ids)}});
    }
    QJsonArray canaryPairs;
    for (const CanaryPairLatency &pair : state.canary)
        canaryPairs.append(QJsonObject{{QStringLiteral("origin"), pair.origin},
                                       {QStringLiteral("observer"), pair.observer},
                                       {QStringLiteral("measuredAt"), pair.measuredAt.toString(Qt::ISODateWithMs)},
                                       {QStringLiteral("latestSeconds"), optionalNumber(pair.latestSeconds)},
                                       {QStringLiteral("latestFailure"), pair.latestFailure},
                                       {QStringLiteral("p95Seconds"), optionalNumber(pair.p95Seconds)},
                                       {QStringLiteral("samples"), pair.samples},
                                       {QStringLiteral("failures"), pair.failures}});
    const QJsonObject canary{
        {QStringLiteral("lastRunAt"),
         state.canaryLastRunAt.isValid() ? QJsonValue(state.canaryLastRunAt.toString(Qt::ISODateWithMs)) : QJsonValue()},
        {QStringLiteral("pairs"), canaryPairs},
        {QStringLiteral("leftBehind"), QJsonArray::fromStringList(state.canaryLeftBehind)}};
    const ClusterState::Summary summary = state.summary();
    return QJsonObject{{QStringLiteral("schemaVersion"), 1},
                       {QStringLiteral("takenAt"), state.takenAt.toString(Qt::ISODateWithMs)},
                       {QStringLiteral("summary"), QJsonObject{{QStringLiteral("ok"), summary.ok},
                                                               {QStringLiteral("warnings"), summary.warnings},
                                                               {QStringLiteral("errors"), summary.errors}}},
                       {QStringLiteral("nodes"), nodes},
                       {QStringLiteral("peers"), peers},
                       {QStringLiteral("folders"), folders},
                       {QStringLiteral("mailboxes"), mailboxes},
                       {QStringLiteral("duplicateGroups"), state.duplicateGroups},
                       {QStringLiteral("uidConflicts"), state.uidConflicts},
                       {QStringLiteral("uidConflictDetails"), QJsonArray::fromStringList(state.uidConflictDetails)},
                       {QStringLiteral("keywordClashes"), state.keywordClashes},
                       {QStringLiteral("keywordClashDetails"), QJsonArray::fromStringList(state.keywordClashDetails)},
                       {QStringLiteral("classicFolders"), QJsonArray::fromStringList(state.classicFolders)},
                       {QStringLiteral("canary"), canary}};
}

} // namespace mm::cluster
