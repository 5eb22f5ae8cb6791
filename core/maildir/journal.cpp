#include "maildir/journal.h"

#include "maildir/dirreader.h"
#include "maildir/fsutil.h"
#include "maildir/jsonpath.h"
#include "maildir/maildirname.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <optional>
#include <set>

namespace mm::maildir {

namespace {

constexpr std::size_t kFlushThreshold = 1 << 20;

Status writeAll(int fd, std::string_view data, const std::string &path)
{
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail(errnoError(errno, "cannot write journal", path));
        }
        data.remove_prefix(std::size_t(n));
    }
    return {};
}

std::string newRunId()
{
    struct timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    std::tm tm{};
    ::gmtime_r(&ts.tv_sec, &tm);
    char text[64];
    std::snprintf(text, sizeof text, "%04d%02d%02dT%02d%02d%02d.%06ldZ-%d", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000,
                  int(::getpid()));
    return text;
}

} // namespace

void appendJsonString(std::string &out, std::string_view text)
{
    static constexpr char kHex[] = "0123456789abcdef";
    static constexpr auto kNeedsEscape = [] {
        std::array<bool, 256> table{};
        for (int c = 0; c < 0x20; ++c)
            table[c] = true;
        table['"'] = table['\\'] = table[0x7f] = true;
        return table;
    }();
    out.push_back('"');
    // Runs of bytes that need no escape are appended whole: a convert journals two paths per
    // message, and a byte-by-byte push_back was a fifth of its CPU time.
    std::size_t plainFrom = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (!kNeedsEscape[c])
            continue;
        out.append(text.data() + plainFrom, i - plainFrom);
        plainFrom = i + 1;
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(text[i]);
        } else {
            out.append("\\u00");
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xf]);
        }
    }
    out.append(text.data() + plainFrom, text.size() - plainFrom);
    out.push_back('"');
}

JsonLineWriter::JsonLineWriter(std::string &out)
    : m_out(out)
{
    m_out.push_back('{');
}

void JsonLineWriter::key(std::string_view key)
{
    if (!m_first)
        m_out.push_back(',');
    m_first = false;
    appendJsonString(m_out, key);
    m_out.push_back(':');
}

JsonLineWriter &JsonLineWriter::string(std::string_view k, std::string_view value)
{
    key(k);
    if (isValidUtf8(value))
        appendJsonString(m_out, value);
    else
        appendJsonString(m_out, toValidUtf8(value));
    return *this;
}

JsonLineWriter &JsonLineWriter::path(std::string_view k, std::string_view bytes)
{
    key(k);
    if (isValidUtf8(bytes)) {
        appendJsonString(m_out, bytes);
        return *this;
    }
    appendJsonString(m_out, toValidUtf8(bytes));
    std::string bytesKey(k);
    bytesKey += "Base64";
    key(bytesKey);
    appendJsonString(m_out, base64Encode(bytes));
    return *this;
}

JsonLineWriter &JsonLineWriter::number(std::string_view k, std::uint64_t value)
{
    key(k);
    char digits[24];
    const auto written = std::to_chars(digits, digits + sizeof digits, value);
    m_out.append(digits, written.ptr);
    return *this;
}

void JsonLineWriter::finish()
{
    m_out.push_back('}');
}

bool Journal::isRunId(std::string_view text)
{
    // YYYYMMDDTHHMMSS.uuuuuuZ-PID
    if (text.size() < 25 || text.size() > 34 || text[8] != 'T' || text[15] != '.' ||
        text[22] != 'Z' || text[23] != '-')
        return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (i == 8 || i == 15 || i == 22 || i == 23)
            continue;
        if (text[i] < '0' || text[i] > '9')
            return false;
    }
    return true;
}

Result<Journal> Journal::begin(const StateDir &state, std::string_view operation,
                               const std::string &rootPath)
{
    Journal journal;
    journal.m_runId = newRunId();
    journal.m_path = state.journalDir() + "/" + journal.m_runId + ".jsonl";
    // Relative to the state dir's descriptor, never following a symlink.
    auto dir = openDirAt(state.fd(), "journal", state.journalDir());
    if (!dir)
        return fail(dir.error());
    const std::string name = journal.m_runId + ".jsonl";
    journal.m_fd.reset(::openat(dir->get(), name.c_str(),
                                O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
                                0600));
    if (!journal.m_fd.valid())
        return fail(errnoError(errno, "cannot create journal", journal.m_path));
    // The new name itself must survive a power loss, or the records in it are lost with it.
    if (::fsync(dir->get()) != 0)
        return fail(errnoError(errno, "cannot sync", state.journalDir()));
    nlohmann::json record{{"type", "begin"},          {"schemaVersion", kSchemaVersion},
                          {"runId", journal.m_runId}, {"operation", std::string(operation)},
                          {"time", utcTimestamp()},   {"pid", int(::getpid())}};
    putPath(record, "root", rootPath);
    journal.add(record);
    if (auto status = journal.flush(); !status)
        return fail(status.error());
    return journal;
}

