#include "maildir/keywordsettle.h"

#include "maildir/jsonpath.h"
#include "maildir/keywordfiles.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace mm::maildir {

bool KeywordSettlement::renamesLetters() const
{
    return std::any_of(renameTo.begin(), renameTo.end(), [](char c) { return c != '\0'; });
}

namespace {

constexpr std::size_t kLetters = Keywords::kMaxKeywords;

char letterAt(std::size_t i)
{
    return static_cast<char>('a' + i);
}

std::string letterUseText(const std::vector<const FolderKeywordReport *> &reports, std::size_t i)
{
    std::uint64_t most = 0;
    for (const FolderKeywordReport *r : reports)
        if (r)
            most = std::max(most, r->letterUse[i]);
    return std::to_string(most) + (most == 1 ? " message" : " messages");
}

KeywordSettlement settleFolder(const std::string &folder,
                               const std::vector<const FolderKeywordReport *> &reports,
                               const std::vector<std::string> &nodeIds)
{
    KeywordSettlement s;
    s.folder = folder;

    // 1. What each letter means: the first real name in cluster order.
    std::array<std::string, kLetters> meaning;
    for (std::size_t i = 0; i < kLetters; ++i) {
        std::string placeholder;
        std::vector<std::pair<std::string, std::string>> real; // node, name
        for (std::size_t n = 0; n < reports.size(); ++n) {
            if (!reports[n])
                continue;
            const std::string &name = reports[n]->table.names[i];
            if (name.empty())
                continue;
            if (isDovecotPlaceholderKeyword(name)) {
                if (placeholder.empty())
                    placeholder = name;
                continue;
            }
            if (std::none_of(real.begin(), real.end(), [&](const auto &seen) {
                    return Keywords::sameName(seen.second, name);
                }))
                real.emplace_back(nodeIds[n], name);
        }
        if (real.empty()) {
            meaning[i] = placeholder;
            continue;
        }
        meaning[i] = real.front().second;
        if (real.size() > 1) {
            std::string others;
            for (std::size_t k = 1; k < real.size(); ++k)
                others += (k > 1 ? ", " : "") + real[k].second + " on " + real[k].first;
            s.notes.push_back("letter " + std::string(1, letterAt(i)) + " (" +
                              letterUseText(reports, i) + ") means " + real.front().second +
                              " on " + real.front().first + " but " + others + "; " +
                              real.front().second + " is kept");
        }
    }

    // 2. One letter per name: the smallest; the others are renamed to it.
    for (std::size_t i = 0; i < kLetters; ++i) {
        if (meaning[i].empty())
            continue;
        for (std::size_t j = 0; j < i; ++j)
            if (!meaning[j].empty() && s.renameTo[j] == '\0' &&
                Keywords::sameName(meaning[j], meaning[i])) {
                s.renameTo[i] = letterAt(j);
                break;
            }
        if (s.renameTo[i] == '\0')
            s.table.names[i] = meaning[i];
    }

    // 3. Letters in message names that no node can name.
    for (std::size_t i = 0; i < kLetters; ++i)
        if (meaning[i].empty()) {
            bool used = false;
            for (const FolderKeywordReport *r : reports)
                used = used || (r && r->letterUse[i] > 0);
            if (used)
                s.notes.push_back("letter " + std::string(1, letterAt(i)) + " (" +
                                  letterUseText(reports, i) +
                                  ") has no name on any node; it stays in the names");
        }
    return s;
}

} // namespace

std::vector<KeywordSettlement>
settleKeywords(const std::vector<std::vector<FolderKeywordReport>> &reportsByNode,
               const std::vector<std::string> &nodeIds)
{
    std::map<std::string, std::vector<const FolderKeywordReport *>> byFolder;
    for (std::size_t n = 0; n < reportsByNode.size(); ++n)
        for (const FolderKeywordReport &report : reportsByNode[n]) {
            auto &slot = byFolder[report.folder];
            slot.resize(reportsByNode.size(), nullptr);
            slot[n] = &report;
        }
    std::vector<KeywordSettlement> out;
    for (const auto &[folder, reports] : byFolder) {
        KeywordSettlement s = settleFolder(folder, reports, nodeIds);
        if (!s.table.empty() || s.renamesLetters() || !s.notes.empty())
            out.push_back(std::move(s));
    }
    return out;
}

