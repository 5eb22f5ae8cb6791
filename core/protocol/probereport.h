#pragma once

#include "node/syncthingconfig.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mm::protocol {

// The answer to `probe` (protocol.md, "probe"): what the app needs to know about a node before
// it deploys anything there. The agent fills it with the readers of core/node (os-release,
// /etc/passwd, /proc, config.xml, `dovecot --version`); this layer only carries it as JSON.
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
        std::optional<node::SyncthingConfig> config; // <home>/config.xml, when it was read
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

} // namespace mm::protocol
