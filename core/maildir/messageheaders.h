#pragma once

#include "common/result.h"

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mm::maildir {

// The header section of one RFC 5322 message, read incrementally: feed() takes the file in
// chunks of any size and says where the header ends (after the first empty line, LF or CRLF),
// so a caller can hash the body from that point without ever holding it. Folded lines are
// unfolded (the line break before the white space is removed), names compare case-insensitively,
// and at most maxBytes of header are stored (the scan for the empty line goes on beyond it).
class MessageHeaders
{
public:
    static constexpr int kSchemaVersion = 1;
    static constexpr std::size_t kDefaultMaxBytes = 256 * 1024;

    struct Field
    {
        std::string name;
        std::string value; // unfolded, leading white space removed, raw bytes
    };

    explicit MessageHeaders(std::size_t maxBytes = kDefaultMaxBytes)
        : m_maxBytes(maxBytes)
    {
    }

    // Consumes header bytes from `chunk` and returns how many belong to the header (the empty
    // line included). Less than chunk.size() means the header ended: the rest is body.
    std::size_t feed(std::string_view chunk);
    // End of input: a last line without a newline still counts as a header line.
    void finish();
    bool complete() const { return m_complete; }
    // Offset of the first body byte once complete() (the whole size when there is no body).
    std::size_t headerSize() const { return m_consumed; }
    bool truncated() const { return m_truncated; }

    const std::vector<Field> &fields() const { return m_fields; }
    // First field of that name (case-insensitive), and how many there are.
    std::optional<std::string> first(std::string_view name) const;
    std::size_t count(std::string_view name) const;
    // The first Message-ID, trimmed of white space; nullopt when missing or blank.
    std::optional<std::string> messageId() const;

    // Whole header text at once (tests, fuzzing, previews).
    static MessageHeaders parse(std::string_view text, std::size_t maxBytes = kDefaultMaxBytes);
    // Reads only as far as the end of the header (never the body) of the file at `path`.
    static Result<MessageHeaders> read(const std::string &path,
                                       std::size_t maxBytes = kDefaultMaxBytes);
    // Same, for a file below an open directory, without following a symlink.
    static Result<MessageHeaders> readAt(int dirfd, const char *name, std::string_view displayPath,
                                         std::size_t maxBytes = kDefaultMaxBytes);

private:
    void endLine();
    void flushField();
    void store(std::string_view bytes);

    std::size_t m_maxBytes;
    std::size_t m_stored = 0;
    std::size_t m_consumed = 0;
    bool m_complete = false;
    bool m_truncated = false;
    bool m_lineOverflow = false;
    std::string m_line; // the current physical line (without its newline)
    std::optional<Field> m_pending;
    std::vector<Field> m_fields;
};

void to_json(nlohmann::json &j, const MessageHeaders &headers);

} // namespace mm::maildir
