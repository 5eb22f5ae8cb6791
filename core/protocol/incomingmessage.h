#pragma once

#include "common/result.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace mm::protocol {

// One frame from the peer (the app), parsed and checked against protocol.md.
struct IncomingMessage
{
    enum class Type
    {
        Hello,
        Request,
        Cancel,
        Ping
    };

    Type type = Type::Request;
    std::string id;                                   // request, cancel (target), ping
    std::string command;                              // request
    nlohmann::json params = nlohmann::json::object(); // request
    int schemaVersion = 0;                            // hello
    std::string version;                              // hello (the peer's Mailmesh version)
};

// Why a frame was refused; `id` is the request id when the frame got far enough to have one,
// so the problem can be addressed to it.
struct MessageError
{
    Error error;
    std::string id;
};

// Parses one frame (without its newline). Never throws. Unknown fields are ignored.
tl::expected<IncomingMessage, MessageError> parseIncomingMessage(std::string_view frame);

} // namespace mm::protocol
