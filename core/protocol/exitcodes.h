#pragma once

#include "common/result.h"

namespace mm::protocol {

// Exit codes of the agent and mailmeshctl (docs/architecture.md, "Exit codes"): 0 ok; 1 a
// changing command skipped items; 2 bad usage or unreadable input; 3 failed (with the journal
// kept); 4 unreachable.
inline constexpr int kExitOk = 0;
inline constexpr int kExitSkipped = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitFailed = 3;
inline constexpr int kExitUnreachable = 4;

// The exit code of a command that ended with `code`.
constexpr int exitCodeFor(ErrorCode code)
{
    switch (code) {
    case ErrorCode::BadRequest:
    case ErrorCode::NotFound:
    case ErrorCode::AccessDenied:
    case ErrorCode::UnsafePath:
    case ErrorCode::InvalidData:
    case ErrorCode::Unsupported:
        return kExitUsage;
    case ErrorCode::Unreachable:
    case ErrorCode::Timeout:
    case ErrorCode::UnknownHostKey:
    case ErrorCode::ChangedHostKey:
        return kExitUnreachable;
    case ErrorCode::Busy:
    case ErrorCode::Cancelled:
    case ErrorCode::Conflict:
    case ErrorCode::IoError:
    case ErrorCode::InternalError:
        return kExitFailed;
    }
    return kExitFailed;
}

} // namespace mm::protocol
