#pragma once

#include "common/result.h"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mm::maildir {

// A folder's dovecot-keywords: lines `<index> <name>`, index 0..25 standing for the flag letters
// a..z in file names. Dovecot skips lines without a space, with a bad index or an empty name;
// we skip them too and say so.
class Keywords
{
public:
    static constexpr int kSchemaVersion = 1;
    static constexpr std::size_t kMaxKeywords = 26;

    struct Problem
    {
        std::size_t line = 0; // 1-based
        std::string reason;
    };

    std::array<std::string, kMaxKeywords> names; // empty = letter unused
    std::vector<Problem> problems;

    static Keywords parse(std::string_view text);
    // NotFound when the folder has no dovecot-keywords (no keyword was ever set there).
    static Result<Keywords> read(const std::string &path);

    // The keyword behind a flag letter 'a'..'z', if defined.
    std::optional<std::string> nameOf(char letter) const;
    // The letter of a keyword (case-insensitive, as Dovecot looks names up), if defined.
    std::optional<char> letterOf(std::string_view name) const;
    bool empty() const;

    // Dovecot compares keyword names without regard to ASCII case.
    static bool sameName(std::string_view a, std::string_view b);
};

void to_json(nlohmann::json &j, const Keywords &keywords);
void from_json(const nlohmann::json &j, Keywords &keywords);

} // namespace mm::maildir
