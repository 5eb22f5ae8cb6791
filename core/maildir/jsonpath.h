#pragma once

// How every Mailmesh document puts a file system path (or any other byte string that may not
// be UTF-8, such as a raw header) into JSON. Linux names are bytes; JSON text is UTF-8 and
// nlohmann's dump() throws on anything else. The rule (core/protocol/protocol.md, "Paths"):
//   "path": "<the name as UTF-8, each invalid byte shown as U+FFFD>"
//   "pathBase64": "<the exact bytes, base64>"      only when the name is not valid UTF-8
// Readers take pathBase64 when present, else path. Header-only so that core/maildir's to_json
// functions and core/protocol share one implementation without a link dependency.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mm::maildir {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if the bytes there are not one
// (overlong forms, surrogates and code points above U+10FFFF are invalid, as in RFC 3629).
inline std::size_t utf8SequenceLength(std::string_view s, std::size_t i)
{
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    if (c < 0x80)
        return 1;
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF; // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        length = 3;
        if (c == 0xE0)
            low = 0xA0; // overlong
        if (c == 0xED)
            high = 0x9F; // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        length = 4;
        if (c == 0xF0)
            low = 0x90; // overlong
        if (c == 0xF4)
            high = 0x8F; // above U+10FFFF
    } else {
        return 0;
    }
    if (i + length > s.size())
        return 0;
    if (byte(i + 1) < low || byte(i + 1) > high)
        return 0;
    for (std::size_t k = 2; k < length; ++k)
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF)
            return 0;
    return length;
}

inline bool isValidUtf8(std::string_view s)
{
    for (std::size_t i = 0; i < s.size();) {
        if (static_cast<unsigned char>(s[i]) < 0x80) { // most names are ASCII
            ++i;
            continue;
        }
        const std::size_t n = utf8SequenceLength(s, i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

// The text to show for arbitrary bytes: valid sequences kept, each invalid byte as U+FFFD.
inline std::string toValidUtf8(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8SequenceLength(s, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

inline std::string base64Encode(std::string_view bytes)
{
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const std::uint32_t v = (std::uint32_t(static_cast<unsigned char>(bytes[i])) << 16) |
                                (std::uint32_t(static_cast<unsigned char>(bytes[i + 1])) << 8) |
                                std::uint32_t(static_cast<unsigned char>(bytes[i + 2]));
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (const std::size_t rest = bytes.size() - i; rest > 0) {
        std::uint32_t v = std::uint32_t(static_cast<unsigned char>(bytes[i])) << 16;
        if (rest == 2)
            v |= std::uint32_t(static_cast<unsigned char>(bytes[i + 1])) << 8;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

// Strict: standard alphabet, padding required, no whitespace. nullopt on anything else.
inline std::optional<std::string> base64Decode(std::string_view text)
{
    if (text.size() % 4 != 0)
        return std::nullopt;
    const auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z')
            return c - 'A';
        if (c >= 'a' && c <= 'z')
            return c - 'a' + 26;
        if (c >= '0' && c <= '9')
            return c - '0' + 52;
        if (c == '+')
            return 62;
        if (c == '/')
            return 63;
        return -1;
    };
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        const int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
        if (pad == 1 && text[i + 2] == '=')
            return std::nullopt; // "x=y=" style
        int v[4] = {};
        for (int k = 0; k < 4 - pad; ++k)
            if ((v[k] = value(text[i + k])) < 0)
                return std::nullopt;
        const std::uint32_t n = (std::uint32_t(v[0]) << 18) | (std::uint32_t(v[1]) << 12) |
                                (std::uint32_t(v[2]) << 6) | std::uint32_t(v[3]);
        out += static_cast<char>((n >> 16) & 0xFF);
        if (pad < 2)
            out += static_cast<char>((n >> 8) & 0xFF);
        if (pad < 1)
            out += static_cast<char>(n & 0xFF);
    }
    return out;
}

// Puts raw bytes under `key`, adding `<key>Base64` when they are not valid UTF-8.
inline void putPath(nlohmann::json &object, std::string_view key, std::string_view raw)
{
    if (isValidUtf8(raw)) {
        object[std::string(key)] = std::string(raw);
        return;
    }
    object[std::string(key)] = toValidUtf8(raw);
    object[std::string(key) + "Base64"] = base64Encode(raw);
}

// The same as a standalone value, for arrays: a string, or {"text":..., "base64":...}.
inline nlohmann::json pathValue(std::string_view raw)
{
    if (isValidUtf8(raw))
        return std::string(raw);
    return nlohmann::json{{"text", toValidUtf8(raw)}, {"base64", base64Encode(raw)}};
}

// Reads what putPath wrote (or pathValue, when `key` holds an object). nullopt when the key is
// missing, not a string, or its Base64 companion is malformed.
inline std::optional<std::string> readPath(const nlohmann::json &object, std::string_view key)
{
    if (!object.is_object())
        return std::nullopt;
    const auto it = object.find(std::string(key));
    if (it == object.end())
        return std::nullopt;
    if (it->is_object()) {
        const auto b64 = it->find("base64");
        if (b64 != it->end() && b64->is_string())
            return base64Decode(b64->get_ref<const std::string &>());
        return readPath(*it, "text");
    }
    if (!it->is_string())
        return std::nullopt;
    const auto b64 = object.find(std::string(key) + "Base64");
    if (b64 != object.end()) {
        if (!b64->is_string())
            return std::nullopt;
        return base64Decode(b64->get_ref<const std::string &>());
    }
    return it->get<std::string>();
}

} // namespace mm::maildir
