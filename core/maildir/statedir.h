#pragma once

#include "common/result.h"
#include "maildir/mailroot.h"
#include "maildir/statelock.h"
#include "maildir/uniquefd.h"

#include <string>
#include <string_view>

namespace mm::maildir {

// Where journals and the quarantine live. Default <dirname(ROOT)>/.mailmesh-state/<basename(ROOT)>;
// when ROOT is a mount point (a mail disk of its own, as /var/vmail often is), that would be on
// another filesystem, so the default is ROOT/.mailmesh-state, the one place inside ROOT allowed:
// the walkers never enter it (maildirwalker.cpp) and Syncthing ignores it (mailfolderpolicy.cpp).
// Refused elsewhere inside ROOT (it would be walked, replicated by Syncthing, and could be
// mistaken for a folder) and on another filesystem than ROOT (quarantining must stay a rename,
// never a copy).
//
// Layout:  .lock                flock()ed by changing commands
//          journal/<runId>.jsonl one file per run, JSON lines (see Journal)
//          quarantine/<runId>/<seq>  quarantined files, named by their journal record
class StateDir
{
public:
    // The name of the state dir directly inside a mail root that is a mount point.
    static constexpr const char *kInRootName = ".mailmesh-state";

    // Looks at the file system: whether absoluteRoot is a mount point decides.
    static std::string defaultPathFor(const std::string &absoluteRoot);
    // The root's own device differs from its parent's ("/" counts as one). False when either
    // cannot be looked at.
    static bool isMountPoint(const std::string &absoluteRoot);

    // Resolves and checks without creating anything (dry runs call only this). `requested` empty
    // means the default.
    static Result<StateDir> resolve(const MailRoot &root, const std::string &requested = {});

    const std::string &path() const { return m_path; }
    bool exists() const;

    // Creates the directory (mode 0700) and its subdirectories, then checks again on the real
    // directory (a mount may have appeared between resolve() and now). Opens fd().
    Status create();
    // Opens an existing state dir (for readers: quarantine list, restore). NotFound when absent.
    // Both refuse (UnsafePath, with the reason) a state dir that is not owned by the agent's
    // user or that other users may read or write (anything but mode 0700 or stricter).
    Status open();
    int fd() const { return m_fd.get(); }

    // Exclusive, non-blocking flock on <state>/.lock (StateLock) for the lifetime of the returned
    // object. Busy when another command holds it. A kill -9 releases it with the process.
    Result<StateLock> lock() const { return StateLock::acquire(m_path); }

    std::string journalDir() const { return m_path + "/journal"; }
    std::string quarantineDir() const { return m_path + "/quarantine"; }

private:
    // fd: the state dir, or its deepest existing ancestor with `missing` the path below it.
    Status checkPlacement(int fd, std::string_view missing = {}) const;
    Status checkOwnership(int fd) const;

    std::string m_path;
    dev_t m_rootDevice = 0;
    ino_t m_rootInode = 0;
    UniqueFd m_fd;
};

} // namespace mm::maildir
