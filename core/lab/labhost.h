#pragma once

#include "common/result.h"

#include <QString>

namespace mm::lab {

// What the lab needs from this machine: root, overlayfs, the cgroup hierarchies systemd-nspawn
// uses, the tools (installed with apt-get when missing), and the cached root file systems.
namespace labhost {

// Empty when this machine can run lab nodes; otherwise why not, in one sentence (a test skips
// with it).
QString whyLabCannotRun();

// Installs what is missing of systemd-nspawn (systemd-container, without recommends: those put
// libnss-mymachines into nsswitch.conf), debootstrap, ip, nsenter, ssh-keygen and openssl.
Status ensureTools();

// The Debian suite of a release: "12" → bookworm, "13" → trixie; empty when unknown.
QString suiteOf(const QString &debianRelease);

// The cache directory: $MAILMESH_CACHE, else /var/cache/mailmesh.
QString defaultCacheDir();

// The mirror this machine's apt uses for suite (deb822 or one-line sources); the Debian default
// when it has none.
QString hostMirrorFor(const QString &suite, const QString &fallback);

// The directory of the root file system for release, keyed by everything it is built from
// (lab-image.sh's text, the suite, the mirrors). Not necessarily built yet.
QString imagePath(const QString &debianRelease, const QString &cacheDir);

// The root file system for release: built once by lab-image.sh (minutes), then reused. One
// build at a time per cache (a lock file beside the images). builtMs: how long this call spent
// building (0 when the image was cached).
Result<QString> ensureImage(const QString &debianRelease, const QString &cacheDir,
                            qint64 *builtMs = nullptr);

} // namespace labhost
} // namespace mm::lab