Status Journal::closeUnfinishedRuns(const StateDir &state)
{
    auto runs = readAll(state);
    if (!runs)
        return fail(runs.error());
    for (const auto &run : *runs) {
        if (run.ended)
            continue;
        auto journal = reopen(run.path, run.runId);
        if (!journal)
            return fail(journal.error());
        if (auto ended = journal->end("recovered"); !ended)
            return ended;
    }
    return {};
}

Result<Journal> Journal::reopen(const std::string &path, const std::string &runId)
{
    Journal journal;
    journal.m_runId = runId;
    journal.m_path = path;
    journal.m_fd.reset(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW));
    if (!journal.m_fd.valid())
        return fail(errnoError(errno, "cannot open journal", path));
    // A run killed mid-write may end in a torn line: start on a fresh line so the next record
    // parses (readers skip the torn one).
    journal.m_buffer.push_back('\n');
    return journal;
}

void Journal::add(const nlohmann::json &record)
{
    m_buffer += record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    m_buffer.push_back('\n');
}

void Journal::addLine(std::string_view line)
{
    m_buffer.append(line);
    m_buffer.push_back('\n');
}

Status Journal::flush()
{
    if (m_buffer.empty())
        return {};
    auto status = writeAll(m_fd.get(), m_buffer, m_path);
    m_buffer.clear();
    m_unsynced = true;
    return status;
}

Status Journal::sync()
{
    if (auto status = flush(); !status)
        return status;
    if (!m_unsynced)
        return {};
    if (::fdatasync(m_fd.get()) != 0)
        return fail(errnoError(errno, "cannot sync journal", m_path));
    m_unsynced = false;
    return {};
}

Status Journal::markApplied(std::uint64_t upToSeq)
{
    std::string line;
    JsonLineWriter(line).string("type", "applied").number("upTo", upToSeq).finish();
    addLine(line);
    if (m_buffer.size() >= kFlushThreshold)
        return flush();
    return {};
}

Status Journal::end(std::string_view status, const nlohmann::json &summary)
{
    nlohmann::json record{
        {"type", "end"}, {"status", std::string(status)}, {"time", utcTimestamp()}};
    if (!summary.is_null())
        record["summary"] = summary;
    add(record);
    return sync();
}

Result<std::vector<nlohmann::json>> Journal::readFile(const std::string &path)
{
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid())
        return fail(errnoError(errno, "cannot open journal", path));
    std::string text;
    char buffer[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail(errnoError(errno, "cannot read journal", path));
        }
        if (n == 0)
            break;
        text.append(buffer, std::size_t(n));
    }
    std::vector<nlohmann::json> records;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string::npos)
            eol = text.size();
        const std::string_view line(text.data() + pos, eol - pos);
        pos = eol + 1;
        if (line.empty())
            continue;
        auto record = nlohmann::json::parse(line, nullptr, false);
        if (record.is_discarded() || !record.is_object())
            continue; // a line torn by kill -9
        records.push_back(std::move(record));
    }
    return records;
}

Result<std::vector<Journal::RunFile>> Journal::readAll(const StateDir &state)
{
    const std::string dir = state.journalDir();
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) {
        if (errno == ENOENT)
            return std::vector<RunFile>{};
        return fail(errnoError(errno, "cannot open", dir));
    }
    std::vector<RunFile> runs;
    DirReader reader(fd.get());
    DirEntry entry;
    while (reader.next(entry)) {
        if (entry.type != DT_REG || !entry.name.ends_with(".jsonl") ||
            !isRunId(entry.name.substr(0, entry.name.size() - 6)))
            continue;
        RunFile run;
        run.runId.assign(entry.name.substr(0, entry.name.size() - 6));
        run.path = dir + "/" + std::string(entry.name);
        runs.push_back(std::move(run));
    }
    std::sort(runs.begin(), runs.end(),
              [](const RunFile &a, const RunFile &b) { return a.runId < b.runId; });
    for (RunFile &run : runs) {
        auto records = readFile(run.path);
        if (!records)
            return fail(records.error());
        run.records = std::move(*records);
        run.ended = std::any_of(run.records.begin(), run.records.end(), [](const auto &r) {
            return r.value("type", std::string()) == "end";
        });
    }
    return runs;
}

