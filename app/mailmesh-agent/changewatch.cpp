#include "changewatch.h"

#include "treewatcher.h"

#include "maildir/fsutil.h"
#include "maildir/statedir.h"
#include "node/syncthingconfig.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace mm::agent {

namespace {

constexpr std::size_t kMaxSubsPerRequest = 256;
constexpr std::size_t kConfigLimit = 16u << 20;

std::atomic<bool> g_stop{false};

void onStopSignal(int)
{
    g_stop = true;
}

void log(const std::string &line)
{
    std::fprintf(stderr, "watch-changes: %s\n", line.c_str());
    std::fflush(stderr);
}

std::string parentOf(const std::string &path)
{
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

// The scan request under way, if any. Syncthing restarts a folder when its configuration
// changes, and a request queued on the folder's old runner before its first scan finished is never
// answered (its handler waits for that scan): a reload aborts it, and it is sent again.
class InFlightRequest
{
public:
    class Lend
    {
    public:
        Lend(InFlightRequest &owner, int fd)
            : m_owner(owner)
        {
            std::lock_guard lock(m_owner.m_mutex);
            m_owner.m_fd = fd;
        }
        ~Lend()
        {
            std::lock_guard lock(m_owner.m_mutex);
            m_owner.m_fd = -1;
        }
        Lend(const Lend &) = delete;
        Lend &operator=(const Lend &) = delete;

    private:
        InFlightRequest &m_owner;
    };

    void abort()
    {
        std::lock_guard lock(m_mutex);
        if (m_fd >= 0)
            ::shutdown(m_fd, SHUT_RDWR);
    }

private:
    std::mutex m_mutex;
    int m_fd = -1;
};

// Syncthing's REST API on this node, by the address in config.xml: "host:port" with a numeric
// or loopback host, or "unix:///path". Plain HTTP only: Mailmesh binds the GUI to loopback.
class LocalApi
{
public:
    explicit LocalApi(node::SyncthingLocalApi api)
        : m_api(std::move(api))
    {
    }

    struct Outcome
    {
        enum Kind {
            Scanned,    // Syncthing answered 200 once it had scanned
            Refused,    // no connection, or Syncthing answered with an error
            Unanswered, // sent, but no answer in time or aborted: it may or may not run
        } kind;
        std::string why;
    };

    // POSTs a scan. Blocks until Syncthing has scanned (its handler waits for the folder's loop,
    // after any pull under way has written its database). The socket is lent to `inFlight`
    // meanwhile, so that a reload can abort the request.
    Outcome scan(const std::string &folderId, const std::vector<std::string> &subs, InFlightRequest &inFlight) const
    {
        if (m_api.guiTls)
            return {Outcome::Refused, "Syncthing's GUI requires TLS; mailmesh needs it plain on loopback"};
        const int fd = connectToApi();
        if (fd < 0)
            return {Outcome::Refused, "cannot connect to Syncthing at " + m_api.guiAddress + ": " + std::strerror(errno)};
        maildir::UniqueFd socket(fd);
        const InFlightRequest::Lend lent(inFlight, fd);
        // A few paths take milliseconds, but wait behind a pull that may run for a while; a request
        // queued on a folder runner Syncthing has just replaced is never answered.
        const timeval timeout{60, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        const std::string request = "POST " + scanRequestTarget(folderId, subs)
                                    + " HTTP/1.1\r\nHost: localhost\r\nX-API-Key: " + m_api.apiKey
                                    + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        for (std::size_t sent = 0; sent < request.size();) {
            const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
            if (n <= 0)
                return {Outcome::Refused, std::string("sending to Syncthing: ") + std::strerror(errno)};
            sent += std::size_t(n);
        }
        std::string reply;
        char buffer[4096];
        for (;;) {
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n < 0)
                return {Outcome::Unanswered, std::string("no answer from Syncthing: ") + std::strerror(errno)};
            if (n == 0)
                break;
            reply.append(buffer, std::size_t(n));
            if (reply.size() > 65536)
                break;
        }
        const std::string statusLine = reply.substr(0, reply.find("\r\n"));
        if (statusLine.empty())
            return {Outcome::Unanswered, "Syncthing closed the connection without an answer"};
        if (statusLine.size() >= 12 && statusLine.compare(9, 3, "200") == 0)
            return {Outcome::Scanned, {}};
        const auto body = reply.find("\r\n\r\n");
        return {Outcome::Refused, "Syncthing answered " + statusLine
                                      + (body == std::string::npos ? std::string() : ": " + reply.substr(body + 4, 200))};
    }

private:
    int connectToApi() const
    {
        std::string address = m_api.guiAddress;
        if (address.starts_with("http://"))
            address.erase(0, 7);
        if (address.starts_with("unix://")) {
            sockaddr_un un{};
            un.sun_family = AF_UNIX;
            const std::string path = address.substr(7);
            if (path.size() >= sizeof un.sun_path) {
                errno = ENAMETOOLONG;
                return -1;
            }
            std::memcpy(un.sun_path, path.c_str(), path.size() + 1);
            return connectTo(AF_UNIX, reinterpret_cast<sockaddr *>(&un), sizeof un);
        }
        const auto colon = address.rfind(':');
        if (colon == std::string::npos) {
            errno = EINVAL;
            return -1;
        }
        std::string host = address.substr(0, colon);
        const int port = std::atoi(address.c_str() + colon + 1);
        if (host.starts_with('[') && host.ends_with(']'))
            host = host.substr(1, host.size() - 2);
        // A wildcard listens on loopback too; names other than localhost are not resolved (no NSS
        // in a static binary).
        if (host.empty() || host == "0.0.0.0" || host == "localhost")
            host = "127.0.0.1";
        if (host == "::")
            host = "::1";
        sockaddr_in v4{};
        v4.sin_family = AF_INET;
        v4.sin_port = htons(std::uint16_t(port));
        if (::inet_pton(AF_INET, host.c_str(), &v4.sin_addr) == 1)
            return connectTo(AF_INET, reinterpret_cast<sockaddr *>(&v4), sizeof v4);
        sockaddr_in6 v6{};
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(std::uint16_t(port));
        if (::inet_pton(AF_INET6, host.c_str(), &v6.sin6_addr) == 1)
            return connectTo(AF_INET6, reinterpret_cast<sockaddr *>(&v6), sizeof v6);
        errno = EINVAL;
        return -1;
    }

    static int connectTo(int family, const sockaddr *address, socklen_t length)
    {
        const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
        if (::connect(fd, address, length) != 0) {
            const int err = errno;
            ::close(fd);
            errno = err;
            return -1;
        }
        return fd;
    }

    node::SyncthingLocalApi m_api;
};

// What is waiting to be scanned, per folder; filled by the watching thread, drained by the
// scanning thread, which may block on Syncthing for a long time while more piles up.
class ScanQueue
{
public:
    void add(const std::string &folder, const std::set<std::string> &paths, bool whole)
    {
        {
            std::lock_guard lock(m_mutex);
            Pending &pending = m_pending[folder];
            pending.whole = pending.whole || whole;
            if (!pending.whole)
                pending.paths.insert(paths.begin(), paths.end());
            else
                pending.paths.clear();
        }
        m_wake.notify_one();
    }

    // Forgets what waits for folders that are gone or paused.
    void keepOnly(const std::set<std::string> &folders)
    {
        std::lock_guard lock(m_mutex);
        std::erase_if(m_pending, [&](const auto &entry) { return !folders.contains(entry.first); });
    }

    struct Pending
    {
        std::set<std::string> paths;
        bool whole = false;
    };

    // Waits for work, then lets it gather for delay; empty when stopping.
    std::map<std::string, Pending> take(std::chrono::milliseconds delay)
    {
        std::unique_lock lock(m_mutex);
        m_wake.wait_for(lock, std::chrono::seconds(1), [this] { return !m_pending.empty() || g_stop; });
        if (m_pending.empty())
            return {};
        lock.unlock();
        std::this_thread::sleep_for(delay);
        lock.lock();
        return std::exchange(m_pending, {});
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::map<std::string, Pending> m_pending;
};

struct WatchedFolder
{
    node::SyncthingLocalApi::Folder config;
    std::string root; // resolved path
    std::unique_ptr<TreeWatcher> watcher;
};

std::string resolveFolderPath(const std::string &path)
{
    if (path == "~" || path.starts_with("~/")) {
        const char *home = std::getenv("HOME");
        return std::string(home ? home : "") + path.substr(1);
    }
    std::string resolved = path;
    while (resolved.size() > 1 && resolved.ends_with('/'))
        resolved.pop_back();
    return resolved;
}

class ChangeWatch
{
public:
    explicit ChangeWatch(const ChangeWatchOptions &options)
        : m_options(options)
    {
    }

    int run()
    {
        m_homeWatch.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
        if (!m_homeWatch.valid() || ::inotify_add_watch(m_homeWatch.get(), m_options.syncthingHome.c_str(),
                                                        IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR) < 0) {
            log(m_options.syncthingHome + ": cannot watch the Syncthing home: " + std::strerror(errno));
            return 2;
        }
        std::thread scanner([this] { scanLoop(); });
        reloadConfig();
        auto lastRetry = std::chrono::steady_clock::now();
        while (!g_stop) {
            std::vector<pollfd> fds{{m_homeWatch.get(), POLLIN, 0}};
            for (const WatchedFolder &folder : m_folders)
                fds.push_back({folder.watcher ? folder.watcher->fd() : -1, POLLIN, 0});
            const int ready = ::poll(fds.data(), fds.size(), 1000);
            if (ready < 0 && errno != EINTR)
                break;
            if (fds[0].revents & POLLIN) {
                drainHomeEvents();
                reloadConfig();
            }
            bool folderEvents = false;
            for (std::size_t i = 0; i + 1 < fds.size(); ++i)
                folderEvents = folderEvents || (fds[i + 1].revents & POLLIN);
            // Events come in bursts (a delivery is a create, a write, a close and a rename): let a
            // burst gather before reading it, one read instead of a wake-up per event. The scans
            // they lead to wait for batchDelayMs anyway.
            if (folderEvents)
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            for (std::size_t i = 0; i < m_folders.size(); ++i)
                if (i + 1 < fds.size() && (fds[i + 1].revents & POLLIN))
                    readFolder(m_folders[i]);
            // A folder whose path is missing or not yet watchable is tried again now and then.
            if (std::chrono::steady_clock::now() - lastRetry > std::chrono::seconds(10)) {
                lastRetry = std::chrono::steady_clock::now();
                for (WatchedFolder &folder : m_folders)
                    if (!folder.watcher)
                        startWatching(folder);
            }
        }
        g_stop = true;
        scanner.join();
        log("stopped");
        return 0;
    }

private:
    void drainHomeEvents()
    {
        alignas(inotify_event) char buffer[16 * 1024];
        while (::read(m_homeWatch.get(), buffer, sizeof buffer) > 0) {
        }
    }

    void reloadConfig()
    {
        const std::string file = m_options.syncthingHome + "/config.xml";
        auto text = maildir::readBoundedFile(file, kConfigLimit);
        if (!text) {
            if (m_configError != text.error().message)
                log(text.error().message + " (waiting for it)");
            m_configError = text.error().message;
            return;
        }
        auto api = node::parseSyncthingLocalApi(*text);
        if (!api || api->apiKey.empty() || api->guiAddress.empty()) {
            const std::string why = file + ": no <configuration> with a GUI address and API key";
            if (m_configError != why)
                log(why);
            m_configError = why;
            return;
        }
        m_configError.clear();
        {
            std::lock_guard lock(m_apiMutex);
            m_api = std::make_shared<LocalApi>(*api);
        }
        m_inFlight.abort();
        std::vector<WatchedFolder> next;
        for (const auto &config : api->folders) {
            if (config.paused)
                continue;
            const std::string root = resolveFolderPath(config.path);
            bool kept = false;
            for (WatchedFolder &old : m_folders)
                if (old.config.id == config.id && old.root == root && old.watcher) {
                    next.push_back(std::move(old));
                    kept = true;
                    break;
                }
            if (kept)
                continue;
            WatchedFolder folder{config, root, nullptr};
            startWatching(folder);
            next.push_back(std::move(folder));
        }
        m_folders = std::move(next);
        std::set<std::string> watched;
        for (const WatchedFolder &folder : m_folders)
            watched.insert(folder.config.id);
        m_queue.keepOnly(watched);
    }

    TreeWatcher::Filter filterFor(const std::string &root) const
    {
        // The Syncthing home may lie inside the mail root (Debian's vmail lives in /var/vmail):
        // its database changes all the time and is never shared.
        std::string homeRel;
        const std::string home = resolveFolderPath(m_options.syncthingHome);
        if (home.starts_with(root + '/'))
            homeRel = home.substr(root.size() + 1);
        return TreeWatcher::Filter{
            [homeRel](const std::string &rel) {
                const std::string name = rel.substr(rel.rfind('/') + 1);
                // tmp/, Dovecot's folder-being-deleted and the state dir of a mail root that is a
                // mount point are ignored by the folder's .stignore.
                return name == "tmp" || name == "..DOVECOT-TRASHED" || name == "..DOVECOT-TrasH" || name == ".stversions"
                       || rel == maildir::StateDir::kInRootName || (!homeRel.empty() && rel == homeRel);
            },
            isChangeNoise};
    }

    void startWatching(WatchedFolder &folder)
    {
        auto watcher = std::make_unique<TreeWatcher>(folder.root, filterFor(folder.root));
        const std::string error = watcher->start();
        if (!error.empty()) {
            log("folder " + folder.config.id + ": " + error + " (trying again)");
            return;
        }
        if (!watcher->watchError().empty())
            log("folder " + folder.config.id + ": " + watcher->watchError()
                + "; changes below it wait for Syncthing's own watcher or its full rescan");
        log("watching folder " + folder.config.id + " at " + folder.root + " (" + std::to_string(watcher->watchCount())
            + " directories)");
        folder.watcher = std::move(watcher);
        // Whatever changed while nobody watched: one full scan.
        m_queue.add(folder.config.id, {}, true);
    }

    void readFolder(WatchedFolder &folder)
    {
        TreeWatcher::Changes changes;
        folder.watcher->readEvents(changes);
        if (changes.overflowed)
            log("folder " + folder.config.id + ": the kernel dropped events; asking for a full scan");
        if (changes.overflowed || !changes.paths.empty())
            m_queue.add(folder.config.id, changes.paths, changes.overflowed);
        if (changes.rootGone) {
            log("folder " + folder.config.id + ": " + folder.root + " went away");
            folder.watcher.reset();
        }
    }

    void scanLoop()
    {
        const std::chrono::milliseconds delay(m_options.batchDelayMs);
        std::string lastError;
        while (!g_stop) {
            auto work = m_queue.take(delay);
            std::shared_ptr<LocalApi> api;
            {
                std::lock_guard lock(m_apiMutex);
                api = m_api;
            }
            for (auto &[folder, pending] : work) {
                const std::vector<std::string> subs =
                    pending.whole ? std::vector<std::string>{} : scanSubsFor(pending.paths, kMaxSubsPerRequest);
                const LocalApi::Outcome outcome = api ? api->scan(folder, subs, m_inFlight)
                                                      : LocalApi::Outcome{LocalApi::Outcome::Refused,
                                                                          "no configuration read yet"};
                const std::string what = subs.empty() ? std::string("everything") : std::to_string(subs.size()) + " paths";
                switch (outcome.kind) {
                case LocalApi::Outcome::Scanned:
                    if (m_options.verbose) {
                        std::string some;
                        for (std::size_t i = 0; i < subs.size() && i < 4; ++i)
                            some += (i ? ", " : " (") + subs[i];
                        log("scanned " + folder + ": " + what + some + (subs.empty() ? "" : subs.size() > 4 ? ", ...)" : ")"));
                    }
                    if (!lastError.empty())
                        log("Syncthing answers again");
                    lastError.clear();
                    continue;
                case LocalApi::Outcome::Unanswered:
                    // A few paths are asked for again. A whole-folder scan is not: it may still
                    // be running (a million files take minutes), and a folder runner that never
                    // answered was replaced by one that scans everything when it starts.
                    if (!subs.empty())
                        m_queue.add(folder, pending.paths, false);
                    log("folder " + folder + ": " + outcome.why + " (" + what
                        + (subs.empty() ? std::string(", left to Syncthing)") : std::string(", asking again)")));
                    continue;
                case LocalApi::Outcome::Refused:
                    if (outcome.why != lastError)
                        log("folder " + folder + ": " + outcome.why + " (trying again)");
                    lastError = outcome.why;
                    // Kept for the next round: Syncthing may be starting or restarting.
                    m_queue.add(folder, pending.paths, pending.whole || subs.empty());
                    std::this_thread::sleep_for(std::chrono::seconds(2));
                    continue;
                }
            }
        }
    }

    ChangeWatchOptions m_options;
    maildir::UniqueFd m_homeWatch;
    std::vector<WatchedFolder> m_folders;
    std::string m_configError;
    ScanQueue m_queue;
    std::mutex m_apiMutex;
    std::shared_ptr<LocalApi> m_api;
    InFlightRequest m_inFlight;
};

char hexDigit(unsigned value)
{
    return "0123456789ABCDEF"[value & 15];
}

void appendPercentEncoded(std::string &out, std::string_view text)
{
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || c == '-' || c == '.'
            || c == '_' || c == '~' || c == '/') {
            out += c;
        } else {
            out += '%';
            out += hexDigit(u >> 4);
            out += hexDigit(u);
        }
    }
}

} // namespace

