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
        if (known && known(static_cast<std::uint32_t>(i), e, base(e)))
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

void FolderMessages::KeyIndex::reset(std::size_t entries)
{
    std::size_t capacity = 16;
    while (capacity < entries * 2)
        capacity *= 2;
    m_slots.assign(capacity, 0);
    m_hashes.resize(entries);
    m_mask = capacity - 1;
}

template <class SameKey>
std::uint32_t FolderMessages::KeyIndex::insert(std::uint64_t hash, std::uint32_t index,
                                               const SameKey &same)
{
    m_hashes[index] = hash;
    for (std::size_t at = hash & m_mask;; at = (at + 1) & m_mask) {
        if (m_slots[at] == 0) {
            m_slots[at] = index + 1;
            return index;
        }
        const std::uint32_t other = m_slots[at] - 1;
        if (m_hashes[other] == hash && same(other))
            return other;
    }
}

template <class SameKey>
std::optional<std::uint32_t> FolderMessages::KeyIndex::find(std::uint64_t hash,
                                                            const SameKey &same) const
{
    if (m_slots.empty())
        return std::nullopt;
    for (std::size_t at = hash & m_mask; m_slots[at] != 0; at = (at + 1) & m_mask) {
        const std::uint32_t other = m_slots[at] - 1;
        if (m_hashes[other] == hash && same(other))
            return other;
    }
    return std::nullopt;
}

void FolderMessages::Chains::link(std::uint32_t first, std::uint32_t index)
{
    if (next[first] == 0)
        heads.push_back(first);
    next[index] = next[first];
    next[first] = index + 1;
}

std::vector<std::uint32_t> FolderMessages::Chains::members(std::uint32_t first) const
{
    std::vector<std::uint32_t> out{first};
    for (std::uint32_t at = next[first]; at != 0; at = next[at - 1])
        out.push_back(at - 1);
    return out;
}

bool FolderMessages::nameOrderLess(std::uint32_t a, std::uint32_t b) const
{
    if (entry(a).dir != entry(b).dir)
        return entry(a).dir < entry(b).dir;
    return name(entry(a)) < name(entry(b));
}

// The names of one BASE in (subdir, name) order.
std::vector<std::uint32_t> FolderMessages::sameBaseInOrder(std::uint32_t first) const
{
    std::vector<std::uint32_t> variants = m_sameBase.members(first);
    std::sort(variants.begin(), variants.end(),
              [this](std::uint32_t a, std::uint32_t b) { return nameOrderLess(a, b); });
    return variants;
}

std::optional<std::uint32_t> FolderMessages::firstOfBase(std::string_view wanted) const
{
    return m_bases.find(hashBytes(wanted),
                        [&](std::uint32_t other) { return base(entry(other)) == wanted; });
}

// Readable, non-conflict entries by BASE.
void FolderMessages::indexBases()
{
    m_bases.reset(m_entries.size());
    m_sameBase.next.assign(m_entries.size(), 0);
    m_sameBase.heads.clear();
    m_baseFirsts.clear();
    for (std::uint32_t i = 0; i < m_entries.size(); ++i) {
        if (m_entries[i].flags & (MessageEntry::kConflictCopy | MessageEntry::kUnreadable))
            continue;
        const std::string_view b = base(m_entries[i]);
        const std::uint32_t first = m_bases.insert(
            hashBytes(b), i, [&](std::uint32_t other) { return base(entry(other)) == b; });
        if (first == i)
            m_baseFirsts.push_back(i);
        else
            m_sameBase.link(first, i);
    }
}

void FolderMessages::flagDivergence()
{
    indexBases();
    std::vector<std::vector<std::uint32_t>> variantSets;
    variantSets.reserve(m_sameBase.heads.size());
    for (const std::uint32_t first : m_sameBase.heads)
        variantSets.push_back(sameBaseInOrder(first));
    // Reported in BASE order, as a sort of the whole folder by name would give.
    std::sort(variantSets.begin(), variantSets.end(), [this](const auto &a, const auto &b) {
        return base(entry(a.front())) < base(entry(b.front()));
    });
    for (const auto &variants : variantSets)
        flagDivergenceGroup(variants);
}

void FolderMessages::flagDivergenceGroup(const std::vector<std::uint32_t> &variants)
{
    DupeGroup g;
    g.kind = DupeKind::FlagDivergence;
    std::vector<std::string_view> flagSets;
    Sha256::Digest firstSha{};
    for (const std::uint32_t idx : variants) {
        const FileDigest *d = digest(idx);
        if (!d)
            return; // unreadable member: no group, the problem is reported
        if (idx == variants.front())
            firstSha = d->full;
        else if (d->full != firstSha)
            g.removable = false;
        g.members.push_back(member(idx, Sha256::toHex(d->full)));
        flagSets.push_back(flagsOf(name(entry(idx))));
    }
    const std::string b(base(entry(variants.front())));
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
        if (!first)
            continue; // the original is gone: the copy is the only one, nothing to dedupe
        // Prefer the exact original name, else the first name of that BASE.
        const std::vector<std::uint32_t> variants = sameBaseInOrder(*first);
        std::uint32_t orig = variants.front();
        for (const std::uint32_t v : variants)
            if (name(entry(v)) == parsed->original && entry(v).dir == e.dir)
                orig = v;
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
    // One representative per BASE, its first name (flag-divergence covers the rest); conflict
    // copies left out. Candidates share the Message-ID key, or the size without a Message-ID.
    const auto candidateKey = [this](std::uint32_t i) {
        const MessageEntry &e = entry(i);
        const bool hasId = e.flags & MessageEntry::kHasMessageId;
        return std::pair<std::uint8_t, std::uint64_t>(hasId, hasId ? e.key : e.size);
    };
    KeyIndex keys;
    keys.reset(m_entries.size());
    Chains sameKey;
    sameKey.next.assign(m_entries.size(), 0);
    for (const std::uint32_t first : m_baseFirsts) {
        const std::uint32_t rep =
            m_sameBase.next[first] == 0 ? first : sameBaseInOrder(first).front();
        const auto key = candidateKey(rep);
        const std::uint32_t firstOfKey =
            keys.insert(hashBytes(std::string_view(reinterpret_cast<const char *>(&key.second), 8)) ^
                            key.first,
                        rep, [&](std::uint32_t other) { return candidateKey(other) == key; });
        if (firstOfKey != rep)
            sameKey.link(firstOfKey, rep);
    }
    // In key order, each set in BASE order: the order a sort of all representatives would give.
    std::vector<std::vector<std::uint32_t>> sets;
    sets.reserve(sameKey.heads.size());
    for (const std::uint32_t first : sameKey.heads) {
        std::vector<std::uint32_t> set = sameKey.members(first);
        std::sort(set.begin(), set.end(),
                  [this](std::uint32_t a, std::uint32_t b) { return base(entry(a)) < base(entry(b)); });
        sets.push_back(std::move(set));
    }
    std::sort(sets.begin(), sets.end(), [&](const auto &a, const auto &b) {
        return candidateKey(a.front()) < candidateKey(b.front());
    });
    for (const auto &set : sets)
        confirmSameMessage(set);
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
