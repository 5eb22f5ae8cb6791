#pragma once

// `mailmesh-agent watch-changes`: a service beside Syncthing on every node that tells Syncthing
// exactly which paths of its folders changed (POST /rest/db/scan?folder=ID&sub=PATH...), from a
// watch that does not go blind (treewatcher.h). Syncthing's own watcher stays on; this one closes
// its gaps, which otherwise wait for the hourly full rescan (docs/maildir-dovecot-syncthing.md,
// "Syncthing's watcher misses changes"). It reads config.xml from the Syncthing home (the API key
// stays in memory), follows folders as they are added or removed, asks for one full scan of each
// folder when it starts watching it (what changed while nobody watched), and runs until SIGTERM.

#include <set>
#include <string>
#include <vector>

namespace mm::agent {

struct ChangeWatchOptions
{
    std::string syncthingHome;
    int batchDelayMs = 500; // changes gathered this long before one scan request
    bool verbose = false;   // one line per scan request on stderr
};

// Runs until SIGTERM or SIGINT; returns the process exit code.
int runChangeWatch(const ChangeWatchOptions &options);

// The sub paths of one scan request for these changed paths: the paths themselves when few, else
// their parent directories, else an empty list (= the whole folder). Exposed for tests.
std::vector<std::string> scanSubsFor(const std::set<std::string> &paths, std::size_t maxSubs);

// Names that change on every IMAP command and that the folder's ignores leave out anyway
// (Dovecot's indexes, logs and locks, Syncthing's temporary files): not worth a scan.
bool isChangeNoise(const std::string &name);

// "POST /rest/db/scan?..." target for a folder and subs, percent-encoded. Exposed for tests.
std::string scanRequestTarget(const std::string &folderId, const std::vector<std::string> &subs);

} // namespace mm::agent