std::string renameKeywordLetters(std::string_view fileName,
                                 const std::array<char, Keywords::kMaxKeywords> &renameTo)
{
    const std::size_t info = fileName.rfind(":2,");
    if (info == std::string_view::npos)
        return std::string(fileName);
    const std::string_view flags = fileName.substr(info + 3);
    std::string renamed;
    bool changed = false;
    for (char c : flags) {
        if (c >= 'a' && c <= 'z' && renameTo[static_cast<std::size_t>(c - 'a')] != '\0') {
            c = renameTo[static_cast<std::size_t>(c - 'a')];
            changed = true;
        }
        renamed += c;
    }
    if (!changed)
        return std::string(fileName);
    std::sort(renamed.begin(), renamed.end());
    renamed.erase(std::unique(renamed.begin(), renamed.end()), renamed.end());
    return std::string(fileName.substr(0, info + 3)) + renamed;
}

void to_json(nlohmann::json &j, const FolderKeywordReport &report)
{
    j = nlohmann::json::object();
    putPath(j, "folder", report.folder);
    j["keywords"] = report.table;
    nlohmann::json use = nlohmann::json::object();
    for (std::size_t i = 0; i < kLetters; ++i)
        if (report.letterUse[i] > 0)
            use[std::string(1, letterAt(i))] = report.letterUse[i];
    j["letterUse"] = std::move(use);
}

void from_json(const nlohmann::json &j, FolderKeywordReport &report)
{
    report = FolderKeywordReport();
    report.folder = readPath(j, "folder").value_or(std::string());
    if (const auto it = j.find("keywords"); it != j.end() && it->is_object())
        report.table = it->get<Keywords>();
    if (const auto it = j.find("letterUse"); it != j.end() && it->is_object())
        for (const auto &[letter, count] : it->items())
            if (letter.size() == 1 && letter[0] >= 'a' && letter[0] <= 'z' &&
                count.is_number_unsigned())
                report.letterUse[static_cast<std::size_t>(letter[0] - 'a')] =
                    count.get<std::uint64_t>();
}

void to_json(nlohmann::json &j, const KeywordSettlement &s)
{
    j = nlohmann::json::object();
    j["schemaVersion"] = KeywordSettlement::kSchemaVersion;
    putPath(j, "folder", s.folder);
    j["keywords"] = s.table;
    nlohmann::json renames = nlohmann::json::object();
    for (std::size_t i = 0; i < kLetters; ++i)
        if (s.renameTo[i] != '\0')
            renames[std::string(1, letterAt(i))] = std::string(1, s.renameTo[i]);
    j["renames"] = std::move(renames);
    j["notes"] = s.notes;
}

void from_json(const nlohmann::json &j, KeywordSettlement &s)
{
    s = KeywordSettlement();
    s.folder = readPath(j, "folder").value_or(std::string());
    if (const auto it = j.find("keywords"); it != j.end() && it->is_object())
        s.table = it->get<Keywords>();
    if (const auto it = j.find("renames"); it != j.end() && it->is_object())
        for (const auto &[from, to] : it->items())
            if (from.size() == 1 && from[0] >= 'a' && from[0] <= 'z' && to.is_string() &&
                to.get<std::string>().size() == 1) {
                const char target = to.get<std::string>()[0];
                if (target >= 'a' && target <= 'z' && target != from[0])
                    s.renameTo[static_cast<std::size_t>(from[0] - 'a')] = target;
            }
    if (const auto it = j.find("notes"); it != j.end() && it->is_array())
        for (const auto &note : *it)
            if (note.is_string())
                s.notes.push_back(note.get<std::string>());
}

} // namespace mm::maildir
