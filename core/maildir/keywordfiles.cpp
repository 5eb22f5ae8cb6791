#include "maildir/keywordfiles.h"

#include "maildir/dirreader.h"
#include "maildir/fsutil.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>

namespace mm::maildir {

bool isNodeFileName(std::string_view name)
{
    constexpr std::string_view lockSuffix = ".lock";
    if (name.empty() || name.front() == '.')
        return false;
    return !(name.size() > lockSuffix.size() &&
             name.substr(name.size() - lockSuffix.size()) == lockSuffix);
}

bool isDovecotPlaceholderKeyword(std::string_view name)
{
    constexpr std::string_view prefix = "unknown-";
    if (name.substr(0, prefix.size()) != prefix)
        return false;
    std::size_t i = prefix.size();
    const std::size_t digits = i;
    while (i < name.size() && name[i] >= '0' && name[i] <= '9')
        ++i;
    if (i == digits)
        return false;
    while (i < name.size() && name[i] == '?')
        ++i;
    return i == name.size();
}

namespace {

// Adds one file's table to `out` by the patch's rule: a letter keeps its first name.
void mergeTable(FolderKeywords &out, const Keywords &table, const std::string &origin,
                const std::string &display)
{
    for (std::size_t i = 0; i < Keywords::kMaxKeywords; ++i) {
        const std::string &name = table.names[i];
        if (name.empty())
            continue;
        std::string &current = out.merged.names[i];
        if (current.empty()) {
            current = name;
            out.origin[i] = origin;
            continue;
        }
        if (!Keywords::sameName(current, name))
            out.clashes.push_back({static_cast<char>('a' + i), current, name, display});
    }
    for (const auto &problem : table.problems)
        out.merged.problems.push_back({problem.line, display + ": " + problem.reason});
}

} // namespace

Result<FolderKeywords> readFolderKeywords(int folderFd, std::string_view displayFolder)
{
    FolderKeywords out;
    const std::string baseDisplay = joinRel(displayFolder, kKeywordsFileName);
    auto base = readSmallFileAt(folderFd, kKeywordsFileName, baseDisplay);
    if (!base)
        return tl::unexpected(base.error());
    if (*base) {
        out.hasBaseFile = true;
        mergeTable(out, Keywords::parse(**base), std::string(), baseDisplay);
    }

    const std::string dirDisplay = joinRel(displayFolder, kKeywordsNodeDirName);
    UniqueFd dir(::openat(folderFd, kKeywordsNodeDirName,
                          O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!dir.valid()) {
        if (errno == ENOENT)
            return out;
        return tl::unexpected(errnoError(errno, "open", dirDisplay));
    }
    DirReader reader(dir.get());
    DirEntry entry;
    while (reader.next(entry))
        if (isNodeFileName(entry.name))
            out.nodeFiles.emplace_back(entry.name);
    if (reader.error() != 0)
        return tl::unexpected(errnoError(reader.error(), "readdir", dirDisplay));
    std::sort(out.nodeFiles.begin(), out.nodeFiles.end());
    for (const std::string &node : out.nodeFiles) {
        const std::string display = joinRel(dirDisplay, node);
        auto text = readSmallFileAt(dir.get(), node.c_str(), display);
        if (!text)
            return tl::unexpected(text.error());
        if (*text)
            mergeTable(out, Keywords::parse(**text), node,
                       std::string(kKeywordsNodeDirName) + "/" + node);
    }
    return out;
}

} // namespace mm::maildir