bool isChangeNoise(const std::string &name)
{
    return name.starts_with("dovecot.index") || name.starts_with("dovecot.list.index")
           || name.starts_with("dovecot.mailbox.log") || name.ends_with(".lock") || name == "dovecot-uidlist.tmp"
           || (name.starts_with(".syncthing.") && name.ends_with(".tmp"))
           || (name.starts_with("~syncthing~") && name.ends_with(".tmp"));
}

std::vector<std::string> scanSubsFor(const std::set<std::string> &paths, std::size_t maxSubs)
{
    if (paths.contains(std::string()))
        return {};
    if (paths.size() <= maxSubs)
        return {paths.begin(), paths.end()};
    std::set<std::string> parents;
    for (const std::string &path : paths) {
        const std::string parent = parentOf(path);
        if (parent.empty())
            return {}; // something at the top changed among many: the whole folder
        parents.insert(parent);
    }
    if (parents.size() <= maxSubs)
        return {parents.begin(), parents.end()};
    return {};
}

std::string scanRequestTarget(const std::string &folderId, const std::vector<std::string> &subs)
{
    std::string target = "/rest/db/scan?folder=";
    appendPercentEncoded(target, folderId);
    for (const std::string &sub : subs) {
        target += "&sub=";
        appendPercentEncoded(target, sub);
    }
    return target;
}

int runChangeWatch(const ChangeWatchOptions &options)
{
    struct sigaction action{};
    action.sa_handler = onStopSignal;
    ::sigaction(SIGTERM, &action, nullptr);
    ::sigaction(SIGINT, &action, nullptr);
    std::signal(SIGPIPE, SIG_IGN);
    g_stop = false;
    return ChangeWatch(options).run();
}

} // namespace mm::agent
