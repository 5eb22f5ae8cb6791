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

Result<std::vector<NodeFile>> readNodeFiles(int parentFd, const char *dirName, const std::string &displayDir,
                                            std::size_t maxSize)
{
    std::vector<NodeFile> out;
    UniqueFd dir(::openat(parentFd, dirName, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!dir.valid()) {
        if (errno == ENOENT)
            return out;
        return tl::unexpected(errnoError(errno, "open", displayDir));
    }
    DirReader reader(dir.get());
    DirEntry entry;
    while (reader.next(entry))
        if (isNodeFileName(entry.name))
            out.push_back({std::string(entry.name), std::nullopt});
    if (reader.error() != 0)
        return tl::unexpected(errnoError(reader.error(), "readdir", displayDir));
    std::sort(out.begin(), out.end(), [](const NodeFile &a, const NodeFile &b) { return a.name < b.name; });
    for (NodeFile &file : out) {
        auto text = readSmallFileAt(dir.get(), file.name.c_str(), joinRel(displayDir, file.name), maxSize);
        if (!text)
            return tl::unexpected(text.error());
        file.text = std::move(*text);
    }
    return out;
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
    auto nodeFiles = readNodeFiles(folderFd, kKeywordsNodeDirName, dirDisplay, 1 << 20);
    if (!nodeFiles)
        return tl::unexpected(nodeFiles.error());
    for (const NodeFile &file : *nodeFiles) {
        out.nodeFiles.push_back(file.name);
        if (file.text)
            mergeTable(out, Keywords::parse(*file.text), file.name,
                       std::string(kKeywordsNodeDirName) + "/" + file.name);
    }
    return out;
}

} // namespace mm::maildir
