#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mm::protocol {

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
    Program syncthing;
    std::vector<std::string> warnings; // what could not be probed, and why
};

void to_json(nlohmann::json &json, const ProbeReport &report);
void from_json(const nlohmann::json &json, ProbeReport &report);

// Parsers of what the probe reads, kept pure so they can be tested on recorded text.
// os-release(5): KEY=value lines, values optionally quoted, '#' comments.
std::map<std::string, std::string> parseOsRelease(std::string_view text);
// `dovecot --version`: "2.3.19.1 (9b53102964)" or "2.3.19.1+mailmesh1 (...)": the first line.
std::string parseDovecotVersion(std::string_view output);
bool isCurOnlyDovecotVersion(std::string_view version);
// `doveconf -h maildir_cur_only`: "yes"/"no"; nullopt when the setting is unknown (a stock
// 2.3 doveconf prints nothing and exits 0; others fail with "Unknown setting").
std::optional<bool> parseCurOnlySetting(std::string_view output, int exitCode);
// `syncthing --version`: "syncthing v1.19.2-ds1 "Fermium Flea" (...)" -> "v1.19.2-ds1".
std::string parseSyncthingVersion(std::string_view output);

} // namespace mm::protocol
