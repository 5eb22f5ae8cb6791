#pragma once

#include "common/result.h"
#include "maildir/dircache.h"
#include "maildir/journal.h"
#include "maildir/mailroot.h"
#include "maildir/statedir.h"
#include "maildir/uniquefd.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mm::maildir {

// One file taken out of a Maildir. The journal's "quarantine" record holds all of it, so the
// quarantine can be listed and restored from the journals alone.
struct QuarantineEntry
{
    std::string id; // "<runId>/<seq>", unique across runs
    std::string runId;
    std::uint64_t seq = 0;
    std::string originalPath;    // relative to ROOT, raw bytes
    std::string quarantinedPath; // relative to the state dir: quarantine/<runId>/<seq>
    std::uint64_t size = 0;
    std::string reason;    // "identical-copy", "dotfile-in-new", "duplicate"...
    std::string time;      // UTC, ISO 8601
    std::string sha256;    // of the bytes, when known
    bool present = false;  // the quarantined file exists now (list() fills this)
    bool restored = false; // a later "restored" record names it
};

void to_json(nlohmann::json &json, const QuarantineEntry &entry);

// Moves files into <state>/quarantine with a rename (same filesystem, checked by StateDir): never
// a copy, never a delete. Crash safety: plan() journals the intent, the caller flushes the journal
// before apply(), so a file is never in the quarantine without a record naming where it came from.
class Quarantine
{
public:
    Quarantine(const StateDir &state, Journal &journal);

    // Journals (buffered) the intent for a file at originalPath and returns its entry.
    QuarantineEntry plan(std::string_view originalPath, std::uint64_t size, std::string_view reason,
                         std::string_view sha256 = {});
    // Renames dirfd/name to the entry's quarantined path; the target must not exist.
    Status apply(int dirfd, const char *name, const QuarantineEntry &entry);

    // Every quarantine record of every run, with present/restored filled in. Records that do not
    // hold up (see entryFromRecord) are left out and, when `rejected` is given, described there.
    static Result<std::vector<QuarantineEntry>> list(const StateDir &state,
                                                     std::vector<std::string> *rejected = nullptr);
    // The same from runs the caller has read already (Journal::readAll of the same state dir).
    static std::vector<QuarantineEntry> list(const StateDir &state, const std::vector<Journal::RunFile> &runs,
                                             std::vector<std::string> *rejected = nullptr);

    // Where a quarantined file goes back to, both directories opened (below the state dir and
    // below ROOT, never following a symlink) through the caller's caches: rootDirs below ROOT,
    // stateDirs below the state dir. A file quarantined from new/ of a folder that is cur-only by
    // now goes to cur/. Only a regular file is put back. The caller journals, syncs the journal,
    // then renames (RENAME_NOREPLACE: never over an existing file).
    struct RestoreTarget
    {
        DirCache::Dir fromDir; // quarantine/<runId>
        std::string fromName;
        DirCache::Dir toDir;
        std::string toName;
        std::string toPath; // relative to ROOT
    };
    static Result<RestoreTarget> restoreTarget(const QuarantineEntry &entry, DirCache &rootDirs,
                                               DirCache &stateDirs);
    // Deletes a quarantined file (quarantine-purge).
    static Status remove(const StateDir &state, const QuarantineEntry &entry);

    // The entry a "quarantine" record of run `runId` describes. Nothing in a journal is trusted:
    // the quarantined path is rebuilt from the run id (the journal file's name, checked) and the
    // record's seq, the record's "to" is never used, an "id" that is not <runId>/<seq> or an
    // original path that is not a plain relative path below ROOT (no "..", no empty or "."
    // component, not absolute) rejects the record (the reason in the error).
    static Result<QuarantineEntry> entryFromRecord(const std::string &runId,
                                                   const nlohmann::json &record);
    // "<runId>/<seq, 8 digits or more>"
    static std::string idFor(const std::string &runId, std::uint64_t seq);
    // A path relative to ROOT that stays below it: not empty, not absolute, no "", "." or ".."
    // component, no NUL.
    static bool isPlainRelativePath(std::string_view path);

private:
    const StateDir &m_state;
    Journal &m_journal;
    bool m_runDirReady = false;
};

} // namespace mm::maildir
