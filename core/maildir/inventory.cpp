#include "maildir/inventory.h"

#include "maildir/conflictname.h"
#include "maildir/dirreader.h"
#include "maildir/folderlisting.h"
#include "maildir/foldermessages.h"
#include "maildir/fsutil.h"
#include "maildir/inventorysummary.h"
#include "maildir/jsonpath.h"
#include "maildir/maildirname.h"
#include "maildir/maildirwalker.h"
#include "maildir/memoformat.h"
#include "maildir/messagememo.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <iterator>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace mm::maildir {

namespace {

// A listed message as the listing memo keeps it.
FolderListing::Entry listingEntryOf(const FolderMessages &messages, const MessageEntry &m)
{
    FolderListing::Entry e;
    e.nameHash = FolderListing::nameHash(m.dir, messages.name(m), m.inode);
    e.inode = m.inode;
    e.baseHash = hashBytes(messages.base(m));
    e.hasMessageId = (m.flags & MessageEntry::kHasMessageId) ? 1 : 0;
    e.candidate = FolderListing::candidateOf(e.hasMessageId, m.key, m.size);
    e.subdir = m.dir;
    return e;
}

// A 4096-bit filter over a few 64-bit keys: an updated folder looks every listed name up among
// a handful (its hashed inodes, its new messages' BASEs and candidate keys), and most lookups of a
// key not among them end here instead of in a binary search.
class KeyFilter
{
public:
    void add(std::uint64_t key) { m_bits[bit(key) >> 6] |= std::uint64_t(1) << (bit(key) & 63); }
    bool mayHold(std::uint64_t key) const { return (m_bits[bit(key) >> 6] >> (bit(key) & 63)) & 1; }

private:
    static std::uint64_t bit(std::uint64_t key) { return (key * 0x9E3779B97F4A7C15ull) >> 52; }
    std::uint64_t m_bits[64] = {};
};

std::int64_t nowNs()
{
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

bool stillHolds(const FolderMemo &memo, const MaildirFolder &folder)
{
    return memo.trusted && memo.stamps == folder.stamps && memo.state == folder.state &&
           memo.brokenReason == folder.brokenReason && memo.hasTmp == folder.hasTmp;
}

// A file the agent may not read shows in no directory stamp (chmod moves only the file's
// ctime): a folder that had one is read again until it has none.
bool sawUnreadable(const FolderAnswer &answer)
{
    const auto unreadable = [](const Problem &p) { return p.kind == ProblemKind::Unreadable; };
    return std::any_of(answer.scanProblems.begin(), answer.scanProblems.end(), unreadable) ||
           std::any_of(answer.dupeProblems.begin(), answer.dupeProblems.end(), unreadable);
}

class Pass
{
public:
    Pass(const MailRoot &root, const InventoryOptions &options, const ProgressSink &progress,
         InventoryReport &report)
        : m_root(root)
        , m_options(options)
        , m_progress(progress)
        , m_report(report)
    {
    }

    Status run()
    {
        const std::int64_t passStart = nowNs();
        prepareMemoDir();
        auto tree = MaildirWalker::walk(m_root, m_progress);
        if (!tree)
            return fail(tree.error());
        std::map<std::string, FolderMemo> previous;
        if (!m_report.memoDir.empty()) {
            if (auto loaded = InventorySummary::load(m_report.memoDir, m_root.path())) {
                previous = std::move(*loaded);
                m_report.memoLoaded = true;
            }
        }
        startReports(*tree);
        std::map<std::string, FolderMemo> next;
        const std::uint64_t total = tree->folders.size();
        for (MaildirFolder &folder : tree->folders) {
            if (m_progress.cancelled())
                return fail(ErrorCode::Cancelled, "inventory cancelled", m_root.path());
            FolderMemo memo;
            FolderAnswer answer;
            const auto found = previous.find(folder.relPath);
            const FolderMemo *before = found == previous.end() ? nullptr : &found->second;
            if (before && stillHolds(*before, folder) && recallAnswer(folder.relPath, *before, answer)) {
                memo = *before;
                ++m_report.work.foldersReused;
            } else {
                std::optional<FolderListing> listing;
                const bool updated = before && updateFolder(folder, *before, memo, answer, listing);
                if (!updated) {
                    memo = FolderMemo{};
                    answer = FolderAnswer{};
                    listing.reset();
                    if (!readFolder(folder, memo, answer, listing))
                        return fail(ErrorCode::Cancelled, "inventory cancelled", m_root.path());
                }
                ++m_report.work.foldersRead;
                memo.trusted = memo.opened && !sawUnreadable(answer) &&
                               memo.stamps.newestNs() < passStart - m_options.racyWindowNs;
                if (!memo.trusted)
                    ++m_report.work.foldersUntrusted;
                if (!updated) // an update leaves the answer as it was
                    rememberAnswer(folder.relPath, before, answer, memo);
                rememberListing(folder.relPath, memo, listing);
            }
            std::string relPath = folder.relPath;
            addToReports(std::move(folder), memo, std::move(answer));
            m_progress.report(next.size() + 1, total, relPath);
            next.emplace(std::move(relPath), std::move(memo));
        }
        m_report.scan.totals.problems = m_report.scan.problems.size();
        remember(previous, next);
        return {};
    }

private:
    void prepareMemoDir()
    {
        const std::string &dir = m_options.memoDir;
        if (dir.empty())
            return;
        for (const std::string &path : {dir, dir + "/folders"})
            if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
                m_report.memoProblem = path + ": " + std::strerror(errno) + ": nothing remembered";
                return;
            }
        m_report.memoDir = dir;
    }

    void startReports(MaildirTree &tree)
    {
        ScanReport &scan = m_report.scan;
        scan.root = m_root.path();
        scan.problems = tree.problems;
        scan.totals.maildirs = tree.maildirCount;
        scan.folders.reserve(tree.folders.size());
        DupesReport &dupes = m_report.dupes;
        dupes.root = m_root.path();
        dupes.problems = std::move(tree.problems);
        m_report.walkProblems = dupes.problems.size();
    }

    std::string answerPath(const std::string &relPath) const
    {
        return m_report.memoDir + "/folders/" + FolderAnswer::fileNameFor(relPath);
    }

    // The problems and groups of a folder the summary vouches for; false (read the folder) when
    // its answer file is missing, damaged or not the one the summary was written with.
    bool recallAnswer(const std::string &relPath, const FolderMemo &memo, FolderAnswer &answer)
    {
        if (!memo.hasAnswer)
            return true;
        auto loaded = FolderAnswer::load(answerPath(relPath), relPath, memo.answerChecksum);
        if (!loaded)
            return false;
        answer = std::move(*loaded);
        return true;
    }

    // Keeps a read folder's problems and groups in its answer file, written only when they
    // changed: most changes to a busy folder leave its groups as they were.
    void rememberAnswer(const std::string &relPath, const FolderMemo *before,
                        const FolderAnswer &answer, FolderMemo &memo)
    {
        memo.hasAnswer = false;
        if (m_report.memoDir.empty())
            return;
        const std::string path = answerPath(relPath);
        if (answer.empty()) {
            if ((!before || before->hasAnswer) && ::unlink(path.c_str()) == 0)
                ++m_report.work.memoFilesRemoved;
            return;
        }
        const std::string text = answer.toText(relPath);
        const auto checked = checkTrailer(text);
        if (!checked)
            return; // cannot happen: toText writes a valid trailer
        if (auto onDisk = readBoundedFile(path, text.size() + 1); !onDisk || *onDisk != text) {
            if (auto written = replaceFileAtomically(path, text); !written) {
                m_report.memoProblem = written.error().describe();
                return;
            }
            ++m_report.work.memoFilesWritten;
        }
        memo.hasAnswer = true;
        memo.answerChecksum = checked->checksum;
    }

    std::string listingPath(const std::string &relPath) const
    {
        return m_report.memoDir + "/folders/" + FolderListing::fileNameFor(relPath);
    }

    // Keeps the listing a pass read or updated for the next one; a folder without one (not
    // plain) loses the old one, which its new stamps would make unusable anyway.
    void rememberListing(const std::string &relPath, const FolderMemo &memo,
                         std::optional<FolderListing> &listing)
    {
        if (m_report.memoDir.empty())
            return;
        const std::string path = listingPath(relPath);
        if (!listing) {
            ::unlink(path.c_str());
            return;
        }
        listing->stamps = memo.stamps;
        listing->curMessages = memo.curMessages;
        listing->newMessages = memo.newMessages;
        listing->hasAnswer = memo.hasAnswer;
        listing->answerChecksum = memo.hasAnswer ? memo.answerChecksum : 0;
        if (auto written = listing->save(path, relPath); !written)
            m_report.memoProblem = written.error().describe();
        else
            ++m_report.work.listingsWritten;
    }

    // A changed folder whose only changes are new messages and renames is updated from its
    // listing memo instead of being rebuilt, when the answer provably stays what it was:
    // - the listing memo, the answer file and the message memo are the ones the summary line
    //   was written with, and the folder was plain then (folderlisting.h);
    // - every entry still listed has the (subdir, name, inode) it had;
    // - every entry gone was renamed: an entry with its inode and BASE is listed, and that BASE
    //   is held by no other entry and no group (a flag change of a message in no group);
    // - every other new entry is a readable message with a valid name, not a conflict copy,
    //   whose BASE and candidate key no other entry has: it joins no group and starts none;
    // - every remembered duplicate candidate still has the size and mtime it had when hashed
    //   (the check a full read makes before believing a digest).
    // Then the groups and problems are the old ones and only the counts move. Anything else,
    // or anything that cannot be read, returns false, and the folder is read in full.
    bool updateFolder(const MaildirFolder &folder, const FolderMemo &before, FolderMemo &memo,
                      FolderAnswer &answer, std::optional<FolderListing> &nextListing)
    {
        if (m_report.memoDir.empty() || !before.opened || folder.state == FolderState::Broken ||
            before.state != folder.state || before.brokenReason != folder.brokenReason ||
            before.hasTmp != folder.hasTmp ||
            before.dupeMessages != before.curMessages + before.newMessages)
            return false;
        const std::string &rel = folder.relPath;
        auto listing = FolderListing::load(listingPath(rel), rel);
        if (!listing || listing->stamps != before.stamps ||
            listing->curMessages != before.curMessages ||
            listing->newMessages != before.newMessages || listing->hasAnswer != before.hasAnswer ||
            (before.hasAnswer && listing->answerChecksum != before.answerChecksum) ||
            listing->entries.size() != before.dupeMessages)
            return false;
        FolderAnswer old;
        if (!recallAnswer(rel, before, old) || !old.scanProblems.empty() || !old.dupeProblems.empty())
            return false;
        MessageMemo known(m_report.memoDir, rel);
        if (!known.load())
            return false;
        const std::vector<std::uint64_t> hashedInodes = known.hashedInodes();
        KeyFilter mayBeHashed; // most listed names are no duplicate candidate
        for (const std::uint64_t inode : hashedInodes)
            mayBeHashed.add(inode);
        auto folderFd = openDirBeneath(m_root.fd(), rel, "");
        if (!folderFd)
            return false;

        struct Listed
        {
            std::uint8_t subdir;
            std::uint64_t inode;
            std::string name;
        };
        constexpr std::size_t kMaxChanges = 64; // beyond that a full read is as cheap
        const std::vector<FolderListing::Entry> &was = listing->entries;
        std::vector<std::uint8_t> kept(was.size(), 0); // bytes: a bit vector cost more to walk
        std::vector<Listed> added, hashed;
        // The next listing, in the order of this one: a kept entry as it was, and an empty slot
        // for each added one, filled below once it is known to be a rename or a new message.
        std::vector<FolderListing::Entry> next;
        next.reserve(was.size() + kMaxChanges);
        std::vector<std::size_t> addedAt;
        std::size_t cursor = 0; // the walk through the old listing, in the same directory order
        std::uint64_t counts[2] = {0, 0};
        for (std::uint8_t subdir = 0; subdir < 2; ++subdir) {
            if (subdir == 1 && folder.state != FolderState::Classic)
                break;
            auto dirFd = openDirAt(folderFd->get(), FolderMessages::kSubdirs[subdir],
                                   FolderMessages::kSubdirs[subdir]);
            if (!dirFd)
                return false;
            DirReader reader(dirFd->get());
            DirEntry entry;
            while (reader.next(entry)) {
                if (entry.type != DT_REG || entry.name.empty() || entry.name.front() == '.')
                    return false; // not a message: the scan has something to say about it
                ++counts[subdir];
                const FolderListing::Entry *same =
                    listing->next(cursor, FolderListing::nameHash(subdir, entry.name, entry.inode));
                if (same && same->inode == entry.inode && same->subdir == subdir) {
                    kept[std::size_t(same - was.data())] = 1;
                    next.push_back(*same);
                } else {
                    if (added.size() >= kMaxChanges)
                        return false;
                    added.push_back({subdir, entry.inode, std::string(entry.name)});
                    addedAt.push_back(next.size());
                    next.emplace_back();
                }
                if (mayBeHashed.mayHold(entry.inode) &&
                    std::binary_search(hashedInodes.begin(), hashedInodes.end(), entry.inode))
                    hashed.push_back({subdir, entry.inode, std::string(entry.name)});
            }
            if (reader.error() != 0)
                return false;
        }

        std::vector<FolderListing::Entry> gone;
        for (std::size_t i = 0; i < kept.size(); ++i)
            if (!kept[i]) {
                if (gone.size() >= kMaxChanges)
                    return false;
                gone.push_back(was[i]);
            }
        std::vector<std::uint64_t> groupBases;
        for (const DupeGroup &group : old.groups)
            for (const DupeMember &member : group.members) {
                const std::string_view name = std::string_view(member.name).substr(member.name.find('/') + 1);
                groupBases.push_back(hashBytes(baseOf(name)));
            }
        std::sort(groupBases.begin(), groupBases.end());
        const auto baseHeldByOthers = [&](std::uint64_t baseHash) {
            std::size_t holders = 0;
            for (const FolderListing::Entry &e : listing->entries)
                holders += e.baseHash == baseHash ? 1 : 0;
            return holders > 1;
        };

        DupesReport found;
        FolderMessages fresh(folderFd->get(), rel, found, m_progress);
        std::vector<bool> goneRenamed(gone.size(), false);
        std::vector<bool> freshSlot(next.size(), false);
        std::vector<std::size_t> freshAt; // the slots of the messages `fresh` opens, in its order
        for (std::size_t i = 0; i < added.size(); ++i) {
            const Listed &a = added[i];
            if (!MaildirName::parse(a.name).valid() || ConflictName::parse(a.name))
                return false;
            const std::uint64_t baseHash = hashBytes(baseOf(a.name));
            bool renamed = false;
            for (std::size_t g = 0; g < gone.size() && !renamed; ++g) {
                if (goneRenamed[g] || gone[g].inode != a.inode || gone[g].baseHash != baseHash)
                    continue;
                if (std::binary_search(groupBases.begin(), groupBases.end(), baseHash) ||
                    baseHeldByOthers(baseHash))
                    return false;
                FolderListing::Entry e = gone[g];
                e.nameHash = FolderListing::nameHash(a.subdir, a.name, a.inode);
                e.subdir = a.subdir;
                next[addedAt[i]] = e;
                goneRenamed[g] = renamed = true;
            }
            if (!renamed) {
                fresh.add(a.subdir, a.name, a.inode);
                freshAt.push_back(addedAt[i]);
                freshSlot[addedAt[i]] = true;
            }
        }
        if (std::find(goneRenamed.begin(), goneRenamed.end(), false) != goneRenamed.end())
            return false; // a message went away: its groups may change

        std::size_t notRemembered = 0;
        for (const FolderListing::Entry &e : next)
            notRemembered += e.notRemembered;
        if (notRemembered + fresh.entries().size() > FolderListing::kMaxNotRemembered)
            return false; // time the message memo learnt them: a full read
        const std::uint64_t opened = fresh.readHeaders();
        if (m_progress.cancelled() || !found.problems.empty() || fresh.entries().size() != freshAt.size())
            return false;
        std::vector<std::uint64_t> newBases, newCandidates;
        KeyFilter newKeys;
        std::vector<FolderListing::Entry> brandNew;
        for (const MessageEntry &m : fresh.entries()) {
            if (m.flags & (MessageEntry::kUnreadable | MessageEntry::kConflictCopy))
                return false;
            FolderListing::Entry e = listingEntryOf(fresh, m);
            e.notRemembered = 1;
            newBases.push_back(e.baseHash);
            newCandidates.push_back(e.candidate);
            newKeys.add(e.baseHash);
            newKeys.add(e.candidate);
            brandNew.push_back(e);
        }
        std::sort(newBases.begin(), newBases.end());
        std::sort(newCandidates.begin(), newCandidates.end());
        if (std::adjacent_find(newBases.begin(), newBases.end()) != newBases.end() ||
            std::adjacent_find(newCandidates.begin(), newCandidates.end()) != newCandidates.end())
            return false; // two new ones alike
        if (!brandNew.empty())
            for (std::size_t i = 0; i < next.size(); ++i) {
                const FolderListing::Entry &e = next[i];
                if (freshSlot[i])
                    continue; // the new ones themselves, compared among themselves above
                if ((newKeys.mayHold(e.baseHash) &&
                     std::binary_search(newBases.begin(), newBases.end(), e.baseHash)) ||
                    (newKeys.mayHold(e.candidate) &&
                     std::binary_search(newCandidates.begin(), newCandidates.end(), e.candidate)))
                    return false; // a new one like an old one: maybe a new group
            }

        std::uint64_t digestsChecked = 0;
        for (const Listed &h : hashed) {
            MessageEntry probe;
            probe.inode = h.inode;
            const auto digest = known.recallDigest(probe, baseOf(h.name));
            if (!digest)
                continue;
            auto dirFd = openDirAt(folderFd->get(), FolderMessages::kSubdirs[h.subdir],
                                   FolderMessages::kSubdirs[h.subdir]);
            struct stat st
            {
            };
            if (!dirFd || ::fstatat(dirFd->get(), h.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
                !S_ISREG(st.st_mode) || std::uint64_t(st.st_size) != digest->statSize ||
                std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec != digest->mtimeNs)
                return false; // changed in place: a full read hashes it again
            ++digestsChecked;
        }

        std::uint64_t tmpFiles = 0;
        if (folder.hasTmp) {
            auto tmpFd = openDirAt(folderFd->get(), "tmp", joinRel(rel, "tmp"));
            if (!tmpFd)
                return false;
            DirReader reader(tmpFd->get());
            DirEntry entry;
            while (reader.next(entry))
                ++tmpFiles;
            if (reader.error() != 0)
                return false;
        }

        for (std::size_t k = 0; k < brandNew.size(); ++k)
            next[freshAt[k]] = brandNew[k];

        memo = before;
        memo.stamps = folder.stamps;
        memo.curMessages = counts[0];
        memo.newMessages = counts[1];
        memo.tmpFiles = tmpFiles;
        memo.dupeMessages = counts[0] + counts[1];
        answer = std::move(old);
        listing->entries = std::move(next);
        nextListing = std::move(listing);

        InventoryWork &work = m_report.work;
        ++work.foldersUpdated;
        work.messagesListed += memo.dupeMessages;
        work.headersRead += opened;
        work.headersRemembered += memo.dupeMessages - opened;
        work.bodiesRemembered += digestsChecked;
        return true;
    }

    // Lists the folder once: the scan counts what it finds and hands every message to the
    // duplicate search, which opens only those the memo does not know.
    bool readFolder(const MaildirFolder &folder, FolderMemo &memo, FolderAnswer &answer,
                    std::optional<FolderListing> &listing)
    {
        memo.state = folder.state;
        memo.brokenReason = folder.brokenReason;
        memo.hasTmp = folder.hasTmp;
        memo.stamps = folder.stamps;
        auto folderFd = openDirBeneath(m_root.fd(), folder.relPath, "");
        if (!folderFd) {
            const Problem problem{ProblemKind::Unreadable, folder.relPath, folderFd.error().message};
            answer.scanProblems.push_back(problem);
            answer.dupeProblems.push_back(problem);
            return true;
        }
        memo.opened = true;
        FolderScan scan;
        scan.folder = folder;
        DupesReport found;
        FolderMessages messages(folderFd->get(), folder.relPath, found, m_progress);
        Scan::MessageVisitor visitor;
        visitor.message = [&](std::uint8_t subdir, std::string_view name, std::uint64_t inode) {
            messages.add(subdir, name, inode);
        };
        visitor.readError = [&](std::uint8_t subdir, int error) { messages.addReadError(subdir, error); };
        Scan::scanFolderAt(folderFd->get(), scan, answer.scanProblems, visitor);
        // The duplicate search also looks into a broken folder's real new/ directory, which
        // the scan does not count.
        if (folder.state == FolderState::Broken)
            messages.list(1);
        memo.curMessages = scan.curMessages;
        memo.newMessages = scan.newMessages;
        memo.tmpFiles = scan.tmpFiles;

        MessageMemo known(m_report.memoDir, folder.relPath);
        known.load();
        std::uint64_t remembered = 0;
        const std::uint64_t opened =
            messages.readHeaders([&](std::uint32_t index, MessageEntry &entry, std::string_view base) {
                const bool hit = known.recall(index, entry, base);
                remembered += hit ? 1 : 0;
                return hit;
            });
        if (m_progress.cancelled())
            return false;
        messages.findGroups([&](const MessageEntry &entry, std::string_view base) {
            return known.recallDigest(entry, base);
        });
        memo.dupeMessages = found.messages;
        answer.groups = std::move(found.groups);
        answer.dupeProblems = std::move(found.problems);

        InventoryWork &work = m_report.work;
        work.messagesListed += messages.entries().size();
        work.headersRead += opened;
        work.headersRemembered += remembered;
        work.bodiesHashed += messages.filesHashed();
        work.bodiesRemembered += messages.digestsRemembered();
        work.bytesHashed += found.bytesRead;
        m_report.dupes.bytesRead += found.bytesRead;
        if (auto written = known.replaceWith(messages); !written)
            m_report.memoProblem = written.error().describe();
        else if (*written)
            ++work.memoFilesWritten;
        listing = plainListing(folder, memo, answer, messages);
        return true;
    }

    // The listing of a folder read in full, when it is plain: every entry of cur/ and new/ a
    // readable message with a valid name and no conflict copy, and no problem at all.
    static std::optional<FolderListing> plainListing(const MaildirFolder &folder,
                                                     const FolderMemo &memo,
                                                     const FolderAnswer &answer,
                                                     const FolderMessages &messages)
    {
        if (folder.state == FolderState::Broken || !memo.opened || !answer.scanProblems.empty() ||
            !answer.dupeProblems.empty() ||
            messages.entries().size() != memo.curMessages + memo.newMessages)
            return std::nullopt;
        FolderListing listing;
        listing.entries.reserve(messages.entries().size());
        for (const MessageEntry &m : messages.entries()) {
            if (m.flags & (MessageEntry::kUnreadable | MessageEntry::kConflictCopy))
                return std::nullopt;
            listing.entries.push_back(listingEntryOf(messages, m));
        }
        return listing; // in the order the scan listed them: directory order
    }

    void addToReports(MaildirFolder folder, const FolderMemo &memo, FolderAnswer answer)
    {
        FolderScan scan;
        scan.folder = std::move(folder);
        scan.curMessages = memo.curMessages;
        scan.newMessages = memo.newMessages;
        scan.tmpFiles = memo.tmpFiles;
        ScanReport &s = m_report.scan;
        std::move(answer.scanProblems.begin(), answer.scanProblems.end(), std::back_inserter(s.problems));
        s.totals.add(scan);
        s.folders.push_back(std::move(scan));
        DupesReport &d = m_report.dupes;
        std::move(answer.dupeProblems.begin(), answer.dupeProblems.end(), std::back_inserter(d.problems));
        std::move(answer.groups.begin(), answer.groups.end(), std::back_inserter(d.groups));
        d.messages += memo.dupeMessages;
        d.folders += memo.opened ? 1 : 0;
    }

    // Saves the summary when anything in it moved, and forgets the folders that are gone.
    void remember(const std::map<std::string, FolderMemo> &previous,
                  const std::map<std::string, FolderMemo> &next)
    {
        if (m_report.memoDir.empty())
            return;
        InventoryWork &work = m_report.work;
        for (const auto &[relPath, memo] : previous) {
            if (next.count(relPath))
                continue;
            if (::unlink(MessageMemo(m_report.memoDir, relPath).filePath().c_str()) == 0)
                ++work.memoFilesRemoved;
            if (memo.hasAnswer && ::unlink(answerPath(relPath).c_str()) == 0)
                ++work.memoFilesRemoved;
            ::unlink(listingPath(relPath).c_str());
        }
        if (!m_report.memoLoaded) {
            sweepStrayMemos(next);
            // The JSON summary of memo version 1, replaced by the line format.
            if (::unlink((m_report.memoDir + "/summary.json").c_str()) == 0)
                ++work.memoFilesRemoved;
        }
        const bool changed = work.foldersRead > 0 || previous.size() != next.size() ||
                             !m_report.memoLoaded;
        if (!changed)
            return;
        if (auto saved = InventorySummary::save(m_report.memoDir, m_root.path(), next); !saved)
            m_report.memoProblem = saved.error().describe();
        else
            ++work.memoFilesWritten;
    }

    // Without a summary nobody knows which message memos are stale (folders deleted while the
    // summary was damaged, temporaries of a killed pass): keep only the current folders'.
    void sweepStrayMemos(const std::map<std::string, FolderMemo> &next)
    {
        std::set<std::string> keep;
        for (const auto &[relPath, memo] : next) {
            keep.insert(MessageMemo::fileNameFor(relPath));
            keep.insert(FolderListing::fileNameFor(relPath));
            if (memo.hasAnswer)
                keep.insert(FolderAnswer::fileNameFor(relPath));
        }
        const std::string dir = m_report.memoDir + "/folders";
        auto fd = openDirAt(AT_FDCWD, dir.c_str(), dir);
        if (!fd)
            return;
        std::vector<std::string> stray;
        DirReader reader(fd->get());
        DirEntry entry;
        while (reader.next(entry))
            if (entry.type == DT_REG && !keep.count(std::string(entry.name)))
                stray.emplace_back(entry.name);
        for (const std::string &name : stray)
            if (::unlinkat(fd->get(), name.c_str(), 0) == 0)
                ++m_report.work.memoFilesRemoved;
    }

    const MailRoot &m_root;
    const InventoryOptions &m_options;
    const ProgressSink &m_progress;
    InventoryReport &m_report;
};

} // namespace

Result<InventoryReport> Inventory::run(const MailRoot &root, const InventoryOptions &options,
                                       const ProgressSink &progress)
{
    InventoryReport report;
    Pass pass(root, options, progress, report);
    if (auto status = pass.run(); !status)
        return fail(status.error());
    return report;
}

void to_json(nlohmann::json &j, const InventoryReport &report)
{
    j = nlohmann::json::object();
    j["schemaVersion"] = InventoryReport::kSchemaVersion;
    putPath(j, "root", report.scan.root);
    j["folders"] = report.scan.folders;
    j["totals"] = report.scan.totals;
    j["problems"] = report.scan.problems;
    j["groups"] = report.dupes.groups;
    // The walk's problems are in `problems` already: only what the duplicate search added.
    j["dupeProblems"] = nlohmann::json::array();
    for (std::size_t i = report.walkProblems; i < report.dupes.problems.size(); ++i)
        j["dupeProblems"].push_back(report.dupes.problems[i]);
    j["dupeTotals"] = {{"folders", report.dupes.folders},
                       {"messages", report.dupes.messages},
                       {"groups", report.dupes.groups.size()},
                       {"bytesRead", report.dupes.bytesRead}};
    const InventoryWork &w = report.work;
    j["work"] = {{"foldersReused", w.foldersReused},
                 {"foldersRead", w.foldersRead},
                 {"foldersUpdated", w.foldersUpdated},
                 {"foldersUntrusted", w.foldersUntrusted},
                 {"messagesListed", w.messagesListed},
                 {"headersRead", w.headersRead},
                 {"headersRemembered", w.headersRemembered},
                 {"bodiesHashed", w.bodiesHashed},
                 {"bodiesRemembered", w.bodiesRemembered},
                 {"bytesHashed", w.bytesHashed},
                 {"memoFilesWritten", w.memoFilesWritten},
                 {"memoFilesRemoved", w.memoFilesRemoved}};
    nlohmann::json memo = nlohmann::json::object();
    if (report.memoDir.empty())
        memo["dir"] = nullptr;
    else
        putPath(memo, "dir", report.memoDir);
    memo["loaded"] = report.memoLoaded;
    if (!report.memoProblem.empty())
        memo["problem"] = toValidUtf8(report.memoProblem);
    j["memo"] = std::move(memo);
}

} // namespace mm::maildir
