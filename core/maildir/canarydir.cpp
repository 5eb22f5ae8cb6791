#include "maildir/canarydir.h"

#include "maildir/dirreader.h"
#include "maildir/fsutil.h"

#include <nlohmann/json.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace mm::maildir {

namespace {

constexpr const char *kTmpName = "tmp";

// Node ids as the cluster file allows them (core/cluster/config/clusterconfig.cpp).
bool isNodeId(std::string_view id)
{
    if (id.empty() || id.size() > 32)
        return false;
    const auto lowerOrDigit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!lowerOrDigit(id.front()))
        return false;
    return std::all_of(id.begin(), id.end(), [&](char c) { return lowerOrDigit(c) || c == '-'; });
}

template <class Number>
std::optional<Number> digits(std::string_view text)
{
    if (text.empty() || text.size() > 19 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    Number value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

std::string relPath(std::string_view name)
{
    return joinRel(CanaryDir::kDirName, name);
}

// A Maildir++ root lists every dot-directory in it as a mailbox: no canary there.
Status refuseMaildirRoot(const MailRoot &root)
{
    struct stat st;
    for (const char *sub : {"cur", "new"})
        if (::fstatat(root.fd(), sub, &st, AT_SYMLINK_NOFOLLOW) == 0)
            return fail(ErrorCode::Unsupported,
                        root.path() + " is itself a Maildir: a canary directory in it would be an IMAP folder; "
                                      "share the directory that holds the Maildirs instead",
                        root.path());
    return {};
}

// The canary directory, made (with its tmp/) when `create` is set; an empty fd when it is absent.
Result<UniqueFd> openCanaryDir(const MailRoot &root, bool create)
{
    if (auto refused = refuseMaildirRoot(root); !refused)
        return tl::unexpected(refused.error());
    if (create && ::mkdirat(root.fd(), CanaryDir::kDirName, 0700) != 0 && errno != EEXIST)
        return fail(errnoError(errno, "cannot make the canary directory", relPath("")));
    auto dir = openDirAt(root.fd(), CanaryDir::kDirName, CanaryDir::kDirName);
    if (!dir) {
        if (!create && dir.error().code == ErrorCode::NotFound)
            return UniqueFd();
        return tl::unexpected(dir.error());
    }
    struct stat st;
    if (::fstat(dir->get(), &st) != 0)
        return fail(errnoError(errno, "stat", CanaryDir::kDirName));
    if (st.st_dev != root.device())
        return fail(ErrorCode::UnsafePath, std::string(CanaryDir::kDirName) + ": another filesystem is mounted here",
                    CanaryDir::kDirName);
    if (create && ::mkdirat(dir->get(), kTmpName, 0700) != 0 && errno != EEXIST)
        return fail(errnoError(errno, "cannot make the canary's tmp directory", relPath(kTmpName)));
    return std::move(*dir);
}

std::string probeText(const CanaryProbeName &name, std::time_t now)
{
    char written[32];
    struct tm parts;
    ::gmtime_r(&now, &parts);
    std::strftime(written, sizeof written, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return "Mailmesh replication canary probe: not mail. It is deleted once every node has seen it.\n"
           "origin: " + name.origin + "\nsequence: " + std::to_string(name.sequence) + "\nwritten: " + written + "\n";
}

struct Entry
{
    std::string name;
    struct stat st;
};

// The regular files of a directory; anything else is named in `problems` (when given).
std::vector<Entry> regularFiles(int dirFd, std::string_view dirRel, std::vector<std::string> *problems)
{
    std::vector<Entry> files;
    DirReader reader(dirFd);
    DirEntry entry;
    while (reader.next(entry)) {
        Entry file{std::string(entry.name), {}};
        if (::fstatat(dirFd, file.name.c_str(), &file.st, AT_SYMLINK_NOFOLLOW) != 0)
            continue; // gone since it was listed
        if (S_ISREG(file.st.st_mode))
            files.push_back(std::move(file));
        else if (problems && !(S_ISDIR(file.st.st_mode) && file.name == kTmpName))
            problems->push_back(joinRel(dirRel, file.name) + ": not a regular file, left alone");
    }
    if (reader.error() != 0 && problems)
        problems->push_back(std::string(dirRel) + ": " + std::strerror(reader.error()));
    std::sort(files.begin(), files.end(), [](const Entry &a, const Entry &b) { return a.name < b.name; });
    return files;
}

std::int64_t ageOf(const struct stat &st, std::time_t now)
{
    return std::max<std::int64_t>(0, std::int64_t(now) - std::int64_t(st.st_mtim.tv_sec));
}

bool selected(const CanarySweep &sweep, const CanaryProbeName &probe, std::string_view name, std::int64_t age)
{
    if (sweep.name)
        return *sweep.name == name;
    if (sweep.origin && *sweep.origin != probe.origin)
        return false;
    return sweep.olderThanSeconds && age > *sweep.olderThanSeconds;
}

} // namespace

std::string CanaryProbeName::text() const
{
    return origin + '.' + std::to_string(sequence) + '.' + std::to_string(madeAtMs);
}

std::optional<CanaryProbeName> CanaryProbeName::parse(std::string_view name)
{
    const std::size_t first = name.find('.');
    const std::size_t second = first == std::string_view::npos ? first : name.find('.', first + 1);
    if (second == std::string_view::npos || name.find('.', second + 1) != std::string_view::npos)
        return std::nullopt;
    const std::string_view origin = name.substr(0, first);
    const auto sequence = digits<std::uint64_t>(name.substr(first + 1, second - first - 1));
    const auto madeAt = digits<std::int64_t>(name.substr(second + 1));
    if (!isNodeId(origin) || !sequence || !madeAt)
        return std::nullopt;
    return CanaryProbeName{std::string(origin), *sequence, *madeAt};
}

Result<CanaryWrite> CanaryDir::write(const MailRoot &root, const CanaryProbeName &name, std::time_t now)
{
    const std::string probe = name.text();
    if (!CanaryProbeName::parse(probe))
        return fail(ErrorCode::BadRequest, "not a canary probe name: " + probe);
    auto dir = openCanaryDir(root, true);
    if (!dir)
        return tl::unexpected(dir.error());
    auto tmp = openDirAt(dir->get(), kTmpName, relPath(kTmpName));
    if (!tmp)
        return tl::unexpected(tmp.error());
    const std::string tmpRel = joinRel(relPath(kTmpName), probe);
    UniqueFd file(::openat(tmp->get(), probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!file.valid())
        return fail(errnoError(errno, "cannot create", tmpRel));
    const std::string text = probeText(name, now);
    if (::write(file.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        const int err = errno;
        ::unlinkat(tmp->get(), probe.c_str(), 0);
        return fail(errnoError(err == 0 ? EIO : err, "cannot write", tmpRel));
    }
    file.reset();
    // RENAME_NOREPLACE: a name is used once; another run's probe is never overwritten.
    if (renameAt2(tmp->get(), probe.c_str(), dir->get(), probe.c_str(), RENAME_NOREPLACE) != 0) {
        const int err = errno;
        ::unlinkat(tmp->get(), probe.c_str(), 0);
        return fail(errnoError(err, "cannot rename into place", relPath(probe)));
    }
    return CanaryWrite{probe, relPath(probe)};
}

Result<CanaryListing> CanaryDir::list(const MailRoot &root, std::time_t now)
{
    auto dir = openCanaryDir(root, false);
    if (!dir)
        return tl::unexpected(dir.error());
    CanaryListing listing;
    if (!dir->valid())
        return listing;
    for (const Entry &file : regularFiles(dir->get(), kDirName, nullptr)) {
        const auto name = CanaryProbeName::parse(file.name);
        if (!name)
            continue; // Syncthing's own temporary files, for one
        listing.probes.push_back(CanaryProbe{file.name, name->origin, name->sequence, name->madeAtMs,
                                             ageOf(file.st, now), static_cast<std::uint64_t>(file.st.st_size)});
    }
    return listing;
}

Result<CanaryRemoval> CanaryDir::remove(const MailRoot &root, const CanarySweep &sweep, std::time_t now)
{
    if (sweep.name.has_value() == sweep.olderThanSeconds.has_value())
        return fail(ErrorCode::BadRequest, "canary-remove takes either a probe name or --older-than SECONDS");
    if (sweep.name && !CanaryProbeName::parse(*sweep.name))
        return fail(ErrorCode::BadRequest, "not a canary probe name: " + *sweep.name);
    if (sweep.olderThanSeconds && *sweep.olderThanSeconds < 0)
        return fail(ErrorCode::BadRequest, "--older-than takes a number of seconds >= 0");
    auto dir = openCanaryDir(root, false);
    if (!dir)
        return tl::unexpected(dir.error());
    CanaryRemoval removal;
    removal.dryRun = sweep.dryRun;
    if (!dir->valid())
        return removal;
    const auto removeFile = [&](int dirFd, const std::string &name, const std::string &shown) {
        if (!sweep.dryRun && ::unlinkat(dirFd, name.c_str(), 0) != 0 && errno != ENOENT) {
            removal.problems.push_back(shown + ": " + std::strerror(errno));
            return;
        }
        removal.removed.push_back(shown);
    };
    for (const Entry &file : regularFiles(dir->get(), kDirName, &removal.problems)) {
        const auto name = CanaryProbeName::parse(file.name);
        if (name && selected(sweep, *name, file.name, ageOf(file.st, now)))
            removeFile(dir->get(), file.name, file.name);
    }
    // A write cut short between its tmp file and the rename leaves the tmp file behind.
    if (auto tmp = openDirAt(dir->get(), kTmpName, relPath(kTmpName)); tmp) {
        for (const Entry &file : regularFiles(tmp->get(), relPath(kTmpName), nullptr)) {
            const auto name = CanaryProbeName::parse(file.name);
            if (name && selected(sweep, *name, file.name, ageOf(file.st, now)))
                removeFile(tmp->get(), file.name, joinRel(kTmpName, file.name));
        }
    }
    return removal;
}

void to_json(nlohmann::json &j, const CanaryProbe &probe)
{
    j = nlohmann::json{{"name", probe.name},         {"origin", probe.origin}, {"sequence", probe.sequence},
                       {"madeAtMs", probe.madeAtMs}, {"ageSeconds", probe.ageSeconds}, {"size", probe.size}};
}

void to_json(nlohmann::json &j, const CanaryListing &listing)
{
    j = nlohmann::json{{"schemaVersion", CanaryListing::kSchemaVersion}, {"probes", listing.probes}};
}

void to_json(nlohmann::json &j, const CanaryRemoval &removal)
{
    j = nlohmann::json{{"schemaVersion", CanaryRemoval::kSchemaVersion},
                       {"dryRun", removal.dryRun},
                       {"removed", removal.removed},
                       {"problems", removal.problems}};
}

void to_json(nlohmann::json &j, const CanaryWrite &write)
{
    j = nlohmann::json{{"schemaVersion", CanaryWrite::kSchemaVersion}, {"name", write.name}, {"path", write.path}};
}

} // namespace mm::maildir
