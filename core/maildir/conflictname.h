#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mm::maildir {

// A Syncthing conflict copy: NAME.sync-conflict-YYYYMMDD-HHMMSS-DEVID.EXT, where EXT is what
// followed the last '.' of the original name (nothing when it had no dot). For a Maildir name the
// "extension" is usually "host:2,FLAGS", so the copy gets a new BASE and Dovecot would index it
// as an extra message.
struct ConflictName
{
    std::string original;  // the name the copy was made from
    std::string timestamp; // "YYYYMMDD-HHMMSS"
    std::string deviceId;  // the short device ID (7 characters) of the device that won

    static std::optional<ConflictName> parse(std::string_view fileName);
};

// Syncthing's in-flight files: ".syncthing.NAME.tmp" (and "~syncthing~NAME.tmp" from Windows
// peers).
bool isSyncthingTempName(std::string_view fileName);

} // namespace mm::maildir
