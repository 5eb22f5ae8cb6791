// Message header extraction: never crashes, and feeding the bytes in two chunks (split where
// the first byte says) gives the same fields, Message-ID and header size as feeding them whole.
#include "maildir/messageheaders.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::size_t split = data[0] % size;
    const std::string_view text(reinterpret_cast<const char *>(data) + 1, size - 1);
    const auto whole = mm::maildir::MessageHeaders::parse(text, 4096);
    mm::maildir::MessageHeaders chunked(4096);
    std::size_t used = chunked.feed(text.substr(0, split));
    if (!chunked.complete())
        used += chunked.feed(text.substr(split));
    chunked.finish();
    if (whole.headerSize() > text.size() || chunked.headerSize() != whole.headerSize() ||
        used != whole.headerSize() || chunked.messageId() != whole.messageId() ||
        chunked.fields().size() != whole.fields().size())
        std::abort();
    if (const auto id = whole.messageId();
        id && (id->empty() || id->front() == ' ' || id->back() == ' '))
        std::abort();
    (void)nlohmann::json(whole).dump();
    return 0;
}