namespace {

// A dedupe rename that no later "undoes" record names: restore --all may still undo it, and
// only this run's journal says it happened.
bool holdsUndoableRename(const Journal::RunFile &run, const std::set<std::string> &undone)
{
    std::string operation;
    for (const auto &record : run.records) {
        const auto type = record.find("type");
        if (type == record.end() || !type->is_string())
            continue;
        if (*type == "begin") {
            const auto op = record.find("operation");
            operation = op != record.end() && op->is_string() ? op->get<std::string>() : std::string();
        } else if (*type == "move" && operation == "dedupe") {
            const auto seq = record.find("seq");
            if (seq == record.end() || !seq->is_number_unsigned() ||
                !undone.count(run.runId + "/" + std::to_string(seq->get<std::uint64_t>())))
                return true;
        }
    }
    return false;
}

bool holdsQuarantineRecords(const Journal::RunFile &run)
{
    return std::any_of(run.records.begin(), run.records.end(), [](const nlohmann::json &record) {
        const auto type = record.find("type");
        return type != record.end() && type->is_string() && *type == "quarantine";
    });
}

// Whether quarantine/<runId> still holds a file: then the run's records are still needed.
bool hasQuarantinedFiles(const StateDir &state, const std::string &runId)
{
    UniqueFd quarantine(::openat(state.fd(), "quarantine", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!quarantine.valid())
        return errno != ENOENT;
    UniqueFd runDir(::openat(quarantine.get(), runId.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!runDir.valid())
        return errno != ENOENT; // unreadable: keep the run, to be safe
    DirReader reader(runDir.get());
    DirEntry entry;
    const bool any = reader.next(entry);
    if (!any && reader.error() == 0) {
        runDir.reset();
        ::unlinkat(quarantine.get(), runId.c_str(), AT_REMOVEDIR); // empty: no longer needed
    }
    return any || reader.error() != 0;
}

} // namespace

Result<std::size_t> Journal::archiveSettled(const StateDir &state, const std::vector<RunFile> &runs)
{
    auto journalDir = openDirAt(state.fd(), "journal", state.journalDir());
    if (!journalDir)
        return fail(journalDir.error());
    std::set<std::string> undone; // "<runId>/<seq>" of the dedupe renames restore has undone
    std::set<std::string> purgedRuns; // runs some of whose quarantined files were purged
    for (const RunFile &run : runs)
        for (const auto &record : run.records) {
            if (const auto undoes = record.find("undoes"); undoes != record.end() && undoes->is_string())
                undone.insert(undoes->get<std::string>());
            const auto type = record.find("type");
            const auto id = record.find("id");
            if (type != record.end() && *type == "purged" && id != record.end() && id->is_string())
                purgedRuns.insert(id->get<std::string>().substr(0, id->get<std::string>().find('/')));
        }
    std::optional<UniqueFd> archive;
    std::size_t archived = 0;
    for (const RunFile &run : runs) {
        if (!run.ended || !isRunId(run.runId))
            continue;
        // A run killed after its first rename and before its first quarantine has no quarantined
        // file, and is still what restore needs to undo that rename. Purging a run's quarantine
        // accepts the run: its renames are not undone any more.
        if (holdsUndoableRename(run, undone) && !purgedRuns.count(run.runId))
            continue;
        if (holdsQuarantineRecords(run) && hasQuarantinedFiles(state, run.runId))
            continue;
        if (!archive) {
            if (::mkdirat(journalDir->get(), "archive", 0700) != 0 && errno != EEXIST)
                return fail(errnoError(errno, "cannot create", state.journalDir() + "/archive"));
            auto opened = openDirAt(journalDir->get(), "archive", state.journalDir() + "/archive");
            if (!opened)
                return fail(opened.error());
            archive.emplace(std::move(*opened));
        }
        const std::string name = run.runId + ".jsonl";
        if (renameAt2(journalDir->get(), name.c_str(), archive->get(), name.c_str(), RENAME_NOREPLACE) == 0)
            ++archived;
    }
    return archived;
}

} // namespace mm::maildir
