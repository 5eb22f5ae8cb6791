#include "maildir/dupes.h"

#include "maildir/foldermessages.h"
#include "maildir/fsutil.h"
#include "maildir/jsonpath.h"
#include "maildir/maildirwalker.h"
#include "maildir/messageheaders.h"
#include "maildir/sha256.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>

namespace mm::maildir {

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
    FolderMessages messages(folderFd, folderRelPath, report, progress);
    for (std::uint8_t subdir = 0; subdir < FolderMessages::kSubdirs.size(); ++subdir)
        messages.list(subdir);
    messages.readHeaders();
    if (!progress.cancelled())
        messages.findGroups();
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

void DupeFinder::describeGroups(const MailRoot &root, DupesReport &report)
{
    for (DupeGroup &group : report.groups) {
        if (group.members.empty())
            continue;
        const std::string path = joinRel(group.folder, group.members.front().name);
        const std::size_t slash = path.rfind('/');
        const std::string dir = slash == std::string::npos ? std::string() : path.substr(0, slash);
        const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
        auto fd = openDirBeneath(root.fd(), dir, root.path());
        if (!fd)
            continue;
        auto headers = MessageHeaders::readAt(fd->get(), name.c_str(), path);
        if (!headers)
            continue;
        group.headers = DupeHeaders{headers->first("Subject").value_or(std::string()),
                                    headers->first("From").value_or(std::string()),
                                    headers->first("Date").value_or(std::string())};
    }
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
    if (group.headers) {
        nlohmann::json headers = nlohmann::json::object();
        putPath(headers, "subject", group.headers->subject);
        putPath(headers, "from", group.headers->from);
        putPath(headers, "date", group.headers->date);
        j["headers"] = std::move(headers);
    }
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
    group.headers.reset();
    if (const auto it = j.find("headers"); it != j.end() && it->is_object())
        group.headers = DupeHeaders{readPath(*it, "subject").value_or(std::string()),
                                    readPath(*it, "from").value_or(std::string()),
                                    readPath(*it, "date").value_or(std::string())};
}

} // namespace mm::maildir
