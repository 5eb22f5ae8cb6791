#include "protocol/commandline.h"

#include "maildir/jsonpath.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace mm::protocol {

namespace {

std::string upperName(std::string_view key)
{
    std::string out;
    for (const char c : key) {
        if (std::isupper(static_cast<unsigned char>(c)) && !out.empty())
            out += '_';
        out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    return out;
}

// Stores one word under `key` according to its kind; arrays for repeated arguments.
Status store(nlohmann::json &params, std::string_view key, ValueKind kind, const std::string &word,
             bool append, const Command &command)
{
    nlohmann::json value;
    switch (kind) {
    case ValueKind::Flag:
        value = true;
        break;
    case ValueKind::Integer: {
        long long number = 0;
        const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), number);
        if (ec != std::errc() || end != word.data() + word.size())
            return fail(ErrorCode::BadRequest,
                        "'" + maildir::toValidUtf8(word) +
                            "' is not an integer\nusage: " + commandUsage(command));
        value = number;
        break;
    }
    case ValueKind::Text:
        value = maildir::toValidUtf8(word);
        break;
    case ValueKind::Path:
        value = maildir::pathValue(word);
        break;
    }
    const std::string k(key);
    if (append) {
        params[k].push_back(std::move(value));
    } else if (kind == ValueKind::Path) {
        maildir::putPath(params, k, word); // with keyBase64 beside it when not UTF-8
    } else {
        params[k] = std::move(value);
    }
    return {};
}

} // namespace

std::string commandUsage(const Command &command)
{
    std::string usage = command.name;
    for (const auto &argument : command.arguments) {
        std::string word = upperName(argument.key);
        if (argument.repeated)
            word += "...";
        usage += argument.optional ? " [" + word + "]" : " " + word;
    }
    for (const auto &option : command.options) {
        usage += " [" + std::string(option.flag);
        if (option.kind != ValueKind::Flag)
            usage += " " + upperName(option.key);
        usage += "]";
    }
    usage += " [--json]";
    for (const auto &option : command.options)
        usage += "\n    " + std::string(option.flag) + "  " + std::string(option.help);
    return usage;
}

Result<nlohmann::json> paramsFromCommandLine(const Command &command,
                                             std::span<const std::string> words)
{
    nlohmann::json params = nlohmann::json::object();
    std::size_t position = 0;
    bool optionsEnded = false;
    const auto usageError = [&](const std::string &why) {
        return fail(ErrorCode::BadRequest, why + "\nusage: " + commandUsage(command));
    };

    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string &word = words[i];
        if (!optionsEnded && word == "--") {
            optionsEnded = true;
            continue;
        }
        if (!optionsEnded && word.size() > 1 && word[0] == '-') {
            const auto it = std::find_if(command.options.begin(), command.options.end(),
                                         [&](const CommandOption &o) { return o.flag == word; });
            if (it == command.options.end())
                return usageError("unknown option " + maildir::toValidUtf8(word));
            if (it->kind == ValueKind::Flag) {
                params[std::string(it->key)] = true;
                continue;
            }
            if (i + 1 >= words.size())
                return usageError(std::string(it->flag) + " needs a value");
            if (auto stored = store(params, it->key, it->kind, words[++i], false, command); !stored)
                return tl::unexpected(stored.error());
            continue;
        }
        if (position >= command.arguments.size())
            return usageError("unexpected argument " + maildir::toValidUtf8(word));
        const CommandArgument &argument = command.arguments[position];
        if (auto stored =
                store(params, argument.key, argument.kind, word, argument.repeated, command);
            !stored)
            return tl::unexpected(stored.error());
        if (!argument.repeated)
            ++position;
        else if (position + 1 < command.arguments.size())
            ++position; // only the last argument may repeat; treat others as single
    }

    for (std::size_t k = 0; k < command.arguments.size(); ++k) {
        const auto &argument = command.arguments[k];
        if (!argument.optional && !params.contains(std::string(argument.key)))
            return usageError("missing " + upperName(argument.key));
    }
    return params;
}

} // namespace mm::protocol
