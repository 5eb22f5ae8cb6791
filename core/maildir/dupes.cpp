#include "maildir/dupes.h"

#include "maildir/conflictname.h"
#include "maildir/dirreader.h"
#include "maildir/fsutil.h"
#include "maildir/jsonpath.h"
#include "maildir/maildirwalker.h"
#include "maildir/messageheaders.h"
#include "maildir/sha256.h"
#include "maildir/uniquefd.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace mm::maildir {

namespace {

constexpr std::array<const char *, 2> kSubdirs{"cur", "new"};

// Names of one folder packed into 1 MiB chunks: no per-name allocation and no doubling copy of
// one huge buffer, so a million names cost their bytes plus a little.
class NameArena
{
public:
    static constexpr std::size_t kChunk = 1 << 20;

    std::uint64_t add(std::string_view name)
    {
        if (m_chunks.empty() || m_used + name.size() > kChunk) {
            m_chunks.push_back(std::make_unique<char[]>(kChunk));
            m_used = 0;
        }
        std::memcpy(m_chunks.back().get() + m_used, name.data(), name.size());
        const std::uint64_t at = (std::uint64_t(m_chunks.size() - 1) << 20) | m_used;
        m_used += name.size();
        return at;
    }
    std::string_view get(std::uint64_t at, std::size_t len) const
    {
        return {m_chunks[at >> 20].get() + (at & (kChunk - 1)), len};
    }

private:
    std::vector<std::unique_ptr<char[]>> m_chunks;
    std::size_t m_used = 0;
};

enum EntryFlag : std::uint8_t
{
    kHasMessageId = 1,
    kConflictCopy = 2,
    kUnreadable = 4,
};

struct Entry
{
    std::uint64_t size = 0;
    std::uint64_t key = 0; // FNV-1a of the trimmed Message-ID (candidate grouping only)
    std::uint64_t nameAt = 0;
    std::uint16_t nameLen = 0;
    std::uint8_t dir = 0; // index into kSubdirs
    std::uint8_t flags = 0;
};

std::uint64_t fnv1a(std::string_view s)
{
    std::uint64_t h = 1469598103934665603ull;
    for (const char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    return h;
}

struct FileDigest
{
    std::string messageId; // empty when none
    std::string full;      // SHA-256 of every byte
    std::string body;      // SHA-256 of the bytes after the first empty line
    std::uint64_t size = 0;
};

Result<FileDigest> digestFile(int dirfd, std::string_view name, const std::string &display,
                              std::uint64_t &bytesRead)
{
    const std::string cname(name);
    UniqueFd fd(::openat(dirfd, cname.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd.valid())
        return fail(errnoError(errno, "open", display));
    struct stat st
    {
    };
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        return fail(ErrorCode::UnsafePath, display + ": not a regular file", display);
    MessageHeaders headers;
    Sha256 full, body;
    FileDigest out;
    const Status read = readInChunks(fd.get(), display, [&](std::string_view chunk) {
        full.update(chunk);
        std::size_t used = 0;
        if (!headers.complete())
            used = headers.feed(chunk);
        if (headers.complete())
            body.update(chunk.substr(used));
        out.size += chunk.size();
    });
    if (!read)
        return fail(read.error());
    bytesRead += out.size;
    headers.finish();
    out.messageId = headers.messageId().value_or(std::string());
    out.full = Sha256::toHex(full.finish());
    out.body = Sha256::toHex(body.finish());
    return out;
}

std::string_view flagsOf(std::string_view name)
{
    const std::size_t colon = name.find(':');
    if (colon == std::string_view::npos)
        return {};
    std::string_view info = name.substr(colon + 1);
    if (info.size() < 2 || info[0] != '2' || info[1] != ',')
        return {};
    info.remove_prefix(2);
    return info.substr(0, info.find(','));
}

std::string memberPath(std::string_view subdir, std::string_view name)
{
    std::string p(subdir);
    p += '/';
    p.append(name);
    return p;
}

class FolderScan
{
public:
    FolderScan(int folderFd, const std::string &folderRel, DupesReport &report,
               const ProgressSink &progress)
        : m_folderFd(folderFd)
        , m_folderRel(folderRel)
        , m_report(report)
        , m_progress(progress)
    {
    }

    void run()
    {
        for (std::size_t d = 0; d < kSubdirs.size(); ++d)
            list(d);
        readHeaders();
        if (m_progress.cancelled())
            return;
        flagDivergence();
        syncConflicts();
        sameMessage();
    }

private:
    std::string_view name(const Entry &e) const { return m_names.get(e.nameAt, e.nameLen); }
    std::string_view base(const Entry &e) const { return baseOf(name(e)); }
    static std::string_view baseOf(std::string_view n) { return n.substr(0, n.find(':')); }
    std::string display(const Entry &e) const
    {
        return joinRel(m_folderRel, memberPath(kSubdirs[e.dir], name(e)));
    }

    void list(std::size_t d)
    {
        UniqueFd dir(
            ::openat(m_folderFd, kSubdirs[d], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
        if (!dir.valid())
            return; // new -> cur (cur-only) or missing: scan reports broken folders
        DirReader reader(dir.get());
        DirEntry de;
        while (reader.next(de)) {
            if (de.name.empty() || de.name[0] == '.' || de.type != DT_REG)
                continue; // not messages; scan reports them
            if (de.name.size() > 0xFFFF)
                continue;
            Entry e;
            e.nameAt = m_names.add(de.name);
            e.nameLen = static_cast<std::uint16_t>(de.name.size());
            e.dir = static_cast<std::uint8_t>(d);
            if (ConflictName::parse(de.name))
                e.flags |= kConflictCopy;
            m_entries.push_back(e);
        }
        if (reader.error() != 0)
            m_report.problems.push_back({ProblemKind::Unreadable, joinRel(m_folderRel, kSubdirs[d]),
                                         std::string("readdir: ") + std::strerror(reader.error())});
        m_dirFds[d] = std::move(dir);
    }

    // One open and one read per message: the Message-ID and the size, never the body.
    void readHeaders()
    {
        std::vector<char> buf(16 * 1024);
        for (std::size_t i = 0; i < m_entries.size(); ++i) {
            if ((i & 1023) == 0) {
                if (m_progress.cancelled())
                    return;
                m_progress.report(m_report.messages + i, 0, m_folderRel);
            }
            Entry &e = m_entries[i];
            const std::string n(name(e));
            UniqueFd fd(::openat(m_dirFds[e.dir].get(), n.c_str(),
                                 O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
            struct stat st
            {
            };
            if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
                e.flags |= kUnreadable;
                if (errno != ENOENT) // vanished since listing: a rename by Dovecot, not a problem
                    m_report.problems.push_back({ProblemKind::Unreadable, display(e),
                                                 std::string("open: ") + std::strerror(errno)});
                continue;
            }
            e.size = static_cast<std::uint64_t>(st.st_size);
            MessageHeaders headers(16 * 1024); // only the Message-ID matters here
            while (!headers.complete()) {
                const ssize_t r = ::read(fd.get(), buf.data(), buf.size());
                if (r < 0 && errno == EINTR)
                    continue;
                if (r <= 0)
                    break;
                headers.feed(std::string_view(buf.data(), static_cast<std::size_t>(r)));
            }
            headers.finish();
            if (const auto id = headers.messageId()) {
                e.flags |= kHasMessageId;
                e.key = fnv1a(*id);
            }
        }
        m_report.messages += m_entries.size();
    }

    const Entry &entry(std::uint32_t i) const { return m_entries[i]; }

    std::optional<FileDigest> digest(std::uint32_t i)
    {
        const Entry &e = m_entries[i];
        auto d = digestFile(m_dirFds[e.dir].get(), name(e), display(e), m_report.bytesRead);
        if (!d) {
            m_report.problems.push_back({ProblemKind::Unreadable, display(e), d.error().message});
            return std::nullopt;
        }
        return std::move(*d);
    }

    DupeMember member(std::uint32_t i, const std::string &sha = {}) const
    {
        const Entry &e = m_entries[i];
        return DupeMember{memberPath(kSubdirs[e.dir], name(e)), e.size, sha};
    }

    void addGroup(DupeGroup group)
    {
        std::sort(group.members.begin(), group.members.end(),
                  [](const DupeMember &a, const DupeMember &b) { return a.name < b.name; });
        group.folder = m_folderRel;
        group.id = DupeFinder::groupId(m_folderRel, group.members);
        m_report.groups.push_back(std::move(group));
    }

    // Indices of readable, non-conflict entries sorted by (BASE, subdir, name).
    void sortByBase()
    {
        m_byBase.clear();
        for (std::uint32_t i = 0; i < m_entries.size(); ++i)
            if (!(m_entries[i].flags & (kConflictCopy | kUnreadable)))
                m_byBase.push_back(i);
        std::sort(m_byBase.begin(), m_byBase.end(), [this](std::uint32_t a, std::uint32_t b) {
            const auto ba = base(entry(a)), bb = base(entry(b));
            if (ba != bb)
                return ba < bb;
            if (entry(a).dir != entry(b).dir)
                return entry(a).dir < entry(b).dir;
            return name(entry(a)) < name(entry(b));
        });
    }

    void flagDivergence()
    {
        sortByBase();
        for (std::size_t i = 0; i < m_byBase.size();) {
            std::size_t j = i + 1;
            while (j < m_byBase.size() && base(entry(m_byBase[j])) == base(entry(m_byBase[i])))
                ++j;
            if (j - i > 1)
                flagDivergenceGroup(i, j);
            i = j;
        }
    }

    void flagDivergenceGroup(std::size_t from, std::size_t to)
    {
        DupeGroup g;
        g.kind = DupeKind::FlagDivergence;
        std::vector<std::string_view> flagSets;
        std::string firstSha;
        for (std::size_t k = from; k < to; ++k) {
            const std::uint32_t idx = m_byBase[k];
            const auto d = digest(idx);
            if (!d)
                return; // unreadable member: no group, the problem is reported
            if (k == from)
                firstSha = d->full;
            else if (d->full != firstSha)
                g.removable = false;
            g.members.push_back(member(idx, d->full));
            flagSets.push_back(flagsOf(name(entry(idx))));
        }
        const std::string b(base(entry(m_byBase[from])));
        const std::string keeperName = b + ":2," + DupeFinder::keeperFlags(flagSets);
        g.keeper = memberPath("cur", keeperName);
        // The variant that becomes the keeper: the one already named so, else the first in cur/.
        g.keeperSource = g.members.front().name;
        for (const auto &m : g.members)
            if (m.name == g.keeper)
                g.keeperSource = m.name;
        if (g.keeperSource != g.keeper)
            for (const auto &m : g.members)
                if (m.name.rfind("cur/", 0) == 0) {
                    g.keeperSource = m.name;
                    break;
                }
        g.reason = g.removable
                       ? "union of the variants' flags (T only if every variant has it)"
                       : "variants of one BASE with different bytes: not removed, look at them";
        addGroup(std::move(g));
    }

    void syncConflicts()
    {
        // m_byBase is sorted by BASE: look the original up by binary search.
        for (std::uint32_t i = 0; i < m_entries.size(); ++i) {
            const Entry &e = m_entries[i];
            if (!(e.flags & kConflictCopy) || (e.flags & kUnreadable))
                continue;
            const auto parsed = ConflictName::parse(name(e));
            const std::string origBase(baseOf(parsed->original));
            auto it = std::lower_bound(m_byBase.begin(), m_byBase.end(), origBase,
                                       [this](std::uint32_t a, const std::string &b) {
                                           return base(entry(a)) < std::string_view(b);
                                       });
            if (it == m_byBase.end() || base(entry(*it)) != origBase)
                continue; // the original is gone: the copy is the only one, nothing to dedupe
            // Prefer the exact original name, else the first name of that BASE.
            std::uint32_t orig = *it;
            for (auto jt = it; jt != m_byBase.end() && base(entry(*jt)) == origBase; ++jt)
                if (name(entry(*jt)) == parsed->original && entry(*jt).dir == e.dir)
                    orig = *jt;
            const auto dc = digest(i);
            const auto dorig = digest(orig);
            if (!dc || !dorig)
                continue;
            DupeGroup g;
            g.kind = DupeKind::SyncConflict;
            g.members.push_back(member(orig, dorig->full));
            g.members.push_back(member(i, dc->full));
            g.keeper = g.keeperSource = g.members.front().name;
            g.removable = dc->full == dorig->full;
            g.reason = g.removable
                           ? "the original; the conflict copy holds the same bytes"
                           : "the original; the conflict copy holds other bytes: not removed";
            addGroup(std::move(g));
        }
    }

    void sameMessage()
    {
        // One representative per BASE (flag-divergence covers the rest), conflict copies left out.
        std::vector<std::uint32_t> reps;
        for (std::size_t i = 0; i < m_byBase.size(); ++i)
            if (i == 0 || base(entry(m_byBase[i])) != base(entry(m_byBase[i - 1])))
                reps.push_back(m_byBase[i]);
        m_byBase.clear();
        m_byBase.shrink_to_fit();
        const auto candidateKey = [this](std::uint32_t i) {
            const Entry &e = entry(i);
            return std::pair<std::uint8_t, std::uint64_t>(
                e.flags & kHasMessageId, (e.flags & kHasMessageId) ? e.key : e.size);
        };
        std::sort(reps.begin(), reps.end(), [&](std::uint32_t a, std::uint32_t b) {
            const auto ka = candidateKey(a), kb = candidateKey(b);
            if (ka != kb)
                return ka < kb;
            return base(entry(a)) < base(entry(b));
        });
        for (std::size_t i = 0; i < reps.size();) {
            std::size_t j = i + 1;
            while (j < reps.size() && candidateKey(reps[j]) == candidateKey(reps[i]))
                ++j;
            if (j - i > 1)
                confirmSameMessage(std::vector<std::uint32_t>(reps.begin() + i, reps.begin() + j));
            i = j;
        }
    }

    void confirmSameMessage(const std::vector<std::uint32_t> &candidates)
    {
        // Exact comparison: (Message-ID, body hash) with an ID, the whole bytes without.
        std::map<std::pair<std::string, std::string>,
                 std::vector<std::pair<std::uint32_t, std::string>>>
            groups;
        for (const std::uint32_t idx : candidates) {
            const auto d = digest(idx);
            if (!d)
                continue;
            const bool hasId = !d->messageId.empty();
            if (hasId != bool(entry(idx).flags & kHasMessageId))
                continue; // changed under us
            groups[{d->messageId, hasId ? d->body : d->full}].emplace_back(idx, hasId ? d->body
                                                                                      : d->full);
        }
        for (auto &[key, members] : groups) {
            if (members.size() < 2)
                continue;
            DupeGroup g;
            g.kind = DupeKind::SameMessage;
            std::uint32_t keeper = members.front().first;
            for (const auto &[idx, sha] : members) {
                g.members.push_back(member(idx, sha));
                if (base(entry(idx)) < base(entry(keeper)))
                    keeper = idx;
            }
            g.keeper = g.keeperSource =
                memberPath(kSubdirs[entry(keeper).dir], name(entry(keeper)));
            g.reason = key.first.empty() ? "identical bytes, no Message-ID; lowest BASE kept"
                                         : "same Message-ID and body; lowest BASE kept";
            addGroup(std::move(g));
        }
    }

    int m_folderFd;
    const std::string &m_folderRel;
    DupesReport &m_report;
    const ProgressSink &m_progress;
    NameArena m_names;
    std::vector<Entry> m_entries;
    std::vector<std::uint32_t> m_byBase;
    std::array<UniqueFd, 2> m_dirFds;
};

} // namespace

std::string_view dupeKindName(DupeKind kind)
{
    switch (kind) {
    case DupeKind::FlagDivergence:
        return "flag-divergence";
    case DupeKind::SyncConflict:
        return "sync-conflict";
    case DupeKind::SameMessage:
        return "same-message";
    }
    return "flag-divergence";
}

std::string DupeFinder::keeperFlags(const std::vector<std::string_view> &flagSets)
{
    std::array<int, 128> seen{};
    for (const auto flags : flagSets) {
        std::array<bool, 128> inThis{};
        for (const char c : flags)
            if (c > ' ' && static_cast<unsigned char>(c) < 128)
                inThis[static_cast<unsigned char>(c)] = true;
        for (std::size_t c = 0; c < 128; ++c)
            seen[c] += inThis[c] ? 1 : 0;
    }
    std::string out;
    for (std::size_t c = 0; c < 128; ++c) {
        if (seen[c] == 0)
            continue;
        if (c == 'T' && seen[c] != static_cast<int>(flagSets.size()))
            continue; // trashed only if every variant says so
        out += static_cast<char>(c);
    }
    return out;
}

std::string DupeFinder::groupId(const std::string &folder, const std::vector<DupeMember> &members)
{
    std::vector<std::string> paths;
    for (const auto &m : members)
        paths.push_back(joinRel(folder, m.name));
    std::sort(paths.begin(), paths.end());
    Sha256 h;
    for (const auto &p : paths) {
        h.update(p);
        h.update(std::string_view("\n", 1));
    }
    return Sha256::toHex(h.finish()).substr(0, 16);
}

void DupeFinder::findInFolder(int folderFd, const std::string &folderRelPath, DupesReport &report,
                              const ProgressSink &progress)
{
    FolderScan scan(folderFd, folderRelPath, report, progress);
    scan.run();
    ++report.folders;
}

Result<DupesReport> DupeFinder::find(const MailRoot &root, const ProgressSink &progress)
{
    auto tree = MaildirWalker::walk(root, progress);
    if (!tree)
        return fail(tree.error());
    DupesReport report;
    report.root = root.path();
    report.problems = tree->problems;
    for (const auto &folder : tree->folders) {
        if (progress.cancelled())
            return fail(ErrorCode::Cancelled, "dupes cancelled", root.path());
        auto fd = openDirBeneath(root.fd(), folder.relPath, root.path());
        if (!fd) {
            report.problems.push_back(
                {ProblemKind::Unreadable, folder.relPath, fd.error().message});
            continue;
        }
        findInFolder(fd->get(), folder.relPath, report, progress);
    }
    if (progress.cancelled())
        return fail(ErrorCode::Cancelled, "dupes cancelled", root.path());
    progress.report(report.messages, report.messages, {});
    return report;
}

void to_json(nlohmann::json &j, const DupeMember &member)
{
    j = nlohmann::json::object();
    putPath(j, "name", member.name);
    j["size"] = member.size;
    if (!member.sha256.empty())
        j["sha256"] = member.sha256;
}

void to_json(nlohmann::json &j, const DupeGroup &group)
{
    j = nlohmann::json::object();
    j["id"] = group.id;
    j["kind"] = dupeKindName(group.kind);
    putPath(j, "folder", group.folder);
    j["members"] = group.members;
    putPath(j, "keeper", group.keeper);
    putPath(j, "keeperSource", group.keeperSource);
    j["reason"] = group.reason;
    j["removable"] = group.removable;
}

void to_json(nlohmann::json &j, const DupesReport &report)
{
    j = nlohmann::json::object();
    j["schemaVersion"] = DupesReport::kSchemaVersion;
    putPath(j, "root", report.root);
    j["folders"] = report.folders;
    j["messages"] = report.messages;
    j["bytesRead"] = report.bytesRead;
    j["groups"] = report.groups;
    j["problems"] = report.problems;
}

void from_json(const nlohmann::json &j, DupeGroup &group)
{
    group.id = j.value("id", std::string());
    const std::string kind = j.value("kind", std::string());
    group.kind = kind == "sync-conflict"  ? DupeKind::SyncConflict
                 : kind == "same-message" ? DupeKind::SameMessage
                                          : DupeKind::FlagDivergence;
    group.folder = readPath(j, "folder").value_or(std::string());
    group.members.clear();
    if (const auto it = j.find("members"); it != j.end() && it->is_array())
        for (const auto &m : *it)
            group.members.push_back({readPath(m, "name").value_or(std::string()),
                                     m.value("size", std::uint64_t{0}),
                                     m.value("sha256", std::string())});
    group.keeper = readPath(j, "keeper").value_or(std::string());
    group.keeperSource = readPath(j, "keeperSource").value_or(std::string());
    group.reason = j.value("reason", std::string());
    group.removable = j.value("removable", false);
}

} // namespace mm::maildir
