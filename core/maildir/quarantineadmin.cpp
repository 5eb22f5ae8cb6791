#include "maildir/quarantineadmin.h"

#include "maildir/fsutil.h"
#include "maildir/journal.h"
#include "maildir/jsonpath.h"
#include "maildir/statedir.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace mm::maildir {

namespace {

// "YYYY-MM-DDTHH:MM:SSZ" -> seconds since the epoch; -1 when unreadable.
std::time_t parseUtc(const std::string &text)
{
    std::tm tm{};
    const char *end = ::strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end != '\0')
        return -1;
    return ::timegm(&tm);
}

Result<std::vector<QuarantineEntry>> presentEntries(const StateDir &state, std::vector<std::string> *rejected)
{
    auto all = Quarantine::list(state, rejected);
    if (!all)
        return fail(all.error());
    std::vector<QuarantineEntry> out;
    for (auto &e : *all)
        if (e.present && !e.restored)
            out.push_back(std::move(e));
    return out;
}

} // namespace

Result<QuarantineListing> QuarantineAdmin::list(const MailRoot &root, const std::string &stateDir)
{
    auto state = StateDir::resolve(root, stateDir);
    if (!state)
        return fail(state.error());
    QuarantineListing listing;
    listing.stateDir = state->path();
    if (!state->exists())
        return listing; // nothing was ever quarantined
    if (auto st = state->open(); !st)
        return fail(st.error());
    auto entries = presentEntries(*state, &listing.problems);
    if (!entries)
        return fail(entries.error());
    listing.entries = std::move(*entries);
    for (const auto &e : listing.entries)
        listing.totalBytes += e.size;
    return listing;
}

Result<PurgeReport> QuarantineAdmin::purge(const MailRoot &root, unsigned olderThanDays,
                                           bool dryRun, const std::string &stateDir,
                                           std::time_t now)
{
    auto state = StateDir::resolve(root, stateDir);
    if (!state)
        return fail(state.error());
    PurgeReport report;
    report.stateDir = state->path();
    report.dryRun = dryRun;
    report.olderThanDays = olderThanDays;
    if (!state->exists())
        return report;
    if (auto st = state->open(); !st)
        return fail(st.error());
    std::optional<StateLock> lock;
    if (!dryRun) {
        auto l = state->lock();
        if (!l)
            return fail(l.error());
        lock.emplace(std::move(*l));
    }
    if (!dryRun)
        if (auto runs = Journal::readAll(*state); runs)
            (void)Journal::archiveSettled(*state, *runs);
    auto entries = presentEntries(*state, &report.problems);
    if (!entries)
        return fail(entries.error());
    const std::time_t cutoff = now - std::time_t(olderThanDays) * 86400;
    std::vector<const QuarantineEntry *> doomed;
    for (const auto &e : *entries) {
        const std::time_t when = parseUtc(e.time);
        if (when < 0 || when > cutoff) {
            ++report.kept; // young enough, or no readable time: never deleted by guesswork
            continue;
        }
        doomed.push_back(&e);
    }
    if (!dryRun && !doomed.empty()) {
        auto journal = Journal::begin(*state, "quarantine-purge", root.path());
        if (!journal)
            return fail(journal.error());
        report.runId = journal->runId();
        // Every deletion journaled (and synced) before the first unlink; the paths are the ones
        // rebuilt from checked ids (Quarantine::entryFromRecord), never a record's own.
        for (const QuarantineEntry *e : doomed) {
            nlohmann::json rec{{"type", "purged"}, {"id", e->id}, {"size", e->size}, {"time", utcTimestamp()}};
            putPath(rec, "from", e->originalPath);
            journal->add(rec);
        }
        if (auto st = journal->sync(); !st)
            return fail(st.error());
        for (const QuarantineEntry *e : doomed) {
            if (auto removed = Quarantine::remove(*state, *e); !removed) {
                report.problems.push_back(removed.error().message);
                continue;
            }
            report.purgedBytes += e->size;
            report.purged.push_back(*e);
        }
        (void)journal->end("ok", {{"purged", report.purged.size()}, {"bytes", report.purgedBytes}});
        return report;
    }
    for (const QuarantineEntry *e : doomed) {
        report.purgedBytes += e->size;
        report.purged.push_back(*e);
    }
    return report;
}

void to_json(nlohmann::json &j, const QuarantineListing &l)
{
    j = nlohmann::json::object();
    j["schemaVersion"] = QuarantineListing::kSchemaVersion;
    putPath(j, "stateDir", l.stateDir);
    j["entries"] = l.entries;
    j["count"] = l.entries.size();
    j["totalBytes"] = l.totalBytes;
    auto &p = j["problems"] = nlohmann::json::array();
    for (const auto &s : l.problems)
        p.push_back(toValidUtf8(s));
}

void to_json(nlohmann::json &j, const PurgeReport &r)
{
    j = nlohmann::json::object();
    j["schemaVersion"] = PurgeReport::kSchemaVersion;
    putPath(j, "stateDir", r.stateDir);
    j["runId"] = r.runId.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.runId);
    j["dryRun"] = r.dryRun;
    j["olderThanDays"] = r.olderThanDays;
    j["purged"] = r.purged;
    j["purgedBytes"] = r.purgedBytes;
    j["kept"] = r.kept;
    auto &p = j["problems"] = nlohmann::json::array();
    for (const auto &s : r.problems)
        p.push_back(toValidUtf8(s));
}

} // namespace mm::maildir
