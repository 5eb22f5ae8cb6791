#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mm::protocol {

// What the probe reads from Syncthing's config.xml. The API key is never read.
struct SyncthingConfig
{
    std::string guiAddress;                    // <gui><address>, e.g. "127.0.0.1:8384"
    bool guiEnabled = true;                    // <gui enabled="...">
    bool guiTls = false;                       // <gui tls="...">
    std::vector<std::string> listenAddresses;  // <options><listenAddress>, in order
    std::optional<bool> globalAnnounceEnabled; // <options><globalAnnounceEnabled>
    std::optional<bool> relaysEnabled;         // <options><relaysEnabled>
};

// What the change watcher (mailmesh-agent watch-changes) needs from config.xml: where the local
// REST API listens, its key, and the folders to watch. Read by the Syncthing user's own process
// and kept in memory only: the key never leaves the node.
struct SyncthingLocalApi
{
    struct Folder
    {
        std::string id;
        std::string path; // as written: absolute, or "~/..." for the user's home
        bool paused = false;
    };
    std::string guiAddress; // "127.0.0.1:8384", "[::1]:8384" or "unix:///path"
    bool guiTls = false;
    std::string apiKey;
    std::vector<Folder> folders;
};

// The answer to `probe` (protocol.md, "probe"): what the app needs to know about a node before
// it deploys anything there.
struct ProbeReport
{
    struct Os
    {
        std::string id;         // os-release ID, e.g. "debian"
        std::string versionId;  // os-release VERSION_ID, e.g. "12"
        std::string prettyName; // os-release PRETTY_NAME
        std::string kernelRelease;
    };
    struct Disk
    {
        std::string path; // as asked (raw bytes; JSON via putPath)
        std::uint64_t totalBytes = 0;
        std::uint64_t freeBytes = 0;      // free for root
        std::uint64_t availableBytes = 0; // free for unprivileged users
        std::uint64_t totalInodes = 0;
        std::uint64_t freeInodes = 0;
    };
    struct Inotify
    {
        std::optional<std::int64_t> maxUserWatches;
        std::optional<std::int64_t> maxUserInstances;
        std::optional<std::int64_t> maxQueuedEvents;
    };
    struct Program
    {
        bool found = false;
        std::string path;
        std::string version; // empty when it could not be asked
    };
    // A running Syncthing found under /proc (a monitor parent and its child both appear).
    struct SyncthingProcess
    {
        std::int64_t pid = 0;
        std::int64_t ppid = 0;           // tells a monitor parent from its child
        std::uint32_t uid = 0;           // effective uid: the owner of the files it writes
        std::string user;                // from /etc/passwd; empty when the uid has no entry
        std::optional<std::string> home; // --home / -home on its command line (raw bytes)
    };
    // A running `mailmesh-agent watch-changes` found under /proc
    // (app/mailmesh-agent/changewatch.h): the service that tells Syncthing which paths changed,
    // where its own watcher goes blind.
    struct ChangeWatcherProcess
    {
        std::int64_t pid = 0;
        std::uint32_t uid = 0; // effective uid
        std::string user;      // from /etc/passwd; empty when the uid has no entry
        // --syncthing-home on its command line (raw bytes)
        std::optional<std::string> syncthingHome;
    };
    struct Syncthing : Program
    {
        std::optional<std::string> home;         // the syncthingHome param, as asked
        std::optional<SyncthingConfig> config;   // <home>/config.xml, when it was read
        std::vector<SyncthingProcess> processes; // running Syncthing processes
    };
    struct Owner
    {
        std::uint32_t uid = 0;
        std::string user;        // from /etc/passwd; empty when the uid has no entry
        std::uint64_t files = 0; // entries owned (files, directories, symlinks)
    };
    // What is below the mail root (protocol.md, "probe", inventory).
    struct Inventory
    {
        std::uint64_t maildirs = 0;
        std::uint64_t folders = 0;
        std::uint64_t classicFolders = 0;
        std::uint64_t curOnlyFolders = 0;
        std::uint64_t brokenFolders = 0;
        std::uint64_t messages = 0;
        std::uint64_t bytes = 0;
        std::vector<Owner> owners; // most files first
        std::uint64_t inotifyWatchesNeeded = 0;
        std::uint64_t problems = 0; // problems met by the walk (`scan ROOT` lists them)
    };
    struct Dovecot : Program
    {
        bool curOnlyBuild = false;          // the Mailmesh cur/-only build
        std::optional<bool> curOnlyEnabled; // maildir_cur_only in the running config
        std::string curOnlyEvidence;        // "version-suffix", "doveconf-setting" or ""
    };

