#include "maildirparams.h"

#include "protocol/params.h"

namespace mm::agent {

Result<maildir::MailRoot> openRoot(const nlohmann::json &params)
{
    auto path = protocol::requirePath(params, "root");
    if (!path)
        return tl::unexpected(path.error());
    return maildir::MailRoot::open(*path);
}

Result<std::string> stateDirParam(const nlohmann::json &params)
{
    auto state = protocol::optionalPath(params, "stateDir");
    if (!state)
        return tl::unexpected(state.error());
    return state->value_or(std::string());
}

std::string problemLines(const nlohmann::json &problems)
{
    std::string text;
    for (const auto &p : problems)
        text += "  " + p.value("kind", std::string()) + "  " + p.value("path", std::string()) + "  " +
                p.value("detail", std::string()) + "\n";
    return text;
}

} // namespace mm::agent
