#include "maildir/manifestdiff.h"

#include "maildir/jsonpath.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

namespace mm::maildir {

namespace {

void addFrame(NodeManifest &out, const nlohmann::json &frame)
{
    if (!frame.is_object() || !frame.contains("folder") || !frame.contains("messages"))
        return; // the summary, or something unknown: ignored
    ManifestFolder f = frame.get<ManifestFolder>();
    out.folders[f.folder] = std::move(f);
}

nlohmann::json byNode(const std::map<std::string, std::string> &m, bool bytes = false)
{
    nlohmann::json j = nlohmann::json::object();
    for (const auto &[node, value] : m)
        j[toValidUtf8(node)] = bytes ? pathValue(value) : nlohmann::json(toValidUtf8(value));
    return j;
}

nlohmann::json nodeList(const std::vector<std::string> &v)
{
    nlohmann::json j = nlohmann::json::array();
    for (const auto &n : v)
        j.push_back(toValidUtf8(n));
    return j;
}

} // namespace

Result<NodeManifest> NodeManifest::parse(std::string_view text, std::string node)
{
    NodeManifest out;
    out.node = std::move(node);
    try {
        std::size_t start = 0;
        while (start < text.size() &&
               (text[start] == ' ' || text[start] == '\n' || text[start] == '\r'))
            ++start;
        if (start < text.size() && text[start] == '[') {
            const auto all = nlohmann::json::parse(text.substr(start));
            for (const auto &frame : all)
                addFrame(out, frame);
            return out;
        }
        std::size_t pos = 0;
        while (pos < text.size()) {
            std::size_t nl = text.find('\n', pos);
            if (nl == std::string_view::npos)
                nl = text.size();
            const std::string_view line = text.substr(pos, nl - pos);
            pos = nl + 1;
            if (line.find_first_not_of(" \t\r") == std::string_view::npos)
                continue;
            const auto frame = nlohmann::json::parse(line);
            // A serve transcript works too: take the "item" member of item frames.
            if (frame.is_object() && frame.value("type", std::string()) == "item" &&
                frame.contains("item"))
                addFrame(out, frame["item"]);
            else
                addFrame(out, frame);
        }
    } catch (const nlohmann::json::exception &e) {
        return fail(ErrorCode::InvalidData, "manifest of " + out.node + ": " + e.what());
    }
    return out;
}

Result<NodeManifest> NodeManifest::read(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return fail(ErrorCode::NotFound, path + ": cannot open", path);
    std::ostringstream text;
    text << in.rdbuf();
    std::string label = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
    auto parsed = parse(text.str(), label);
    if (!parsed) {
        Error e = parsed.error();
        e.path = path;
        return fail(std::move(e));
    }
    return parsed;
}

ManifestDiff ManifestDiff::compare(const std::vector<NodeManifest> &manifests)
{
    ManifestDiff diff;
    std::set<std::string> allFolders;
    for (const auto &m : manifests) {
        diff.nodes.push_back(m.node);
        for (const auto &[folder, frame] : m.folders)
            allFolders.insert(folder);
    }
    for (const auto &folder : allFolders) {
        std::vector<std::pair<const std::string *, const ManifestFolder *>> present;
        MissingFolder mf{folder, {}, {}};
        for (const auto &m : manifests) {
            const auto it = m.folders.find(folder);
            if (it == m.folders.end()) {
                mf.missingOn.push_back(m.node);
            } else {
                mf.presentOn.push_back(m.node);
                present.emplace_back(&m.node, &it->second);
            }
        }
        if (!mf.missingOn.empty())
            diff.missingFolders.push_back(mf);
        if (present.size() < 2)
            continue;
        ++diff.foldersCompared;
        bool allEqual = true;
        for (const auto &[node, frame] : present)
            allEqual = allEqual && frame->digest == present.front().second->digest &&
                       !frame->digest.empty();
        if (allEqual) {
            ++diff.foldersEqual;
            continue;
        }

        // Messages by BASE: where present, with which flags and content.
        struct Seen
        {
            std::map<std::string, std::string> flags; // node -> flags (joined when several names)
            std::map<std::string, std::string> sha;   // node -> sha256 (first name)
        };
        std::map<std::string, Seen> bases;
        for (const auto &[node, frame] : present)
            for (const auto &msg : frame->messages) {
                Seen &s = bases[msg.base];
                auto [it, fresh] = s.flags.emplace(*node, msg.flags);
                if (!fresh)
                    it->second += ' ' + msg.flags;
                s.sha.emplace(*node, msg.sha256);
            }
        for (const auto &[base, s] : bases) {
            if (s.flags.size() != present.size()) {
                MissingMessage mm{folder, base, {}, {}};
                for (const auto &[node, frame] : present)
                    (s.flags.count(*node) ? mm.presentOn : mm.missingOn).push_back(*node);
                diff.missingMessages.push_back(std::move(mm));
            }
            std::set<std::string> flagValues, shaValues;
            for (const auto &[node, f] : s.flags)
                flagValues.insert(f);
            for (const auto &[node, h] : s.sha)
                shaValues.insert(h);
            if (flagValues.size() > 1)
                diff.flagDisagreements.push_back({folder, base, s.flags});
            if (shaValues.size() > 1)
                diff.contentDisagreements.push_back({folder, base, s.sha});
        }

        // Keyword letters: one letter meaning different names on different nodes.
        for (std::size_t i = 0; i < Keywords::kMaxKeywords; ++i) {
            std::map<std::string, std::string> names;
            std::set<std::string> distinct;
            for (const auto &[node, frame] : present) {
                const std::string name =
                    frame->keywords ? frame->keywords->names[i] : std::string();
                names[*node] = name;
                if (!name.empty())
                    distinct.insert(name);
            }
            // A letter unused on a node is no clash (not replicated yet); two names for it are.
            if (distinct.size() > 1)
                diff.keywordClashes.push_back({folder, static_cast<char>('a' + i), names});
        }

        // UIDs: among the nodes that share a uidvalidity, one UID must name one BASE.
        std::map<std::uint32_t, std::vector<std::pair<const std::string *, const Uidlist *>>>
            byValidity;
        for (const auto &[node, frame] : present)
            if (frame->uidlist)
                byValidity[frame->uidlist->uidValidity].emplace_back(node, &*frame->uidlist);
        for (const auto &[validity, lists] : byValidity) {
            if (lists.size() < 2)
                continue;
            std::map<std::uint32_t, std::map<std::string, std::string>> uids;
            for (const auto &[node, list] : lists)
                for (const auto &r : list->records)
                    uids[r.uid][*node] = r.base;
            for (const auto &[uid, nodesBases] : uids) {
                std::set<std::string> distinct;
                for (const auto &[node, base] : nodesBases)
                    distinct.insert(base);
                if (distinct.size() > 1)
                    diff.uidConflicts.push_back({folder, validity, uid, nodesBases});
            }
        }
    }
    return diff;
}

void to_json(nlohmann::json &j, const ManifestDiff &d)
{
    j = nlohmann::json::object();
    j["schemaVersion"] = ManifestDiff::kSchemaVersion;
    j["nodes"] = nodeList(d.nodes);
    j["foldersCompared"] = d.foldersCompared;
    j["foldersEqual"] = d.foldersEqual;
    auto &mf = j["missingFolders"] = nlohmann::json::array();
    for (const auto &m : d.missingFolders) {
        nlohmann::json o = nlohmann::json::object();
        putPath(o, "folder", m.folder);
        o["presentOn"] = nodeList(m.presentOn);
        o["missingOn"] = nodeList(m.missingOn);
        mf.push_back(std::move(o));
    }
    auto &mm = j["missingMessages"] = nlohmann::json::array();
    for (const auto &m : d.missingMessages) {
        nlohmann::json o = nlohmann::json::object();
        putPath(o, "folder", m.folder);
        putPath(o, "base", m.base);
        o["presentOn"] = nodeList(m.presentOn);
        o["missingOn"] = nodeList(m.missingOn);
        mm.push_back(std::move(o));
    }
    auto &fd = j["flagDisagreements"] = nlohmann::json::array();
    for (const auto &f : d.flagDisagreements) {
        nlohmann::json o = nlohmann::json::object();
        putPath(o, "folder", f.folder);
        putPath(o, "base", f.base);
        o["flags"] = byNode(f.flagsByNode, true);
        fd.push_back(std::move(o));
    }
    auto &cd = j["contentDisagreements"] = nlohmann::json::array();
    for (const auto &c : d.contentDisagreements) {
        nlohmann::json o = nlohmann::json::object();
        putPath(o, "folder", c.folder);
        putPath(o, "base", c.base);
        o["sha256"] = byNode(c.sha256ByNode);
        cd.push_back(std::move(o));
    }
    auto &kc = j["keywordClashes"] = nlohmann::json::array();
    for (const auto &k : d.keywordClashes) {
        nlohmann::json o = nlohmann::json::object();
        putPath(o, "folder", k.folder);
        o["letter"] = std::string(1, k.letter);
        o["names"] = byNode(k.nameByNode);
        kc.push_back(std::move(o));
    }
    auto &uc = j["uidConflicts"] = nlohmann::json::array();
    for (const auto &u : d.uidConflicts) {
        nlohmann::json o = nlohmann::json::object();
        putPath(o, "folder", u.folder);
        o["uidValidity"] = u.uidValidity;
        o["uid"] = u.uid;
        o["bases"] = byNode(u.baseByNode, true);
        uc.push_back(std::move(o));
    }
}

} // namespace mm::maildir
