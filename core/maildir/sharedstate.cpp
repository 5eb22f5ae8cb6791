#include "maildir/sharedstate.h"

#include "maildir/dirreader.h"
#include "maildir/fsutil.h"
#include "maildir/journal.h"
#include "maildir/jsonpath.h"
#include "maildir/keywordfiles.h"
#include "maildir/maildirwalker.h"
#include "maildir/quarantine.h"
#include "maildir/sha256.h"
#include "maildir/statedir.h"
#include "maildir/subscriptionfiles.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <optional>

namespace mm::maildir {

void to_json(nlohmann::json &j, const KeywordsReport &report)
{
    j = nlohmann::json::object();
    j["schemaVersion"] = KeywordsReport::kSchemaVersion;
    putPath(j, "root", report.root);
    j["folders"] = report.folders;
    j["problems"] = report.problems;
}

void to_json(nlohmann::json &j, const SharedStateReport &report)
{
    j = nlohmann::json::object();
    j["schemaVersion"] = SharedStateReport::kSchemaVersion;
    j["dryRun"] = report.dryRun;
    putPath(j, "root", report.root);
    putPath(j, "stateDir", report.stateDir);
    if (!report.runId.empty()) {
        j["runId"] = report.runId;
        putPath(j, "journal", report.journalPath);
    }
    auto actions = nlohmann::json::array();
    for (const SharedStateAction &a : report.actions) {
        nlohmann::json item{{"kind", a.kind}, {"detail", toValidUtf8(a.detail)}};
        putPath(item, "path", a.path);
        actions.push_back(std::move(item));
    }
    j["actions"] = std::move(actions);
    j["notes"] = report.notes;
    j["problems"] = report.problems;
    j["renamed"] = report.renamed;
    j["written"] = report.written;
    j["setAside"] = report.setAside;
}

namespace {

std::string renderKeywordsFile(const Keywords &table)
{
    std::string text;
    for (std::size_t i = 0; i < Keywords::kMaxKeywords; ++i)
        if (!table.names[i].empty())
            text += std::to_string(i) + ' ' + table.names[i] + '\n';
    return text;
}

// Names in a message directory (cur/, or new/ when it is a real directory), read once.
std::vector<std::string> messageNames(int folderFd, const char *subdir)
{
    std::vector<std::string> names;
    UniqueFd dir(::openat(folderFd, subdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!dir.valid())
        return names;
    DirReader reader(dir.get());
    DirEntry entry;
    while (reader.next(entry))
        if (entry.type == DT_REG && entry.name.front() != '.')
            names.emplace_back(entry.name);
    return names;
}

void countLetters(const std::vector<std::string> &names,
                  std::array<std::uint64_t, Keywords::kMaxKeywords> &use)
{
    for (const std::string &name : names) {
        const std::size_t info = name.rfind(":2,");
        if (info == std::string::npos)
            continue;
        std::uint32_t seen = 0;
        for (std::size_t i = info + 3; i < name.size(); ++i)
            if (name[i] >= 'a' && name[i] <= 'z')
                seen |= 1u << (name[i] - 'a');
        for (std::size_t i = 0; i < Keywords::kMaxKeywords; ++i)
            if (seen & (1u << i))
                ++use[i];
    }
}

// The changes of one run: the state dir, the journal (begun at the first change, so a run with
// nothing to do leaves no journal), and the three kinds of change, each journaled before it is
// made. In a dry run every change is only listed.
class Changer
{
public:
    Changer(const MailRoot &root, const SharedStateOptions &options, SharedStateReport &report,
            std::string operation)
        : m_root(root)
        , m_options(options)
        , m_report(report)
        , m_operation(std::move(operation))
    {
    }

    Status start()
    {
        auto state = StateDir::resolve(m_root, m_options.stateDir);
        if (!state)
            return fail(state.error());
        m_state.emplace(std::move(*state));
        m_report.stateDir = m_state->path();
        // An existing state dir is locked at once, so no other changing command runs beside
        // this one; a missing one is made at the first change (a run with nothing to do
        // leaves no trace).
        if (m_options.dryRun || !m_state->exists())
            return {};
        return takeStateDir();
    }

    Status finish(bool failed)
    {
        if (!m_journal)
            return {};
        nlohmann::json summary{{"renamed", m_report.renamed},
                               {"written", m_report.written},
                               {"setAside", m_report.setAside}};
        return m_journal->end(failed ? "failed" : "ok", summary);
    }

    // Replaces dirFd/name by `content` unless it holds exactly that already. The old file goes to
    // the quarantine first (so nothing is lost and it can be restored), the new one is written
    // beside it and renamed into place.
    Status writeFile(int dirFd, const char *name, const std::string &relPath,
                     const std::string &content, const std::string &detail)
    {
        auto current = readSmallFileAt(dirFd, name, relPath, 16u << 20);
        if (!current)
            return fail(current.error());
        if (*current && **current == content)
            return {};
        m_report.actions.push_back({"write", relPath, detail});
        ++m_report.written;
        if (m_options.dryRun)
            return {};
        auto journal = this->journal();
        if (!journal)
            return fail(journal.error());
        // The new file gets the old one's mode, or the mail user's 0600.
        mode_t mode = 0600;
        if (struct stat old{}; *current && ::fstatat(dirFd, name, &old, AT_SYMLINK_NOFOLLOW) == 0)
            mode = old.st_mode & 0666;
        if (*current) {
            QuarantineEntry entry =
                m_quarantine->plan(relPath, (*current)->size(), "replaced-by-mailmesh");
            if (auto synced = (*journal)->sync(); !synced)
                return synced;
            if (auto moved = m_quarantine->apply(dirFd, name, entry); !moved)
                return moved;
        }
        const std::string temp = std::string(".mailmesh-") + name + ".tmp";
        UniqueFd fd(::openat(dirFd, temp.c_str(),
                             O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
        if (!fd.valid())
            return fail(errnoError(errno, "create", joinRel(relPath, "..") + "/" + temp));
        // Dovecot reads and rewrites these files as the mail user, who owns the folder.
        if (struct stat folder{}; ::fstat(dirFd, &folder) == 0 && ::geteuid() == 0)
            (void)::fchown(fd.get(), folder.st_uid, folder.st_gid);
        (void)::fchmod(fd.get(), mode);
        std::size_t written = 0;
        while (written < content.size()) {
            const ssize_t n = ::write(fd.get(), content.data() + written, content.size() - written);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return fail(errnoError(errno, "write", relPath));
            written += std::size_t(n);
        }
        if (::fdatasync(fd.get()) != 0)
            return fail(errnoError(errno, "fdatasync", relPath));
        std::string line;
        JsonLineWriter(line)
            .string("type", "write")
            .number("seq", (*journal)->nextSeq())
            .path("path", relPath)
            .number("size", content.size())
            .string("sha256", Sha256::toHex(Sha256::hash(content)))
            .finish();
        (*journal)->addLine(line);
        if (auto synced = (*journal)->sync(); !synced)
            return synced;
        if (::renameat(dirFd, temp.c_str(), dirFd, name) != 0)
            return fail(errnoError(errno, "rename into place", relPath));
        return {};
    }

    // Renames a message within its directory; the target name must be free.
    Status renameMessage(int dirFd, const std::string &from, const std::string &to,
                         const std::string &dirRel)
    {
        m_report.actions.push_back({"rename", joinRel(dirRel, from), to});
        ++m_report.renamed;
        if (m_options.dryRun)
            return {};
        auto journal = this->journal();
        if (!journal)
            return fail(journal.error());
        const std::uint64_t seq = (*journal)->nextSeq();
        std::string line;
        JsonLineWriter(line)
            .string("type", "move")
            .number("seq", seq)
            .path("from", joinRel(dirRel, from))
            .path("to", joinRel(dirRel, to))
            .string("reason", "keyword-letter")
            .finish();
        (*journal)->addLine(line);
        if (auto synced = (*journal)->sync(); !synced)
            return synced;
        if (renameAt2(dirFd, from.c_str(), dirFd, to.c_str(), RENAME_NOREPLACE) != 0) {
            const int err = errno;
            if (err == ENOENT) { // renamed meanwhile (a killed run did it, or Dovecot)
                --m_report.renamed;
                m_report.actions.pop_back();
                return {};
            }
            return fail(errnoError(err, "rename to " + to, joinRel(dirRel, from)));
        }
        return (*journal)->markApplied(seq);
    }

    // Takes a node's file out of the tree into the quarantine.
    Status setAside(int dirFd, const std::string &name, const std::string &relPath,
                    std::uint64_t size, const std::string &detail)
    {
        m_report.actions.push_back({"set-aside", relPath, detail});
        ++m_report.setAside;
        if (m_options.dryRun)
            return {};
        auto journal = this->journal();
        if (!journal)
            return fail(journal.error());
        QuarantineEntry entry = m_quarantine->plan(relPath, size, "folded-into-one-file");
        if (auto synced = (*journal)->sync(); !synced)
            return synced;
        return m_quarantine->apply(dirFd, name.c_str(), entry);
    }

    bool dryRun() const { return m_options.dryRun; }

private:
    Status takeStateDir()
    {
        if (auto created = m_state->create(); !created)
            return created;
        auto lock = m_state->lock();
        if (!lock)
            return fail(lock.error());
        m_lock.emplace(std::move(*lock));
        return Journal::closeUnfinishedRuns(*m_state);
    }

    Result<Journal *> journal()
    {
        if (!m_lock)
            if (auto taken = takeStateDir(); !taken)
                return fail(taken.error());
        if (!m_journal) {
            auto begun = Journal::begin(*m_state, m_operation, m_root.path());
            if (!begun)
                return fail(begun.error());
            m_journal.emplace(std::move(*begun));
            m_quarantine.emplace(*m_state, *m_journal);
            m_report.runId = m_journal->runId();
            m_report.journalPath = m_journal->path();
        }
        return &*m_journal;
    }

    const MailRoot &m_root;
    const SharedStateOptions &m_options;
    SharedStateReport &m_report;
    std::string m_operation;
    std::optional<StateDir> m_state;
    std::optional<StateLock> m_lock;
    std::optional<Journal> m_journal;
    std::optional<Quarantine> m_quarantine;
};

Status settleFolder(const MailRoot &root, const KeywordSettlement &settlement, Changer &changer,
                    SharedStateReport &report)
{
    auto folder = openDirBeneath(root.fd(), settlement.folder, root.path());
    if (!folder) {
        report.problems.push_back(
            {ProblemKind::FolderSkipped, settlement.folder, folder.error().message});
        return {};
    }
    if (settlement.renamesLetters()) {
        for (const char *subdir : {"cur", "new"}) {
            const std::string dirRel = joinRel(settlement.folder, subdir);
            UniqueFd dir(::openat(folder->get(), subdir,
                                  O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
            if (!dir.valid())
                continue; // new -> cur in a cur-only folder: cur/ covered it
            for (const std::string &name : messageNames(folder->get(), subdir)) {
                const std::string renamed = renameKeywordLetters(name, settlement.renameTo);
                if (renamed == name)
                    continue;
                if (auto moved = changer.renameMessage(dir.get(), name, renamed, dirRel); !moved) {
                    if (moved.error().code != ErrorCode::Conflict &&
                        moved.error().code != ErrorCode::IoError)
                        return moved;
                    report.problems.push_back(
                        {ProblemKind::ActionFailed, joinRel(dirRel, name), moved.error().message});
                }
            }
        }
    }
    return changer.writeFile(folder->get(), kKeywordsFileName,
                             joinRel(settlement.folder, kKeywordsFileName),
                             renderKeywordsFile(settlement.table), "the cluster's keyword table");
}

// Folds one directory of node files (dovecot-keywords.d/ or subscriptions.d/) away: each file to
// the quarantine, then the directory itself once empty. Dovecot's dotlocks and temporary files
// left beside them (an IMAP process ended mid-write, as the hold before a revert does) go to the
// quarantine too: with Dovecot held nothing is writing them, and they would keep the directory.
Status setAsideNodeFiles(int parentFd, const char *dirName, const std::string &parentRel,
                         const std::vector<std::string> &nodeFiles, Changer &changer,
                         SharedStateReport &report)
{
    const std::string dirRel = joinRel(parentRel, dirName);
    UniqueFd dir(::openat(parentFd, dirName, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!dir.valid())
        return {};
    std::vector<std::string> leftovers;
    {
        DirReader reader(dir.get());
        DirEntry entry;
        while (reader.next(entry))
            if (entry.type == DT_REG && !isNodeFileName(entry.name))
                leftovers.emplace_back(entry.name);
    }
    const auto setAside = [&](const std::string &name, const char *reason) -> Status {
        struct stat st
        {
        };
        if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
            return {};
        return changer.setAside(dir.get(), name, joinRel(dirRel, name), std::uint64_t(st.st_size), reason);
    };
    for (const std::string &node : nodeFiles)
        if (auto moved = setAside(node, "folded into one file"); !moved)
            return moved;
    for (const std::string &leftover : leftovers)
        if (auto moved = setAside(leftover, "a stale Dovecot lock or temporary file"); !moved)
            return moved;
    if (!changer.dryRun() && ::unlinkat(parentFd, dirName, AT_REMOVEDIR) != 0 &&
        errno != ENOENT)
        report.problems.push_back({ProblemKind::ActionFailed, dirRel,
                                   std::string("left in place: ") + std::strerror(errno)});
    return {};
}

// A node file directory without node files (Dovecot makes one in every folder it syncs): nothing
// to keep, and stock Dovecot's LAYOUT=fs would list it as a mailbox.
void removeEmptyDir(int parentFd, const char *dirName, const std::string &parentRel, Changer &changer,
                    SharedStateReport &report)
{
    struct stat st
    {
    };
    if (::fstatat(parentFd, dirName, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode))
        return;
    const std::string dirRel = joinRel(parentRel, dirName);
    report.actions.push_back({"remove-empty-directory", dirRel, "no node files in it"});
    if (changer.dryRun())
        return;
    if (::unlinkat(parentFd, dirName, AT_REMOVEDIR) != 0 && errno != ENOENT) {
        report.actions.pop_back();
        if (errno != ENOTEMPTY && errno != EEXIST)
            report.problems.push_back({ProblemKind::ActionFailed, dirRel, std::strerror(errno)});
    }
}

} // namespace

Result<KeywordsReport> reportKeywords(const MailRoot &root, const ProgressSink &progress)
{
    KeywordsReport report;
    report.root = root.path();
    auto tree = MaildirWalker::walk(root, progress);
    if (!tree)
        return fail(tree.error());
    for (const MaildirFolder &folder : tree->folders) {
        if (progress.cancelled())
            return fail(ErrorCode::Cancelled, "cancelled");
        auto folderFd = openDirBeneath(root.fd(), folder.relPath, root.path());
        if (!folderFd) {
            report.problems.push_back({ProblemKind::Unreadable, folder.relPath,
                                       folderFd.error().message});
            continue;
        }
        auto keywords = readFolderKeywords(folderFd->get(), folder.relPath);
        if (!keywords) {
            report.problems.push_back(
                {ProblemKind::Unreadable, folder.relPath, keywords.error().message});
            continue;
        }
        for (const auto &clash : keywords->clashes)
            report.problems.push_back(
                {ProblemKind::KeywordClash, joinRel(folder.relPath, clash.file),
                 std::string("letter ") + clash.letter + " is " + clash.otherName +
                     " here but " + clash.keptName + " in an earlier file; " + clash.keptName +
                     " counts"});
        FolderKeywordReport item;
        item.folder = folder.relPath;
        item.table = keywords->merged;
        countLetters(messageNames(folderFd->get(), "cur"), item.letterUse);
        if (folder.state == FolderState::Classic)
            countLetters(messageNames(folderFd->get(), "new"), item.letterUse);
        const bool used = std::any_of(item.letterUse.begin(), item.letterUse.end(),
                                      [](std::uint64_t n) { return n > 0; });
        if (!item.table.empty() || used)
            report.folders.push_back(std::move(item));
    }
    return report;
}

Result<SharedStateReport> settleKeywordTables(const MailRoot &root,
                                              const std::vector<KeywordSettlement> &settlements,
                                              const SharedStateOptions &options,
                                              const ProgressSink &progress)
{
    SharedStateReport report;
    report.dryRun = options.dryRun;
    report.root = root.path();
    Changer changer(root, options, report, "keywords-settle");
    if (auto started = changer.start(); !started)
        return fail(started.error());
    std::uint64_t done = 0;
    for (const KeywordSettlement &settlement : settlements) {
        if (progress.cancelled()) {
            (void)changer.finish(true);
            return fail(ErrorCode::Cancelled, "cancelled; run it again to finish");
        }
        for (const std::string &note : settlement.notes)
            report.notes.push_back((settlement.folder.empty() ? std::string("INBOX")
                                                              : settlement.folder) +
                                   ": " + note);
        if (auto settled = settleFolder(root, settlement, changer, report); !settled) {
            (void)changer.finish(true);
            return fail(settled.error());
        }
        progress.report(++done, settlements.size(), settlement.folder);
    }
    if (auto finished = changer.finish(false); !finished)
        return fail(finished.error());
    return report;
}

Result<SharedStateReport> foldSharedState(const MailRoot &root, const SharedStateOptions &options,
                                          const ProgressSink &progress)
{
    SharedStateReport report;
    report.dryRun = options.dryRun;
    report.root = root.path();
    auto tree = MaildirWalker::walk(root, progress);
    if (!tree)
        return fail(tree.error());
    Changer changer(root, options, report, "shared-state-fold");
    if (auto started = changer.start(); !started)
        return fail(started.error());
    auto failed = [&](const Error &error) {
        (void)changer.finish(true);
        return fail(error);
    };

    // Each Maildir's subscriptions; its hierarchy separator follows its folders' layout.
    std::map<std::string, char> separators;
    for (const MaildirFolder &folder : tree->folders) {
        char &separator = separators.try_emplace(folder.maildirRelPath, '.').first->second;
        if (folder.layout == FolderLayout::Fs)
            separator = '/';
    }
    for (const auto &[maildir, separator] : separators) {
        auto maildirFd = openDirBeneath(root.fd(), maildir, root.path());
        if (!maildirFd)
            continue;
        auto subscriptions = readSubscriptions(maildirFd->get(), maildir, separator);
        if (!subscriptions) {
            report.problems.push_back(
                {ProblemKind::Unreadable, maildir, subscriptions.error().message});
            continue;
        }
        for (const std::string &problem : subscriptions->problems)
            report.problems.push_back({ProblemKind::BadName, maildir, problem});
        if (subscriptions->nodeFiles.empty()) {
            removeEmptyDir(maildirFd->get(), kSubscriptionsNodeDirName, maildir, changer, report);
            continue;
        }
        if (auto written =
                changer.writeFile(maildirFd->get(), kSubscriptionsFileName,
                                  joinRel(maildir, kSubscriptionsFileName),
                                  renderSubscriptionsFile(subscriptions->subscribed()),
                                  "every node's subscriptions, merged");
            !written)
            return failed(written.error());
        if (auto setAside = setAsideNodeFiles(maildirFd->get(), kSubscriptionsNodeDirName, maildir,
                                              subscriptions->nodeFiles, changer, report);
            !setAside)
            return failed(setAside.error());
    }

    std::uint64_t done = 0;
    for (const MaildirFolder &folder : tree->folders) {
        if (progress.cancelled())
            return failed(Error{ErrorCode::Cancelled, "cancelled; run it again to finish", {}});
        progress.report(++done, tree->folders.size(), folder.relPath);
        auto folderFd = openDirBeneath(root.fd(), folder.relPath, root.path());
        if (!folderFd)
            continue;
        auto keywords = readFolderKeywords(folderFd->get(), folder.relPath);
        if (!keywords) {
            report.problems.push_back(
                {ProblemKind::Unreadable, folder.relPath, keywords.error().message});
            continue;
        }
        if (keywords->nodeFiles.empty()) {
            // Dovecot makes the directory in every folder it syncs, keywords or not.
            removeEmptyDir(folderFd->get(), kKeywordsNodeDirName, folder.relPath, changer, report);
            continue;
        }
        for (const auto &clash : keywords->clashes)
            report.notes.push_back(joinRel(folder.relPath, clash.file) + ": letter " +
                                   clash.letter + " stays " + clash.keptName + ", not " +
                                   clash.otherName);
        if (auto written = changer.writeFile(folderFd->get(), kKeywordsFileName,
                                             joinRel(folder.relPath, kKeywordsFileName),
                                             renderKeywordsFile(keywords->merged),
                                             "every node's keywords, merged");
            !written)
            return failed(written.error());
        if (auto setAside = setAsideNodeFiles(folderFd->get(), kKeywordsNodeDirName,
                                              folder.relPath, keywords->nodeFiles, changer, report);
            !setAside)
            return failed(setAside.error());
    }
    if (auto finished = changer.finish(false); !finished)
        return fail(finished.error());
    return report;
}

} // namespace mm::maildir