    std::string agentVersion;
    std::string hostname;
    std::string architecture; // uname -m, e.g. "x86_64"
    Os os;
    std::optional<Disk> disk;
    Inotify inotify;
    Dovecot dovecot;
    Syncthing syncthing;
    std::vector<ChangeWatcherProcess> changeWatchers; // running watch-changes processes
    std::optional<Inventory> inventory; // with `path`
    // With `path`: where the agent keeps journals and quarantine when the cluster file names no
    // stateDir (StateDir::defaultPathFor: inside the root when the root is a mount point).
    std::optional<std::string> defaultStateDir;
    std::vector<std::string> warnings;  // what could not be probed, and why
};

void to_json(nlohmann::json &json, const ProbeReport &report);
void from_json(const nlohmann::json &json, ProbeReport &report);
void to_json(nlohmann::json &json, const ProbeReport::SyncthingProcess &process);
void from_json(const nlohmann::json &json, ProbeReport::SyncthingProcess &process);
void to_json(nlohmann::json &json, const ProbeReport::ChangeWatcherProcess &process);
void from_json(const nlohmann::json &json, ProbeReport::ChangeWatcherProcess &process);
void to_json(nlohmann::json &json, const ProbeReport::Owner &owner);
void from_json(const nlohmann::json &json, ProbeReport::Owner &owner);
void to_json(nlohmann::json &json, const ProbeReport::Inventory &inventory);
void from_json(const nlohmann::json &json, ProbeReport::Inventory &inventory);

// Parsers of what the probe reads, kept pure so they can be tested on recorded text.
// os-release(5): KEY=value lines, values optionally quoted, '#' comments.
std::map<std::string, std::string> parseOsRelease(std::string_view text);
// `dovecot --version`: "2.3.19.1 (9b53102964)" or "2.3.19.1+mailmesh1 (...)": the first line.
std::string parseDovecotVersion(std::string_view output);
bool isCurOnlyDovecotVersion(std::string_view version);
// The name doveconf -h takes for maildir_cur_only: 2.4 keeps maildir settings in the `maildir`
// named filter, and its doveconf prints the global default for the bare name
// ("maildir/maildir_cur_only"); 2.3 takes "maildir_cur_only".
std::string curOnlySettingName(std::string_view dovecotVersion);
// `doveconf -h maildir_cur_only`: "yes"/"no"; nullopt when the setting is unknown (a stock
// 2.3 doveconf prints nothing and exits 0; others fail with "Unknown setting").
std::optional<bool> parseCurOnlySetting(std::string_view output, int exitCode);
// `syncthing --version`: "syncthing v1.19.2-ds1 "Fermium Flea" (...)" -> "v1.19.2-ds1".
std::string parseSyncthingVersion(std::string_view output);
// Syncthing's config.xml, scanned by hand (top-level <gui> and <options> only). nullopt when the
// text has no <configuration> element.
std::optional<SyncthingConfig> parseSyncthingConfig(std::string_view xml);
// A GUI address ("127.0.0.1:8384", "[::1]:8384", "localhost:8384", optionally with http(s)://)
// that only the node itself can reach: 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z), localhost.
bool isLoopbackGuiAddress(std::string_view address);

// nullopt when xml is not a Syncthing configuration.
std::optional<SyncthingLocalApi> parseSyncthingLocalApi(std::string_view xml);
// /etc/passwd: uid -> user name; the first entry of a uid wins, like getpwuid.
std::map<std::uint32_t, std::string> parsePasswd(std::string_view text);
// /proc/PID/cmdline (NUL-separated): the value of --home=X, --home X, -home=X or -home X (the
// last one wins, as in Syncthing's flag parsing); nullopt when absent.
std::optional<std::string> parseCmdlineHome(std::string_view cmdline);
// Whether a command name from /proc/PID/stat may be the agent: "mailmesh-agent" as prepare
// installs it, or "agent-<sha256>", the copy AgentClient deploys (cut to 15 bytes by the kernel).
bool isAgentCommandName(std::string_view comm);
// /proc/PID/cmdline of the agent (NUL-separated): nullopt unless its first argument is
// `watch-changes`; else the value of --syncthing-home=X or --syncthing-home X, as the agent reads
// its own command line (the last one wins), nullopt inside when none is given.
struct ChangeWatcherCmdline
{
    std::optional<std::string> syncthingHome;
};
std::optional<ChangeWatcherCmdline> parseChangeWatcherCmdline(std::string_view cmdline);
// /proc/PID/stat: the command name (between the outer parentheses), the state letter and the
// parent's pid.
struct ProcStat
{
    std::string comm;
    char state = '?';
    std::int64_t ppid = 0;
};
std::optional<ProcStat> parseProcStat(std::string_view text);
// /proc/PID/status: the effective uid (second field of the "Uid:" line).
std::optional<std::uint32_t> parseProcStatusUid(std::string_view text);

} // namespace mm::protocol
