#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mm::maildir {

// BASE of a Maildir file name: everything before the first ':' (Dovecot's own definition,
// maildir_filename_base_cmp in maildir-filename.c). What follows ':' is mutable state.
std::string_view baseOf(std::string_view fileName);

// Why a directory entry in cur/ or new/ is not a plain Maildir message name.
enum class NameProblem
{
    None,
    Empty,            // "" (cannot come from readdir; guards callers)
    DotFile,          // starts with '.': not a message by the Maildir rules
    ControlCharacter, // a byte < 0x20 or 0x7f, e.g. a newline
    NotUtf8,          // the bytes are not valid UTF-8
    EmptyBase,        // nothing before ':'
    BadInfo,          // text after ':' is not "2,FLAGS" (or the experimental "1,...")
    BadFlags,         // "2," followed by something other than letters
    BadSize,          // ",S=" or ",W=" not followed by a decimal number
};

std::string_view nameProblemName(NameProblem problem);

// A Maildir file name taken apart: UNIQUE[,S=size][,W=vsize][:2,FLAGS]. Views point into the
// parsed string.
struct MaildirName
{
    std::string_view base;   // before the first ':'
    std::string_view unique; // base up to its first ','
    std::string_view info;   // after the first ':', e.g. "2,FS"; empty when there is no ':'
    std::string_view flags;  // after "2," (standard flags then keyword letters)
    std::optional<std::uint64_t> size;  // ,S=
    std::optional<std::uint64_t> vsize; // ,W=
    bool hasInfo = false;
    bool flagsSorted = true; // ASCII order without repeats, as Dovecot writes them
    NameProblem problem = NameProblem::None;

    bool valid() const { return problem == NameProblem::None; }

    static MaildirName parse(std::string_view fileName);
};

// The name of the same message with other flags: BASE + ":2," + flags (sorted, deduplicated).
std::string withFlags(std::string_view fileName, std::string_view flags);

// The deterministic new name for a message whose BASE already exists in cur/ with other bytes:
// a marker and the first `hexDigits` of its SHA-256 are inserted after the UNIQUE part, so ,S= and
// ,W= stay parseable and every node derives the same name from the same bytes.
// "1.M2P3.h,S=10:2,S" + sha "abcd..." -> "1.M2P3.h-mmabcd...,S=10:2,S".
std::string collisionName(std::string_view fileName, std::string_view sha256Hex,
                          std::size_t hexDigits = 16);

} // namespace mm::maildir
