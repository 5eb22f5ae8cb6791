#pragma once

#include "common/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mm::maildir {

// Building blocks of the inventory's memo files (Inventory, MessageMemo, InventorySummary,
// FolderAnswer). The memo is read and written on every monitoring pass, so these stay cheap:
// no JSON, no allocation per field.

// 64-bit hash, 8 bytes per step. Each step is a bijection of the state for a given word, so two
// inputs of one length that differ in a single word never collide: a flipped byte in a memo is
// always caught. Not for adversaries: the state dir is the agent user's own, mode 0700.
std::uint64_t hashBytes(std::string_view bytes);

// Writes `text` to `path` through a temporary file in the same directory and a rename, so a
// reader sees the old file or the new one, never a torn one. Creates no directory.
Status replaceFileAtomically(const std::string &path, std::string_view text);

// A field of a line-based memo file: raw bytes, with '%', bytes up to ' ' and 0x7f written as
// %XX so that a field never holds a space or a line break. "-" is the empty string (a lone "-"
// is written as %2d).
void appendField(std::string &out, std::string_view bytes);
std::optional<std::string> parseField(std::string_view field);

// Splits `line` at single spaces: the next field, or nullopt past the end.
class FieldReader
{
public:
    explicit FieldReader(std::string_view line)
        : m_rest(line)
    {
    }
    std::optional<std::string_view> next();
    // The next field as a number in `base`; nullopt when missing or not entirely a number.
    std::optional<std::uint64_t> number(int base = 10);
    std::optional<std::int64_t> signedNumber();
    bool atEnd() const { return m_done; }

private:
    std::string_view m_rest;
    bool m_done = false;
};

// The last line of every line-based memo file: "end <lines> <hashBytes of all before, 16 hex>".
std::string memoTrailer(std::string_view body, std::uint64_t lines);
// The body before a valid trailer, and its checksum; nullopt when torn or damaged.
struct CheckedBody
{
    std::string_view body;
    std::uint64_t lines = 0;
    std::uint64_t checksum = 0;
};
std::optional<CheckedBody> checkTrailer(std::string_view text);

} // namespace mm::maildir
