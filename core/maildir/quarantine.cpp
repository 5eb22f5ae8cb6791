#include "maildir/quarantine.h"

#include "maildir/fsutil.h"
#include "maildir/jsonpath.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>

namespace mm::maildir {

void to_json(nlohmann::json &json, const QuarantineEntry &entry)
{
    json = nlohmann::json::object();
    json["id"] = entry.id;
    json["runId"] = entry.runId;
    putPath(json, "originalPath", entry.originalPath);
    json["quarantinedPath"] = entry.quarantinedPath;
    json["size"] = entry.size;
    json["reason"] = entry.reason;
    json["time"] = entry.time;
    if (!entry.sha256.empty())
        json["sha256"] = entry.sha256;
    json["present"] = entry.present;
    json["restored"] = entry.restored;
}

Quarantine::Quarantine(const StateDir &state, Journal &journal)
    : m_state(state)
    , m_journal(journal)
{
}

QuarantineEntry Quarantine::plan(std::string_view originalPath, std::uint64_t size,
                                 std::string_view reason, std::string_view sha256)
{
    QuarantineEntry entry;
    entry.runId = m_journal.runId();
    entry.seq = m_journal.nextSeq();
    entry.id = idFor(entry.runId, entry.seq);
    entry.originalPath = originalPath;
    entry.quarantinedPath = "quarantine/" + entry.id;
    entry.size = size;
    entry.reason = reason;
    entry.time = utcTimestamp();
    entry.sha256 = sha256;

    std::string line;
    JsonLineWriter writer(line);
    writer.string("type", "quarantine")
        .number("seq", entry.seq)
        .string("id", entry.id)
        .path("from", entry.originalPath)
        .string("to", entry.quarantinedPath)
        .number("size", entry.size)
        .string("reason", entry.reason)
        .string("time", entry.time);
    if (!entry.sha256.empty())
        writer.string("sha256", entry.sha256);
    writer.finish();
    m_journal.addLine(line);
    return entry;
}

Status Quarantine::apply(int dirfd, const char *name, const QuarantineEntry &entry)
{
    const std::string runDir = "quarantine/" + entry.runId;
    if (!m_runDirReady) {
        if (::mkdirat(m_state.fd(), runDir.c_str(), 0700) != 0 && errno != EEXIST)
            return fail(errnoError(errno, "cannot create", joinRel(m_state.path(), runDir)));
        m_runDirReady = true;
    }
    if (renameAt2(dirfd, name, m_state.fd(), entry.quarantinedPath.c_str(), RENAME_NOREPLACE) != 0)
        return fail(errnoError(errno, "cannot quarantine", entry.originalPath));
    return {};
}

std::string Quarantine::idFor(const std::string &runId, std::uint64_t seq)
{
    char seqText[24];
    std::snprintf(seqText, sizeof seqText, "%08llu", static_cast<unsigned long long>(seq));
    return runId + "/" + seqText;
}

bool Quarantine::isPlainRelativePath(std::string_view path)
{
    if (path.empty() || path.front() == '/' || path.find('\0') != std::string_view::npos)
        return false;
    std::size_t pos = 0;
    while (pos <= path.size()) {
        std::size_t slash = path.find('/', pos);
        if (slash == std::string_view::npos)
            slash = path.size();
        const std::string_view component = path.substr(pos, slash - pos);
        if (component.empty() || component == "." || component == "..")
            return false;
        pos = slash + 1;
    }
    return true;
}

namespace {

template <class T> T field(const nlohmann::json &record, const char *key, T fallback)
{
    const auto it = record.find(key);
    if (it == record.end())
        return fallback;
    if constexpr (std::is_same_v<T, std::string>)
        return it->is_string() ? it->get<std::string>() : fallback;
    else
        return it->is_number_unsigned() ? it->get<T>() : fallback;
}

// quarantine/<runId>, opened below the state dir without following a symlink.
Result<UniqueFd> openRunDir(const StateDir &state, const std::string &runId)
{
    return openDirBeneath(state.fd(), "quarantine/" + runId, state.path());
}

// The file name of an entry inside its run directory (the part of the id after the run id).
std::string seqName(const QuarantineEntry &entry)
{
    return entry.id.substr(entry.runId.size() + 1);
}

} // namespace

Result<QuarantineEntry> Quarantine::entryFromRecord(const std::string &runId, const nlohmann::json &record)
{
    if (!Journal::isRunId(runId))
        return fail(ErrorCode::InvalidData, "journal " + runId + ": not a run id");
    QuarantineEntry entry;
    entry.runId = runId;
    entry.seq = field<std::uint64_t>(record, "seq", 0);
    if (entry.seq == 0)
        return fail(ErrorCode::InvalidData, "journal " + runId + ": a quarantine record without a valid seq");
    entry.id = idFor(runId, entry.seq);
    if (const std::string id = field<std::string>(record, "id", entry.id); id != entry.id)
        return fail(ErrorCode::InvalidData,
                    "journal " + runId + ": quarantine record " + toValidUtf8(id) + " does not match its seq");
    const std::optional<std::string> from = readPath(record, "from");
    if (!from || !isPlainRelativePath(*from))
        return fail(ErrorCode::UnsafePath, "journal " + runId + ": quarantine record " + entry.id +
                                               " names an original path outside the mail root: " +
                                               toValidUtf8(from.value_or(std::string())));
    entry.originalPath = *from;
    // Never the record's "to": where a file of this run and seq lives is ours to say.
    entry.quarantinedPath = "quarantine/" + entry.id;
    entry.size = field<std::uint64_t>(record, "size", 0);
    entry.reason = field<std::string>(record, "reason", {});
    entry.time = field<std::string>(record, "time", {});
    entry.sha256 = field<std::string>(record, "sha256", {});
    return entry;
}

Result<std::vector<QuarantineEntry>> Quarantine::list(const StateDir &state, std::vector<std::string> *rejected)
{
    auto runs = Journal::readAll(state);
    if (!runs)
        return fail(runs.error());
    return list(state, *runs, rejected);
}

std::vector<QuarantineEntry> Quarantine::list(const StateDir &state, const std::vector<Journal::RunFile> &runs,
                                              std::vector<std::string> *rejected)
{
    std::vector<QuarantineEntry> entries;
    std::map<std::string, std::size_t> byId;
    for (const auto &run : runs) {
        UniqueFd runDir;
        bool runDirOpened = false;
        for (const auto &record : run.records) {
            const std::string type = field<std::string>(record, "type", {});
            if (type == "quarantine") {
                auto entry = entryFromRecord(run.runId, record);
                if (!entry) {
                    if (rejected)
                        rejected->push_back(entry.error().message + ": ignored");
                    continue;
                }
                if (!runDirOpened) {
                    runDirOpened = true;
                    if (auto opened = openRunDir(state, run.runId))
                        runDir = std::move(*opened);
                }
                struct stat st;
                entry->present = runDir.valid() &&
                                 ::fstatat(runDir.get(), seqName(*entry).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
                byId[entry->id] = entries.size();
                entries.push_back(std::move(*entry));
            } else if (type == "restored") {
                if (auto it = byId.find(field<std::string>(record, "id", {})); it != byId.end())
                    entries[it->second].restored = true;
            }
        }
    }
    // An intent whose rename never happened (killed in between) is not a quarantined file.
    std::erase_if(entries, [](const QuarantineEntry &e) { return !e.present && !e.restored; });
    return entries;
}

Result<Quarantine::RestoreTarget> Quarantine::restoreTarget(const QuarantineEntry &entry, DirCache &rootDirs,
                                                           DirCache &stateDirs)
{
    if (!isPlainRelativePath(entry.originalPath) || entry.quarantinedPath != "quarantine/" + entry.id)
        return fail(ErrorCode::UnsafePath, "quarantine entry " + entry.id + " is not a plain one: not restored");
    const std::size_t slash = entry.originalPath.rfind('/');
    std::string dirRel =
        slash == std::string::npos ? std::string() : entry.originalPath.substr(0, slash);
    RestoreTarget target;
    target.toName = entry.originalPath.substr(slash == std::string::npos ? 0 : slash + 1);
    // new/ of a cur-only folder is the symlink "cur": restore into cur/ directly.
    if (dirRel == "new" || dirRel.ends_with("/new")) {
        const std::string folderRel =
            dirRel.size() == 3 ? std::string() : dirRel.substr(0, dirRel.size() - 4);
        auto folder = rootDirs.open(folderRel);
        if (folder) {
            struct stat st;
            if (::fstatat((*folder)->get(), "new", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(st.st_mode))
                dirRel = joinRel(folderRel, "cur");
        }
    }
    auto dir = rootDirs.open(dirRel);
    if (!dir)
        return fail(dir.error());
    // quarantine/<runId>, below the state dir without following a symlink.
    auto runDir = stateDirs.open("quarantine/" + entry.runId);
    if (!runDir)
        return fail(runDir.error());
    target.fromName = seqName(entry);
    // Only mail goes back into the tree that Syncthing replicates: a symlink or a device planted
    // in the quarantine stays where it is.
    struct stat st;
    if (::fstatat((*runDir)->get(), target.fromName.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return fail(errnoError(errno, "cannot restore " + entry.id, entry.quarantinedPath));
    if (!S_ISREG(st.st_mode))
        return fail(ErrorCode::UnsafePath, entry.quarantinedPath + " is not a regular file: not restored",
                    entry.quarantinedPath);
    target.fromDir = std::move(*runDir);
    target.toDir = std::move(*dir);
    target.toPath = joinRel(dirRel, target.toName);
    return target;
}

Status Quarantine::remove(const StateDir &state, const QuarantineEntry &entry)
{
    if (entry.quarantinedPath != "quarantine/" + entry.id)
        return fail(ErrorCode::UnsafePath, "quarantine entry " + entry.id + " is not a plain one: not deleted");
    auto runDir = openRunDir(state, entry.runId);
    if (!runDir)
        return fail(runDir.error());
    if (::unlinkat(runDir->get(), seqName(entry).c_str(), 0) != 0 && errno != ENOENT)
        return fail(errnoError(errno, "cannot delete", entry.quarantinedPath));
    return {};
}

} // namespace mm::maildir
