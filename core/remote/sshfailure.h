#pragma once

#include "common/result.h"

#include <QString>

namespace mm::remote {

// What ssh's stderr says about a connection that failed (exit status 255), turned into one of
// the closed error codes with a message an admin can act on. Host-key failures also carry
// where the pinned key lives, so the caller can name both fingerprints.
struct SshFailure
{
    Error error;
    QString offeredFingerprint; // "SHA256:..." printed by ssh for a changed key
    QString offendingFile;      // known_hosts file holding the key that no longer matches
    int offendingLine = 0;      // 1-based line in offendingFile

    static SshFailure diagnose(const QString &standardError, const QString &destination);
};

} // namespace mm::remote
