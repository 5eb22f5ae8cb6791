#pragma once

// Errors are values across layer boundaries (docs/conventions.md, "Errors are values").
// Result<T> is tl::expected from Debian's libexpected-dev: g++ 12 has no std::expected yet.

#include <tl/expected.hpp>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mm {

// A closed set. The wire names (errorCodeName) are the agent protocol's problem codes.
enum class ErrorCode {
    BadRequest,     // malformed or unknown request, bad usage
    NotFound,       // a path, command, node or object does not exist
    AccessDenied,   // permission refused by the OS or a remote service
    UnsafePath,     // a path leaves the mail root, or a symlink/special file where none may be
    InvalidData,    // a file or reply exists but cannot be parsed
    Busy,           // someone else holds the lock
    Cancelled,      // the caller cancelled
    Timeout,        // no answer in time
    Unreachable,    // a node or service cannot be reached
    UnknownHostKey, // ssh: the host key is not known yet, the admin must decide
    ChangedHostKey, // ssh: the host key differs from the pinned one: refused
    Conflict,       // the target already exists / a name is taken
    Unsupported,    // architecture, version or layout we do not handle
    IoError,        // a system call failed for another reason
    InternalError,  // a bug
};

inline constexpr std::array<std::pair<ErrorCode, std::string_view>, 15> kErrorCodeNames{{
    {ErrorCode::BadRequest, "bad-request"},
    {ErrorCode::NotFound, "not-found"},
    {ErrorCode::AccessDenied, "access-denied"},
    {ErrorCode::UnsafePath, "unsafe-path"},
    {ErrorCode::InvalidData, "invalid-data"},
    {ErrorCode::Busy, "busy"},
    {ErrorCode::Cancelled, "cancelled"},
    {ErrorCode::Timeout, "timeout"},
    {ErrorCode::Unreachable, "unreachable"},
    {ErrorCode::UnknownHostKey, "unknown-hostkey"},
    {ErrorCode::ChangedHostKey, "changed-hostkey"},
    {ErrorCode::Conflict, "conflict"},
    {ErrorCode::Unsupported, "unsupported"},
    {ErrorCode::IoError, "io-error"},
    {ErrorCode::InternalError, "internal-error"},
}};

constexpr std::string_view errorCodeName(ErrorCode code)
{
    for (const auto &[c, name] : kErrorCodeNames)
        if (c == code)
            return name;
    return "internal-error";
}

constexpr std::optional<ErrorCode> errorCodeFromName(std::string_view name)
{
    for (const auto &[c, n] : kErrorCodeNames)
        if (n == name)
            return c;
    return std::nullopt;
}

struct Error
{
    ErrorCode code = ErrorCode::InternalError;
    std::string message; // human text, already naming the path or object involved
    std::string path;    // the path concerned, when there is one (may be empty)

    // "message" or "path: message", for logs and terminals.
    std::string describe() const
    {
        if (path.empty() || message.find(path) != std::string::npos)
            return message;
        return path + ": " + message;
    }
};

template <class T>
using Result = tl::expected<T, Error>;

using Status = tl::expected<void, Error>;

inline tl::unexpected<Error> fail(ErrorCode code, std::string message, std::string path = {})
{
    return tl::unexpected<Error>(Error{code, std::move(message), std::move(path)});
}

inline tl::unexpected<Error> fail(Error error)
{
    return tl::unexpected<Error>(std::move(error));
}

} // namespace mm
