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

Result<std::optional<NodeFileDir>> listNodeFiles(int parentFd, const char *dirName,
                                                 const std::string &displayDir)
{
    NodeFileDir out;
    out.fd = UniqueFd(::openat(parentFd, dirName, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!out.fd.valid()) {
        if (errno == ENOENT)
            return std::optional<NodeFileDir>();
        return tl::unexpected(errnoError(errno, "open", displayDir));
    }
    DirReader reader(out.fd.get());
    DirEntry entry;
    while (reader.next(entry))
        if (isNodeFileName(entry.name))
            out.names.emplace_back(entry.name);
    if (reader.error() != 0)
        return tl::unexpected(errnoError(reader.error(), "readdir", displayDir));
    std::sort(out.names.begin(), out.names.end());
    return std::optional<NodeFileDir>(std::move(out));
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
    auto listed = listNodeFiles(folderFd, kKeywordsNodeDirName, dirDisplay);
    if (!listed)
        return tl::unexpected(listed.error());
    if (!*listed)
        return out;
    const UniqueFd &dir = (*listed)->fd;
    out.nodeFiles = std::move((*listed)->names);
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
