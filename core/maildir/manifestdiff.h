#pragma once

#include "common/result.h"
#include "maildir/manifest.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mm::maildir {

// The manifest of one node as `diff` reads it back: its folder frames by folder path.
struct NodeManifest
{
    std::string node; // a label: the file name, or what the caller chose
    std::map<std::string, ManifestFolder> folders;

    // Reads the one-shot `manifest --json` output: one JSON document per line, folder frames
    // (objects with "folder") and the closing summary. A JSON array of frames is accepted too.
    static Result<NodeManifest> parse(std::string_view text, std::string node);
    static Result<NodeManifest> read(const std::string &path);
};

// Compares the manifests of several nodes, folder by folder (folders with equal digests
// everywhere are skipped). A UID conflict - one UID naming different BASEs under one
// uidvalidity - is the silent corruption of docs/architecture.md, "UIDs across nodes"; `diff`
// exits 1 on it.
class ManifestDiff
{
public:
    static constexpr int kSchemaVersion = 1;

    struct MissingFolder
    {
        std::string folder;
        std::vector<std::string> presentOn, missingOn;
    };
    struct MissingMessage
    {
        std::string folder, base;
        std::vector<std::string> presentOn, missingOn;
    };
    struct FlagDisagreement
    {
        std::string folder, base;
        std::map<std::string, std::string> flagsByNode; // several names on one node: joined by ' '
    };
    struct ContentDisagreement
    {
        std::string folder, base;
        std::map<std::string, std::string> sha256ByNode;
    };
    struct KeywordClash
    {
        std::string folder;
        char letter = 'a';
        std::map<std::string, std::string> nameByNode; // "" = letter unused on that node
    };
    struct UidConflict
    {
        std::string folder;
        std::uint32_t uidValidity = 0;
        std::uint32_t uid = 0;
        std::map<std::string, std::string> baseByNode;
    };

    std::vector<std::string> nodes;
    std::uint64_t foldersCompared = 0;
    std::uint64_t foldersEqual = 0;
    std::vector<MissingFolder> missingFolders;
    std::vector<MissingMessage> missingMessages;
    std::vector<FlagDisagreement> flagDisagreements;
    std::vector<ContentDisagreement> contentDisagreements;
    std::vector<KeywordClash> keywordClashes;
    std::vector<UidConflict> uidConflicts;

    static ManifestDiff compare(const std::vector<NodeManifest> &manifests);
    bool hasUidConflict() const { return !uidConflicts.empty(); }
};

void to_json(nlohmann::json &j, const ManifestDiff &diff);

} // namespace mm::maildir
