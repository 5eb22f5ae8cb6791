#pragma once

#include "cluster/monitor/clusterstate.h"

#include <QColor>
#include <QString>

namespace mm::ui {

// How a pair of nodes that share the mail folder stands, as the cluster view draws it.
enum class LinkState
{
    InSync,          // both ends connected, each sees the other at 100% with nothing needed
    Syncing,         // not in sync for less than kBehindAfterSeconds: mail on its way
    Behind,          // not in sync for kBehindAfterSeconds or longer
    Disconnected,    // a reachable end's Syncthing is not connected to the other
    NodeUnreachable, // an end cannot be reached over SSH: its side of the link is unknown
    Unknown,         // neither end has told us yet
};

// A healthy cluster carries a delivery to every node within seconds; a link still not in sync
// after a minute has something in the way (a big copy, a stuck pull, a slow peer).
inline constexpr qint64 kBehindAfterSeconds = 60;

// The two ends of a link and what each one's Syncthing says about the other (null: nothing).
struct LinkEnds
{
    cluster::Reachability firstReachability = cluster::Reachability::Unknown;
    cluster::Reachability secondReachability = cluster::Reachability::Unknown;
    const cluster::PeerSync *firstSeesSecond = nullptr;
    const cluster::PeerSync *secondSeesFirst = nullptr;
};

// Whether one end's view of the other says "nothing left to send".
bool peerInSync(const cluster::PeerSync &peer);

// lagSeconds: how long the link has not been in sync (0 while it is).
LinkState linkState(const LinkEnds &ends, qint64 lagSeconds);

QString linkStateText(LinkState state);
// What the state means, for the legend's and the links' tooltips.
QString linkStateDescription(LinkState state);
// Fixed colours, chosen to stay apart from each other on light and dark backgrounds alike.
QColor linkStateColor(LinkState state);
// Dashed: what the link shows is not known first hand.
bool linkStateIsDashed(LinkState state);

// "40 s", "12 min", "2 h 5 min"; with atLeast, "≥ 12 min" (the lag began before the first
// snapshot the app saw, so it is a lower bound).
QString lagText(qint64 seconds, bool atLeast = false);

} // namespace mm::ui
