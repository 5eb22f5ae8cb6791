#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// What a node's Syncthing says about itself: its config.xml and `syncthing --version`.
namespace mm::node {

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

// Syncthing's config.xml, scanned by hand (top-level <gui> and <options> only). nullopt when the
// text has no <configuration> element.
std::optional<SyncthingConfig> parseSyncthingConfig(std::string_view xml);
// nullopt when xml is not a Syncthing configuration.
std::optional<SyncthingLocalApi> parseSyncthingLocalApi(std::string_view xml);
// A GUI address ("127.0.0.1:8384", "[::1]:8384", "localhost:8384", optionally with http(s)://)
// that only the node itself can reach: 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z), localhost.
bool isLoopbackGuiAddress(std::string_view address);
// `syncthing --version`: "syncthing v1.19.2-ds1 "Fermium Flea" (...)" -> "v1.19.2-ds1".
std::string parseSyncthingVersion(std::string_view output);

} // namespace mm::node
