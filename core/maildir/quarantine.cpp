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
    char seqText[24];
    std::snprintf(seqText, sizeof seqText, "%08llu", static_cast<unsigned long long>(entry.seq));
    entry.id = entry.runId + "/" + seqText;
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

QuarantineEntry Quarantine::entryFromRecord(const std::string &runId, const nlohmann::json &record)
{
    QuarantineEntry entry;
    entry.runId = runId;
    entry.seq = record.value("seq", std::uint64_t(0));
    entry.id = record.value("id", std::string());
    entry.originalPath = readPath(record, "from").value_or(std::string());
    entry.quarantinedPath = record.value("to", std::string());
    entry.size = record.value("size", std::uint64_t(0));
    entry.reason = record.value("reason", std::string());
    entry.time = record.value("time", std::string());
    entry.sha256 = record.value("sha256", std::string());
    return entry;
}

Result<std::vector<QuarantineEntry>> Quarantine::list(const StateDir &state)
{
    auto runs = Journal::readAll(state);
    if (!runs)
        return fail(runs.error());
    std::vector<QuarantineEntry> entries;
    std::map<std::string, std::size_t> byId;
    for (const auto &run : *runs) {
        for (const auto &record : run.records) {
            const std::string type = record.value("type", std::string());
            if (type == "quarantine") {
                QuarantineEntry entry = entryFromRecord(run.runId, record);
                struct stat st;
                entry.present = ::fstatat(state.fd(), entry.quarantinedPath.c_str(), &st,
                                          AT_SYMLINK_NOFOLLOW) == 0;
                byId[entry.id] = entries.size();
                entries.push_back(std::move(entry));
            } else if (type == "restored") {
                if (auto it = byId.find(record.value("id", std::string())); it != byId.end())
                    entries[it->second].restored = true;
            }
        }
    }
    // An intent whose rename never happened (killed in between) is not a quarantined file.
    std::erase_if(entries, [](const QuarantineEntry &e) { return !e.present && !e.restored; });
    return entries;
}

Status Quarantine::restore(const MailRoot &root, const StateDir &state,
                           const QuarantineEntry &entry, Journal &journal)
{
    const std::size_t slash = entry.originalPath.rfind('/');
    std::string dirRel =
        slash == std::string::npos ? std::string() : entry.originalPath.substr(0, slash);
    const std::string name = entry.originalPath.substr(slash == std::string::npos ? 0 : slash + 1);
    // new/ of a cur-only folder is the symlink "cur": restore into cur/ directly.
    if (dirRel == "new" || dirRel.ends_with("/new")) {
        const std::string folderRel =
            dirRel.size() == 3 ? std::string() : dirRel.substr(0, dirRel.size() - 4);
        auto folder = openDirBeneath(root.fd(), folderRel, root.path());
        if (folder) {
            struct stat st;
            if (::fstatat(folder->get(), "new", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISLNK(st.st_mode))
                dirRel = joinRel(folderRel, "cur");
        }
    }
    auto dir = openDirBeneath(root.fd(), dirRel, root.path());
    if (!dir)
        return fail(dir.error());
    if (renameAt2(state.fd(), entry.quarantinedPath.c_str(), dir->get(), name.c_str(),
                  RENAME_NOREPLACE) != 0)
        return fail(errnoError(errno, "cannot restore " + entry.id, joinRel(dirRel, name)));
    nlohmann::json record{{"type", "restored"}, {"id", entry.id}, {"time", utcTimestamp()}};
    putPath(record, "to", joinRel(dirRel, name));
    journal.add(record);
    return journal.flush();
}

} // namespace mm::maildir
