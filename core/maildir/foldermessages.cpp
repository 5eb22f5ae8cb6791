#include "maildir/foldermessages.h"

#include "maildir/conflictname.h"
#include "maildir/dirreader.h"
#include "maildir/fsutil.h"
#include "maildir/memoformat.h"
#include "maildir/messageheaders.h"
#include "maildir/sha256.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

namespace mm::maildir {

namespace {

std::uint64_t fnv1a(std::string_view s)
{
    std::uint64_t h = 1469598103934665603ull;
    for (const char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    return h;
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

} // namespace

FolderMessages::FolderMessages(int folderFd, const std::string &folderRelPath, DupesReport &report,
                               const ProgressSink &progress)
    : m_folderFd(folderFd)
    , m_folderRel(folderRelPath)
    , m_report(report)
    , m_progress(progress)
{
}

std::string FolderMessages::display(const MessageEntry &e) const
{
    return joinRel(m_folderRel, memberPath(kSubdirs[e.dir], name(e)));
}

int FolderMessages::subdirFd(std::uint8_t subdir)
{
    if (!m_dirOpenTried[subdir]) {
        m_dirOpenTried[subdir] = true;
        m_dirFds[subdir].reset(::openat(m_folderFd, kSubdirs[subdir],
                                        O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    }
    return m_dirFds[subdir].get();
}

void FolderMessages::list(std::uint8_t subdir)
{
    const int dirFd = subdirFd(subdir);
    if (dirFd < 0)
        return; // new -> cur (cur-only) or missing: scan reports broken folders
    DirReader reader(dirFd);
    DirEntry de;
    while (reader.next(de))
        if (!de.name.empty() && de.name[0] != '.' && de.type == DT_REG)
            add(subdir, de.name, de.inode); // anything else is not a message; scan reports it
    if (reader.error() != 0)
        addReadError(subdir, reader.error());
}

void FolderMessages::add(std::uint8_t subdir, std::string_view name, std::uint64_t inode)
{
    if (name.size() > 0xFFFF)
        return;
    MessageEntry e;
    e.nameAt = m_names.add(name);
    e.nameLen = static_cast<std::uint16_t>(name.size());
    e.baseLen = static_cast<std::uint16_t>(baseOf(name).size());
    e.dir = subdir;
    e.inode = inode;
    if (ConflictName::parse(name))
        e.flags |= MessageEntry::kConflictCopy;
    m_entries.push_back(e);
}

void FolderMessages::addReadError(std::uint8_t subdir, int error)
{
    m_report.problems.push_back({ProblemKind::Unreadable, joinRel(m_folderRel, kSubdirs[subdir]),
                                 std::string("readdir: ") + std::strerror(error)});
}

std::uint64_t FolderMessages::readHeaders(const KnownMessage &known)
{
    std::uint64_t opened = 0;
    for (std::size_t i = 0; i < m_entries.size(); ++i) {
        if ((i & 1023) == 0) {
            if (m_progress.cancelled())
                return opened;
            m_progress.report(m_report.messages + i, 0, m_folderRel);
        }
        MessageEntry &e = m_entries[i];
        if (known && known(e, base(e)))
            continue;
        ++opened;
        readHeader(e);
    }
    m_report.messages += m_entries.size();
    return opened;
}

// One open and one read: the Message-ID and the size, never the body.
void FolderMessages::readHeader(MessageEntry &e)
{
    const int dirFd = subdirFd(e.dir);
    if (dirFd < 0) {
        e.flags |= MessageEntry::kUnreadable; // the directory went away since it was listed
        return;
    }
    const std::string n(name(e));
    UniqueFd fd(::openat(dirFd, n.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    struct stat st
    {
    };
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        e.flags |= MessageEntry::kUnreadable;
        if (errno != ENOENT) // vanished since listing: a rename by Dovecot, not a problem
            m_report.problems.push_back(
                {ProblemKind::Unreadable, display(e), std::string("open: ") + std::strerror(errno)});
        return;
    }
    e.size = static_cast<std::uint64_t>(st.st_size);
    std::array<char, 16 * 1024> buf;
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
        e.flags |= MessageEntry::kHasMessageId;
        e.key = fnv1a(*id);
    }
}

const FolderMessages::FileDigest *FolderMessages::digestOf(std::uint32_t index) const
{
    const auto found = m_digests.find(index);
    return found == m_digests.end() ? nullptr : &found->second;
}

// The caller's remembered digest, if the file still has the size and mtime it had when hashed:
// a message is never rewritten in place, but a stat is cheap next to a read, so it is checked.
std::optional<FolderMessages::FileDigest> FolderMessages::rememberedDigest(std::uint32_t i)
{
    if (!m_knownDigest || !*m_knownDigest)
        return std::nullopt;
    const MessageEntry &e = m_entries[i];
    auto known = (*m_knownDigest)(e, base(e));
    if (!known)
        return std::nullopt;
    const std::string cname(name(e));
    struct stat st
    {
    };
    if (::fstatat(subdirFd(e.dir), cname.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode) || std::uint64_t(st.st_size) != known->statSize ||
        std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec != known->mtimeNs)
        return std::nullopt;
    return known;
}

const FolderMessages::FileDigest *FolderMessages::digest(std::uint32_t i)
{
    if (const FileDigest *done = digestOf(i))
        return done; // a member of two candidate sets is read once
    if (auto remembered = rememberedDigest(i)) {
        ++m_digestsRemembered;
        return &m_digests.emplace(i, std::move(*remembered)).first->second;
    }
    const MessageEntry &e = m_entries[i];
    const std::string shown = display(e);
    const std::string cname(name(e));
    UniqueFd fd(::openat(subdirFd(e.dir), cname.c_str(),
                         O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    const auto problem = [&](std::string detail) -> const FileDigest * {
        m_report.problems.push_back({ProblemKind::Unreadable, shown, std::move(detail)});
        return nullptr;
    };
    if (!fd.valid())
        return problem(errnoError(errno, "open", shown).message);
    struct stat st
    {
    };
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        return problem(shown + ": not a regular file");
    MessageHeaders headers;
    Sha256 full, body;
    std::uint64_t size = 0;
    const Status read = readInChunks(fd.get(), shown, [&](std::string_view chunk) {
        full.update(chunk);
        std::size_t used = 0;
        if (!headers.complete())
            used = headers.feed(chunk);
        if (headers.complete())
            body.update(chunk.substr(used));
        size += chunk.size();
    });
    if (!read)
        return problem(read.error().message);
    m_report.bytesRead += size;
    ++m_filesHashed;
    headers.finish();
    FileDigest out;
    out.messageId = headers.messageId().value_or(std::string());
    out.full = full.finish();
    out.body = body.finish();
    out.statSize = static_cast<std::uint64_t>(st.st_size);
    out.mtimeNs = std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    return &m_digests.emplace(i, std::move(out)).first->second;
}

DupeMember FolderMessages::member(std::uint32_t i, const std::string &sha) const
{
    const MessageEntry &e = m_entries[i];
    return DupeMember{memberPath(kSubdirs[e.dir], name(e)), e.size, sha};
}

void FolderMessages::addGroup(DupeGroup group)
{
    std::sort(group.members.begin(), group.members.end(),
              [](const DupeMember &a, const DupeMember &b) { return a.name < b.name; });
    group.folder = m_folderRel;
    group.id = DupeFinder::groupId(m_folderRel, group.members);
    m_report.groups.push_back(std::move(group));
}

void FolderMessages::findGroups(const KnownDigest &known)
{
    m_knownDigest = &known;
    flagDivergence();
    syncConflicts();
    sameMessage();
    m_knownDigest = nullptr;
}

bool FolderMessages::baseOrderLess(std::uint32_t a, std::uint32_t b) const
{
    const auto ba = base(entry(a)), bb = base(entry(b));
    if (ba != bb)
        return ba < bb;
    if (entry(a).dir != entry(b).dir)
        return entry(a).dir < entry(b).dir;
    return name(entry(a)) < name(entry(b));
}

// Readable, non-conflict entries, those of one BASE together and in (subdir, name) order.
void FolderMessages::sortByBase()
{
    m_byBase.clear();
    for (std::uint32_t i = 0; i < m_entries.size(); ++i)
        if (!(m_entries[i].flags & (MessageEntry::kConflictCopy | MessageEntry::kUnreadable)))
            m_byBase.push_back({hashBytes(base(m_entries[i])), i});
    std::sort(m_byBase.begin(), m_byBase.end(), [this](const BaseKey &a, const BaseKey &b) {
        return a.hash != b.hash ? a.hash < b.hash : baseOrderLess(a.index, b.index);
    });
}

// The first entry of m_byBase with this BASE, or end().
std::vector<FolderMessages::BaseKey>::const_iterator
FolderMessages::firstOfBase(std::string_view wanted) const
{
    const std::uint64_t hash = hashBytes(wanted);
    auto it = std::lower_bound(m_byBase.begin(), m_byBase.end(), hash,
                               [](const BaseKey &k, std::uint64_t h) { return k.hash < h; });
    for (; it != m_byBase.end() && it->hash == hash; ++it)
        if (base(entry(it->index)) == wanted)
            return it;
    return m_byBase.end();
}

void FolderMessages::flagDivergence()
{
    sortByBase();
    std::vector<std::pair<std::size_t, std::size_t>> runs;
    for (std::size_t i = 0; i < m_byBase.size();) {
        const std::string_view b = base(entry(m_byBase[i].index));
        std::size_t j = i + 1;
        while (j < m_byBase.size() && m_byBase[j].hash == m_byBase[i].hash &&
               base(entry(m_byBase[j].index)) == b)
            ++j;
        if (j - i > 1)
            runs.emplace_back(i, j);
        i = j;
    }
    // Reported in BASE order, as a sort by name would give, whatever the hashes' order.
    std::sort(runs.begin(), runs.end(), [this](const auto &a, const auto &b) {
        return base(entry(m_byBase[a.first].index)) < base(entry(m_byBase[b.first].index));
    });
    for (const auto &[from, to] : runs)
        flagDivergenceGroup(from, to);
}

void FolderMessages::flagDivergenceGroup(std::size_t from, std::size_t to)
{
    DupeGroup g;
    g.kind = DupeKind::FlagDivergence;
    std::vector<std::string_view> flagSets;
    Sha256::Digest firstSha{};
    for (std::size_t k = from; k < to; ++k) {
        const std::uint32_t idx = m_byBase[k].index;
        const FileDigest *d = digest(idx);
        if (!d)
            return; // unreadable member: no group, the problem is reported
        if (k == from)
            firstSha = d->full;
        else if (d->full != firstSha)
            g.removable = false;
        g.members.push_back(member(idx, Sha256::toHex(d->full)));
        flagSets.push_back(flagsOf(name(entry(idx))));
    }
    const std::string b(base(entry(m_byBase[from].index)));
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
    g.reason = g.removable ? "union of the variants' flags (T only if every variant has it)"
                           : "variants of one BASE with different bytes: not removed, look at them";
    addGroup(std::move(g));
}

void FolderMessages::syncConflicts()
{
    for (std::uint32_t i = 0; i < m_entries.size(); ++i) {
        const MessageEntry &e = m_entries[i];
        if (!(e.flags & MessageEntry::kConflictCopy) || (e.flags & MessageEntry::kUnreadable))
            continue;
        const auto parsed = ConflictName::parse(name(e));
        const std::string_view origBase = baseOf(parsed->original);
        const auto first = firstOfBase(origBase);
        if (first == m_byBase.end())
            continue; // the original is gone: the copy is the only one, nothing to dedupe
        // Prefer the exact original name, else the first name of that BASE.
        std::uint32_t orig = first->index;
        for (auto jt = first; jt != m_byBase.end() && base(entry(jt->index)) == origBase; ++jt)
            if (name(entry(jt->index)) == parsed->original && entry(jt->index).dir == e.dir)
                orig = jt->index;
        const FileDigest *dc = digest(i);
        const FileDigest *dorig = digest(orig);
        if (!dc || !dorig)
            continue;
        DupeGroup g;
        g.kind = DupeKind::SyncConflict;
        g.members.push_back(member(orig, Sha256::toHex(dorig->full)));
        g.members.push_back(member(i, Sha256::toHex(dc->full)));
        g.keeper = g.keeperSource = g.members.front().name;
        g.removable = dc->full == dorig->full;
        g.reason = g.removable ? "the original; the conflict copy holds the same bytes"
                               : "the original; the conflict copy holds other bytes: not removed";
        addGroup(std::move(g));
    }
}

void FolderMessages::sameMessage()
{
    // One representative per BASE (flag-divergence covers the rest), conflict copies left out.
    struct Candidate
    {
        std::uint8_t hasId;
        std::uint64_t key; // Message-ID key, or the size without one
        std::uint32_t index;
    };
    std::vector<Candidate> reps;
    for (std::size_t i = 0; i < m_byBase.size(); ++i) {
        const std::uint32_t idx = m_byBase[i].index;
        if (i > 0 && m_byBase[i].hash == m_byBase[i - 1].hash &&
            base(entry(idx)) == base(entry(m_byBase[i - 1].index)))
            continue;
        const MessageEntry &e = entry(idx);
        const bool hasId = e.flags & MessageEntry::kHasMessageId;
        reps.push_back({std::uint8_t(hasId), hasId ? e.key : e.size, idx});
    }
    m_byBase.clear();
    m_byBase.shrink_to_fit();
    const auto sameKey = [](const Candidate &a, const Candidate &b) {
        return a.hasId == b.hasId && a.key == b.key;
    };
    std::sort(reps.begin(), reps.end(), [&](const Candidate &a, const Candidate &b) {
        if (!sameKey(a, b))
            return std::tie(a.hasId, a.key) < std::tie(b.hasId, b.key);
        return base(entry(a.index)) < base(entry(b.index));
    });
    std::vector<std::uint32_t> candidates;
    for (std::size_t i = 0; i < reps.size();) {
        std::size_t j = i + 1;
        while (j < reps.size() && sameKey(reps[j], reps[i]))
            ++j;
        if (j - i > 1) {
            candidates.clear();
            for (std::size_t k = i; k < j; ++k)
                candidates.push_back(reps[k].index);
            confirmSameMessage(candidates);
        }
        i = j;
    }
}

void FolderMessages::confirmSameMessage(const std::vector<std::uint32_t> &candidates)
{
    // Exact comparison: (Message-ID, body hash) with an ID, the whole bytes without.
    // Keyed by raw digests: they order as their hex would, so groups come out as before.
    std::map<std::pair<std::string, Sha256::Digest>,
             std::vector<std::pair<std::uint32_t, std::string>>>
        groups;
    for (const std::uint32_t idx : candidates) {
        const FileDigest *d = digest(idx);
        if (!d)
            continue;
        const bool hasId = !d->messageId.empty();
        if (hasId != bool(entry(idx).flags & MessageEntry::kHasMessageId))
            continue; // changed under us
        const Sha256::Digest &sha = hasId ? d->body : d->full;
        groups[{d->messageId, sha}].emplace_back(idx, Sha256::toHex(sha));
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
        g.keeper = g.keeperSource = memberPath(kSubdirs[entry(keeper).dir], name(entry(keeper)));
        g.reason = key.first.empty() ? "identical bytes, no Message-ID; lowest BASE kept"
                                     : "same Message-ID and body; lowest BASE kept";
        addGroup(std::move(g));
    }
}

} // namespace mm::maildir
