#include "protocol/incomingmessage.h"

#include "protocol/version.h"

namespace mm::protocol {

namespace {

constexpr std::size_t kMaxIdBytes = 128;

tl::unexpected<MessageError> refuse(std::string message, std::string id = {})
{
    return tl::unexpected(
        MessageError{Error{ErrorCode::BadRequest, std::move(message), {}}, std::move(id)});
}

// Nesting depth outside strings, counted before parsing so that no parser or destructor
// downstream ever sees a deep structure.
bool nestingWithin(std::string_view text, int limit)
{
    int depth = 0;
    bool inString = false, escaped = false;
    for (const char c : text) {
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
            continue;
        }
        if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit)
                return false;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return true;
}

// The id of a frame: a non-empty string of at most kMaxIdBytes. Empty on absence.
tl::expected<std::string, MessageError> readId(const nlohmann::json &frame, bool required)
{
    const auto it = frame.find("id");
    if (it == frame.end() || it->is_null()) {
        if (required)
            return refuse("the frame has no \"id\"");
        return std::string();
    }
    if (!it->is_string())
        return refuse("\"id\" must be a string");
    const auto &id = it->get_ref<const std::string &>();
    if (id.empty() || id.size() > kMaxIdBytes)
        return refuse("\"id\" must have 1 to " + std::to_string(kMaxIdBytes) + " bytes");
    return id;
}

} // namespace

tl::expected<IncomingMessage, MessageError> parseIncomingMessage(std::string_view frame)
{
    if (frame.size() > kMaxRequestFrameBytes)
        return refuse("frame of " + std::to_string(frame.size()) + " bytes exceeds the limit of " +
                      std::to_string(kMaxRequestFrameBytes));
    if (!nestingWithin(frame, kMaxRequestDepth))
        return refuse("frame nests deeper than " + std::to_string(kMaxRequestDepth) + " levels");

    const nlohmann::json json = nlohmann::json::parse(frame, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded())
        return refuse("the frame is not valid JSON (one UTF-8 JSON object per line)");
    if (!json.is_object())
        return refuse("the frame is not a JSON object");

    const auto typeIt = json.find("type");
    if (typeIt == json.end() || !typeIt->is_string())
        return refuse("the frame has no string \"type\"");
    const auto &type = typeIt->get_ref<const std::string &>();

    IncomingMessage message;
    if (type == "hello") {
        message.type = IncomingMessage::Type::Hello;
        const auto schema = json.find("schemaVersion");
        if (schema == json.end() || !schema->is_number_integer())
            return refuse("hello needs an integer \"schemaVersion\"");
        const auto value = schema->get<long long>();
        message.schemaVersion = value < 0 || value > 1000000 ? -1 : static_cast<int>(value);
        const auto version = json.find("version");
        if (version != json.end() && version->is_string())
            message.version = version->get<std::string>();
        return message;
    }

    const bool idRequired = type == "request" || type == "cancel";
    auto id = readId(json, idRequired);
    if (!id)
        return tl::unexpected(id.error());
    message.id = std::move(*id);

    if (type == "request") {
        message.type = IncomingMessage::Type::Request;
        const auto command = json.find("command");
        if (command == json.end() || !command->is_string() ||
            command->get_ref<const std::string &>().empty())
            return refuse("the request has no \"command\"", message.id);
        message.command = command->get<std::string>();
        const auto params = json.find("params");
        if (params != json.end() && !params->is_null()) {
            if (!params->is_object())
                return refuse("\"params\" must be an object", message.id);
            message.params = *params;
        }
        return message;
    }
    if (type == "cancel") {
        message.type = IncomingMessage::Type::Cancel;
        return message;
    }
    if (type == "ping") {
        message.type = IncomingMessage::Type::Ping;
        return message;
    }
    return refuse("unknown frame type '" + type + "'", message.id);
}

} // namespace mm::protocol
