#pragma once

#include "maildir/keywords.h"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mm::maildir {

// What one node says about one folder's keywords (the agent's `keywords` command).
struct FolderKeywordReport
{
    std::string folder; // relative to ROOT, raw bytes
    Keywords table;     // dovecot-keywords merged with dovecot-keywords.d/* (FolderKeywords)
    std::array<std::uint64_t, Keywords::kMaxKeywords> letterUse{}; // messages carrying each letter
};

// The cluster's one decision for a folder, sent to every node alike (`keywords-settle`): the
// table every node writes as dovecot-keywords, and the letters to replace in message names.
struct KeywordSettlement
{
    static constexpr int kSchemaVersion = 1;

    std::string folder;
    Keywords table;
    std::array<char, Keywords::kMaxKeywords> renameTo{}; // letter -> its replacement; '\0': stays
    std::vector<std::string> notes;                      // what could not be decided for sure

    bool renamesLetters() const;
};

// Decides each folder's table from every node's report. Nodes are given in cluster order, which
// breaks ties, so every run on the same reports decides the same:
//   - a letter means the name the nodes give it; Dovecot's placeholders ("unknown-3", a letter
//     it met without a name) yield to a real name from another node;
//   - nodes giving one letter different real names: the first node's name stays, and a note says
//     which messages may carry the other meaning;
//   - a name under several letters (two nodes gave it one each) keeps the smallest letter, and
//     message names move from the others to it.
std::vector<KeywordSettlement>
settleKeywords(const std::vector<std::vector<FolderKeywordReport>> &reportsByNode,
               const std::vector<std::string> &nodeIds);

// A message file name with its keyword letters replaced as `renameTo` says: flags stay sorted
// and unique (Maildir's rule). Names without ":2," come back unchanged.
std::string renameKeywordLetters(std::string_view fileName,
                                 const std::array<char, Keywords::kMaxKeywords> &renameTo);

void to_json(nlohmann::json &j, const FolderKeywordReport &report);
void from_json(const nlohmann::json &j, FolderKeywordReport &report);
void to_json(nlohmann::json &j, const KeywordSettlement &settlement);
void from_json(const nlohmann::json &j, KeywordSettlement &settlement);

} // namespace mm::maildir
