#pragma once

#include "common/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mm::maildir {

// Content hashes of one folder's messages, remembered by (BASE, size, mtime) in the state dir so
// that a second manifest of an unchanged tree reads no message body: a flag change renames the
// file but keeps BASE, size and mtime, so it still hits. One small text file per folder under
// <state>/hashcache/, named after the SHA-256 of the folder's path; lines are
// "<mtime ns> <size> <sha256 hex> <BASE>". A damaged file costs a rehash, never a wrong answer
// beyond what (BASE, size, mtime) can tell.
class HashCache
{
public:
    // `cacheDir` is <state>/hashcache; created on save() when missing. Empty: no caching at all.
    HashCache(std::string cacheDir, const std::string &folderRelPath);

    void load();
    std::optional<std::string> lookup(std::string_view base, std::uint64_t size,
                                      std::int64_t mtimeNs) const;
    void store(std::string_view base, std::uint64_t size, std::int64_t mtimeNs, std::string sha256);
    // Entries not looked up or stored since load() are dropped (the message is gone). Writes a
    // temporary file and renames it over the old one, only when something changed.
    Status save();

    std::uint64_t hits() const { return m_hits; }
    std::uint64_t misses() const { return m_misses; }
    const std::string &filePath() const { return m_file; }

private:
    struct Entry
    {
        std::uint64_t size = 0;
        std::int64_t mtimeNs = 0;
        std::string sha256;
        bool used = false;
    };

    std::string m_dir;
    std::string m_file;
    // Several entries per BASE: flag-divergent copies of one message may differ in mtime.
    std::unordered_map<std::string, std::vector<Entry>> m_entries;
    mutable std::uint64_t m_hits = 0;
    mutable std::uint64_t m_misses = 0;
    bool m_changed = false;
    bool m_loadedAny = false;
};

} // namespace mm::maildir
