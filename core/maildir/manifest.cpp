#include "maildir/manifest.h"

#include "maildir/dirreader.h"
#include "maildir/fsutil.h"
#include "maildir/hashcache.h"
#include "maildir/jsonpath.h"
#include "maildir/keywordfiles.h"
#include "maildir/maildirwalker.h"
#include "maildir/sha256.h"
#include "maildir/uniquefd.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mm::maildir {

namespace {

constexpr std::array<const char *, 2> kSubdirs{"cur", "new"};

std::string flagsOf(std::string_view name)
{
    const std::size_t colon = name.find(':');
    if (colon == std::string_view::npos)
        return {};
    std::string_view info = name.substr(colon + 1);
    if (info.size() < 2 || info[0] != '2' || info[1] != ',')
        return std::string(info); // unusual info kept as is, so it still shows up in a diff
    info.remove_prefix(2);
    return std::string(info);
}

Result<std::string> hashFile(int dirfd, const std::string &name, const std::string &display,
                             std::uint64_t &bytes)
{
    UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    if (!fd.valid())
        return fail(errnoError(errno, "open", display));
    Sha256 h;
    const Status read = readInChunks(fd.get(), display, [&](std::string_view chunk) {
        h.update(chunk);
        bytes += chunk.size();
    });
    if (!read)
        return fail(read.error());
    return Sha256::toHex(h.finish());
}

// Reads a small control file below the folder without following symlinks.
template <class T, class Reader>
void readControlFile(int folderFd, const char *name, const std::string &display, Reader reader,
                     std::optional<T> &out, std::string &error)
{
    struct stat st
    {
    };
    if (::fstatat(folderFd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return; // absent: nothing to say
    if (!S_ISREG(st.st_mode)) {
        error = display + ": not a regular file";
        return;
    }
    // The parsers take a path; /proc/self/fd keeps the *at() discipline without a race on ROOT.
    UniqueFd fd(::openat(folderFd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.valid()) {
        error = display + ": " + std::strerror(errno);
        return;
    }
    auto parsed = reader("/proc/self/fd/" + std::to_string(fd.get()));
    if (!parsed) {
        error = display + ": " + parsed.error().message;
        return;
    }
    out = std::move(*parsed);
}

} // namespace

std::string ManifestFolder::computeDigest() const
{
    Sha256 h;
    const auto field = [&h](std::string_view s) {
        h.update(s);
        h.update(std::string_view("\0", 1));
    };
    field("messages");
    for (const auto &m : messages) {
        field(m.base);
        field(m.flags);
        field(m.subdir);
        field(std::to_string(m.size));
        field(m.sha256);
    }
    field("uidlist");
    if (uidlist) {
        field(std::to_string(uidlist->uidValidity));
        for (const auto &r : uidlist->records) {
            field(std::to_string(r.uid));
            field(r.base);
        }
    }
    field("keywords");
    if (keywords)
        for (std::size_t i = 0; i < Keywords::kMaxKeywords; ++i)
            field(keywords->names[i]);
    return Sha256::toHex(h.finish());
}

ManifestFolder ManifestBuilder::buildFolder(int folderFd, const std::string &folderRelPath,
                                            const std::string &cacheDir, ManifestSummary &summary,
                                            const ProgressSink &progress)
{
    ManifestFolder out;
    out.folder = folderRelPath;
    HashCache cache(cacheDir, folderRelPath);
    cache.load();
    for (std::size_t d = 0; d < kSubdirs.size(); ++d) {
        UniqueFd dir(
            ::openat(folderFd, kSubdirs[d], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
        if (!dir.valid())
            continue; // new -> cur, or missing (scan reports broken folders)
        DirReader reader(dir.get());
        DirEntry de;
        std::uint64_t n = 0;
        while (reader.next(de)) {
            if (de.name.empty() || de.name[0] == '.' || de.type != DT_REG)
                continue;
            if ((++n & 1023) == 0) {
                if (progress.cancelled())
                    return out;
                progress.report(summary.messages + out.messages.size(), 0, folderRelPath);
            }
            const std::string name(de.name);
            const std::string display = joinRel(folderRelPath, joinRel(kSubdirs[d], name));
            struct stat st
            {
            };
            if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno != ENOENT) // renamed since listing: Dovecot at work, not a problem
                    summary.problems.push_back(
                        {ProblemKind::Unreadable, display, std::strerror(errno)});
                continue;
            }
            ManifestMessage m;
            m.base = std::string(name.substr(0, name.find(':')));
            m.flags = flagsOf(name);
            m.subdir = kSubdirs[d];
            m.size = static_cast<std::uint64_t>(st.st_size);
            const std::int64_t mtimeNs =
                std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
            if (auto cached = cache.lookup(m.base, m.size, mtimeNs)) {
                m.sha256 = std::move(*cached);
            } else {
                auto sha = hashFile(dir.get(), name, display, summary.bytesHashed);
                if (!sha) {
                    if (sha.error().code != ErrorCode::NotFound)
                        summary.problems.push_back(
                            {ProblemKind::Unreadable, display, sha.error().message});
                    continue;
                }
                m.sha256 = *sha;
                cache.store(m.base, m.size, mtimeNs, *sha);
            }
            out.messages.push_back(std::move(m));
        }
        if (reader.error() != 0)
            summary.problems.push_back({ProblemKind::Unreadable,
                                        joinRel(folderRelPath, kSubdirs[d]),
                                        std::string("readdir: ") + std::strerror(reader.error())});
    }
    std::sort(out.messages.begin(), out.messages.end(),
              [](const ManifestMessage &a, const ManifestMessage &b) {
                  return std::tie(a.base, a.subdir, a.flags) < std::tie(b.base, b.subdir, b.flags);
              });
    readControlFile<Uidlist>(
        folderFd, "dovecot-uidlist", joinRel(folderRelPath, "dovecot-uidlist"),
        [](const std::string &p) { return Uidlist::read(p); }, out.uidlist, out.uidlistError);
    // The table Dovecot reads: dovecot-keywords merged with every node's file (keywordfiles.h).
    if (auto keywords = readFolderKeywords(folderFd, folderRelPath); !keywords) {
        summary.problems.push_back(
            {ProblemKind::Unreadable, joinRel(folderRelPath, kKeywordsFileName),
             keywords.error().message});
    } else if (keywords->exists()) {
        out.keywords = std::move(keywords->merged);
        for (const auto &clash : keywords->clashes)
            summary.problems.push_back(
                {ProblemKind::KeywordClash, joinRel(folderRelPath, clash.file),
                 std::string("letter ") + clash.letter + " is " + clash.otherName +
                     " here but " + clash.keptName + " in an earlier file"});
    }
    out.digest = out.computeDigest();
    if (auto saved = cache.save(); !saved)
        summary.problems.push_back({ProblemKind::ActionFailed, folderRelPath,
                                    "hash cache not saved: " + saved.error().message});
    summary.cacheHits += cache.hits();
    summary.cacheMisses += cache.misses();
    summary.messages += out.messages.size();
    ++summary.folders;
    return out;
}

Result<ManifestSummary> ManifestBuilder::build(const MailRoot &root, const std::string &cacheDir,
                                               const FolderSink &sink, const ProgressSink &progress)
{
    auto tree = MaildirWalker::walk(root, progress);
    if (!tree)
        return fail(tree.error());
    ManifestSummary summary;
    summary.root = root.path();
    summary.cacheDir = cacheDir;
    summary.problems = tree->problems;
    for (const auto &folder : tree->folders) {
        if (progress.cancelled())
            return fail(ErrorCode::Cancelled, "manifest cancelled", root.path());
        auto fd = openDirBeneath(root.fd(), folder.relPath, root.path());
        if (!fd) {
            summary.problems.push_back(
                {ProblemKind::Unreadable, folder.relPath, fd.error().message});
            continue;
        }
        ManifestFolder frame = buildFolder(fd->get(), folder.relPath, cacheDir, summary, progress);
        if (progress.cancelled())
            return fail(ErrorCode::Cancelled, "manifest cancelled", root.path());
        frame.name = folder.name;
        sink(frame);
    }
    progress.report(summary.messages, summary.messages, {});
    return summary;
}

void to_json(nlohmann::json &j, const ManifestMessage &m)
{
    j = nlohmann::json::object();
    putPath(j, "base", m.base);
    putPath(j, "flags", m.flags);
    if (m.subdir != "cur")
        j["subdir"] = m.subdir;
    j["size"] = m.size;
    j["sha256"] = m.sha256;
}

void to_json(nlohmann::json &j, const ManifestFolder &f)
{
    j = nlohmann::json::object();
    j["schemaVersion"] = ManifestFolder::kSchemaVersion;
    putPath(j, "folder", f.folder);
    putPath(j, "name", f.name);
    j["digest"] = f.digest;
    j["messages"] = f.messages;
    j["uidlist"] = f.uidlist ? nlohmann::json(*f.uidlist) : nlohmann::json(nullptr);
    if (!f.uidlistError.empty())
        j["uidlistError"] = toValidUtf8(f.uidlistError);
    j["keywords"] = f.keywords ? nlohmann::json(*f.keywords) : nlohmann::json(nullptr);
}

ManifestDigest ManifestDigest::of(const ManifestFolder &folder)
{
    ManifestDigest digest;
    digest.folder = folder.folder;
    digest.name = folder.name;
    digest.digest = folder.digest;
    digest.messages = folder.messages.size();
    if (folder.uidlist)
        digest.uidValidity = folder.uidlist->uidValidity;
    if (folder.keywords && !folder.keywords->empty())
        digest.keywords = folder.keywords;
    return digest;
}

void to_json(nlohmann::json &j, const ManifestDigest &d)
{
    j = nlohmann::json::object();
    j["schemaVersion"] = ManifestFolder::kSchemaVersion;
    putPath(j, "folder", d.folder);
    putPath(j, "name", d.name);
    j["digest"] = d.digest;
    j["messageCount"] = d.messages;
    j["uidValidity"] = d.uidValidity ? nlohmann::json(*d.uidValidity) : nlohmann::json(nullptr);
    if (d.keywords)
        j["keywords"] = nlohmann::json(*d.keywords).at("keywords");
}

void to_json(nlohmann::json &j, const ManifestSummary &s)
{
    j = nlohmann::json::object();
    j["schemaVersion"] = ManifestSummary::kSchemaVersion;
    putPath(j, "root", s.root);
    j["folders"] = s.folders;
    j["messages"] = s.messages;
    j["bytesHashed"] = s.bytesHashed;
    j["cacheHits"] = s.cacheHits;
    j["cacheMisses"] = s.cacheMisses;
    putPath(j, "cacheDir", s.cacheDir);
    j["problems"] = s.problems;
}

void from_json(const nlohmann::json &j, ManifestMessage &m)
{
    m.base = readPath(j, "base").value_or(std::string());
    m.flags = readPath(j, "flags").value_or(std::string());
    m.subdir = j.value("subdir", std::string("cur"));
    m.size = j.value("size", std::uint64_t{0});
    m.sha256 = j.value("sha256", std::string());
}

void from_json(const nlohmann::json &j, ManifestFolder &f)
{
    f.folder = readPath(j, "folder").value_or(std::string());
    f.name = readPath(j, "name").value_or(std::string());
    f.digest = j.value("digest", std::string());
    f.messages.clear();
    if (const auto it = j.find("messages"); it != j.end() && it->is_array())
        for (const auto &m : *it)
            f.messages.push_back(m.get<ManifestMessage>());
    f.uidlist.reset();
    if (const auto it = j.find("uidlist"); it != j.end() && it->is_object())
        f.uidlist = it->get<Uidlist>();
    f.uidlistError = j.value("uidlistError", std::string());
    f.keywords.reset();
    if (const auto it = j.find("keywords"); it != j.end() && it->is_object())
        f.keywords = it->get<Keywords>();
}

} // namespace mm::maildir
