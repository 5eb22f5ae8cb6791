#pragma once

#include "common/result.h"
#include "maildir/statedir.h"
#include "maildir/uniquefd.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mm::maildir {

// The record of one changing run (convert, revert, dedupe, restore...): JSON lines in
// <state>/journal/<runId>.jsonl. Every change is plan -> journal -> apply -> verify:
//   1. intents are appended (each with a "seq") for a batch of changes;
//   2. sync(): written with one write() and fdatasync()ed, so no rename of the batch can reach
//      the disk before the record saying where the file came from (a quarantined file is never
//      on disk without its record, even after a power loss);
//   3. the batch is applied (renames), its directories synced (DirSync) before the batch is
//      reported done;
//   4. {"type":"applied","upTo":seq} is appended.
// A run that died leaves a file without an "end" record; the next run settles its intents by
// looking at the filesystem (see settleUnfinished in the users) and closes it with
// {"type":"end","status":"recovered"}. A torn last line (killed mid-write) is ignored.
//
// Finished runs that hold nothing a later restore or listing needs (see archiveSettled) move to
// <state>/journal/archive/, which no command reads: a node with years of runs does not load them.
//
// Record types written by this library (every record has "type"; paths are relative to ROOT,
// with "<key>Base64" beside them when not UTF-8):
//   begin       schemaVersion, runId, operation, root, time, pid
//   move        seq, from, to [, reason, sha256]        a rename inside ROOT
//   quarantine  seq, id, from, to (relative to the state dir), size, reason, time [, sha256]
//   swap-new    seq, folder, to ("cur-only" | "classic")
//   create-tmp  seq, folder
//   applied     upTo
//   failed      seq, error
//   restored    id, to, time                               a quarantined file put back
//   write       seq, path, size, sha256                    a control file Mailmesh wrote whole
//                                                          (dovecot-keywords, subscriptions)
//   end         status ("ok" | "cancelled" | "failed" | "recovered"), time [, summary]
class Journal
{
public:
    static constexpr int kSchemaVersion = 1;

    // Starts a run: creates journal/<runId>.jsonl (O_EXCL) and writes "begin" at once.
    static Result<Journal> begin(const StateDir &state, std::string_view operation,
                                 const std::string &rootPath);
    // Re-opens an existing run file for appending (closing an unfinished run).
    static Result<Journal> reopen(const std::string &path, const std::string &runId);

    const std::string &runId() const { return m_runId; }
    const std::string &path() const { return m_path; }

    std::uint64_t nextSeq() { return ++m_seq; }
    std::uint64_t lastSeq() const { return m_seq; }

    void add(const nlohmann::json &record);
    // A pre-serialised record (one JSON object, no newline): the hot loops build these with
    // JsonLineWriter to avoid a json object per file.
    void addLine(std::string_view line);
    std::size_t buffered() const { return m_buffer.size(); }

    // write()s what is buffered (enough against kill -9: the page cache survives the process).
    Status flush();
    // flush(), then fdatasync(): against power loss too. Call before each batch of renames.
    Status sync();
    Status markApplied(std::uint64_t upToSeq);
    // Appends "end" and syncs.
    Status end(std::string_view status, const nlohmann::json &summary = nullptr);

    // "20261128T170715.812628Z-26683": what begin() names a run (and its file). Anything else in
    // the journal directory is not one of ours and is never read.
    static bool isRunId(std::string_view text);

    struct RunFile
    {
        std::string runId;
        std::string path;
        std::vector<nlohmann::json> records;
        bool ended = false;
    };
    // Every run file in the state dir, oldest first (run ids sort by time). Archived runs are
    // not read.
    static Result<std::vector<RunFile>> readAll(const StateDir &state);
    // Ends every run that has no "end" record (killed) with "recovered": what it did is on disk,
    // and the caller re-plans from the disk anyway.
    static Status closeUnfinishedRuns(const StateDir &state);
    static Result<std::vector<nlohmann::json>> readFile(const std::string &path);
    // Moves the finished runs that hold nothing restorable any more to journal/archive/: runs
    // whose quarantined files are all gone (restored or purged), if they had any, and whose
    // dedupe renames are all undone, unless the run's quarantine was purged (which accepts it). Called by changing commands, under the state dir's lock.
    // Returns how many runs were archived.
    static Result<std::size_t> archiveSettled(const StateDir &state, const std::vector<RunFile> &runs);

private:
    std::string m_runId;
    std::string m_path;
    UniqueFd m_fd;
    std::string m_buffer;
    std::uint64_t m_seq = 0;
    bool m_unsynced = false; // written since the last fdatasync
};

// Builds one JSON object as text, quickly: no allocation beyond the target string's growth.
class JsonLineWriter
{
public:
    explicit JsonLineWriter(std::string &out);
    JsonLineWriter &string(std::string_view key, std::string_view value);
    JsonLineWriter &path(std::string_view key, std::string_view bytes); // + "<key>Base64" if needed
    JsonLineWriter &number(std::string_view key, std::uint64_t value);
    void finish(); // closes the object (no newline)

private:
    void key(std::string_view key);
    std::string &m_out;
    bool m_first = true;
};

void appendJsonString(std::string &out, std::string_view text); // quoted, escaped; text is UTF-8

} // namespace mm::maildir
