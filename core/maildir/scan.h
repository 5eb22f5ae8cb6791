#pragma once

#include "common/result.h"
#include "maildir/maildirfolder.h"
#include "maildir/mailroot.h"
#include "maildir/problem.h"
#include "maildir/progress.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace mm::maildir {

struct FolderScan
{
    MaildirFolder folder;
    std::uint64_t curMessages = 0; // regular files in cur/ not starting with '.'
    std::uint64_t newMessages = 0; // same in new/ (0 when new is the symlink to cur)
    std::uint64_t tmpFiles = 0;    // every entry in tmp/
};

struct ScanTotals
{
    std::uint64_t maildirs = 0;
    std::uint64_t folders = 0;
    std::uint64_t classic = 0;
    std::uint64_t curOnly = 0;
    std::uint64_t broken = 0;
    std::uint64_t curMessages = 0;
    std::uint64_t newMessages = 0;
    std::uint64_t tmpFiles = 0;
    std::uint64_t problems = 0;

    // Counts one scanned folder (everything but `problems`, which is the report's list size).
    void add(const FolderScan &scan);
};

// What `scan ROOT` reports. JSON shape: core/protocol/protocol.md, "Maildir results".
struct ScanReport
{
    static constexpr int kSchemaVersion = 1;
    std::string root;
    std::vector<FolderScan> folders;
    std::vector<Problem> problems;
    ScanTotals totals;
};

void to_json(nlohmann::json &json, const FolderScan &scan);
void to_json(nlohmann::json &json, const ScanTotals &totals);
void to_json(nlohmann::json &json, const ScanReport &report);

// Reads every folder's cur/, new/ and tmp/ once with getdents64 (no stat unless the filesystem
// leaves d_type unknown) and classifies each entry. Changes nothing.
class Scan
{
public:
    static Result<ScanReport> run(const MailRoot &root, const ProgressSink &progress = {});

    // Who else wants the messages of a listing: the inventory feeds its duplicate search from
    // the scan's own read of cur/ and new/, so each directory is listed once.
    struct MessageVisitor
    {
        // subdir: 0 = cur/, 1 = new/ (FolderMessages::kSubdirs); only regular non-dot files.
        std::function<void(std::uint8_t subdir, std::string_view name, std::uint64_t inode)> message;
        std::function<void(std::uint8_t subdir, int error)> readError;
    };

    // Scans one folder's message directories (the walker already filled `scan.folder`).
    static void scanFolder(int rootFd, FolderScan &scan, std::vector<Problem> &problems);
    // The same in an open folder directory, telling `visitor` about every message.
    static void scanFolderAt(int folderFd, FolderScan &scan, std::vector<Problem> &problems,
                             const MessageVisitor &visitor = {});
};

} // namespace mm::maildir
