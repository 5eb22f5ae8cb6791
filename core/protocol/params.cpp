#include "protocol/params.h"

#include "maildir/jsonpath.h"

namespace mm::protocol {

namespace {

const nlohmann::json *member(const nlohmann::json &params, std::string_view key)
{
    if (!params.is_object())
        return nullptr;
    const auto it = params.find(std::string(key));
    return it == params.end() || it->is_null() ? nullptr : &*it;
}

tl::unexpected<Error> badParameter(std::string_view key, std::string_view what)
{
    return fail(ErrorCode::BadRequest, "parameter '" + std::string(key) + "' " + std::string(what));
}

} // namespace

Result<std::optional<std::string>> optionalPath(const nlohmann::json &params, std::string_view key)
{
    if (!member(params, key) && !member(params, std::string(key) + "Base64"))
        return std::optional<std::string>{};
    auto path = member(params, key) && member(params, key)->is_string()
                    ? maildir::readPath(params, key)
                    : std::nullopt;
    if (!path)
        return badParameter(key, "must be a path string (with valid base64 beside it, if any)");
    return std::optional<std::string>(std::move(*path));
}

Result<std::string> requirePath(const nlohmann::json &params, std::string_view key)
{
    auto path = optionalPath(params, key);
    if (!path)
        return tl::unexpected(path.error());
    if (!*path || (*path)->empty())
        return badParameter(key, "is required");
    return std::move(**path);
}

Result<std::vector<std::string>> requirePathList(const nlohmann::json &params, std::string_view key)
{
    const nlohmann::json *list = member(params, key);
    if (!list)
        return badParameter(key, "is required");
    if (!list->is_array() || list->empty())
        return badParameter(key, "must be a non-empty array of paths");
    std::vector<std::string> paths;
    for (const auto &element : *list) {
        auto path = maildir::readPath(nlohmann::json{{"p", element}}, "p");
        if (!path || path->empty())
            return badParameter(key, "must be a non-empty array of paths");
        paths.push_back(std::move(*path));
    }
    return paths;
}

Result<std::string> requireText(const nlohmann::json &params, std::string_view key)
{
    const nlohmann::json *value = member(params, key);
    if (!value)
        return badParameter(key, "is required");
    if (!value->is_string())
        return badParameter(key, "must be a string");
    return value->get<std::string>();
}

Result<bool> optionalBool(const nlohmann::json &params, std::string_view key, bool fallback)
{
    const nlohmann::json *value = member(params, key);
    if (!value)
        return fallback;
    if (!value->is_boolean())
        return badParameter(key, "must be true or false");
    return value->get<bool>();
}

Result<std::int64_t> optionalInteger(const nlohmann::json &params, std::string_view key,
                                     std::int64_t fallback)
{
    const nlohmann::json *value = member(params, key);
    if (!value)
        return fallback;
    if (value->is_number_unsigned()) {
        if (value->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
            return badParameter(key, "is out of range");
        return static_cast<std::int64_t>(value->get<std::uint64_t>());
    }
    if (!value->is_number_integer())
        return badParameter(key, "must be an integer");
    return value->get<std::int64_t>();
}

} // namespace mm::protocol
