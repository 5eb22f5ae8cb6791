#pragma once

#include "common/result.h"
#include "maildir/dupes.h"
#include "maildir/mailroot.h"
#include "maildir/progress.h"
#include "maildir/scan.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>

namespace mm::maildir {

// What a pass reused and what it had to read: lets tests and benches check the incremental
// behaviour by counts instead of timings.
struct InventoryWork
{
    std::uint64_t foldersReused = 0;    // answered from the memo, not listed
    std::uint64_t foldersRead = 0;      // listed (new, changed, untrusted, or no memo)
    // Of those, listed and updated from their listing memo (only new messages and renames that
    // change no group), not rebuilt: their groups were not looked for again.
    std::uint64_t foldersUpdated = 0;
    std::uint64_t foldersUntrusted = 0; // remembered as "read again next time" (racy, unreadable)
    std::uint64_t messagesListed = 0;   // messages in the folders read
    std::uint64_t headersRead = 0;      // messages opened for their size and Message-ID
    std::uint64_t headersRemembered = 0; // messages whose size and Message-ID came from the memo
    std::uint64_t bodiesHashed = 0;     // duplicate candidates read in full
    std::uint64_t bodiesRemembered = 0; // duplicate candidates whose digests came from the memo
    std::uint64_t bytesHashed = 0;
    std::uint64_t memoFilesWritten = 0; // per-folder message memos and answers, and the summary
    std::uint64_t memoFilesRemoved = 0; // memos of folders that are gone, answers emptied
    std::uint64_t listingsWritten = 0;  // per-folder listing memos (folderlisting.h)
};

// `scan` and `dupes` of one tree from one walk: `scan` and `dupes` are exactly what Scan::run and
// DupeFinder::find would report (but for dupes.bytesRead, which counts only this pass's reads).
struct InventoryReport
{
    static constexpr int kSchemaVersion = 1;

    ScanReport scan;
    DupesReport dupes;
    std::size_t walkProblems = 0; // both problem lists start with the walk's problems
    InventoryWork work;
    std::string memoDir;     // empty: no memo used
    bool memoLoaded = false; // a usable summary was found
    std::string memoProblem; // why the memo is not used or not saved; empty when all is well
};

// JSON shape: core/protocol/protocol.md, "inventory".
void to_json(nlohmann::json &json, const InventoryReport &report);

struct InventoryOptions
{
    // Where the memo lives (<state>/inventory); empty: read everything, remember nothing.
    std::string memoDir;
    // A folder whose cur/, new/ or tmp/ changed less than this before the pass started is read
    // again next time: a change later within the same timestamp tick would leave its stamps as
    // they are (git's "racy" index entries). 2 s covers coarse file systems too.
    std::int64_t racyWindowNs = 2'000'000'000;
};

// The dashboard's inventory at the cost of what changed: walks the folders (a few stats each),
// reuses the answer of every folder whose cur/, new/ and tmp/ kept their stamps, and lists the
// others once for both the counts and the duplicate search, opening only messages it has not
// seen before (MessageMemo). Changes nothing below ROOT; writes only in options.memoDir.
class Inventory
{
public:
    static Result<InventoryReport> run(const MailRoot &root, const InventoryOptions &options,
                                       const ProgressSink &progress = {});
};

} // namespace mm::maildir
