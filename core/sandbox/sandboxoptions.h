#pragma once

#include <QString>

namespace mm::sandbox {

struct SandboxOptions
{
    int nodeCount = 3;
    // Where the nodes live. Empty: a fresh mailmesh-sandbox-XXXXXX under the temp dir, removed
    // at teardown. A given directory must be empty, new, or hold a sandbox that is down.
    QString dir;
    // Daemons outlive this process (no parent-death signal, detached); only
    // Sandbox::tearDownDirectory (`mailmeshctl sandbox down`) stops them.
    bool persistent = false;
    // Dovecot install prefix: PREFIX/sbin/dovecot, with the libexec dir compiled into it.
    QString dovecotPrefix = QStringLiteral("/usr");
    // The patched build's cur/-only mode: `maildir_cur_only = yes` in dovecot.conf (a stock
    // Dovecot refuses to start with it) and the seeded Maildir gets the link new -> cur instead
    // of a real new/. Off: a classic Maildir and no such setting.
    bool curOnly = false;
    // A patched node as `mailmeshctl deploy-dovecot` leaves it before any migration:
    // conf.d/99-mailmesh-cur-only.conf says `maildir_cur_only = no`, which migrate switches.
    // Only for a patched prefix (a stock Dovecot refuses the setting); ignored with curOnly.
    bool curOnlySettingOff = false;
    // Dovecot's LAYOUT=fs: a folder is the directory Maildir/Name/ (Name/Sub/ below it) instead
    // of Maildir++'s Maildir/.Name (.Name.Sub). Both layouts exist on real servers.
    bool fsLayout = false;
    // IMAP login = user@domain; Maildir = <mail root>/<domain>/<user>/Maildir.
    QString mailDomain = QStringLiteral("sandbox.test");
    QString mailUser = QStringLiteral("test");
    // Readiness deadline for all nodes together.
    int startTimeoutMs = 60000;
    // The mailmesh-agent binary: each node runs `mailmesh-agent watch-changes` beside Syncthing,
    // as `prepare` sets up on a real node (docs/maildir-dovecot-syncthing.md, "Syncthing's
    // watcher misses changes"). Empty: Syncthing's own watcher only.
    QString changeWatcher;
    // Keep a temporary dir after teardown (to read the daemons' logs).
    bool keepDir = false;
};

} // namespace mm::sandbox
