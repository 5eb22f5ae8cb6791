#pragma once

// The mail two end-to-end tests start from: classic Maildirs on one sandbox node for alice and
// bob, each with INBOX, .Sent and .Archive.2024 (Maildir++), 3 messages in new/ and 3 read in
// cur/ per folder: 36 messages.

#include "sandbox/sandbox.h"

#include <QString>

inline QString seedClassicMaildirs(const mm::sandbox::Sandbox &sandbox, int index)
{
    const auto seeded = sandbox.runOnNode(index, QStringLiteral(
        "set -e; for user in alice bob; do md='%1'/example.org/$user/Maildir; "
        "for f in '' .Sent .Archive.2024; do mkdir -p \"$md/$f/cur\" \"$md/$f/new\" \"$md/$f/tmp\"; "
        "[ -n \"$f\" ] && touch \"$md/$f/maildirfolder\"; for i in 1 2 3; do "
        "printf 'Message-ID: <%s%s%s@example.org>\\r\\nSubject: new %s\\r\\n\\r\\nbody\\r\\n' $user \"$f\" $i $i "
        "> \"$md/$f/new/170000000$i.M${i}P1.mx\"; "
        "printf 'Message-ID: <r%s%s%s@example.org>\\r\\nSubject: read %s\\r\\n\\r\\nbody\\r\\n' $user \"$f\" $i $i "
        "> \"$md/$f/cur/170000100$i.M${i}P2.mx:2,S\"; done; done; done")
        .arg(sandbox.node(index).mailRoot));
    if (!seeded)
        return QString::fromStdString(seeded.error().describe());
    if (seeded->exitCode != 0)
        return QString::fromUtf8(seeded->standardError);
    return {}; // seeded
}
