#include "ui/linkstate.h"

#include <QCoreApplication>

#include <algorithm>

namespace mm::ui {

namespace {

QString translate(const char *text)
{
    return QCoreApplication::translate("mm::ui::LinkState", text);
}

} // namespace

bool peerInSync(const cluster::PeerSync &peer)
{
    return peer.connected && peer.completion >= 100 && peer.needItems == 0;
}

LinkState linkState(const LinkEnds &ends, qint64 lagSeconds)
{
    using cluster::Reachability;
    if (ends.firstReachability == Reachability::Unreachable ||
        ends.secondReachability == Reachability::Unreachable)
        return LinkState::NodeUnreachable;
    // A node the monitor has not reached yet reports its peers as it found them at start:
    // disconnected, 0%. Only a reachable end's view counts.
    QList<const cluster::PeerSync *> views;
    if (ends.firstReachability == Reachability::Reachable && ends.firstSeesSecond)
        views << ends.firstSeesSecond;
    if (ends.secondReachability == Reachability::Reachable && ends.secondSeesFirst)
        views << ends.secondSeesFirst;
    if (views.isEmpty())
        return LinkState::Unknown;
    if (std::any_of(views.cbegin(), views.cend(),
                    [](const cluster::PeerSync *view) { return !view->connected; }))
        return LinkState::Disconnected;
    if (std::all_of(views.cbegin(), views.cend(),
                    [](const cluster::PeerSync *view) { return peerInSync(*view); }))
        return LinkState::InSync;
    return lagSeconds < kBehindAfterSeconds ? LinkState::Syncing : LinkState::Behind;
}

QString linkStateText(LinkState state)
{
    switch (state) {
    case LinkState::InSync:
        return translate("in sync");
    case LinkState::Syncing:
        return translate("syncing");
    case LinkState::Behind:
        return translate("behind");
    case LinkState::Disconnected:
        return translate("disconnected");
    case LinkState::NodeUnreachable:
        return translate("node unreachable");
    case LinkState::Unknown:
        break;
    }
    return translate("not known yet");
}

QString linkStateDescription(LinkState state)
{
    switch (state) {
    case LinkState::InSync:
        return translate("Both nodes connected, each has everything the other has");
    case LinkState::Syncing:
        return translate("Changes on their way, for less than a minute");
    case LinkState::Behind:
        return translate("Not in sync for a minute or longer");
    case LinkState::Disconnected:
        return translate("The nodes' Syncthings are not connected to each other");
    case LinkState::NodeUnreachable:
        return translate("A node of the pair cannot be reached over SSH");
    case LinkState::Unknown:
        break;
    }
    return translate("Neither node has answered yet");
}

QColor linkStateColor(LinkState state)
{
    switch (state) {
    case LinkState::InSync:
        return QColor(0x2e, 0x9d, 0x4f); // green
    case LinkState::Syncing:
        return QColor(0x2f, 0x7f, 0xd1); // blue
    case LinkState::Behind:
        return QColor(0xe0, 0x8a, 0x00); // amber
    case LinkState::Disconnected:
        return QColor(0xd6, 0x33, 0x2b); // red
    case LinkState::NodeUnreachable:
        return QColor(0x8e, 0x4f, 0xbf); // violet: the link is unknown, its node is the problem
    case LinkState::Unknown:
        break;
    }
    return QColor(0x8a, 0x8a, 0x8a); // grey
}

bool linkStateIsDashed(LinkState state)
{
    return state == LinkState::NodeUnreachable || state == LinkState::Unknown;
}

QString lagText(qint64 seconds, bool atLeast)
{
    QString text;
    if (seconds < 60)
        text = translate("%1 s").arg(std::max<qint64>(seconds, 0));
    else if (seconds < 3600)
        text = translate("%1 min").arg(seconds / 60);
    else if (seconds % 3600 < 60)
        text = translate("%1 h").arg(seconds / 3600);
    else
        text = translate("%1 h %2 min").arg(seconds / 3600).arg(seconds % 3600 / 60);
    return atLeast ? translate("≥ %1").arg(text) : text;
}

} // namespace mm::ui
