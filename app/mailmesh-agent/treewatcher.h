#pragma once

// A recursive inotify watch over one directory tree that does not go blind where Syncthing's own
// watcher does (docs/maildir-dovecot-syncthing.md, "Syncthing's watcher misses changes"):
//   - a directory deleted and made again under the same name is watched again (a new inode
//     needs a new watch; a path-keyed watch tree keeps the dead one);
//   - a new directory is listed right after its watch is added, so files written into it
//     before the watch existed are reported too;
//   - nothing is dropped because another program (Syncthing's puller) is writing the same path;
//   - a full kernel queue (IN_Q_OVERFLOW) is reported, so the caller can rescan everything, and
//     the tree is walked again for the directories the lost events made, renamed or deleted.
// It only says which paths changed, relative to the root; deciding what they mean is Syncthing's
// scan. Directories for which pruneDir answers true are neither watched nor reported.

#include "maildir/uniquefd.h"

#include <functional>
#include <map>
#include <set>
#include <string>

namespace mm::agent {

class TreeWatcher
{
public:
    struct Changes
    {
        std::set<std::string> paths; // relative to the root, '/'-separated; "" is the root itself
        bool overflowed = false;     // events were lost: everything may have changed
        bool rootGone = false;       // the root was deleted or moved away: watch it again later
    };
    // Which names are noise (a changed path not worth reporting) and which directories are not
    // descended into, both given the path relative to the root.
    struct Filter
    {
        std::function<bool(const std::string &relPath)> pruneDir;
        std::function<bool(const std::string &name)> ignoreName;
    };

    TreeWatcher(std::string root, Filter filter);

    // Adds the watches over the whole tree. An error (no root, no inotify, the watch limit
    // reached) is returned as text; the watches made so far stay.
    std::string start();

    int fd() const { return m_inotify.get(); }
    const std::string &root() const { return m_root; }
    std::size_t watchCount() const { return m_pathOfWatch.size(); }
    // The first watch that could not be added (ENOSPC: fs.inotify.max_user_watches), if any.
    const std::string &watchError() const { return m_watchError; }

    // Reads what is pending on fd() (non-blocking) and adds it to changes.
    void readEvents(Changes &changes);

private:
    void watchTree(const std::string &relPath, Changes *report);
    void forgetTree(const std::string &relPath);
    void rewatchAfterOverflow(Changes &changes);
    std::string absolute(const std::string &relPath) const;

    std::string m_root;
    Filter m_filter;
    maildir::UniqueFd m_inotify;
    std::map<int, std::string> m_pathOfWatch;
    std::string m_watchError;
};

} // namespace mm::agent
