#include "maildir/conflictname.h"

namespace mm::maildir {

namespace {

constexpr std::string_view kMarker = ".sync-conflict-";

bool allDigits(std::string_view s)
{
    for (char c : s)
        if (c < '0' || c > '9')
            return false;
    return !s.empty();
}

// Syncthing device IDs are base32 (A-Z, 2-7); the short form is the first 7 characters.
bool isShortDeviceId(std::string_view s)
{
    if (s.size() != 7)
        return false;
    for (char c : s)
        if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7')))
            return false;
    return true;
}

} // namespace

std::optional<ConflictName> ConflictName::parse(std::string_view fileName)
{
    // Nearly no name has the marker: find() looks for it from its first byte with memchr,
    // which is much quicker than rfind()'s byte-by-byte walk back over every name.
    if (fileName.find(kMarker) == std::string_view::npos)
        return std::nullopt;
    // The last marker wins: a conflict copy of a conflict copy nests the marker twice.
    const std::size_t at = fileName.rfind(kMarker);
    if (at == std::string_view::npos || at == 0)
        return std::nullopt;
    const std::string_view rest = fileName.substr(at + kMarker.size());
    // YYYYMMDD-HHMMSS-DEVID then end or ".EXT"
    if (rest.size() < 8 + 1 + 6 + 1 + 7)
        return std::nullopt;
    const std::string_view date = rest.substr(0, 8);
    const std::string_view time = rest.substr(9, 6);
    if (!allDigits(date) || rest[8] != '-' || !allDigits(time) || rest[15] != '-')
        return std::nullopt;
    const std::string_view device = rest.substr(16, 7);
    if (!isShortDeviceId(device))
        return std::nullopt;
    const std::string_view tail = rest.substr(23);
    if (!tail.empty() && tail.front() != '.')
        return std::nullopt;
    ConflictName result;
    result.original.assign(fileName.substr(0, at));
    result.original.append(tail);
    result.timestamp.assign(rest.substr(0, 15));
    result.deviceId.assign(device);
    return result;
}

bool isSyncthingTempName(std::string_view fileName)
{
    auto endsWithTmp = [&] {
        return fileName.size() >= 4 && fileName.substr(fileName.size() - 4) == ".tmp";
    };
    if (fileName.starts_with(".syncthing.") && endsWithTmp())
        return fileName.size() > std::string_view(".syncthing..tmp").size();
    if (fileName.starts_with("~syncthing~") && endsWithTmp())
        return fileName.size() > std::string_view("~syncthing~.tmp").size();
    return false;
}

} // namespace mm::maildir
