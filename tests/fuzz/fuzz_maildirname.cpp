// Maildir names, flags and Syncthing conflict names: never crash, and the invariants convert
// relies on hold for any bytes (BASE agrees with baseOf, a collision name is a valid name with a
// new BASE, a conflict copy's original is shorter, problem JSON never throws).
#include "maildir/conflictname.h"
#include "maildir/jsonpath.h"
#include "maildir/maildirname.h"
#include "maildir/problem.h"
#include "maildir/sha256.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace mm::maildir;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const std::string_view name(reinterpret_cast<const char *>(data), size);
    const MaildirName parsed = MaildirName::parse(name);
    if (parsed.base != baseOf(name))
        std::abort();
    if (parsed.valid()) {
        for (char c : name)
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
                std::abort();
        if (!isValidUtf8(name) || name.front() == '.')
            std::abort();
        const std::string hex = Sha256::toHex(Sha256::hash(name));
        const std::string renamed = collisionName(name, hex);
        const MaildirName again = MaildirName::parse(renamed);
        if (!again.valid() || again.base == parsed.base || again.info != parsed.info ||
            again.size != parsed.size || again.vsize != parsed.vsize)
            std::abort();
        const std::string flagged = withFlags(name, parsed.flags);
        if (baseOf(flagged) != parsed.base)
            std::abort();
    }
    if (const auto conflict = ConflictName::parse(name)) {
        if (conflict->original.size() >= name.size() || conflict->deviceId.size() != 7)
            std::abort();
    }
    (void)isSyncthingTempName(name);
    if (!isValidUtf8(toValidUtf8(name)))
        std::abort();
    const nlohmann::json json = Problem{ProblemKind::BadName, std::string(name), std::string(name)};
    (void)json.dump();
    if (readPath(json, "path") != std::string(name))
        std::abort();
    return 0;
}
