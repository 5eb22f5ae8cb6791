#include "maildir/problem.h"

#include "maildir/jsonpath.h"

namespace mm::maildir {

std::string_view problemKindName(ProblemKind kind)
{
    switch (kind) {
    case ProblemKind::Symlink:
        return "symlink";
    case ProblemKind::Unreadable:
        return "unreadable";
    case ProblemKind::BadName:
        return "bad-name";
    case ProblemKind::SyncthingTemp:
        return "syncthing-temp";
    case ProblemKind::ConflictCopy:
        return "conflict-copy";
    case ProblemKind::MissingTmp:
        return "missing-tmp";
    case ProblemKind::BrokenFolder:
        return "broken-folder";
    case ProblemKind::SpecialFile:
        return "special-file";
    case ProblemKind::UnexpectedDirectory:
        return "unexpected-directory";
    case ProblemKind::OtherFilesystem:
        return "other-filesystem";
    case ProblemKind::MissingMaildirfolder:
        return "missing-maildirfolder";
    case ProblemKind::TooDeep:
        return "too-deep";
    case ProblemKind::FolderSkipped:
        return "folder-skipped";
    case ProblemKind::ActionFailed:
        return "action-failed";
    case ProblemKind::KeywordClash:
        return "keyword-clash";
    }
    return "action-failed";
}

std::optional<ProblemKind> problemKindFromName(std::string_view name)
{
    for (int k = 0; k <= static_cast<int>(ProblemKind::KeywordClash); ++k)
        if (problemKindName(static_cast<ProblemKind>(k)) == name)
            return static_cast<ProblemKind>(k);
    return std::nullopt;
}

void to_json(nlohmann::json &json, const Problem &problem)
{
    json = nlohmann::json::object();
    json["kind"] = std::string(problemKindName(problem.kind));
    putPath(json, "path", problem.path);
    json["detail"] = toValidUtf8(problem.detail);
}

} // namespace mm::maildir
