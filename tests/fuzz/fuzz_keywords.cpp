// dovecot-keywords parser: never crashes, only letters a..z get names, JSON never throws.
#include "maildir/keywords.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    const auto k = mm::maildir::Keywords::parse(text);
    for (char c = 'a'; c <= 'z'; ++c)
        if (const auto name = k.nameOf(c);
            name && (name->empty() || k.letterOf(*name) == std::nullopt))
            std::abort();
    (void)nlohmann::json(k).dump();
    return 0;
}
