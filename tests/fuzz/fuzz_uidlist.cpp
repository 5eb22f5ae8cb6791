// dovecot-uidlist parser: any bytes parse or fail cleanly, records keep their invariants, and the
// JSON form (which must never throw on non-UTF-8 names) reads back to the same document.
#include "maildir/uidlist.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    const auto parsed = mm::maildir::Uidlist::parse(text);
    if (!parsed)
        return 0;
    std::uint32_t last = 0;
    for (const auto &r : parsed->records) {
        if (r.uid <= last || r.base.find(':') != std::string::npos ||
            r.fileName.compare(0, r.base.size(), r.base) != 0)
            std::abort();
        last = r.uid;
    }
    const nlohmann::json j = *parsed;
    const std::string dumped = j.dump();
    const auto back = nlohmann::json::parse(dumped).get<mm::maildir::Uidlist>();
    if (nlohmann::json(back).dump() != dumped)
        std::abort();
    return 0;
}
