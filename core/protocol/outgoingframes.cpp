#include "protocol/outgoingframes.h"

#include "maildir/jsonpath.h"
#include "protocol/version.h"

#include <cmath>

namespace mm::protocol {

namespace {

nlohmann::json idValue(std::string_view id)
{
    return id.empty() ? nlohmann::json(nullptr) : nlohmann::json(std::string(id));
}

} // namespace

nlohmann::json helloFrame(const std::vector<std::string> &commands)
{
    return {
        {"type", "hello"},
        {"schemaVersion", kSchemaVersion},
        {"version", std::string(mailmeshVersion())},
        {"capabilities", {"cancel", "ping", "progress", "items", "concurrent-requests"}},
        {"commands", commands},
        {"maxRequestBytes", kMaxRequestFrameBytes},
        {"maxFrameBytes", kMaxFrameBytes},
    };
}

nlohmann::json pongFrame(std::string_view id)
{
    return {{"type", "pong"}, {"id", idValue(id)}};
}

nlohmann::json progressFrame(std::string_view id, std::uint64_t done, std::uint64_t total,
                             std::string_view currentItem, std::optional<double> etaSeconds)
{
    nlohmann::json frame{
        {"type", "progress"}, {"id", std::string(id)}, {"done", done}, {"total", total}};
    if (!currentItem.empty())
        maildir::putPath(frame, "current", currentItem);
    frame["etaSeconds"] = etaSeconds && std::isfinite(*etaSeconds)
                              ? nlohmann::json(std::llround(*etaSeconds))
                              : nlohmann::json(nullptr);
    return frame;
}

nlohmann::json itemFrame(std::string_view id, std::uint64_t sequence, nlohmann::json item)
{
    return {
        {"type", "item"}, {"id", std::string(id)}, {"seq", sequence}, {"item", std::move(item)}};
}

nlohmann::json resultFrame(std::string_view id, std::string_view command, nlohmann::json result)
{
    return {{"type", "result"},
            {"id", std::string(id)},
            {"command", std::string(command)},
            {"result", std::move(result)}};
}

nlohmann::json problemFrame(std::string_view id, const Error &error)
{
    nlohmann::json frame{{"type", "problem"},
                         {"id", idValue(id)},
                         {"code", std::string(errorCodeName(error.code))},
                         {"message", maildir::toValidUtf8(error.describe())}};
    if (!error.path.empty())
        maildir::putPath(frame, "path", error.path);
    return frame;
}

} // namespace mm::protocol
