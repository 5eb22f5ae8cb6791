#include "maildir/folderanswer.h"

#include "maildir/fsutil.h"
#include "maildir/memoformat.h"
#include "maildir/sha256.h"

namespace mm::maildir {

namespace {

constexpr std::string_view kMagic = "mailmesh-inventory-answer";
constexpr std::string_view kVersion = "1";
constexpr std::size_t kMaxFileBytes = std::size_t(256) << 20;

std::optional<DupeKind> dupeKindFromName(std::string_view name)
{
    for (const DupeKind kind :
         {DupeKind::FlagDivergence, DupeKind::SyncConflict, DupeKind::SameMessage})
        if (dupeKindName(kind) == name)
            return kind;
    return std::nullopt;
}

void appendProblem(std::string &out, char list, const Problem &p)
{
    out += list;
    out += ' ';
    out += problemKindName(p.kind);
    out += ' ';
    appendField(out, p.path);
    out += ' ';
    appendField(out, p.detail);
    out += '\n';
}

std::optional<Problem> parseProblem(FieldReader &fields)
{
    const auto kindName = fields.next();
    const auto kind = kindName ? problemKindFromName(*kindName) : std::nullopt;
    const auto path = fields.next();
    const auto detail = fields.next();
    if (!kind || !path || !detail || !fields.atEnd())
        return std::nullopt;
    auto pathText = parseField(*path);
    auto detailText = parseField(*detail);
    if (!pathText || !detailText)
        return std::nullopt;
    return Problem{*kind, std::move(*pathText), std::move(*detailText)};
}

} // namespace

std::string FolderAnswer::fileNameFor(const std::string &folderRelPath)
{
    return Sha256::toHex(Sha256::hash(folderRelPath)).substr(0, 32) + ".answer";
}

std::string FolderAnswer::toText(const std::string &folder) const
{
    std::string out;
    out.reserve(256 + groups.size() * 400);
    out += kMagic;
    out += ' ';
    out += kVersion;
    out += ' ';
    appendField(out, folder);
    out += '\n';
    std::uint64_t lines = 1;
    for (const Problem &p : scanProblems)
        appendProblem(out, 's', p), ++lines;
    for (const Problem &p : dupeProblems)
        appendProblem(out, 'd', p), ++lines;
    for (const DupeGroup &g : groups) {
        out += "g ";
        out += dupeKindName(g.kind);
        out += g.removable ? " 1 " : " 0 ";
        appendField(out, g.id);
        out += ' ';
        appendField(out, g.keeper);
        out += ' ';
        appendField(out, g.keeperSource);
        out += ' ';
        appendField(out, g.reason);
        out += ' ';
        out += std::to_string(g.members.size());
        out += '\n';
        ++lines;
        for (const DupeMember &m : g.members) {
            out += "m ";
            out += std::to_string(m.size);
            out += ' ';
            appendField(out, m.sha256);
            out += ' ';
            appendField(out, m.name);
            out += '\n';
            ++lines;
        }
    }
    out += memoTrailer(out, lines);
    return out;
}

std::optional<FolderAnswer> FolderAnswer::load(const std::string &path, const std::string &folder,
                                               std::uint64_t expectedChecksum)
{
    const auto text = readBoundedFile(path, kMaxFileBytes);
    if (!text)
        return std::nullopt;
    const auto checked = checkTrailer(*text);
    if (!checked || checked->checksum != expectedChecksum)
        return std::nullopt;
    FolderAnswer answer;
    std::string_view rest = checked->body;
    std::uint64_t lines = 0;
    std::size_t membersDue = 0;
    while (!rest.empty()) {
        const std::size_t eol = rest.find('\n');
        if (eol == std::string_view::npos)
            return std::nullopt;
        FieldReader fields(rest.substr(0, eol));
        rest.remove_prefix(eol + 1);
        const auto tag = fields.next();
        if (!tag)
            return std::nullopt;
        if (lines++ == 0) {
            const auto version = fields.next();
            const auto name = fields.next();
            const auto parsedName = name ? parseField(*name) : std::nullopt;
            if (*tag != kMagic || !version || *version != kVersion || !parsedName ||
                *parsedName != folder || !fields.atEnd())
                return std::nullopt;
            continue;
        }
        if ((*tag == "m") != (membersDue > 0))
            return std::nullopt; // a member outside its group, or a group cut short
        if (*tag == "s" || *tag == "d") {
            auto problem = parseProblem(fields);
            if (!problem)
                return std::nullopt;
            (*tag == "s" ? answer.scanProblems : answer.dupeProblems)
                .push_back(std::move(*problem));
        } else if (*tag == "g") {
            const auto kindName = fields.next();
            const auto kind = kindName ? dupeKindFromName(*kindName) : std::nullopt;
            const auto removable = fields.number();
            const auto id = fields.next(), keeper = fields.next(), source = fields.next(),
                       reason = fields.next();
            const auto members = fields.number();
            if (!kind || !removable || *removable > 1 || !reason || !members || *members == 0 ||
                !fields.atEnd())
                return std::nullopt;
            DupeGroup g;
            g.kind = *kind;
            g.removable = *removable == 1;
            g.folder = folder;
            auto idText = parseField(*id), keeperText = parseField(*keeper),
                 sourceText = parseField(*source), reasonText = parseField(*reason);
            if (!idText || idText->empty() || !keeperText || !sourceText || !reasonText)
                return std::nullopt;
            g.id = std::move(*idText);
            g.keeper = std::move(*keeperText);
            g.keeperSource = std::move(*sourceText);
            g.reason = std::move(*reasonText);
            g.members.reserve(*members);
            membersDue = *members;
            answer.groups.push_back(std::move(g));
        } else if (*tag == "m") {
            const auto size = fields.number();
            const auto sha = fields.next(), name = fields.next();
            if (!size || !name || !fields.atEnd())
                return std::nullopt;
            auto shaText = parseField(*sha), nameText = parseField(*name);
            if (!shaText || !nameText)
                return std::nullopt;
            answer.groups.back().members.push_back(
                {std::move(*nameText), *size, std::move(*shaText)});
            --membersDue;
        } else {
            return std::nullopt;
        }
    }
    if (lines != checked->lines || membersDue != 0 || lines == 0)
        return std::nullopt;
    return answer;
}

} // namespace mm::maildir
