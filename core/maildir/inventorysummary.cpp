#include "maildir/inventorysummary.h"

#include "maildir/fsutil.h"
#include "maildir/jsonpath.h"
#include "maildir/messagememo.h"

#include <nlohmann/json.hpp>

namespace mm::maildir {

namespace {

constexpr std::string_view kKind = "mailmesh-inventory-summary";
constexpr std::size_t kMaxSummaryBytes = std::size_t(1) << 30;

// Problems keep their exact bytes here (detail too): a reused folder must answer exactly what
// reading it again would.
nlohmann::json problemToMemo(const Problem &problem)
{
    nlohmann::json j = nlohmann::json::object();
    j["kind"] = std::string(problemKindName(problem.kind));
    putPath(j, "path", problem.path);
    putPath(j, "detail", problem.detail);
    return j;
}

Problem problemFromMemo(const nlohmann::json &j)
{
    const auto kind = problemKindFromName(j.at("kind").get<std::string>());
    const auto path = readPath(j, "path");
    const auto detail = readPath(j, "detail");
    if (!kind || !path || !detail)
        throw std::runtime_error("bad problem");
    return Problem{*kind, *path, *detail};
}

nlohmann::json stampToMemo(const DirStamp &stamp)
{
    return nlohmann::json::array({stamp.inode, stamp.mtimeNs, stamp.ctimeNs, stamp.mode});
}

DirStamp stampFromMemo(const nlohmann::json &j)
{
    return DirStamp{j.at(0).get<std::uint64_t>(), j.at(1).get<std::int64_t>(),
                    j.at(2).get<std::int64_t>(), j.at(3).get<std::uint32_t>()};
}

FolderState stateFromName(const std::string &name)
{
    for (const FolderState state : {FolderState::Classic, FolderState::CurOnly, FolderState::Broken})
        if (folderStateName(state) == name)
            return state;
    throw std::runtime_error("bad state");
}

nlohmann::json folderToMemo(const std::string &relPath, const FolderMemo &memo)
{
    nlohmann::json j = nlohmann::json::object();
    putPath(j, "path", relPath);
    j["state"] = std::string(folderStateName(memo.state));
    if (!memo.brokenReason.empty())
        j["brokenReason"] = memo.brokenReason;
    j["hasTmp"] = memo.hasTmp;
    j["stamps"] = {stampToMemo(memo.stamps.cur), stampToMemo(memo.stamps.newDir),
                   stampToMemo(memo.stamps.tmp)};
    j["trusted"] = memo.trusted;
    j["opened"] = memo.opened;
    j["counts"] = {memo.curMessages, memo.newMessages, memo.tmpFiles, memo.dupeMessages};
    if (!memo.scanProblems.empty())
        for (const Problem &p : memo.scanProblems)
            j["scanProblems"].push_back(problemToMemo(p));
    if (!memo.dupeProblems.empty())
        for (const Problem &p : memo.dupeProblems)
            j["dupeProblems"].push_back(problemToMemo(p));
    if (!memo.groups.empty())
        j["groups"] = memo.groups;
    return j;
}

FolderMemo folderFromMemo(const nlohmann::json &j)
{
    FolderMemo memo;
    memo.state = stateFromName(j.at("state").get<std::string>());
    memo.brokenReason = j.value("brokenReason", std::string());
    memo.hasTmp = j.at("hasTmp").get<bool>();
    const auto &stamps = j.at("stamps");
    memo.stamps = {stampFromMemo(stamps.at(0)), stampFromMemo(stamps.at(1)),
                   stampFromMemo(stamps.at(2))};
    memo.trusted = j.at("trusted").get<bool>();
    memo.opened = j.at("opened").get<bool>();
    const auto &counts = j.at("counts");
    memo.curMessages = counts.at(0).get<std::uint64_t>();
    memo.newMessages = counts.at(1).get<std::uint64_t>();
    memo.tmpFiles = counts.at(2).get<std::uint64_t>();
    memo.dupeMessages = counts.at(3).get<std::uint64_t>();
    if (const auto it = j.find("scanProblems"); it != j.end())
        for (const auto &p : *it)
            memo.scanProblems.push_back(problemFromMemo(p));
    if (const auto it = j.find("dupeProblems"); it != j.end())
        for (const auto &p : *it)
            memo.dupeProblems.push_back(problemFromMemo(p));
    if (const auto it = j.find("groups"); it != j.end())
        for (const auto &g : *it) {
            DupeGroup group;
            from_json(g, group);
            if (group.id.empty() || group.members.empty())
                throw std::runtime_error("bad group");
            memo.groups.push_back(std::move(group));
        }
    return memo;
}

} // namespace

std::optional<std::map<std::string, FolderMemo>>
InventorySummary::load(const std::string &memoDir, const std::string &root)
{
    auto text = readBoundedFile(filePath(memoDir), kMaxSummaryBytes);
    if (!text)
        return std::nullopt;
    // The trailer line guards against a torn or damaged file the JSON parser might still accept.
    const std::size_t trailerAt = text->rfind("\nend ");
    if (trailerAt == std::string::npos)
        return std::nullopt;
    const std::string_view body(text->data(), trailerAt + 1);
    const std::string expectedTrailer =
        "end " + std::to_string(memoChecksum(body)) + "\n";
    if (text->compare(trailerAt + 1, std::string::npos, expectedTrailer) != 0)
        return std::nullopt;
    std::map<std::string, FolderMemo> folders;
    try {
        const auto j = nlohmann::json::parse(body);
        if (j.at("kind").get<std::string>() != kKind || j.at("schemaVersion").get<int>() != kVersion ||
            readPath(j, "root") != root)
            return std::nullopt;
        for (const auto &f : j.at("folders")) {
            const auto path = readPath(f, "path");
            if (!path)
                return std::nullopt;
            folders.emplace(*path, folderFromMemo(f));
        }
    } catch (const std::exception &) {
        return std::nullopt; // damaged: the next pass reads everything and writes a good one
    }
    return folders;
}

Status InventorySummary::save(const std::string &memoDir, const std::string &root,
                              const std::map<std::string, FolderMemo> &folders)
{
    nlohmann::json j = nlohmann::json::object();
    j["kind"] = std::string(kKind);
    j["schemaVersion"] = kVersion;
    putPath(j, "root", root);
    j["folders"] = nlohmann::json::array();
    for (const auto &[relPath, memo] : folders)
        j["folders"].push_back(folderToMemo(relPath, memo));
    std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    text += '\n';
    text += "end " + std::to_string(memoChecksum(text)) + "\n";
    return replaceFileAtomically(filePath(memoDir), text);
}

} // namespace mm::maildir
