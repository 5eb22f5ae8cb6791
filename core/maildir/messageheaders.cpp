#include "maildir/messageheaders.h"

#include "maildir/jsonpath.h"
#include "maildir/uniquefd.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mm::maildir {

namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i]))
            return false;
    }
    return true;
}

Error ioError(int err, std::string_view what, std::string_view path)
{
    const ErrorCode code = err == ENOENT                   ? ErrorCode::NotFound
                           : err == EACCES || err == EPERM ? ErrorCode::AccessDenied
                           : err == ELOOP                  ? ErrorCode::UnsafePath
                                                           : ErrorCode::IoError;
    return Error{code, std::string(path) + ": " + std::string(what) + ": " + std::strerror(err),
                 std::string(path)};
}

bool isWsp(char c)
{
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (isWsp(s.front()) || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() && (isWsp(s.back()) || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

} // namespace

std::size_t MessageHeaders::feed(std::string_view chunk)
{
    std::size_t used = 0;
    while (!m_complete && used < chunk.size()) {
        const std::string_view rest = chunk.substr(used);
        const auto *nl = static_cast<const char *>(std::memchr(rest.data(), '\n', rest.size()));
        const std::size_t take = nl ? std::size_t(nl - rest.data()) : rest.size();
        // A line longer than what we may store is still scanned, just not kept.
        if (!m_lineOverflow) {
            if (m_line.size() + take > m_maxBytes) {
                m_lineOverflow = true;
                m_truncated = true;
            } else {
                m_line.append(rest.substr(0, take));
            }
        }
        used += take;
        m_consumed += take;
        if (!nl)
            break;
        ++used; // the '\n'
        ++m_consumed;
        const bool empty = !m_lineOverflow && (m_line.empty() || m_line == "\r");
        if (empty) {
            flushField();
            m_complete = true;
        } else {
            endLine();
        }
        m_line.clear();
        m_lineOverflow = false;
        continue;
    }
    return used;
}

void MessageHeaders::finish()
{
    if (m_complete)
        return;
    if (!m_line.empty() || m_lineOverflow)
        endLine();
    flushField();
    m_line.clear();
    m_complete = true;
}

void MessageHeaders::endLine()
{
    if (m_lineOverflow) {
        flushField();
        return;
    }
    std::string_view line = m_line;
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    if (!line.empty() && isWsp(line.front())) {
        // Continuation: unfolding removes only the line break, the white space stays.
        if (m_pending) {
            if (m_stored + line.size() <= m_maxBytes) {
                m_pending->value.append(line);
                m_stored += line.size();
            } else {
                m_truncated = true;
            }
        }
        return;
    }
    flushField();
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
        return; // not a header field (e.g. an mbox "From " line): skipped
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && isWsp(name.back()))
        name.remove_suffix(1); // "Subject :" is obsolete syntax but seen in the wild
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && isWsp(value.front()))
        value.remove_prefix(1);
    if (m_stored + name.size() + value.size() > m_maxBytes) {
        m_truncated = true;
        return;
    }
    m_stored += name.size() + value.size();
    m_pending = Field{std::string(name), std::string(value)};
}

void MessageHeaders::flushField()
{
    if (m_pending) {
        m_fields.push_back(std::move(*m_pending));
        m_pending.reset();
    }
}

std::optional<std::string> MessageHeaders::first(std::string_view name) const
{
    for (const auto &f : m_fields)
        if (equalsIgnoreCase(f.name, name))
            return f.value;
    return std::nullopt;
}

std::size_t MessageHeaders::count(std::string_view name) const
{
    std::size_t n = 0;
    for (const auto &f : m_fields)
        n += equalsIgnoreCase(f.name, name) ? 1 : 0;
    return n;
}

std::optional<std::string> MessageHeaders::messageId() const
{
    const auto value = first("Message-ID");
    if (!value)
        return std::nullopt;
    const std::string_view t = trim(*value);
    if (t.empty())
        return std::nullopt;
    return std::string(t);
}

MessageHeaders MessageHeaders::parse(std::string_view text, std::size_t maxBytes)
{
    MessageHeaders h(maxBytes);
    h.feed(text);
    h.finish();
    return h;
}

Result<MessageHeaders> MessageHeaders::readAt(int dirfd, const char *name,
                                              std::string_view displayPath, std::size_t maxBytes)
{
    UniqueFd fd(::openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd.valid())
        return fail(ioError(errno, "open", displayPath));
    struct stat st
    {
    };
    if (::fstat(fd.get(), &st) != 0)
        return fail(ioError(errno, "stat", displayPath));
    if (!S_ISREG(st.st_mode))
        return fail(ErrorCode::UnsafePath, std::string(displayPath) + ": not a regular file",
                    std::string(displayPath));
    MessageHeaders h(maxBytes);
    std::array<char, 16 * 1024> buf{};
    while (!h.complete()) {
        const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail(ioError(errno, "read", displayPath));
        }
        if (n == 0)
            break;
        h.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    }
    h.finish();
    return h;
}

Result<MessageHeaders> MessageHeaders::read(const std::string &path, std::size_t maxBytes)
{
    return readAt(AT_FDCWD, path.c_str(), path, maxBytes);
}

void to_json(nlohmann::json &j, const MessageHeaders &headers)
{
    nlohmann::json fields = nlohmann::json::array();
    for (const auto &f : headers.fields()) {
        nlohmann::json field = nlohmann::json::object();
        putPath(field, "name", f.name);
        putPath(field, "value", f.value);
        fields.push_back(std::move(field));
    }
    j = nlohmann::json::object();
    j["schemaVersion"] = MessageHeaders::kSchemaVersion;
    j["fields"] = std::move(fields);
    if (const auto id = headers.messageId())
        putPath(j, "messageId", *id);
    j["headerSize"] = headers.headerSize();
    j["truncated"] = headers.truncated();
}

} // namespace mm::maildir
