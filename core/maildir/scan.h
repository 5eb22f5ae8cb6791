#pragma once

#include "common/result.h"
#include "maildir/maildirfolder.h"
#include "maildir/mailroot.h"
#include "maildir/problem.h"
#include "maildir/progress.h"

#include <nlohmann/json.hpp>

#include <cstdint>
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

    // Scans one folder's message directories (the walker already filled `scan.folder`).
    static void scanFolder(int rootFd, FolderScan &scan, std::vector<Problem> &problems);
};

} // namespace mm::maildir
