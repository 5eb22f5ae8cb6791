#pragma once

#include "common/result.h"
#include "maildir/keywords.h"
#include "maildir/uniquefd.h"

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mm::maildir {

// A folder's keyword letters as the patched Dovecot reads them with maildir_cur_only_node
// (docs/mailbox-state.md): dovecot-keywords, the cluster's table written only by Mailmesh,
// merged with dovecot-keywords.d/<node>, one file per node written only by that node. The merge
// is the patch's: dovecot-keywords first, then the node files in bytewise name order; a letter
// keeps the first name it was given (a later different name is a clash, reported); a name under
// several letters is one keyword. Without maildir_cur_only_node Dovecot reads dovecot-keywords
// alone, which is the same table when dovecot-keywords.d/ is absent.
inline constexpr const char *kKeywordsFileName = "dovecot-keywords";
inline constexpr const char *kKeywordsNodeDirName = "dovecot-keywords.d";

struct FolderKeywords
{
    Keywords merged;
    // Where each letter's name comes from: "" = dovecot-keywords, else a node's file name.
    std::array<std::string, Keywords::kMaxKeywords> origin;
    bool hasBaseFile = false;
    std::vector<std::string> nodeFiles; // sorted

    struct Clash
    {
        char letter = 'a';
        std::string keptName;  // what the letter means (first file)
        std::string otherName; // what a later file says
        std::string file;      // that later file: "dovecot-keywords.d/<node>"
    };
    std::vector<Clash> clashes;

    bool exists() const { return hasBaseFile || !nodeFiles.empty(); }
};

// A name in dovecot-keywords.d/ (or subscriptions.d/) that is a node's file: not a dot file
// (Syncthing's and Dovecot's temporary files), not a dotlock (*.lock).
bool isNodeFileName(std::string_view name);

// The node files of the directory `dirName` below parentFd (dovecot-keywords.d/ or
// subscriptions.d/), read without following a symlink, in name order: the order every node
// merges them in. Empty when the directory does not exist; `text` is nullopt for a file that
// went away between listing and reading. Files over maxSize are an error (readSmallFileAt).
struct NodeFile
{
    std::string name;
    std::optional<std::string> text;
};
Result<std::vector<NodeFile>> readNodeFiles(int parentFd, const char *dirName, const std::string &displayDir,
                                            std::size_t maxSize);

// Reads the folder's keyword files below folderFd, never following a symlink; displayFolder
// names the folder in errors. A missing file is no error (exists() tells).
Result<FolderKeywords> readFolderKeywords(int folderFd, std::string_view displayFolder);

// Dovecot's name for a letter it met in a file name without knowing it: "unknown-<index>",
// with '?' appended until unique. Such names say nothing about the keyword.
bool isDovecotPlaceholderKeyword(std::string_view name);

} // namespace mm::maildir
